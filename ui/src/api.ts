// The client of the server's public /v1/ API: the user's token in X-Vault-Token, Vault's error
// format ({"errors":[...]}) turned into readable messages. It sends no cookie, follows no redirect
// (a token is never sent to another origin) and logs nothing.

export interface AuthInfo {
  client_token: string;
  accessor: string;
  policies: string[] | null;
  token_policies?: string[] | null;
  lease_duration: number;
  renewable: boolean;
}

export interface VaultResponse<T> {
  data: T;
  lease_id: string;
  lease_duration: number;
  renewable: boolean;
  auth: AuthInfo | null;
  warnings: string[] | null;
}

// An answer other than 2xx, or no answer at all (status 0).
export class ApiError extends Error {
  readonly status: number;
  readonly errors: string[];
  constructor(status: number, errors: string[]) {
    super(describeError(status, errors));
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
  }
}

// What a person reads for a failed request: "Permission denied" for a 403 (with the server's
// reason when it gave more than Vault's bare "permission denied"), the server's own error text for
// a 400 (a policy's HCL syntax error, a role's validation message), a word for the rest.
export function describeError(status: number, errors: string[]): string {
  const reasons = errors.filter((e) => e.trim() !== '');
  if (status === 403) {
    const extra = reasons.filter((e) => e.trim().toLowerCase() !== 'permission denied');
    return extra.length ? `Permission denied: ${extra.join('; ')}` : 'Permission denied';
  }
  if (status === 0) {
    return reasons.length
      ? `The server could not be reached (${reasons.join('; ')})`
      : 'The server could not be reached';
  }
  if (status === 429) return `Too many requests: ${reasons.join('; ') || 'rate limit exceeded'}`;
  if (reasons.length) return reasons.join('; ');
  if (status === 404) return 'Not found';
  if (status === 503) return 'The server is unavailable (sealed or in standby)';
  return `The server answered ${status}`;
}

// Each segment of a path percent-encoded; the slashes between them kept.
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export interface ClientOptions {
  token?: () => string | null;
  fetch?: typeof fetch;
  base?: string; // origin + prefix before /v1/; "" = this page's origin
  onSealed?: () => void; // a 503 "Vault is sealed": the page goes back to the unseal form
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export class Client {
  private readonly opts: ClientOptions;
  constructor(opts: ClientOptions = {}) {
    this.opts = opts;
  }

  // The parsed body of a 2xx answer (null for 204); ApiError otherwise.
  async raw<T>(method: Method, path: string, body?: unknown, query?: Record<string, string>): Promise<T | null> {
    const headers: Record<string, string> = {};
    const token = this.opts.token?.();
    if (token) headers['X-Vault-Token'] = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let url = `${this.opts.base ?? ''}/v1/${encodePath(path)}`;
    if (query && Object.keys(query).length) url += '?' + new URLSearchParams(query).toString();
    const doFetch = this.opts.fetch ?? globalThis.fetch.bind(globalThis);
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
        redirect: 'manual',
        referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      throw new ApiError(0, [e instanceof Error ? e.message : String(e)]);
    }
    if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
      throw new ApiError(0, ['the server redirected the request (a standby node?): open the UI on the active node']);
    }
    const text = await res.text();
    let parsed: unknown = null;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (res.ok) throw new ApiError(res.status, ['the server sent an answer that is not JSON']);
      }
    }
    if (!res.ok) {
      const errors = errorsOf(parsed);
      if (res.status === 503 && errors.some((e) => /sealed/i.test(e))) this.opts.onSealed?.();
      throw new ApiError(res.status, errors);
    }
    return parsed as T | null;
  }

  // GET: the envelope; ApiError for 404 and every other failure.
  async read<T = Record<string, unknown>>(path: string, query?: Record<string, string>): Promise<VaultResponse<T>> {
    const r = await this.raw<VaultResponse<T>>('GET', path, undefined, query);
    if (r === null) throw new ApiError(404, []);
    return r;
  }

  // GET, null for 404 (nothing there).
  async readOrNull<T = Record<string, unknown>>(path: string): Promise<VaultResponse<T> | null> {
    try {
      return await this.read<T>(path);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  // LIST (as GET ?list=true): the keys, [] when there are none (Vault answers 404 then).
  async list(path: string): Promise<string[]> {
    const p = path.endsWith('/') ? path : path + '/';
    try {
      const r = await this.raw<VaultResponse<{ keys?: string[] }>>('GET', p, undefined, { list: 'true' });
      return r?.data?.keys ?? [];
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return [];
      throw e;
    }
  }

  // POST (an update): the envelope, or null for 204.
  async write<T = Record<string, unknown>>(path: string, body: unknown = {}): Promise<VaultResponse<T> | null> {
    return this.raw<VaultResponse<T>>('POST', path, body);
  }

  async delete(path: string): Promise<void> {
    await this.raw('DELETE', path);
  }
}

function errorsOf(body: unknown): string[] {
  if (body && typeof body === 'object' && Array.isArray((body as { errors?: unknown }).errors)) {
    return (body as { errors: unknown[] }).errors.map((e) => String(e));
  }
  return [];
}

export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
