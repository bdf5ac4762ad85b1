import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

import { fetchCapabilities, type CapabilityMap } from './caps';
import { useApp } from './context';

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

// Runs `fn` when `deps` change (and on reload()); a late answer of an older run is dropped.
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const run = useRef(0);
  useEffect(() => {
    const mine = ++run.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => {
        if (run.current === mine) setState({ data, error: undefined, loading: false });
      },
      (error) => {
        if (run.current === mine) setState({ data: undefined, error, loading: false });
      },
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

// The current time (ms), updated every `ms`.
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

// Capabilities of the token on `paths` (undefined while loading, null when unknown).
export function useCapabilities(paths: string[]): CapabilityMap | null | undefined {
  const { client } = useApp();
  const key = paths.join('\n');
  const [caps, setCaps] = useState<CapabilityMap | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    setCaps(undefined);
    fetchCapabilities(client, paths).then((c) => {
      if (live) setCaps(c);
    });
    return () => {
      live = false;
    };
  }, [client, key]);
  return caps;
}
