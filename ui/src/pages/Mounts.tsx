// The secrets engines the token can reach (sys/internal/ui/mounts), each a link named by its
// path; enable one (sys/mounts/<path>) and disable one (with a confirmation: its leases are
// revoked and its data deleted).

import { useState } from 'preact/hooks';

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
  Select,
} from '../components';
import { useApp } from '../context';
import { useAsync, useCapabilities } from '../hooks';
import { route } from '../router';
import { checkMountPath } from '../validate';
import type { MountInfo } from './MountLoader';

const ENGINE_TYPES: Array<[string, string]> = [
  ['aws', 'AWS (dynamic IAM and STS credentials)'],
  ['kv2', 'KV version 2 (versioned secrets)'],
  ['kv', 'KV version 1'],
];

export function MountsPage() {
  const { client } = useApp();
  const mounts = useAsync(async () => {
    const r = await client.read<{ secret: Record<string, MountInfo> }>('sys/internal/ui/mounts');
    // sys/ (and identity/) cannot be browsed or disabled: not listed.
    return Object.entries(r.data.secret ?? {})
      .map(([path, m]) => ({ ...m, path }))
      .filter((m) => m.type !== 'system' && m.type !== 'identity')
      .sort((a, b) => a.path.localeCompare(b.path));
  }, [client]);
  const paths = (mounts.data ?? []).map((m) => `sys/mounts/${m.path.replace(/\/$/, '')}`);
  const caps = useCapabilities(paths);
  const [enabling, setEnabling] = useState(false);
  const [disabling, setDisabling] = useState<MountInfo | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');

  const disable = async () => {
    if (!disabling) return;
    setBusy(true);
    setError(null);
    try {
      await client.delete(`sys/mounts/${disabling.path.replace(/\/$/, '')}`);
      setDone(`Disabled ${disabling.path}`);
      mounts.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setDisabling(null);
    }
  };

  return (
    <section>
      <PageHeader title="Secrets engines">
        <button type="button" onClick={() => setEnabling(!enabling)} aria-expanded={enabling}>
          Enable a secrets engine
        </button>
      </PageHeader>
      {enabling && (
        <EnableForm
          onDone={(path) => {
            setEnabling(false);
            setDone(`Enabled ${path}`);
            mounts.reload();
          }}
        />
      )}
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={error} />
      <ErrorBox error={mounts.error} />
      {mounts.loading && !mounts.data && <Loading what="secrets engines" />}
      {mounts.data && mounts.data.length === 0 && <p>No secrets engine this token can reach.</p>}
      {mounts.data && mounts.data.length > 0 && (
        <table class="table">
          <caption class="sr-only">Secrets engines</caption>
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Type</th>
              <th scope="col">Description</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {mounts.data.map((m) => {
              const allowed = can(capsOf(caps, `sys/mounts/${m.path.replace(/\/$/, '')}`), 'delete', 'sudo');
              const type = m.type === 'kv' && m.options?.version === '2' ? 'kv (version 2)' : m.type;
              return (
                <tr key={m.path}>
                  <th scope="row">
                    <Link to={route('secrets', m.path.replace(/\/$/, ''))}>{m.path}</Link>
                  </th>
                  <td>{type}</td>
                  <td>{m.description}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="small danger-outline"
                      disabled={!allowed}
                      title={allowed ? undefined : NOT_ALLOWED}
                      aria-label={`Disable ${m.path}`}
                      onClick={() => setDisabling(m)}
                    >
                      Disable
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {disabling && (
        <ConfirmDialog
          title={`Disable ${disabling.path}?`}
          confirmLabel="Yes, disable"
          danger
          busy={busy}
          onConfirm={disable}
          onCancel={() => setDisabling(null)}
        >
          <p>
            Every lease issued by <code>{disabling.path}</code> is revoked first (for AWS: its IAM users are deleted),
            then all of its data is deleted. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function EnableForm(p: { onDone: (path: string) => void }) {
  const { client } = useApp();
  const [type, setType] = useState('aws');
  const [path, setPath] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const effectivePath = path.trim() || (type === 'kv2' ? 'kv' : type);
  const pathCheck = checkMountPath(effectivePath);

  const submit = async () => {
    if (!pathCheck.ok) return setError(new Error(pathCheck.message));
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { type: type === 'kv2' ? 'kv' : type, description };
      if (type === 'kv2') body.options = { version: '2' };
      await client.write(`sys/mounts/${pathCheck.value.replace(/\/$/, '')}`, body);
      p.onDone(pathCheck.value);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Form onSubmit={submit} label="Enable a secrets engine" class="form panel">
      <h2>Enable a secrets engine</h2>
      <Select label="Type" value={type} onChange={setType} options={ENGINE_TYPES} />
      <Field
        label="Path"
        value={path}
        onInput={setPath}
        placeholder={type === 'kv2' ? 'kv' : type}
        error={path.trim() && !pathCheck.ok ? pathCheck.message : null}
        hint="Where it is mounted: its API is then under /v1/<path>/."
      />
      <Field label="Description" value={description} onInput={setDescription} />
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Enable
        </button>
      </div>
    </Form>
  );
}
