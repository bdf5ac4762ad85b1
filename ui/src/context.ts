import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

import type { Client } from './api';

export interface TokenInfo {
  display_name: string;
  policies: string[];
  ttl: number;
  expire_time: string | null;
  renewable: boolean;
  accessor: string;
  path: string;
  entity_id?: string;
}

export interface AppContextValue {
  client: Client;
  token: TokenInfo;
  signOut: () => void;
  refreshToken: () => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(AppContext);
  if (!v) throw new Error('useApp outside the signed-in app');
  return v;
}
