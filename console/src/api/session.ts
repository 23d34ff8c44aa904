import { ApiError, setCsrfToken, toApiError } from './client';

/**
 * The browser session (POST/GET/DELETE /api/session): an HttpOnly SameSite=Strict cookie that
 * page scripts never see, and the CSRF token that state-changing requests must send.
 */
export interface Session {
  principal: { role: 'viewer' | 'operator' | 'admin'; companyId: number | null; tokenName: string | null };
  csrfToken: string;
  expiresAt: string;
}

async function call(method: 'GET' | 'POST' | 'DELETE', body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch('/api/session', {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function readSession(res: Response): Promise<Session> {
  const body = await res.json().catch(() => null);
  if (!res.ok) throw toApiError(res.status, body);
  const session = body as Session;
  setCsrfToken(session.csrfToken);
  return session;
}

/** The current session, or null when there is none (401). */
export async function getSession(): Promise<Session | null> {
  const res = await call('GET');
  if (res.status === 401) {
    setCsrfToken(null);
    return null;
  }
  return readSession(res);
}

export async function signIn(token: string): Promise<Session> {
  return readSession(await call('POST', { token }));
}

export async function signOut(csrfToken: string): Promise<void> {
  const res = await fetch('/api/session', {
    method: 'DELETE',
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrfToken },
  });
  setCsrfToken(null);
  if (!res.ok && res.status !== 401) throw toApiError(res.status, await res.json().catch(() => null));
}

export { ApiError };
