// An uninitialised server: sys/init (key shares, threshold), then the keys and the root token,
// shown once. A sealed server: sys/unseal, one key share at a time, with its progress.

import { useEffect, useState } from 'preact/hooks';

import type { Client } from '../api';
import { CopyButton, ErrorBox, Field, Form } from '../components';

export interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  version: string;
}

interface InitResult {
  keys: string[];
  keys_base64: string[];
  root_token: string;
}

export function InitPage(p: { client: Client; onDone: () => void }) {
  const [shares, setShares] = useState('5');
  const [threshold, setThreshold] = useState('3');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<InitResult | null>(null);
  useEffect(() => {
    document.title = 'Initialise · vault-cpp';
  }, []);

  const n = Number(shares);
  const t = Number(threshold);
  const fieldError =
    !Number.isInteger(n) || n < 1 || n > 255
      ? 'Key shares: a whole number from 1 to 255'
      : !Number.isInteger(t) || t < 1 || t > n
        ? 'Key threshold: a whole number from 1 to the number of shares'
        : n > 1 && t < 2
          ? 'Key threshold: at least 2 when there is more than one share'
          : null;

  const submit = async () => {
    if (fieldError) return setError(new Error(fieldError));
    setBusy(true);
    setError(null);
    try {
      setResult(await p.client.raw<InitResult>('PUT', 'sys/init', { secret_shares: n, secret_threshold: t }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (result) {
    return (
      <main class="center wide">
        <h1>Server initialised</h1>
        <p class="alert alert-warn" role="status">
          These unseal keys and the root token are shown once. Give each key to a different person; any {t} of them
          unseal the server.
        </p>
        <ol class="keys">
          {result.keys_base64.map((k, i) => (
            <li key={i}>
              <code>{k}</code> <CopyButton value={k} label={`unseal key ${i + 1}`} />
            </li>
          ))}
        </ol>
        <p>
          Root token: <code data-field="root_token">{result.root_token}</code>{' '}
          <CopyButton value={result.root_token} label="root token" />
        </p>
        <button type="button" class="primary" onClick={p.onDone}>
          Continue to unseal
        </button>
      </main>
    );
  }
  return (
    <main class="center">
      <h1>Initialise the server</h1>
      <p>This server has no keys yet. Choose how many key shares to make and how many of them unseal it.</p>
      <Form onSubmit={submit} label="Initialise">
        <Field label="Key shares" value={shares} onInput={setShares} inputMode="numeric" />
        <Field label="Key threshold" value={threshold} onInput={setThreshold} inputMode="numeric" />
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Initialise
          </button>
        </div>
      </Form>
    </main>
  );
}

export function UnsealPage(p: { client: Client; status: SealStatus; onChange: () => void }) {
  const [key, setKey] = useState('');
  const [status, setStatus] = useState(p.status);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Unseal · vault-cpp';
  }, []);

  const send = async (body: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    try {
      const s = await p.client.raw<SealStatus>('PUT', 'sys/unseal', body);
      setKey('');
      if (s) setStatus(s);
      if (s && !s.sealed) p.onChange();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="center">
      <h1>Unseal the server</h1>
      <p>
        The server is sealed. Enter {status.t} of its {status.n} unseal keys, one at a time.
      </p>
      <p role="status" aria-live="polite">
        Keys entered: {status.progress} of {status.t}
      </p>
      <progress max={status.t} value={status.progress} aria-label="Unseal progress" />
      <Form
        onSubmit={() => {
          if (key.trim()) send({ key: key.trim() });
          else setError(new Error('Enter an unseal key'));
        }}
        label="Unseal"
      >
        <Field label="Unseal key" type="password" value={key} onInput={setKey} autoFocus />
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Unseal
          </button>
          <button type="button" disabled={busy || status.progress === 0} onClick={() => send({ reset: true })}>
            Start over
          </button>
        </div>
      </Form>
    </main>
  );
}
