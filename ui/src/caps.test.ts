import { describe, expect, it } from 'vitest';

import { Client } from './api';
import { can, capsOf, fetchCapabilities } from './caps';

describe('can', () => {
  it('reads capabilities', () => {
    expect(can(['read', 'list'], 'read')).toBe(true);
    expect(can(['read'], 'update')).toBe(false);
    expect(can(['update'], 'update', 'sudo')).toBe(false);
    expect(can(['update', 'sudo'], 'update', 'sudo')).toBe(true);
    expect(can(['root'], 'delete', 'sudo')).toBe(true);
    expect(can(['deny'], 'read')).toBe(false);
    expect(can([], 'read')).toBe(false);
  });
  it('offers everything when the capabilities are unknown', () => {
    expect(can(undefined, 'update', 'sudo')).toBe(true);
    expect(capsOf(null, 'x')).toBeUndefined();
    expect(capsOf({ x: ['read'] }, 'x')).toEqual(['read']);
  });
});

describe('fetchCapabilities', () => {
  it('asks once for every path', async () => {
    const bodies: unknown[] = [];
    const fetch = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(JSON.parse(String(init?.body)));
      return new Response('{"data":{"a":["read"],"b":["deny"],"capabilities":["read"]}}', { status: 200 });
    }) as typeof globalThis.fetch;
    const caps = await fetchCapabilities(new Client({ fetch }), ['a', 'b', 'a']);
    expect(bodies).toEqual([{ paths: ['a', 'b'] }]);
    expect(caps).toEqual({ a: ['read'], b: ['deny'] });
  });
  it('is null (unknown) when the token may not ask', async () => {
    const fetch = (async () =>
      new Response('{"errors":["permission denied"]}', { status: 403 })) as typeof globalThis.fetch;
    expect(await fetchCapabilities(new Client({ fetch }), ['a'])).toBeNull();
  });
});
