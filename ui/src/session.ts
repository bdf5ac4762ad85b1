// The token lives in this tab's session storage only: never in a URL, a cookie or local storage,
// gone when the tab closes.

const KEY = 'vault-cpp.token';

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

export function loadToken(): string | null {
  return storage()?.getItem(KEY) ?? null;
}

export function saveToken(token: string): void {
  storage()?.setItem(KEY, token);
}

export function clearToken(): void {
  storage()?.removeItem(KEY);
}
