// KV mounts, version 1 and 2 (sys/internal/ui/mounts tells which): folders, a secret's values
// (masked until "Show"), create, edit and delete. Version 2 reads and writes data/<path> and lists
// metadata/<path>.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { can, capsOf } from '../caps';
import {
  ConfirmDialog,
  ErrorBox,
  Field,
  Form,
  Link,
  Loading,
  MaskedValue,
  NOT_ALLOWED,
  Notice,
  PageHeader,
} from '../components';
import { useApp } from '../context';
import { formatTime } from '../format';
import { useAsync, useCapabilities } from '../hooks';
import { navigate, route, routeWithPath } from '../router';
import { checkSecretPath } from '../validate';
import { kvVersion, type MountInfo } from './MountLoader';

export interface KvPaths {
  list: (folder: string) => string;
  data: (path: string) => string;
  remove: (path: string) => string; // v2: soft-deletes the latest version
  destroyAll: ((path: string) => string) | null; // v2: every version and the metadata
}

export function kvPaths(mount: string, version: 1 | 2): KvPaths {
  if (version === 2)
    return {
      list: (f) => `${mount}/metadata/${f}`,
      data: (p) => `${mount}/data/${p}`,
      remove: (p) => `${mount}/data/${p}`,
      destroyAll: (p) => `${mount}/metadata/${p}`,
    };
  return {
    list: (f) => `${mount}/${f}`,
    data: (p) => `${mount}/${p}`,
    remove: (p) => `${mount}/${p}`,
    destroyAll: null,
  };
}

export function KvMount(p: { mount: MountInfo; rest: string[] }) {
  const m = p.mount.path.replace(/\/$/, '');
  const version = kvVersion(p.mount);
  const [action, ...pathSegs] = p.rest;
  const path = pathSegs.join('/');
  const ctx = { m, version, paths: kvPaths(m, version), mount: p.mount };
  if (action === 'show' && path) return <SecretView ctx={ctx} path={path} />;
  if (action === 'edit' && path) return <SecretForm ctx={ctx} path={path} />;
  if (action === 'create') return <SecretForm ctx={ctx} folder={path ? path + '/' : ''} />;
  return <FolderView ctx={ctx} folder={action === 'list' && path ? path + '/' : ''} />;
}

interface Ctx {
  m: string;
  version: 1 | 2;
  paths: KvPaths;
  mount: MountInfo;
}

function Crumbs(p: { ctx: Ctx; path: string; last?: boolean }) {
  const segs = p.path.split('/').filter((s) => s !== '');
  const parts: ComponentChildren[] = [
    <Link to="secrets" key="s">
      Secrets
    </Link>,
    ' / ',
    <Link to={route('secrets', p.ctx.m)} key="m">
      {p.ctx.mount.path}
    </Link>,
  ];
  segs.forEach((seg, i) => {
    const isLast = i === segs.length - 1;
    if (isLast && p.last) {
      parts.push(' ', <span key={i}>{seg}</span>);
    } else {
      parts.push(
        ' ',
        <Link to={routeWithPath(['secrets', p.ctx.m, 'list'], segs.slice(0, i + 1).join('/'))} key={i}>
          {seg}/
        </Link>,
      );
    }
  });
  return <>{parts}</>;
}

function FolderView(p: { ctx: Ctx; folder: string }) {
  const { client } = useApp();
  const { ctx, folder } = p;
  const keys = useAsync(() => client.list(ctx.paths.list(folder)), [client, ctx.m, folder]);
  return (
    <section>
      <PageHeader
        title={folder ? `${ctx.mount.path}${folder}` : ctx.mount.path}
        crumbs={<Crumbs ctx={ctx} path={folder} />}
      >
        <Link to={routeWithPath(['secrets', ctx.m, 'create'], folder.replace(/\/$/, ''))} class="button">
          Create secret
        </Link>
      </PageHeader>
      <p class="muted">
        KV version {ctx.version}
        {ctx.mount.description ? ` · ${ctx.mount.description}` : ''}
      </p>
      <ErrorBox error={keys.error} />
      {keys.loading && !keys.data && <Loading what="secrets" />}
      {keys.data && keys.data.length === 0 && <p>Nothing here yet.</p>}
      {keys.data && keys.data.length > 0 && (
        <ul class="listing" aria-label={`Contents of ${ctx.mount.path}${folder}`}>
          {keys.data.sort().map((k) => {
            const isFolder = k.endsWith('/');
            const full = folder + k.replace(/\/$/, '');
            return (
              <li key={k}>
                <Link
                  to={routeWithPath(['secrets', ctx.m, isFolder ? 'list' : 'show'], full)}
                  class={isFolder ? 'folder' : 'secret'}
                >
                  {k}
                </Link>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

interface SecretData {
  values: Record<string, unknown>;
  version?: number;
  created?: string;
}

async function readSecret(client: ReturnType<typeof useApp>['client'], ctx: Ctx, path: string): Promise<SecretData> {
  if (ctx.version === 2) {
    const r = await client.read<{
      data: Record<string, unknown> | null;
      metadata: { version: number; created_time: string };
    }>(ctx.paths.data(path));
    return { values: r.data.data ?? {}, version: r.data.metadata?.version, created: r.data.metadata?.created_time };
  }
  const r = await client.read<Record<string, unknown>>(ctx.paths.data(path));
  return { values: r.data ?? {} };
}

function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function SecretView(p: { ctx: Ctx; path: string }) {
  const { client } = useApp();
  const { ctx, path } = p;
  const secret = useAsync(() => readSecret(client, ctx, path), [client, ctx.m, path]);
  const dataPath = ctx.paths.data(path);
  const caps = useCapabilities([dataPath, ...(ctx.paths.destroyAll ? [ctx.paths.destroyAll(path)] : [])]);
  const [deleting, setDeleting] = useState(false);
  const [all, setAll] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  const mayEdit = can(capsOf(caps, dataPath), 'update') || can(capsOf(caps, dataPath), 'create');
  const mayDelete = can(capsOf(caps, dataPath), 'delete');

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      if (all && ctx.paths.destroyAll) await client.delete(ctx.paths.destroyAll(path));
      else await client.delete(ctx.paths.remove(path));
      navigate(routeWithPath(['secrets', ctx.m, 'list'], folder), true);
    } catch (e) {
      setError(e);
      setDeleting(false);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHeader title={path} crumbs={<Crumbs ctx={ctx} path={path} last />}>
        <button
          type="button"
          disabled={!mayEdit || !secret.data}
          title={mayEdit ? undefined : NOT_ALLOWED}
          onClick={() => navigate(routeWithPath(['secrets', ctx.m, 'edit'], path))}
        >
          Edit
        </button>
        <button
          type="button"
          class="danger-outline"
          disabled={!mayDelete}
          title={mayDelete ? undefined : NOT_ALLOWED}
          onClick={() => setDeleting(true)}
        >
          Delete
        </button>
      </PageHeader>
      <ErrorBox error={error} />
      <ErrorBox error={secret.error} />
      {secret.loading && !secret.data && <Loading what="the secret" />}
      {secret.data && (
        <>
          {ctx.version === 2 && (
            <p class="muted">
              Version {secret.data.version}
              {secret.data.created ? `, written ${formatTime(secret.data.created)}` : ''}
            </p>
          )}
          <table class="table kv">
            <caption class="sr-only">Values of {path}</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(secret.data.values)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td>
                      <MaskedValue value={asText(v)} label={k} />
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${path}?`}
          confirmLabel="Yes, delete"
          danger
          busy={busy}
          onConfirm={remove}
          onCancel={() => setDeleting(false)}
        >
          {ctx.version === 2 ? (
            <>
              <p>The latest version is deleted; it can be undeleted (`vault kv undelete`) until it is destroyed.</p>
              <label class="check">
                <input type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} />{' '}
                Delete every version and the metadata, for good
              </label>
            </>
          ) : (
            <p>The secret is deleted for good.</p>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}

interface Pair {
  key: string;
  value: string;
}

function SecretForm(p: { ctx: Ctx; path?: string; folder?: string }) {
  const { client } = useApp();
  const { ctx } = p;
  const editing = p.path !== undefined;
  const existing = useAsync(
    async () => (editing ? readSecret(client, ctx, p.path as string) : null),
    [client, ctx.m, p.path],
  );
  const [path, setPath] = useState(p.folder ?? '');
  const [pairs, setPairs] = useState<Pair[] | null>(editing ? null : [{ key: '', value: '' }]);
  const [reveal, setReveal] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (existing.data) setPairs(Object.entries(existing.data.values).map(([key, v]) => ({ key, value: asText(v) })));
  }, [existing.data]);
  const title = editing ? `Edit ${p.path}` : 'Create a secret';
  if (existing.error)
    return (
      <section>
        <PageHeader title={title} />
        <ErrorBox error={existing.error} />
      </section>
    );
  if (!pairs) return <Loading what="the secret" />;

  const target = editing ? { ok: true as const, value: p.path as string } : checkSecretPath(path);
  const update = (i: number, k: keyof Pair, v: string) =>
    setPairs(pairs.map((x, j) => (j === i ? { ...x, [k]: v } : x)));
  const submit = async () => {
    setError(null);
    if (!target.ok) return setError(new Error(target.message));
    const data: Record<string, string> = {};
    for (const { key, value } of pairs) {
      if (!key.trim()) {
        if (value) return setError(new Error('Every value needs a key'));
        continue;
      }
      if (key.trim() in data) return setError(new Error(`The key ${key.trim()} is there twice`));
      data[key.trim()] = value;
    }
    if (Object.keys(data).length === 0) return setError(new Error('A secret needs at least one key'));
    setBusy(true);
    try {
      await client.write(ctx.paths.data(target.value), ctx.version === 2 ? { data } : data);
      navigate(routeWithPath(['secrets', ctx.m, 'show'], target.value));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <PageHeader
        title={title}
        crumbs={<Crumbs ctx={ctx} path={editing ? (p.path as string) : (p.folder ?? '')} last={editing} />}
      />
      <Form onSubmit={submit} label={title} class="form wide">
        {!editing && (
          <Field
            label="Path"
            value={path}
            onInput={setPath}
            autoFocus
            hint={`Inside ${ctx.mount.path}; "/" makes folders (app/db).`}
            error={path.trim() && !target.ok ? target.message : null}
          />
        )}
        <fieldset class="pairs">
          <legend>Keys and values</legend>
          {pairs.map((pair, i) => (
            <div class="pair" key={i}>
              <Field label={`Key ${i + 1}`} value={pair.key} onInput={(v) => update(i, 'key', v)} />
              <Field
                label={`Value ${i + 1}`}
                type={reveal ? 'text' : 'password'}
                value={pair.value}
                onInput={(v) => update(i, 'value', v)}
                autoComplete="new-password"
              />
              <button
                type="button"
                class="small"
                aria-label={`Remove key ${i + 1}`}
                onClick={() => setPairs(pairs.filter((_, j) => j !== i))}
                disabled={pairs.length === 1}
              >
                Remove
              </button>
            </div>
          ))}
          <div class="actions">
            <button type="button" class="small" onClick={() => setPairs([...pairs, { key: '', value: '' }])}>
              Add a key
            </button>
            <label class="check">
              <input
                type="checkbox"
                checked={reveal}
                onChange={(e) => setReveal((e.target as HTMLInputElement).checked)}
              />{' '}
              Show values
            </label>
          </div>
        </fieldset>
        {ctx.version === 2 && editing && <Notice>Saving writes a new version; the old ones are kept.</Notice>}
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
          <Link
            to={
              editing
                ? routeWithPath(['secrets', ctx.m, 'show'], p.path as string)
                : routeWithPath(['secrets', ctx.m, 'list'], (p.folder ?? '').replace(/\/$/, ''))
            }
            class="button"
          >
            Cancel
          </Link>
        </div>
      </Form>
    </section>
  );
}
