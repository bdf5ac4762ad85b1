// ACL policies (sys/policies/acl): listed, read, written and deleted. A policy that does not parse
// is refused by the server with a 400 whose text (line and column) is shown under the editor.

import { useEffect, useState } from 'preact/hooks';

import { ApiError } from '../api';
import { can, capsOf } from '../caps';
import {
  ConfirmDialog,
  ErrorBox,
  Field,
  Form,
  Link,
  Loading,
  NOT_ALLOWED,
  Notice,
  PageHeader,
  TextArea,
} from '../components';
import { useApp } from '../context';
import { useAsync, useCapabilities } from '../hooks';
import { navigate, route } from '../router';

const BUILT_IN = ['root', 'default'];

export function PoliciesPage() {
  const { client } = useApp();
  const names = useAsync(async () => (await client.list('sys/policies/acl')).sort(), [client]);
  return (
    <section>
      <PageHeader title="ACL policies">
        <Link to={route('policies', 'create')} class="button">
          Create policy
        </Link>
      </PageHeader>
      <ErrorBox error={names.error} />
      {names.loading && !names.data && <Loading what="policies" />}
      {names.data && (
        <ul class="listing" aria-label="Policies">
          {names.data.map((n) => (
            <li key={n}>
              {n === 'root' ? (
                <span class="secret">
                  {n} <span class="muted">(every capability; cannot be read or changed)</span>
                </span>
              ) : (
                <Link to={route('policies', 'edit', n)} class="secret">
                  {n}
                </Link>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function PolicyEditPage(p: { name?: string }) {
  const { client } = useApp();
  const editing = p.name !== undefined;
  const current = useAsync(
    async () => (editing ? (await client.read<{ policy: string }>(`sys/policies/acl/${p.name}`)).data.policy : ''),
    [client, p.name],
  );
  const [name, setName] = useState('');
  const [text, setText] = useState<string | null>(
    editing ? null : 'path "secret/app/*" {\n  capabilities = ["read", "list"]\n}\n',
  );
  const [syntax, setSyntax] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const target = editing ? (p.name as string) : name.trim().toLowerCase();
  const caps = useCapabilities(editing ? [`sys/policies/acl/${p.name}`] : []);
  const policyCaps = capsOf(caps, `sys/policies/acl/${p.name}`);
  useEffect(() => {
    if (current.data !== undefined && text === null) setText(current.data);
  }, [current.data]);

  const save = async () => {
    setError(null);
    setSyntax(null);
    setSaved(false);
    if (!editing && !/^[\w.@-]+$/.test(target)) return setError(new Error('A name of letters, digits and _ . @ -'));
    if (!editing && BUILT_IN.includes(target)) return setError(new Error(`"${target}" is a built-in policy`));
    setBusy(true);
    try {
      await client.write(`sys/policies/acl/${target}`, { policy: text ?? '' });
      setSaved(true);
      // A new policy's page becomes its edit page (the same page: what was typed stays).
      if (!editing) navigate(route('policies', 'edit', target), true);
    } catch (e) {
      // A policy that does not parse: the server's text, in place.
      if (e instanceof ApiError && e.status === 400) setSyntax(e.message);
      else setError(e);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await client.delete(`sys/policies/acl/${p.name}`);
      navigate('policies', true);
    } catch (e) {
      setError(e);
      setDeleting(false);
    } finally {
      setBusy(false);
    }
  };

  const title = editing ? `Policy ${p.name}` : 'Create a policy';
  const crumbs = (
    <>
      <Link to="policies">Policies</Link> / {editing ? p.name : 'new'}
    </>
  );
  if (current.error)
    return (
      <section>
        <PageHeader title={title} crumbs={crumbs} />
        <ErrorBox error={current.error} />
      </section>
    );
  if (text === null) return <Loading what="the policy" />;
  const mayWrite = can(policyCaps, 'update');
  const mayDelete = editing && !BUILT_IN.includes(p.name as string) && can(policyCaps, 'delete');
  return (
    <section>
      <PageHeader title={title} crumbs={crumbs}>
        {editing && !BUILT_IN.includes(p.name as string) && (
          <button
            type="button"
            class="danger-outline"
            disabled={!mayDelete}
            title={mayDelete ? undefined : NOT_ALLOWED}
            onClick={() => setDeleting(true)}
          >
            Delete policy
          </button>
        )}
      </PageHeader>
      <Form onSubmit={save} label={title} class="form wide">
        {!editing && <Field label="Policy name" value={name} onInput={setName} autoFocus />}
        <TextArea
          label="Policy (HCL or JSON)"
          value={text}
          onInput={(v) => {
            setText(v);
            setSaved(false);
          }}
          rows={16}
          mono
          error={syntax}
          hint={
            <>
              Rules such as <code>{'path "aws/creds/deploy" { capabilities = ["read"] }'}</code>.
            </>
          }
        />
        <ErrorBox error={error} />
        {saved && <Notice>Policy saved: it applies to the next request of every token that has it.</Notice>}
        <div class="actions">
          <button
            type="submit"
            class="primary"
            disabled={busy || (editing && !mayWrite)}
            title={editing && !mayWrite ? NOT_ALLOWED : undefined}
          >
            Save policy
          </button>
          <Link to="policies" class="button">
            Back
          </Link>
        </div>
      </Form>
      {deleting && (
        <ConfirmDialog
          title={`Delete policy ${p.name}?`}
          confirmLabel="Yes, delete"
          danger
          busy={busy}
          onConfirm={remove}
          onCancel={() => setDeleting(false)}
        >
          <p>Tokens that have it lose what it grants from their next request on.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
