// The AWS secrets engine: roles (list, create, edit, delete), credentials for a role (creds/ for
// IAM users, sts/ with a TTL and role ARN for the STS types), config/root and config/lease.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

import { ApiError, type VaultResponse } from '../api';
import { can, capsOf } from '../caps';
import {
  ConfirmDialog,
  CopyButton,
  ErrorBox,
  Field,
  Form,
  Link,
  Loading,
  NOT_ALLOWED,
  Notice,
  PageHeader,
  Select,
  TextArea,
} from '../components';
import { useApp } from '../context';
import { durationText, formatTtl, parseDuration } from '../format';
import { useAsync, useCapabilities, useNow } from '../hooks';
import { navigate, route } from '../router';
import { checkArns, checkPolicyDocument, parsePairs, splitList } from '../validate';
import type { MountInfo } from './MountLoader';

export const CREDENTIAL_TYPES: Array<[string, string]> = [
  ['iam_user', 'IAM user (iam_user)'],
  ['assumed_role', 'Assumed role (assumed_role)'],
  ['federation_token', 'Federation token (federation_token)'],
  ['session_token', 'Session token (session_token)'],
];

export const STS_TYPES = ['assumed_role', 'federation_token', 'session_token'];

export interface Role {
  credential_type: string;
  policy_arns: string[] | null;
  role_arns: string[] | null;
  policy_document: string;
  iam_groups: string[] | null;
  iam_tags: Record<string, string> | null;
  default_sts_ttl: number;
  max_sts_ttl: number;
  user_path: string;
  permissions_boundary_arn: string;
}

// Whether credentials of a role come from sts/ (with a TTL and role ARN) rather than creds/.
export function usesSts(credentialType: string): boolean {
  const types = credentialType.split(',').map((t) => t.trim());
  return !types.includes('iam_user') && types.some((t) => STS_TYPES.includes(t));
}

function mountName(m: MountInfo): string {
  return m.path.replace(/\/$/, '');
}

export function AwsMount(p: { mount: MountInfo; rest: string[] }) {
  const m = mountName(p.mount);
  const [first, second, third] = p.rest;
  const tab = first === 'config' ? 'config' : 'roles';
  const tabs = (
    <nav aria-label={`${p.mount.path} sections`} class="tabs">
      <Link to={route('secrets', m)} aria-current={tab === 'roles' ? 'page' : undefined}>
        Roles
      </Link>
      <Link to={route('secrets', m, 'config')} aria-current={tab === 'config' ? 'page' : undefined}>
        Configuration
      </Link>
    </nav>
  );
  const crumbs = (
    <>
      <Link to="secrets">Secrets</Link> / <Link to={route('secrets', m)}>{p.mount.path}</Link>
    </>
  );
  if (first === 'config') return <AwsConfig mount={m} tabs={tabs} crumbs={crumbs} />;
  if (first === 'roles' && second === 'create') return <RoleForm mount={m} crumbs={crumbs} />;
  if (first === 'roles' && second === 'edit' && third) return <RoleForm mount={m} name={third} crumbs={crumbs} />;
  return <RolesList mount={p.mount} tabs={tabs} crumbs={crumbs} />;
}

interface RoleRow {
  name: string;
  role: Role | null; // null: the token may not read it
}

function RolesList(p: { mount: MountInfo; tabs: ComponentChildren; crumbs: ComponentChildren }) {
  const { client } = useApp();
  const m = mountName(p.mount);
  const roles = useAsync(async (): Promise<RoleRow[]> => {
    const names = (await client.list(`${m}/roles`)).sort();
    return Promise.all(
      names.map(async (name) => {
        try {
          const r = await client.read<Role>(`${m}/roles/${name}`);
          return { name, role: r.data };
        } catch {
          return { name, role: null };
        }
      }),
    );
  }, [client, m]);
  const names = (roles.data ?? []).map((r) => r.name);
  const caps = useCapabilities(names.flatMap((n) => [`${m}/roles/${n}`, `${m}/creds/${n}`, `${m}/sts/${n}`]));
  const [generating, setGenerating] = useState<RoleRow | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');

  const remove = async () => {
    if (!deleting) return;
    setBusy(true);
    setError(null);
    try {
      await client.delete(`${m}/roles/${deleting}`);
      setDone(`Deleted role ${deleting}. Credentials already issued for it keep their leases.`);
      if (generating?.name === deleting) setGenerating(null);
      roles.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setDeleting(null);
    }
  };

  return (
    <section>
      <PageHeader title={`AWS: ${p.mount.path}`} crumbs={p.crumbs}>
        <Link to={route('secrets', m, 'roles', 'create')} class="button">
          Create role
        </Link>
      </PageHeader>
      {p.mount.description && <p class="muted">{p.mount.description}</p>}
      {p.tabs}
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={error} />
      {generating && (
        <CredentialsPanel key={generating.name} mount={m} row={generating} onClose={() => setGenerating(null)} />
      )}
      <ErrorBox error={roles.error} />
      {roles.loading && !roles.data && <Loading what="roles" />}
      {roles.data && roles.data.length === 0 && (
        <p>
          No roles yet. <Link to={route('secrets', m, 'roles', 'create')}>Create one</Link>; configure the engine’s AWS
          credentials first under <Link to={route('secrets', m, 'config')}>Configuration</Link>.
        </p>
      )}
      {roles.data && roles.data.length > 0 && (
        <table class="table">
          <caption class="sr-only">Roles of {p.mount.path}</caption>
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Credential type</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {roles.data.map((row) => {
              const type = row.role?.credential_type ?? '';
              const sts = usesSts(type);
              const mayGenerate = sts
                ? can(capsOf(caps, `${m}/sts/${row.name}`), 'update')
                : can(capsOf(caps, `${m}/creds/${row.name}`), 'read');
              const roleCaps = capsOf(caps, `${m}/roles/${row.name}`);
              return (
                <tr key={row.name}>
                  <th scope="row">
                    <Link to={route('secrets', m, 'roles', 'edit', row.name)}>{row.name}</Link>
                  </th>
                  <td>{type ? type.split(',').join(', ') : <span class="muted">(not readable)</span>}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="small primary"
                      disabled={!mayGenerate}
                      title={mayGenerate ? undefined : NOT_ALLOWED}
                      aria-label={`Generate credentials for ${row.name}`}
                      onClick={() => setGenerating(row)}
                    >
                      Generate credentials
                    </button>
                    <button
                      type="button"
                      class="small"
                      disabled={!can(roleCaps, 'update')}
                      title={can(roleCaps, 'update') ? undefined : NOT_ALLOWED}
                      aria-label={`Edit ${row.name}`}
                      onClick={() => navigate(route('secrets', m, 'roles', 'edit', row.name))}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      class="small danger-outline"
                      disabled={!can(roleCaps, 'delete')}
                      title={can(roleCaps, 'delete') ? undefined : NOT_ALLOWED}
                      aria-label={`Delete ${row.name}`}
                      onClick={() => setDeleting(row.name)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete role ${deleting}?`}
          confirmLabel="Yes, delete"
          danger
          busy={busy}
          onConfirm={remove}
          onCancel={() => setDeleting(null)}
        >
          <p>
            No new credentials can be generated for it. Credentials already issued keep their leases until they end or
            are revoked.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

interface Creds {
  access_key: string;
  secret_key: string;
  security_token?: string | null;
  session_token?: string | null;
  arn?: string;
}

interface Issued {
  resp: VaultResponse<Creds>;
  at: number; // ms since the epoch when the answer came
}

// Generates credentials for one role: at once for an IAM user role (creds/), after asking for a
// TTL and role ARN for the STS types (sts/). The secrets stay in this component's memory only.
function CredentialsPanel(p: { mount: string; row: RoleRow; onClose: () => void }) {
  const { client } = useApp();
  const type = p.row.role?.credential_type ?? 'iam_user';
  const sts = usesSts(type);
  const roleArns = p.row.role?.role_arns ?? [];
  const [ttl, setTtl] = useState('');
  const [roleArn, setRoleArn] = useState(roleArns.length === 1 ? roleArns[0] : '');
  const [issued, setIssued] = useState<Issued | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  const generate = async () => {
    setError(null);
    const ttlSeconds = parseDuration(ttl);
    if (sts && ttlSeconds === null) return setError(new Error('TTL: a duration such as 15m, 1h or 3600'));
    setBusy(true);
    try {
      let resp: VaultResponse<Creds> | null;
      if (sts) {
        const body: Record<string, unknown> = {};
        if (ttlSeconds) body.ttl = ttlSeconds;
        if (roleArn.trim()) body.role_arn = roleArn.trim();
        resp = await client.write<Creds>(`${p.mount}/sts/${p.row.name}`, body);
      } else {
        resp = await client.read<Creds>(`${p.mount}/creds/${p.row.name}`);
      }
      if (!resp) throw new ApiError(500, ['the server answered without credentials']);
      setIssued({ resp, at: Date.now() });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    heading.current?.focus();
    if (!sts) generate();
  }, []);

  return (
    <section class="panel creds" aria-labelledby="creds-heading">
      <h2 id="creds-heading" ref={heading} tabIndex={-1}>
        Credentials for {p.row.name}
      </h2>
      {sts && !issued && (
        <Form onSubmit={generate} label={`Generate credentials for ${p.row.name}`}>
          <p class="muted">
            {type.split(',').join(', ')}: temporary STS credentials from <code>{`${p.mount}/sts/${p.row.name}`}</code>.
          </p>
          <Field
            label="TTL"
            value={ttl}
            onInput={setTtl}
            placeholder="1h"
            hint="How long the credentials last (default: the role’s default_sts_ttl, else 1h)."
            error={parseDuration(ttl) === null ? 'A duration such as 15m, 1h or 3600' : null}
          />
          {type.includes('assumed_role') &&
            (roleArns.length > 1 ? (
              <Select
                label="Role ARN"
                value={roleArn}
                onChange={setRoleArn}
                options={[['', 'Choose a role ARN'], ...roleArns.map((a): [string, string] => [a, a])]}
              />
            ) : (
              <Field
                label="Role ARN"
                value={roleArn}
                onInput={setRoleArn}
                hint="The AWS role to assume (one of the role’s role_arns)."
              />
            ))}
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Generate credentials
            </button>
            <button type="button" onClick={p.onClose}>
              Cancel
            </button>
          </div>
        </Form>
      )}
      {busy && !issued && <Loading what="credentials (AWS is called)" />}
      <ErrorBox error={error} />
      {issued && <IssuedCredentials issued={issued} onClose={p.onClose} />}
      {!issued && !sts && !busy && error !== null && (
        <div class="actions">
          <button type="button" onClick={generate}>
            Try again
          </button>
          <button type="button" onClick={p.onClose}>
            Close
          </button>
        </div>
      )}
    </section>
  );
}

function IssuedCredentials(p: { issued: Issued; onClose: () => void }) {
  const { client } = useApp();
  const now = useNow(1000);
  const { resp, at } = p.issued;
  const d = resp.data;
  const session = d.session_token || d.security_token || '';
  const left = resp.lease_duration - Math.floor((now - at) / 1000);
  const [revoking, setRevoking] = useState(false);
  const [revoked, setRevoked] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const exports =
    `export AWS_ACCESS_KEY_ID=${d.access_key}\nexport AWS_SECRET_ACCESS_KEY=${d.secret_key}\n` +
    (session ? `export AWS_SESSION_TOKEN=${session}\n` : '');
  const revoke = async () => {
    setError(null);
    try {
      await client.write('sys/leases/revoke', { lease_id: resp.lease_id });
      setRevoked(true);
    } catch (e) {
      setError(e);
    } finally {
      setRevoking(false);
    }
  };
  const leasePrefix = resp.lease_id.split('/').slice(0, -1).join('/');
  return (
    <div>
      <p class="alert alert-warn" role="status">
        Shown once: copy what you need now. Closing this panel forgets them.
      </p>
      <dl class="creds-list">
        <dt>Access key</dt>
        <dd>
          <code data-field="access_key">{d.access_key}</code> <CopyButton value={d.access_key} label="access key" />
        </dd>
        <dt>Secret key</dt>
        <dd>
          <code data-field="secret_key">{d.secret_key}</code> <CopyButton value={d.secret_key} label="secret key" />
        </dd>
        {session && (
          <>
            <dt>Session token</dt>
            <dd>
              <code class="wrap" data-field="session_token">
                {session}
              </code>{' '}
              <CopyButton value={session} label="session token" />
            </dd>
          </>
        )}
        {d.arn && (
          <>
            <dt>ARN</dt>
            <dd>
              <code>{d.arn}</code>
            </dd>
          </>
        )}
        <dt>Lease ID</dt>
        <dd>
          {resp.lease_id ? (
            <>
              <code data-field="lease_id">{resp.lease_id}</code> <CopyButton value={resp.lease_id} label="lease ID" />
            </>
          ) : (
            <span class="muted">none</span>
          )}
        </dd>
        <dt>Time left</dt>
        <dd>
          {revoked ? (
            'revoked'
          ) : (
            <span data-field="time_left">
              {formatTtl(left)} {resp.renewable ? '(renewable)' : '(not renewable)'}
            </span>
          )}
        </dd>
      </dl>
      <ErrorBox error={error} />
      {revoked && <Notice>Lease revoked: the credentials no longer work.</Notice>}
      <div class="actions">
        <CopyButton value={exports} label="as shell exports" text="Copy as shell exports" />
        {resp.lease_id && leasePrefix && (
          <Link to={route('leases', ...leasePrefix.split('/'))} class="button small">
            Show in Leases
          </Link>
        )}
        {resp.lease_id && !revoked && (
          <button type="button" class="small danger-outline" onClick={() => setRevoking(true)}>
            Revoke now
          </button>
        )}
        <button type="button" class="small" onClick={p.onClose}>
          Done
        </button>
      </div>
      {revoking && (
        <ConfirmDialog
          title="Revoke these credentials?"
          confirmLabel="Yes, revoke"
          danger
          onConfirm={revoke}
          onCancel={() => setRevoking(false)}
        >
          <p>
            The lease <code>{resp.lease_id}</code> ends now and its credentials are deleted at AWS.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

interface RoleDraft {
  name: string;
  type: string;
  policyDocument: string;
  policyArns: string;
  roleArns: string;
  groups: string;
  tags: string;
  defaultTtl: string;
  maxTtl: string;
  userPath: string;
  boundary: string;
}

function draftFrom(name: string, r: Role | null): RoleDraft {
  const lines = (l: string[] | null) => (l ?? []).join('\n');
  return {
    name,
    type: r?.credential_type || 'iam_user',
    policyDocument: prettyJson(r?.policy_document ?? ''),
    policyArns: lines(r?.policy_arns ?? null),
    roleArns: lines(r?.role_arns ?? null),
    groups: lines(r?.iam_groups ?? null),
    tags: Object.entries(r?.iam_tags ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    defaultTtl: durationText(r?.default_sts_ttl ?? 0),
    maxTtl: durationText(r?.max_sts_ttl ?? 0),
    userPath: r?.user_path && r.user_path !== '/' ? r.user_path : '',
    boundary: r?.permissions_boundary_arn ?? '',
  };
}

function prettyJson(text: string): string {
  if (!text.trim()) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// The body of a role write: every field the form shows, the ones that do not apply to the
// credential type sent empty (so that changing the type clears them). Errors by field.
export function roleBody(d: RoleDraft): { body: Record<string, unknown>; errors: Record<string, string> } {
  const types = d.type.split(',');
  const has = (t: string) => types.includes(t);
  const isSts = types.some((t) => STS_TYPES.includes(t));
  const errors: Record<string, string> = {};
  const body: Record<string, unknown> = { credential_type: d.type };
  if (!/^[\w.@-]+$/.test(d.name)) errors.name = 'A name of letters, digits and _ . @ -';
  const sessionOnly = has('session_token') && types.length === 1;
  const doc = checkPolicyDocument(d.policyDocument);
  if (!doc.ok) errors.policyDocument = doc.message;
  body.policy_document = sessionOnly
    ? ''
    : d.policyDocument.trim()
      ? JSON.stringify(JSON.parse(doc.ok ? d.policyDocument : '{}'))
      : '';
  const pa = checkArns(d.policyArns);
  if (!pa.ok) errors.policyArns = pa.message;
  body.policy_arns = sessionOnly ? [] : pa.ok ? pa.value : [];
  const ra = checkArns(d.roleArns);
  if (!ra.ok) errors.roleArns = ra.message;
  body.role_arns = has('assumed_role') && ra.ok ? ra.value : [];
  if (has('assumed_role') && ra.ok && ra.value.length === 0)
    errors.roleArns = 'An assumed_role role needs at least one role ARN';
  body.iam_groups = sessionOnly ? [] : splitList(d.groups);
  const tags = parsePairs(d.tags);
  if (!tags.ok) errors.tags = tags.message;
  body.iam_tags = has('iam_user') && tags.ok ? tags.value : {};
  const def = parseDuration(d.defaultTtl);
  const max = parseDuration(d.maxTtl);
  if (def === null) errors.defaultTtl = 'A duration such as 15m, 1h or 3600';
  if (max === null) errors.maxTtl = 'A duration such as 15m, 1h or 3600';
  if (def && max && def > max) errors.defaultTtl = 'The default TTL is longer than the maximum TTL';
  body.default_sts_ttl = isSts ? (def ?? 0) : 0;
  body.max_sts_ttl = isSts ? (max ?? 0) : 0;
  body.user_path = has('iam_user') ? d.userPath.trim() || '/' : '';
  if (has('iam_user') && d.boundary.trim()) {
    const b = checkArns(d.boundary);
    if (!b.ok || b.value.length !== 1) errors.boundary = 'One IAM policy ARN';
  }
  body.permissions_boundary_arn = has('iam_user') ? d.boundary.trim() : '';
  return { body, errors };
}

function RoleForm(p: { mount: string; name?: string; crumbs: ComponentChildren }) {
  const { client } = useApp();
  const editing = p.name !== undefined;
  const loaded = useAsync(
    async () => (editing ? (await client.read<Role>(`${p.mount}/roles/${p.name}`)).data : null),
    [client, p.mount, p.name],
  );
  const [draft, setDraft] = useState<RoleDraft | null>(editing ? null : draftFrom('', null));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState(false);
  useEffect(() => {
    if (editing && loaded.data) setDraft(draftFrom(p.name ?? '', loaded.data));
  }, [loaded.data]);

  const title = editing ? `Role ${p.name}` : 'Create an AWS role';
  if (editing && loaded.error)
    return (
      <section>
        <PageHeader title={title} crumbs={p.crumbs} />
        <ErrorBox error={loaded.error} />
      </section>
    );
  if (!draft) return <Loading what="the role" />;

  const set = (k: keyof RoleDraft) => (v: string) => setDraft({ ...draft, [k]: v });
  const { body, errors } = roleBody(draft);
  const show = (k: string) =>
    tried || k === 'policyDocument' || k === 'policyArns' || k === 'roleArns' ? (errors[k] ?? null) : null;
  const types = draft.type.split(',');
  const has = (t: string) => types.includes(t);
  const isSts = types.some((t) => STS_TYPES.includes(t));
  const sessionOnly = has('session_token') && types.length === 1;
  const typeOptions = CREDENTIAL_TYPES.some(([v]) => v === draft.type)
    ? CREDENTIAL_TYPES
    : [...CREDENTIAL_TYPES, [draft.type, draft.type.split(',').join(', ')] as [string, string]];

  const submit = async () => {
    setTried(true);
    setError(null);
    if (Object.keys(errors).length) return setError(new Error('Fix the fields marked above'));
    setBusy(true);
    try {
      await client.write(`${p.mount}/roles/${draft.name}`, body);
      navigate(route('secrets', p.mount));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHeader title={title} crumbs={p.crumbs} />
      <Form onSubmit={submit} label={title} class="form wide">
        {!editing && (
          <Field label="Role name" value={draft.name} onInput={set('name')} error={show('name')} autoFocus />
        )}
        <Select
          label="Credential type"
          value={draft.type}
          onChange={set('type')}
          options={typeOptions}
          hint={
            isSts
              ? `Temporary STS credentials from ${p.mount}/sts/<role>; they expire on their own.`
              : `An IAM user with an access key from ${p.mount}/creds/<role>, deleted when its lease ends.`
          }
        />
        {has('assumed_role') && (
          <TextArea
            label="Role ARNs"
            value={draft.roleArns}
            onInput={set('roleArns')}
            rows={2}
            mono
            hint="AWS roles that may be assumed, one per line."
            error={show('roleArns')}
          />
        )}
        {!sessionOnly && (
          <>
            <TextArea
              label="Policy document"
              value={draft.policyDocument}
              onInput={set('policyDocument')}
              rows={10}
              mono
              hint={
                has('iam_user') ? 'IAM policy JSON: the user’s inline policy.' : 'IAM policy JSON: the session policy.'
              }
              error={show('policyDocument')}
            />
            <TextArea
              label="Policy ARNs"
              value={draft.policyArns}
              onInput={set('policyArns')}
              rows={2}
              mono
              hint="Managed policies, one ARN per line."
              error={show('policyArns')}
            />
            <TextArea
              label="IAM groups"
              value={draft.groups}
              onInput={set('groups')}
              rows={2}
              hint="Group names, one per line."
            />
          </>
        )}
        {has('iam_user') && (
          <>
            <TextArea
              label="IAM tags"
              value={draft.tags}
              onInput={set('tags')}
              rows={2}
              mono
              hint="key=value, one per line."
              error={show('tags')}
            />
            <Field label="User path" value={draft.userPath} onInput={set('userPath')} placeholder="/" />
            <Field
              label="Permissions boundary ARN"
              value={draft.boundary}
              onInput={set('boundary')}
              error={show('boundary')}
            />
          </>
        )}
        {isSts && (
          <div class="row">
            <Field
              label="Default STS TTL"
              value={draft.defaultTtl}
              onInput={set('defaultTtl')}
              placeholder="1h"
              error={show('defaultTtl')}
            />
            <Field
              label="Maximum STS TTL"
              value={draft.maxTtl}
              onInput={set('maxTtl')}
              placeholder="12h"
              error={show('maxTtl')}
            />
          </div>
        )}
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {editing ? 'Save role' : 'Create role'}
          </button>
          <Link to={route('secrets', p.mount)} class="button">
            Cancel
          </Link>
        </div>
      </Form>
    </section>
  );
}

interface RootConfig {
  access_key: string;
  region: string;
  iam_endpoint: string;
  sts_endpoint: string;
  max_retries: number;
}

function AwsConfig(p: { mount: string; tabs: ComponentChildren; crumbs: ComponentChildren }) {
  const caps = useCapabilities([`${p.mount}/config/root`, `${p.mount}/config/lease`]);
  return (
    <section>
      <PageHeader title={`AWS: ${p.mount}/`} crumbs={p.crumbs} />
      {p.tabs}
      <RootConfigForm mount={p.mount} allowed={can(capsOf(caps, `${p.mount}/config/root`), 'update')} />
      <LeaseConfigForm mount={p.mount} allowed={can(capsOf(caps, `${p.mount}/config/lease`), 'update')} />
    </section>
  );
}

function RootConfigForm(p: { mount: string; allowed: boolean }) {
  const { client } = useApp();
  const current = useAsync(() => client.readOrNull<RootConfig>(`${p.mount}/config/root`), [client, p.mount]);
  const [v, setV] = useState({
    access_key: '',
    secret_key: '',
    region: '',
    iam_endpoint: '',
    sts_endpoint: '',
    max_retries: '',
  });
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const c = current.data?.data;
    if (c)
      setV({
        access_key: c.access_key ?? '',
        secret_key: '',
        region: c.region ?? '',
        iam_endpoint: c.iam_endpoint ?? '',
        sts_endpoint: c.sts_endpoint ?? '',
        max_retries: c.max_retries === undefined || c.max_retries === -1 ? '' : String(c.max_retries),
      });
  }, [current.data]);
  const configured = !!current.data;
  const set = (k: keyof typeof v) => (x: string) => {
    setSaved(false);
    setV({ ...v, [k]: x });
  };
  const submit = async () => {
    setError(null);
    setSaved(false);
    if (!configured && (!v.access_key.trim() || !v.secret_key))
      return setError(new Error('An access key and a secret key are needed'));
    if (v.max_retries.trim() && !/^-?\d+$/.test(v.max_retries.trim()))
      return setError(new Error('Maximum retries: a whole number'));
    const body: Record<string, unknown> = {
      access_key: v.access_key.trim(),
      region: v.region.trim(),
      iam_endpoint: v.iam_endpoint.trim(),
      sts_endpoint: v.sts_endpoint.trim(),
      max_retries: v.max_retries.trim() ? Number(v.max_retries.trim()) : -1,
    };
    // Writes are partial: the stored secret key stays unless a new one is typed.
    if (v.secret_key) body.secret_key = v.secret_key;
    setBusy(true);
    try {
      await client.write(`${p.mount}/config/root`, body);
      setSaved(true);
      setV({ ...v, secret_key: '' });
      current.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Form onSubmit={submit} label="Root credentials" class="form panel">
      <h2>Root credentials (config/root)</h2>
      <p class="muted">
        The AWS key this engine uses to create IAM users and call STS. The secret key is never shown back.
      </p>
      <ErrorBox error={current.error} />
      <Field label="Access key" value={v.access_key} onInput={set('access_key')} />
      <Field
        label="Secret key"
        type="password"
        value={v.secret_key}
        onInput={set('secret_key')}
        placeholder={configured ? '(stored; type a new one to replace it)' : ''}
        autoComplete="new-password"
      />
      <Field label="Region" value={v.region} onInput={set('region')} placeholder="us-east-1" />
      <Field
        label="IAM endpoint"
        value={v.iam_endpoint}
        onInput={set('iam_endpoint')}
        placeholder="AWS’s (https://iam.amazonaws.com)"
      />
      <Field
        label="STS endpoint"
        value={v.sts_endpoint}
        onInput={set('sts_endpoint')}
        placeholder="AWS’s (https://sts.<region>.amazonaws.com)"
      />
      <Field
        label="Maximum retries"
        value={v.max_retries}
        onInput={set('max_retries')}
        placeholder="3"
        inputMode="numeric"
      />
      <ErrorBox error={error} />
      {saved && <Notice>Root credentials saved.</Notice>}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !p.allowed} title={p.allowed ? undefined : NOT_ALLOWED}>
          Save root credentials
        </button>
      </div>
    </Form>
  );
}

function LeaseConfigForm(p: { mount: string; allowed: boolean }) {
  const { client } = useApp();
  const current = useAsync(
    () => client.readOrNull<{ lease: string; lease_max: string }>(`${p.mount}/config/lease`),
    [client, p.mount],
  );
  const [lease, setLease] = useState('');
  const [leaseMax, setLeaseMax] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const c = current.data?.data;
    if (c) {
      setLease(c.lease ?? '');
      setLeaseMax(c.lease_max ?? '');
    }
  }, [current.data]);
  const submit = async () => {
    setError(null);
    setSaved(false);
    if (parseDuration(lease) === null || parseDuration(leaseMax) === null)
      return setError(new Error('Durations such as 1h, 30m or 3600s'));
    setBusy(true);
    try {
      await client.write(`${p.mount}/config/lease`, { lease: lease.trim(), lease_max: leaseMax.trim() });
      setSaved(true);
      current.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Form onSubmit={submit} label="Lease settings" class="form panel">
      <h2>Leases of IAM users (config/lease)</h2>
      <p class="muted">How long iam_user credentials last, and how far renewals may extend them.</p>
      <ErrorBox error={current.error} />
      <div class="row">
        <Field
          label="Lease"
          value={lease}
          onInput={setLease}
          placeholder="1h"
          error={parseDuration(lease) === null ? 'A duration such as 1h' : null}
        />
        <Field
          label="Maximum lease"
          value={leaseMax}
          onInput={setLeaseMax}
          placeholder="24h"
          error={parseDuration(leaseMax) === null ? 'A duration such as 24h' : null}
        />
      </div>
      <ErrorBox error={error} />
      {saved && <Notice>Lease settings saved.</Notice>}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !p.allowed} title={p.allowed ? undefined : NOT_ALLOWED}>
          Save lease settings
        </button>
      </div>
    </Form>
  );
}
