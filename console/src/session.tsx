import { createContext, useContext } from 'react';
import type { Session } from './api/session';

/** What a role may do: the same ladder as the API's (viewer reads, operator runs syncs, admin manages). */
export type Access = 'read' | 'operate' | 'admin';

const granted: Record<Session['principal']['role'], readonly Access[]> = {
  viewer: ['read'],
  operator: ['read', 'operate'],
  admin: ['read', 'operate', 'admin'],
};

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session (pages are only rendered signed in). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/**
 * Whether the signed-in role may take an action: the console hides what it may not (the API
 * refuses it anyway). `useCan('operate')`.
 */
export function useCan(access: Access): boolean {
  return granted[useSession().principal.role].includes(access);
}

/** Raw record payloads (customers' personal data) are for operators and admins, as in the API. */
export function useMayReadPersonalData(): boolean {
  return useCan('operate');
}
