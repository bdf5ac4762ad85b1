// Which mount a page is about: sys/internal/ui/mounts/<path> gives its type and options (the KV
// version), for any token that can reach something under it.

import type { ComponentChildren } from 'preact';

import { ErrorBox, Link, Loading } from '../components';
import { useApp } from '../context';
import { useAsync } from '../hooks';

export interface MountInfo {
  path: string; // "aws/" (with the trailing slash)
  type: string;
  description: string;
  options: Record<string, string> | null;
}

export function kvVersion(m: MountInfo): 1 | 2 {
  return m.type === 'kv-v2' || m.options?.version === '2' ? 2 : 1;
}

export function MountLoader(p: { mount: string; children: (m: MountInfo) => ComponentChildren }) {
  const { client } = useApp();
  const state = useAsync(async () => {
    const r = await client.read<MountInfo>(`sys/internal/ui/mounts/${p.mount}`);
    return { ...r.data, path: r.data.path || p.mount + '/' };
  }, [client, p.mount]);
  if (state.error)
    return (
      <section>
        <h1>{p.mount}/</h1>
        <ErrorBox error={state.error} />
        <p>
          <Link to="secrets">Back to the secrets engines</Link>
        </p>
      </section>
    );
  if (!state.data) return <Loading what={`${p.mount}/`} />;
  return <>{p.children(state.data)}</>;
}
