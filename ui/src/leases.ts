// Leases as a tree of prefixes (sys/leases/lookup/<prefix> lists one level: sub-prefixes end in
// "/", the rest are the last segment of a lease id).

import type { Client } from './api';

export interface LeaseLevel {
  prefixes: string[]; // full prefixes, each ending in "/"
  leases: string[]; // full lease ids
}

export function normalisePrefix(prefix: string): string {
  const p = prefix.replace(/^\/+/, '');
  return p === '' || p.endsWith('/') ? p : p + '/';
}

export async function listLevel(client: Client, prefix: string): Promise<LeaseLevel> {
  const p = normalisePrefix(prefix);
  const keys = await client.list(`sys/leases/lookup/${p}`);
  const out: LeaseLevel = { prefixes: [], leases: [] };
  for (const k of keys) {
    if (k.endsWith('/')) out.prefixes.push(p + k);
    else out.leases.push(p + k);
  }
  out.prefixes.sort();
  out.leases.sort();
  return out;
}

// How many leases lie under a prefix, at any depth (for a revoke-prefix confirmation). Stops
// counting at `limit` and says so.
export async function countLeases(
  client: Client,
  prefix: string,
  limit = 100000,
): Promise<{ count: number; capped: boolean }> {
  let count = 0;
  const queue = [normalisePrefix(prefix)];
  while (queue.length > 0) {
    const batch = queue.splice(0, 8);
    const levels = await Promise.all(batch.map((p) => listLevel(client, p)));
    for (const level of levels) {
      count += level.leases.length;
      queue.push(...level.prefixes);
    }
    if (count >= limit) return { count, capped: true };
  }
  return { count, capped: false };
}

// "aws/creds/deploy/" -> [["aws/", "aws/"], ["creds/", "aws/creds/"], ["deploy/", "aws/creds/deploy/"]]
export function prefixCrumbs(prefix: string): Array<{ label: string; prefix: string }> {
  const out: Array<{ label: string; prefix: string }> = [];
  let acc = '';
  for (const seg of normalisePrefix(prefix).split('/')) {
    if (seg === '') continue;
    acc += seg + '/';
    out.push({ label: seg + '/', prefix: acc });
  }
  return out;
}

export interface LeaseInfo {
  id: string;
  issue_time: string;
  expire_time: string | null;
  last_renewal: string | null;
  renewable: boolean;
  ttl: number;
}

export async function lookupLease(client: Client, id: string): Promise<LeaseInfo> {
  const r = await client.write<LeaseInfo>('sys/leases/lookup', { lease_id: id });
  if (!r) throw new Error('empty answer to a lease lookup');
  return r.data;
}
