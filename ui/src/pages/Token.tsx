// The signed-in token (auth/token/lookup-self): its policies, time left, renewal.

import { useState } from 'preact/hooks';

import { ErrorBox, Loading, Notice, PageHeader } from '../components';
import { useApp } from '../context';
import { formatTime, formatTtl, secondsUntil } from '../format';
import { useAsync, useNow } from '../hooks';

interface SelfInfo {
  display_name: string;
  policies: string[] | null;
  ttl: number;
  creation_time: number;
  expire_time: string | null;
  renewable: boolean;
  accessor: string;
  path: string;
  orphan: boolean;
  meta: Record<string, string> | null;
  num_uses: number;
}

export function TokenPage() {
  const { client } = useApp();
  const self = useAsync(async () => (await client.read<SelfInfo>('auth/token/lookup-self')).data, [client]);
  const now = useNow(1000);
  const [fetchedAt, setFetchedAt] = useState(Date.now());
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');

  const renew = async () => {
    setError(null);
    setNote('');
    try {
      const r = await client.write('auth/token/renew-self', {});
      setNote(`Renewed: ${formatTtl(r?.auth?.lease_duration ?? 0)} left`);
      setFetchedAt(Date.now());
      self.reload();
    } catch (e) {
      setError(e);
    }
  };
  const d = self.data;
  const left = d
    ? d.expire_time
      ? secondsUntil(d.expire_time, now)
      : d.ttl
        ? d.ttl - Math.floor((now - fetchedAt) / 1000)
        : null
    : null;
  return (
    <section>
      <PageHeader title="Your token" />
      <ErrorBox error={self.error} />
      {!d && !self.error && <Loading what="the token" />}
      {d && (
        <>
          <dl class="facts">
            <dt>Display name</dt>
            <dd>{d.display_name}</dd>
            <dt>Policies</dt>
            <dd>
              <ul class="tags" aria-label="Policies">
                {(d.policies ?? []).map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </dd>
            <dt>Time left</dt>
            <dd data-field="ttl">{left === null ? 'never expires' : formatTtl(left)}</dd>
            <dt>Expires</dt>
            <dd>{formatTime(d.expire_time) || 'never'}</dd>
            <dt>Renewable</dt>
            <dd>{d.renewable ? 'yes' : 'no'}</dd>
            <dt>Accessor</dt>
            <dd>
              <code>{d.accessor}</code>
            </dd>
            <dt>Created by</dt>
            <dd>
              <code>{d.path}</code>
            </dd>
            {d.num_uses > 0 && (
              <>
                <dt>Uses left</dt>
                <dd>{d.num_uses}</dd>
              </>
            )}
          </dl>
          <ErrorBox error={error} />
          {note && <Notice>{note}</Notice>}
          {d.renewable && (
            <div class="actions">
              <button type="button" onClick={renew}>
                Renew token
              </button>
            </div>
          )}
        </>
      )}
    </section>
  );
}
