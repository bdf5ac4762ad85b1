// What the token may do, from sys/capabilities-self: buttons it may not use are disabled. When the
// capabilities are unknown (the token may not ask), everything is offered and the server decides.

import type { Client } from './api';

export type Capability = 'create' | 'read' | 'update' | 'delete' | 'list' | 'sudo' | 'patch';
export type CapabilityMap = Record<string, string[]>;

// Whether `caps` (one path's capabilities; undefined = unknown) allow every capability needed.
export function can(caps: string[] | undefined, ...needed: Capability[]): boolean {
  if (caps === undefined) return true;
  if (caps.includes('root')) return true;
  if (caps.includes('deny')) return false;
  return needed.every((c) => caps.includes(c));
}

// One request for several paths; null when the token may not ask (then nothing is hidden).
export async function fetchCapabilities(client: Client, paths: string[]): Promise<CapabilityMap | null> {
  const unique = [...new Set(paths)];
  if (unique.length === 0) return {};
  try {
    const r = await client.write<Record<string, unknown>>('sys/capabilities-self', { paths: unique });
    const data = r?.data ?? {};
    const out: CapabilityMap = {};
    for (const p of unique) {
      const v = data[p];
      if (Array.isArray(v)) out[p] = v.map(String);
    }
    return out;
  } catch {
    return null;
  }
}

// The capabilities of one path in a map that may be unknown (null) or lack it.
export function capsOf(map: CapabilityMap | null | undefined, path: string): string[] | undefined {
  if (!map) return undefined;
  return map[path];
}
