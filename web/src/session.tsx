/**
 * The signed-in person, shared by the console and the portal (one cookie).
 * State lives outside React so moving between areas does not ask again.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { ApiError, api, onSessionLost, setCsrfToken } from './api/client.ts';
import type { SessionBody, SessionUser } from './api/types.ts';

export type SessionState =
  | { status: 'unknown' }
  | { status: 'loading' }
  | { status: 'signed-out'; notice?: string; unavailable?: boolean }
  | { status: 'signed-in'; user: SessionUser; expiresAt: string };

let state: SessionState = { status: 'unknown' };
const listeners = new Set<() => void>();

function set(next: SessionState): void {
  state = next;
  for (const l of listeners) l();
}

function accept(body: SessionBody): void {
  setCsrfToken(body.csrfToken);
  set({ status: 'signed-in', user: body.user, expiresAt: body.expiresAt });
}

onSessionLost(() => {
  setCsrfToken(null);
  set({ status: 'signed-out', notice: 'Your session has ended. Sign in again.' });
});

/** Asks the server who is signed in (once). */
async function load(): Promise<void> {
  if (state.status !== 'unknown') return;
  set({ status: 'loading' });
  try {
    accept(await api<SessionBody>('GET', '/v1/session'));
  } catch (error) {
    // 404: this server has no staff sign-in (yet); everything else reads as signed out.
    const unavailable = error instanceof ApiError && (error.status === 404 || error.status === 0);
    set({ status: 'signed-out', unavailable });
  }
}

/** The session, loaded on first use. */
export function useSession(): SessionState {
  const current = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
  useEffect(() => {
    void load();
  }, []);
  return current;
}

export interface Credentials {
  username: string;
  password: string;
  totp?: string;
}

/** Signs in; rejects with the API's error (`invalid_credentials`, `totp_required`, `account_locked`). */
export async function signIn(credentials: Credentials): Promise<SessionUser> {
  const body = await api<SessionBody>('POST', '/v1/session', { body: credentials });
  accept(body);
  return body.user;
}

/** Signs out here and on the server. */
export async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/v1/session');
  } finally {
    setCsrfToken(null);
    set({ status: 'signed-out', notice: 'You have signed out.' });
  }
}
