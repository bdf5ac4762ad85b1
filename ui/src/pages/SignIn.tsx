// Sign in with a token, a username and password (userpass) or an AppRole role and secret id. A
// login's token is kept in session storage only.

import { useEffect, useState } from 'preact/hooks';

import { ApiError, Client, type AuthInfo } from '../api';
import { ErrorBox, Field, Form, Select } from '../components';

type Method = 'token' | 'userpass' | 'approle';

export function SignInPage(p: { client: Client; message?: string; onToken: (token: string) => void }) {
  const [method, setMethod] = useState<Method>('token');
  const [token, setToken] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [roleId, setRoleId] = useState('');
  const [secretId, setSecretId] = useState('');
  const [mount, setMount] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'Sign in · vault-cpp';
    // The first-load measurement (docs/benchmarks.md) reads this mark.
    performance.mark('vault-ui:sign-in-form');
  }, []);

  const submit = async () => {
    setError(null);
    setBusy(true);
    try {
      if (method === 'token') {
        const t = token.trim();
        if (!t) throw new Error('Enter a token');
        // The token must at least look itself up (the default policy allows it).
        const probe = new Client({ token: () => t });
        try {
          await probe.read('auth/token/lookup-self');
        } catch (e) {
          if (e instanceof ApiError && e.status === 403)
            throw new Error('Sign-in failed: the token is not valid (unknown, expired or revoked)');
          throw e;
        }
        p.onToken(t);
        return;
      }
      let auth: AuthInfo | null | undefined;
      if (method === 'userpass') {
        if (!username.trim() || !password) throw new Error('Enter a username and a password');
        const path = `auth/${(mount.trim() || 'userpass').replace(/\/+$/, '')}/login/${username.trim()}`;
        auth = (await p.client.write(path, { password }))?.auth;
      } else {
        if (!roleId.trim()) throw new Error('Enter a role ID');
        const path = `auth/${(mount.trim() || 'approle').replace(/\/+$/, '')}/login`;
        const body: Record<string, string> = { role_id: roleId.trim() };
        if (secretId.trim()) body.secret_id = secretId.trim();
        auth = (await p.client.write(path, body))?.auth;
      }
      if (!auth?.client_token) throw new Error('The login answered without a token');
      p.onToken(auth.client_token);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 400 ? new Error(`Sign-in failed: ${e.message}`) : e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="center signin">
      <h1>Sign in to vault-cpp</h1>
      {p.message && (
        <p class="alert alert-ok" role="status">
          {p.message}
        </p>
      )}
      <Form onSubmit={submit} label="Sign in">
        <Select
          label="Method"
          value={method}
          onChange={(v) => {
            setMethod(v as Method);
            setError(null);
          }}
          options={[
            ['token', 'Token'],
            ['userpass', 'Username and password (userpass)'],
            ['approle', 'AppRole'],
          ]}
        />
        {method === 'token' && (
          <Field label="Token" type="password" value={token} onInput={setToken} autoComplete="off" autoFocus />
        )}
        {method === 'userpass' && (
          <>
            <Field label="Username" value={username} onInput={setUsername} autoComplete="username" autoFocus />
            <Field
              label="Password"
              type="password"
              value={password}
              onInput={setPassword}
              autoComplete="current-password"
            />
          </>
        )}
        {method === 'approle' && (
          <>
            <Field label="Role ID" value={roleId} onInput={setRoleId} autoFocus />
            <Field label="Secret ID" type="password" value={secretId} onInput={setSecretId} />
          </>
        )}
        {method !== 'token' && (
          <Field
            label="Mount path"
            value={mount}
            onInput={setMount}
            placeholder={method}
            hint={`Where the auth method is enabled (default: ${method}).`}
          />
        )}
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Sign in
          </button>
        </div>
      </Form>
      <p class="hint">The token is kept in this browser tab only (session storage) and sent only to this server.</p>
    </main>
  );
}
