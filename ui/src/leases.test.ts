import { describe, expect, it } from 'vitest';

import { Client } from './api';
import { countLeases, listLevel, normalisePrefix, prefixCrumbs } from './leases';

// A server whose lease tree is `tree` (prefix -> keys), answering LIST sys/leases/lookup/<prefix>.
function serverWith(tree: Record<string, string[]>) {
  const asked: string[] = [];
  const fetch = (async (url: RequestInfo | URL) => {
    const u = new URL(String(url), 'http://vault');
    const prefix = decodeURIComponent(u.pathname.replace('/v1/sys/leases/lookup/', ''));
    asked.push(prefix);
    const keys = tree[prefix];
    if (!keys) return new Response('{"errors":[]}', { status: 404 });
    return new Response(JSON.stringify({ data: { keys } }), { status: 200 });
  }) as typeof globalThis.fetch;
  return { client: new Client({ fetch }), asked };
}

const TREE = {
  '': ['aws/', 'team/'],
  'aws/': ['creds/'],
  'aws/creds/': ['deploy/', 'ci/'],
  'aws/creds/deploy/': ['b-2', 'a-1'],
  'aws/creds/ci/': ['c-3'],
  'team/': ['creds/'],
  'team/creds/': [],
};

describe('lease tree', () => {
  it('lists one level as prefixes and lease ids', async () => {
    const { client } = serverWith(TREE);
    expect(await listLevel(client, 'aws/creds/deploy')).toEqual({
      prefixes: [],
      leases: ['aws/creds/deploy/a-1', 'aws/creds/deploy/b-2'],
    });
    expect(await listLevel(client, 'aws/creds/')).toEqual({
      prefixes: ['aws/creds/ci/', 'aws/creds/deploy/'],
      leases: [],
    });
    expect(await listLevel(client, 'gone/')).toEqual({ prefixes: [], leases: [] });
  });
  it('counts every lease under a prefix', async () => {
    const { client } = serverWith(TREE);
    expect(await countLeases(client, 'aws/')).toEqual({ count: 3, capped: false });
    expect(await countLeases(client, 'aws/creds/deploy')).toEqual({ count: 2, capped: false });
    expect(await countLeases(client, '')).toEqual({ count: 3, capped: false });
    expect(await countLeases(client, 'aws/', 2)).toEqual({ count: 3, capped: true });
  });
  it('names prefixes', () => {
    expect(normalisePrefix('/aws/creds')).toBe('aws/creds/');
    expect(normalisePrefix('')).toBe('');
    expect(prefixCrumbs('aws/creds/deploy/')).toEqual([
      { label: 'aws/', prefix: 'aws/' },
      { label: 'creds/', prefix: 'aws/creds/' },
      { label: 'deploy/', prefix: 'aws/creds/deploy/' },
    ]);
  });
});
