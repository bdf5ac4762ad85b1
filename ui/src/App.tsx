// The shell: the server's state first (not initialised: init; sealed: unseal), then sign-in, then
// the signed-in app with its navigation and pages.

import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';

import { ApiError, Client } from './api';
import { ErrorBox, Link, Loading } from './components';
import { AppContext, useApp, type TokenInfo } from './context';
import { AwsMount } from './pages/Aws';
import { KvMount } from './pages/Kv';
import { LeasesPage } from './pages/Leases';
import { MountsPage } from './pages/Mounts';
import { PoliciesPage, PolicyEditPage } from './pages/Policies';
import { InitPage, UnsealPage, type SealStatus } from './pages/Seal';
import { SignInPage } from './pages/SignIn';
import { TokenPage } from './pages/Token';
import { MountLoader } from './pages/MountLoader';
import { navigate, segments, useRoute } from './router';
import { clearToken, loadToken, saveToken } from './session';

type Phase =
  | { kind: 'loading' }
  | { kind: 'unreachable'; error: unknown }
  | { kind: 'init' }
  | { kind: 'sealed'; status: SealStatus }
  | { kind: 'signin'; message?: string }
  | { kind: 'ready'; token: TokenInfo };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [checkTick, setCheckTick] = useState(0);
  const recheck = useCallback(() => setCheckTick((t) => t + 1), []);
  const client = useMemo(() => new Client({ token: loadToken, onSealed: recheck }), [recheck]);

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const status = await client.raw<SealStatus>('GET', 'sys/seal-status');
        if (!live) return;
        if (!status) throw new ApiError(500, ['empty seal status']);
        if (!status.initialized) return setPhase({ kind: 'init' });
        if (status.sealed) return setPhase({ kind: 'sealed', status });
        if (!loadToken()) return setPhase({ kind: 'signin' });
        const self = await client.read<TokenInfo>('auth/token/lookup-self');
        if (live) setPhase({ kind: 'ready', token: self.data });
      } catch (e) {
        if (!live) return;
        if (e instanceof ApiError && e.status === 403) {
          clearToken();
          setPhase({ kind: 'signin', message: 'Your token is no longer valid (expired or revoked): sign in again.' });
        } else if (e instanceof ApiError && e.status === 503) {
          setPhase({ kind: 'loading' });
          setTimeout(recheck, 1000);
        } else {
          setPhase({ kind: 'unreachable', error: e });
        }
      }
    })();
    return () => {
      live = false;
    };
  }, [client, checkTick, recheck]);

  const signedIn = (token: string) => {
    saveToken(token);
    recheck();
  };
  const signOut = useCallback(() => {
    clearToken();
    setPhase({ kind: 'signin', message: 'Signed out.' });
    navigate('', true);
  }, []);

  switch (phase.kind) {
    case 'loading':
      return (
        <main class="center">
          <Loading />
        </main>
      );
    case 'unreachable':
      return (
        <main class="center">
          <h1>vault-cpp</h1>
          <ErrorBox error={phase.error} />
          <button type="button" onClick={recheck}>
            Try again
          </button>
        </main>
      );
    case 'init':
      return <InitPage client={client} onDone={recheck} />;
    case 'sealed':
      return <UnsealPage client={client} status={phase.status} onChange={recheck} />;
    case 'signin':
      return <SignInPage client={client} message={phase.message} onToken={signedIn} />;
    case 'ready':
      return (
        <AppContext.Provider value={{ client, token: phase.token, signOut, refreshToken: recheck }}>
          <Shell />
        </AppContext.Provider>
      );
  }
}

const NAV: Array<[string, string]> = [
  ['secrets', 'Secrets'],
  ['leases', 'Leases'],
  ['policies', 'Policies'],
  ['token', 'Token'],
];

function Shell() {
  const r = useRoute();
  const segs = segments(r);
  const section = segs[0] ?? 'secrets';
  const ctx = useApp();
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">vault-cpp</span>
        <nav aria-label="Main" class="mainnav">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <Link to={to} aria-current={section === to ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" title="The token’s display name">
          {ctx.token.display_name}
        </span>
        <button type="button" class="signout" onClick={ctx.signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page segs={segs} />
      </main>
    </div>
  );
}

function Page({ segs }: { segs: string[] }) {
  const [section, ...rest] = segs;
  switch (section ?? 'secrets') {
    case 'secrets':
      if (rest.length === 0) return <MountsPage />;
      return (
        <MountLoader mount={rest[0]}>
          {(mount) =>
            mount.type === 'aws' ? (
              <AwsMount mount={mount} rest={rest.slice(1)} />
            ) : mount.type === 'kv' || mount.type === 'generic' || mount.type === 'kv-v2' ? (
              <KvMount mount={mount} rest={rest.slice(1)} />
            ) : (
              <section>
                <h1>{mount.path}</h1>
                <p>
                  This UI has no view for secrets engines of type <code>{mount.type}</code>; use the CLI or the HTTP API
                  for it.
                </p>
              </section>
            )
          }
        </MountLoader>
      );
    case 'leases':
      return <LeasesPage key={rest.join('/')} prefix={rest.join('/')} />;
    case 'policies':
      if (rest[0] === 'edit' && rest[1]) return <PolicyEditPage name={rest[1]} />;
      if (rest[0] === 'create') return <PolicyEditPage />;
      return <PoliciesPage />;
    case 'token':
      return <TokenPage />;
    default:
      return <NotFound />;
  }
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page here. <Link to="secrets">Go to the secrets engines</Link>.
      </p>
    </section>
  );
}
