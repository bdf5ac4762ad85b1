// Leases by prefix (mount, then creds/, then the role): LIST sys/leases/lookup/<prefix>, one row
// per lease with its issue and expiry times (PUT sys/leases/lookup), renew and revoke; revoke-prefix
// and revoke-force for a whole prefix, with a confirmation that counts the leases first.

import { useState } from 'preact/hooks';

import { can, capsOf } from '../caps';
import { ConfirmDialog, ErrorBox, Field, Form, Link, Loading, NOT_ALLOWED, Notice, PageHeader } from '../components';
import { useApp } from '../context';
import { formatTime, formatTtl, secondsUntil } from '../format';
import { useAsync, useCapabilities, useNow } from '../hooks';
import { countLeases, listLevel, lookupLease, normalisePrefix, prefixCrumbs, type LeaseInfo } from '../leases';
import { navigate, routeWithPath } from '../router';

function leasesRoute(prefix: string): string {
  return routeWithPath(['leases'], prefix.replace(/\/$/, ''));
}

const PAGE = 100;

interface PrefixAction {
  force: boolean;
  count: number | null; // null while counting
  capped: boolean;
  error?: unknown;
}

export function LeasesPage(p: { prefix: string }) {
  const { client } = useApp();
  const prefix = normalisePrefix(p.prefix);
  const level = useAsync(() => listLevel(client, prefix), [client, prefix]);
  const caps = useCapabilities(
    prefix
      ? [
          'sys/leases/renew',
          'sys/leases/revoke',
          `sys/leases/revoke-prefix/${prefix}`,
          `sys/leases/revoke-force/${prefix}`,
        ]
      : ['sys/leases/renew', 'sys/leases/revoke'],
  );
  const [action, setAction] = useState<PrefixAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  // Each row looks its lease up: a page at a time.
  const [shown, setShown] = useState(PAGE);

  const askPrefix = async (force: boolean) => {
    setDone('');
    setError(null);
    setAction({ force, count: null, capped: false });
    try {
      const { count, capped } = await countLeases(client, prefix);
      setAction({ force, count, capped });
    } catch (e) {
      setAction({ force, count: null, capped: false, error: e });
    }
  };
  const revokePrefix = async () => {
    if (!action) return;
    setBusy(true);
    setError(null);
    try {
      await client.write(`sys/leases/${action.force ? 'revoke-force' : 'revoke-prefix'}/${prefix}`, {});
      setDone(`${action.force ? 'Force-revoked' : 'Revoked'} the leases under ${prefix}.`);
      level.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setAction(null);
    }
  };

  const mayPrefix = can(capsOf(caps, `sys/leases/revoke-prefix/${prefix}`), 'update', 'sudo');
  const mayForce = can(capsOf(caps, `sys/leases/revoke-force/${prefix}`), 'update', 'sudo');
  const crumbs = prefixCrumbs(prefix);
  return (
    <section>
      <PageHeader
        title={prefix ? `Leases: ${prefix}` : 'Leases'}
        crumbs={
          prefix ? (
            <>
              <Link to="leases">Leases</Link>
              {crumbs.map((c, i) =>
                i === crumbs.length - 1 ? (
                  <span key={c.prefix}> {c.label}</span>
                ) : (
                  <span key={c.prefix}>
                    {' '}
                    <Link to={leasesRoute(c.prefix)}>{c.label}</Link>
                  </span>
                ),
              )}
            </>
          ) : undefined
        }
      >
        {prefix && (
          <>
            <button
              type="button"
              class="danger-outline"
              disabled={!mayPrefix}
              title={mayPrefix ? undefined : NOT_ALLOWED}
              onClick={() => askPrefix(false)}
            >
              Revoke all under {prefix}
            </button>
            <button
              type="button"
              class="danger"
              disabled={!mayForce}
              title={mayForce ? undefined : NOT_ALLOWED}
              onClick={() => askPrefix(true)}
            >
              Force-revoke all under {prefix}
            </button>
          </>
        )}
      </PageHeader>
      {!prefix && (
        <p class="muted">Leases by the path that issued them: a mount, then its path (creds/), then the role.</p>
      )}
      <PrefixForm current={prefix} />
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={error} />
      <ErrorBox error={level.error} />
      {level.loading && !level.data && <Loading what="leases" />}
      {level.data && level.data.prefixes.length === 0 && level.data.leases.length === 0 && (
        <p>No leases {prefix ? `under ${prefix}` : 'at all'}.</p>
      )}
      {level.data && level.data.prefixes.length > 0 && (
        <ul class="listing" aria-label="Prefixes">
          {level.data.prefixes.map((pf) => (
            <li key={pf}>
              <Link to={leasesRoute(pf)} class="folder">
                {pf.slice(prefix.length)}
              </Link>
            </li>
          ))}
        </ul>
      )}
      {level.data && level.data.leases.length > 0 && (
        <table class="table leases">
          <caption class="sr-only">Leases under {prefix}</caption>
          <thead>
            <tr>
              <th scope="col">Lease ID</th>
              <th scope="col">Issued</th>
              <th scope="col">Expires</th>
              <th scope="col">Time left</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {level.data.leases.slice(0, shown).map((id) => (
              <LeaseRow
                key={id}
                id={id}
                mayRenew={can(capsOf(caps, 'sys/leases/renew'), 'update')}
                mayRevoke={can(capsOf(caps, 'sys/leases/revoke'), 'update')}
                onGone={level.reload}
              />
            ))}
          </tbody>
        </table>
      )}
      {level.data && level.data.leases.length > shown && (
        <div class="actions">
          <span class="muted">
            {shown} of {level.data.leases.length} leases shown
          </span>
          <button type="button" onClick={() => setShown(shown + PAGE)}>
            Show {Math.min(PAGE, level.data.leases.length - shown)} more
          </button>
        </div>
      )}
      {action && (
        <ConfirmDialog
          title={action.force ? `Force-revoke every lease under ${prefix}?` : `Revoke every lease under ${prefix}?`}
          confirmLabel={
            action.count === null ? 'Counting…' : `Yes, revoke ${action.count} lease${action.count === 1 ? '' : 's'}`
          }
          danger
          busy={busy || action.count === null}
          onConfirm={revokePrefix}
          onCancel={() => setAction(null)}
        >
          {action.error ? (
            <ErrorBox error={action.error} />
          ) : action.count === null ? (
            <p>Counting the leases…</p>
          ) : (
            <p class="count" data-count={action.count}>
              This revokes {action.capped ? 'at least ' : ''}
              {action.count} lease{action.count === 1 ? '' : 's'} under <code>{prefix}</code>.
            </p>
          )}
          {action.force && (
            <p class="alert alert-warn">
              Force: each lease is removed from this server even when its revocation fails (AWS unreachable, a user that
              cannot be deleted). What it issued may then be left behind at AWS.
            </p>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}

function LeaseRow(p: { id: string; mayRenew: boolean; mayRevoke: boolean; onGone: () => void }) {
  const { client } = useApp();
  const info = useAsync(() => lookupLease(client, p.id), [client, p.id]);
  const now = useNow(1000);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');
  const [revoked, setRevoked] = useState(false);
  const short = p.id.slice(p.id.lastIndexOf('/') + 1);

  const renew = async () => {
    setBusy(true);
    setError(null);
    setNote('');
    try {
      const r = await client.write('sys/leases/renew', { lease_id: p.id });
      setNote(`Renewed: ${formatTtl(r?.lease_duration ?? 0)} left`);
      info.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const revoke = async () => {
    setBusy(true);
    setError(null);
    setNote('');
    try {
      await client.write('sys/leases/revoke', { lease_id: p.id });
      setRevoked(true);
      setConfirming(false);
      p.onGone();
    } catch (e) {
      setError(e);
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  const d: LeaseInfo | undefined = info.data;
  const left = d ? secondsUntil(d.expire_time, now) : null;
  return (
    <tr data-lease-id={p.id}>
      <th scope="row">
        <code title={p.id}>{p.id}</code>
        {(error !== null || note || info.error !== undefined) && (
          <div>
            <ErrorBox error={error ?? info.error} />
            {note && (
              <span class="note" role="status">
                {note}
              </span>
            )}
          </div>
        )}
      </th>
      <td>{d ? formatTime(d.issue_time) : '…'}</td>
      <td>{d ? formatTime(d.expire_time) || 'never' : '…'}</td>
      <td>{revoked ? 'revoked' : d ? (left === null ? '—' : formatTtl(left)) : '…'}</td>
      <td class="row-actions">
        <button
          type="button"
          class="small"
          disabled={busy || revoked || !p.mayRenew || (d !== undefined && !d.renewable)}
          title={!p.mayRenew ? NOT_ALLOWED : d && !d.renewable ? 'This lease is not renewable' : undefined}
          aria-label={`Renew ${short}`}
          onClick={renew}
        >
          Renew
        </button>
        <button
          type="button"
          class="small danger-outline"
          disabled={busy || revoked || !p.mayRevoke}
          title={p.mayRevoke ? undefined : NOT_ALLOWED}
          aria-label={`Revoke ${short}`}
          onClick={() => setConfirming(true)}
        >
          Revoke
        </button>
        {confirming && (
          <ConfirmDialog
            title="Revoke this lease?"
            confirmLabel="Yes, revoke"
            danger
            busy={busy}
            onConfirm={revoke}
            onCancel={() => setConfirming(false)}
          >
            <p>
              <code>{p.id}</code> ends now; its secret is revoked at its source (an IAM user is deleted).
            </p>
          </ConfirmDialog>
        )}
      </td>
    </tr>
  );
}

// Straight to a prefix (a token may list aws/creds/deploy/ without listing what is above it).
function PrefixForm(p: { current: string }) {
  const [value, setValue] = useState(p.current);
  return (
    <Form
      onSubmit={() => navigate(leasesRoute(normalisePrefix(value.trim())))}
      label="Go to a prefix"
      class="form inline"
    >
      <Field label="Prefix" value={value} onInput={setValue} placeholder="aws/creds/deploy/" />
      <button type="submit">Open</button>
    </Form>
  );
}
