// Client-side routes under /ui/ (the server answers index.html for any path there). A route is
// the URL's path after /ui/, percent-encoded as in the URL: build one with `route()`, read one
// with `segments()`.

import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui/';

export function currentRoute(): string {
  const p = globalThis.location?.pathname ?? BASE;
  return p.startsWith(BASE) ? p.slice(BASE.length) : '';
}

export function href(route: string): string {
  return BASE + route;
}

// route('secrets', 'team/kv', 'show', ...) -> "secrets/team%2Fkv/show/...": each part one segment.
export function route(...parts: string[]): string {
  return parts.map(encodeURIComponent).join('/');
}

// route() with the last part kept as a path of several segments ("app/db" -> "app/db").
export function routeWithPath(parts: string[], path: string): string {
  const head = route(...parts);
  const tail = path.split('/').map(encodeURIComponent).join('/');
  return tail === '' ? head : `${head}/${tail}`;
}

const listeners = new Set<() => void>();

export function navigate(route: string, replace = false): void {
  const url = href(route);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

export function useRoute(): string {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

// "secrets/team%2Fkv/list/app/" -> ["secrets", "team/kv", "list", "app"], each segment decoded.
export function segments(r: string): string[] {
  return r
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}
