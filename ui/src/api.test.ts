import { describe, expect, it } from 'vitest';

import { ApiError, Client, describeError, encodePath } from './api';

interface Call {
  url: string;
  init: RequestInit;
}

// A fetch that records its calls and answers from a script.
function fakeFetch(answers: Array<{ status: number; body?: string; type?: ResponseType }>) {
  const calls: Call[] = [];
  const fn = async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const a = answers.shift();
    if (!a) throw new TypeError('Failed to fetch');
    const res = new Response(a.status === 204 ? null : (a.body ?? ''), { status: a.status || 200 });
    if (a.type) {
      // What fetch gives for a redirect with redirect: 'manual' (status 0, no body).
      Object.defineProperty(res, 'type', { value: a.type });
      Object.defineProperty(res, 'status', { value: a.status });
    }
    return res;
  };
  return { fn: fn as typeof fetch, calls };
}

describe('Client', () => {
  it('sends the token in X-Vault-Token, JSON bodies, no cookies and no redirects', async () => {
    const f = fakeFetch([
      {
        status: 200,
        body: '{"data":{"a":1},"lease_id":"","lease_duration":0,"renewable":false,"auth":null,"warnings":null}',
      },
    ]);
    const c = new Client({ token: () => 's.secret', fetch: f.fn });
    const r = await c.write('aws/roles/deploy', { credential_type: 'iam_user' });
    expect(r?.data).toEqual({ a: 1 });
    expect(f.calls).toHaveLength(1);
    const { url, init } = f.calls[0];
    expect(url).toBe('/v1/aws/roles/deploy');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['X-Vault-Token']).toBe('s.secret');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(init.body).toBe('{"credential_type":"iam_user"}');
    expect(init.credentials).toBe('omit');
    expect(init.redirect).toBe('manual');
    expect(url).not.toContain('s.secret');
  });

  it('sends no token header when signed out', async () => {
    const f = fakeFetch([{ status: 200, body: '{"initialized":true}' }]);
    const c = new Client({ token: () => null, fetch: f.fn });
    expect(await c.raw('GET', 'sys/seal-status')).toEqual({ initialized: true });
    expect(f.calls[0].init.headers).toEqual({});
  });

  it('lists with ?list=true and takes a 404 as no keys', async () => {
    const f = fakeFetch([
      { status: 200, body: '{"data":{"keys":["aws/","team/"]}}' },
      { status: 404, body: '{"errors":[]}' },
    ]);
    const c = new Client({ fetch: f.fn });
    expect(await c.list('sys/leases/lookup/')).toEqual(['aws/', 'team/']);
    expect(f.calls[0].url).toBe('/v1/sys/leases/lookup/?list=true');
    expect(await c.list('sys/leases/lookup/aws/creds')).toEqual([]);
    expect(f.calls[1].url).toBe('/v1/sys/leases/lookup/aws/creds/?list=true');
  });

  it('turns a 403 into "Permission denied" and a 400 into the server text', async () => {
    const f = fakeFetch([
      { status: 403, body: '{"errors":["permission denied"]}' },
      { status: 400, body: '{"errors":["failed to parse policy: At 2:3: expected \'=\'"]}' },
    ]);
    const c = new Client({ fetch: f.fn });
    const denied = await c.write('sys/leases/revoke', { lease_id: 'x' }).catch((e) => e);
    expect(denied).toBeInstanceOf(ApiError);
    expect(denied.status).toBe(403);
    expect(denied.message).toBe('Permission denied');
    const bad = await c.write('sys/policies/acl/app', { policy: 'path' }).catch((e) => e);
    expect(bad.status).toBe(400);
    expect(bad.message).toBe("failed to parse policy: At 2:3: expected '='");
  });

  it('reports a sealed server and unreachable or redirecting servers', async () => {
    let sealed = 0;
    const f = fakeFetch([
      { status: 503, body: '{"errors":["Vault is sealed"]}' },
      { status: 0, type: 'opaqueredirect' },
    ]);
    const c = new Client({ fetch: f.fn, onSealed: () => sealed++ });
    await expect(c.read('secret/x')).rejects.toThrow('Vault is sealed');
    expect(sealed).toBe(1);
    await expect(c.read('secret/x')).rejects.toThrow(/redirected/);
    await expect(c.read('secret/x')).rejects.toMatchObject({ status: 0 });
  });

  it('readOrNull gives null for 404; 204 gives null from write', async () => {
    const f = fakeFetch([{ status: 404, body: '{"errors":[]}' }, { status: 204 }]);
    const c = new Client({ fetch: f.fn });
    expect(await c.readOrNull('aws/config/root')).toBeNull();
    expect(await c.write('sys/leases/revoke', { lease_id: 'a' })).toBeNull();
  });

  it('encodes each path segment, keeping the slashes', async () => {
    expect(encodePath('secret/a b/c?d#e')).toBe('secret/a%20b/c%3Fd%23e');
    const f = fakeFetch([{ status: 200, body: '{"data":{}}' }]);
    await new Client({ fetch: f.fn }).read('secret/my app/key%');
    expect(f.calls[0].url).toBe('/v1/secret/my%20app/key%25');
  });
});

describe('describeError', () => {
  it('words failures for a person', () => {
    expect(describeError(403, [])).toBe('Permission denied');
    expect(describeError(403, ['permission denied', '1 error occurred: token expired'])).toBe(
      'Permission denied: 1 error occurred: token expired',
    );
    expect(describeError(404, [])).toBe('Not found');
    expect(describeError(429, ['request path "x": rate limit quota exceeded'])).toBe(
      'Too many requests: request path "x": rate limit quota exceeded',
    );
    expect(describeError(0, ['Failed to fetch'])).toBe('The server could not be reached (Failed to fetch)');
    expect(describeError(500, [])).toBe('The server answered 500');
  });
});
