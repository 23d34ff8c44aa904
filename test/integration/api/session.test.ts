import { createHash } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSignInCode } from '../../../src/auth/index.js';
import { truncateAll } from '../../support/integration.js';
import { ADMIN_TOKEN, type ApiHarness, startApiHarness } from './support/harness.js';

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/** The `stsync_session` Set-Cookie line of an answer, if any. */
function sessionCookieLine(res: request.Response): string | undefined {
  const lines = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return lines.find((l) => l.startsWith('stsync_session='));
}

function cookieValue(res: request.Response): string {
  const line = sessionCookieLine(res);
  expect(line, 'a session cookie is set').toBeDefined();
  return line!.split(';')[0]!.slice('stsync_session='.length);
}

describe('console sessions', () => {
  let h: ApiHarness;
  let ipCounter = 0;
  // A fresh client address per test: the failed-authentication throttle counts per address.
  let ip: string;

  beforeAll(async () => {
    h = await startApiHarness({ api: { authFailures: { max: 3, windowMs: 60_000 } } });
  });
  beforeEach(async () => {
    await truncateAll(h.orm);
    ip = `10.9.0.${++ipCounter}`;
  });
  afterAll(async () => {
    h?.assertNoLeaks();
    await h?.close();
  });

  const send = (req: request.Test) => {
    const r = req.set('x-forwarded-for', ip);
    return r.then((res) => {
      h.bodies.push(res.text ?? '');
      return res;
    });
  };
  const signIn = (token: string, extra: (r: request.Test) => request.Test = (r) => r) =>
    send(extra(request(h.app).post('/api/session').send({ token })));
  const withCookie = (method: 'get' | 'post' | 'delete' | 'patch', path: string, sessionId: string) =>
    request(h.app)[method](path).set('cookie', `stsync_session=${sessionId}`);

  it('when a console signs in with a valid token, then it gets an HttpOnly, SameSite=Strict cookie, the principal and a CSRF token', async () => {
    const token = await h.token('operator');
    const res = await signIn(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      principal: { role: 'operator', companyId: null, tokenName: 'operator-all' },
      csrfToken: expect.any(String),
      expiresAt: expect.any(String),
    });
    expect(res.headers['cache-control']).toBe('no-store');
    const hours = (Date.parse(res.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    const line = sessionCookieLine(res)!;
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Strict/);
    expect(line).toMatch(/; Path=\//);
    expect(line).not.toMatch(/; Secure/);
    // 32 random bytes, base64url.
    expect(cookieValue(res)).toMatch(/^[\w-]{43}$/);
    expect(res.text).not.toContain(cookieValue(res));

    // Behind a proxy on loopback (TRUST_PROXY's default) that says the request came over https.
    const secure = await signIn(token, (r) => r.set('x-forwarded-proto', 'https'));
    expect(sessionCookieLine(secure)).toMatch(/; Secure/);
  });

  it('when the session cookie is sent, then reads work, GET /api/session answers the session, and changes need the X-CSRF-Token header', async () => {
    const signedIn = await signIn(ADMIN_TOKEN);
    const sessionId = cookieValue(signedIn);
    const { csrfToken } = signedIn.body;

    const companies = await send(withCookie('get', '/api/companies', sessionId));
    expect(companies.status).toBe(200);
    const current = await send(withCookie('get', '/api/session', sessionId));
    expect(current.status).toBe(200);
    expect(current.body).toEqual(signedIn.body);

    const body = { name: 'Acme', timeZone: 'America/Chicago' };
    const without = await send(withCookie('post', '/api/companies', sessionId).send(body));
    expect(without.status).toBe(403);
    expect(without.body.error).toBe('csrf_failed');
    const wrong = await send(
      withCookie('post', '/api/companies', sessionId).set('x-csrf-token', `${csrfToken}x`).send(body),
    );
    expect(wrong.status).toBe(403);
    expect(await h.count('companies')).toBe(0);
    const ok = await send(
      withCookie('post', '/api/companies', sessionId).set('x-csrf-token', csrfToken).send(body),
    );
    expect(ok.status).toBe(201);

    // Another session's CSRF token does not fit this one.
    const other = await signIn(ADMIN_TOKEN);
    const crossed = await send(
      withCookie('post', '/api/companies', sessionId).set('x-csrf-token', other.body.csrfToken).send(body),
    );
    expect(crossed.status).toBe(403);

    // Bearer requests need no CSRF token.
    const bearer = await h.call('post', '/api/companies', { body: { ...body, name: 'Bearer Co' }, ip });
    expect(bearer.status).toBe(201);
  });

  it('when the console signs out, then the row is gone, the cookie is cleared and no longer works', async () => {
    const signedIn = await signIn(ADMIN_TOKEN);
    const sessionId = cookieValue(signedIn);
    expect(await h.count('console_sessions')).toBe(1);

    const noCsrf = await send(withCookie('delete', '/api/session', sessionId));
    expect(noCsrf.status).toBe(403);
    expect(await h.count('console_sessions')).toBe(1);

    const out = await send(
      withCookie('delete', '/api/session', sessionId).set('x-csrf-token', signedIn.body.csrfToken),
    );
    expect(out.status).toBe(204);
    expect(sessionCookieLine(out)).toMatch(/^stsync_session=;.*Expires=Thu, 01 Jan 1970/);
    expect(await h.count('console_sessions')).toBe(0);
    expect((await send(withCookie('get', '/api/session', sessionId))).status).toBe(401);
    expect((await send(withCookie('get', '/api/companies', sessionId))).status).toBe(401);
  });

  it('when a session has expired, then its cookie is answered 401', async () => {
    const sessionId = cookieValue(await signIn(ADMIN_TOKEN));
    expect((await send(withCookie('get', '/api/companies', sessionId))).status).toBe(200);
    await h.orm.em
      .fork()
      .getConnection()
      .execute(`update console_sessions set expires_at = now() - interval '1 second'`);
    const res = await send(withCookie('get', '/api/companies', sessionId));
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/session has ended/);
    expect((await send(withCookie('get', '/api/session', sessionId))).status).toBe(401);
  });

  it('when the token a session was opened with is revoked, then the session dies', async () => {
    const token = await h.token('viewer');
    const signedIn = await signIn(token);
    const sessionId = cookieValue(signedIn);
    expect((await send(withCookie('get', '/api/companies', sessionId))).status).toBe(200);
    const [row] = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ id: number }[]>(`select id from api_tokens where name = 'viewer-all'`);
    // Revoked behind the API's back (as the CLI would), so the check at use is what ends it.
    await h.orm.em
      .fork()
      .getConnection()
      .execute(`update api_tokens set revoked_at = now() where id = ${row!.id}`);
    expect((await send(withCookie('get', '/api/companies', sessionId))).status).toBe(401);

    // Revoked through the API: its sessions are deleted too.
    const other = await h.token('operator');
    await signIn(other);
    const [op] = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ id: number }[]>(`select id from api_tokens where name = 'operator-all'`);
    expect((await h.call('delete', `/api/tokens/${op!.id}`, { ip })).status).toBe(200);
    const left = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ n: string }[]>(`select count(*) as n from console_sessions where token_id = ${op!.id}`);
    expect(Number(left[0]!.n)).toBe(0);
  });

  it('when a bad token signs in, then 401 without a cookie, and repeated failures are throttled', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await signIn('stsk_not-a-real-token-at-all');
      expect(res.status).toBe(401);
      expect(sessionCookieLine(res)).toBeUndefined();
    }
    const blocked = await signIn('stsk_not-a-real-token-at-all');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['retry-after']).toBeDefined();
    // A valid token still passes from that address (as with Bearer).
    expect((await signIn(ADMIN_TOKEN)).status).toBe(200);
    expect(await h.count('console_sessions')).toBe(1);
    // A missing token is a validation error, not a sign-in.
    expect((await send(request(h.app).post('/api/session').send({}))).status).toBe(400);
    // A cross-site form post cannot sign in (JSON only).
    const form = await send(
      request(h.app)
        .post('/api/session')
        .type('form')
        .send(`token=${encodeURIComponent(ADMIN_TOKEN)}`),
    );
    expect(form.status).toBe(400);
  });

  it('when a session is opened, then only the hash of its id is stored', async () => {
    const sessionId = cookieValue(await signIn(ADMIN_TOKEN));
    const rows = await h.orm.em
      .fork()
      .getConnection()
      .execute<Record<string, unknown>[]>('select * from console_sessions');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(sessionId);
    expect(rows[0]!.session_hash).toBe(sha256(sessionId));
  });

  it('when a one-time sign-in link is followed, then it signs in and redirects once; again, expired or unknown it is 401', async () => {
    const { code, tokenId } = await createSignInCode(h.orm, { role: 'admin', ttlSeconds: 600 });
    h.watched.add(code);
    const res = await send(request(h.app).get(`/signin?code=${code}`));
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const sessionId = cookieValue(res);
    expect(sessionCookieLine(res)).toMatch(/HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/);
    const current = await send(withCookie('get', '/api/session', sessionId));
    expect(current.status).toBe(200);
    expect(current.body.principal).toEqual({
      role: 'admin',
      companyId: null,
      tokenName: 'console sign-in link',
    });

    const again = await send(request(h.app).get(`/signin?code=${code}`));
    expect(again.status).toBe(401);
    expect(sessionCookieLine(again)).toBeUndefined();

    // The same dedicated token serves the next link.
    const next = await createSignInCode(h.orm, { role: 'admin', ttlSeconds: 600 });
    h.watched.add(next.code);
    expect(next.tokenId).toBe(tokenId);
    await h.orm.em
      .fork()
      .getConnection()
      .execute(`update sign_in_codes set expires_at = now() - interval '1 second'`);
    expect((await send(request(h.app).get(`/signin?code=${next.code}`))).status).toBe(401);
    expect((await send(request(h.app).get('/signin?code=nope'))).status).toBe(401);
    // Failures count towards the address's throttle.
    expect((await send(request(h.app).get('/signin?code=nope'))).status).toBe(429);

    // Codes are stored hashed.
    const stored = await h.orm.em
      .fork()
      .getConnection()
      .execute<Record<string, unknown>[]>('select * from sign_in_codes');
    expect(JSON.stringify(stored)).not.toContain(code);
  });

  it('when a console signs in, uses a link and signs out, then each leaves an audit row without the token or code', async () => {
    const token = await h.token('admin');
    const signedIn = await signIn(token);
    const { code } = await createSignInCode(h.orm, { role: 'operator' });
    h.watched.add(code);
    const linked = await send(request(h.app).get(`/signin?code=${code}`));
    expect(linked.status).toBe(303);
    const out = await send(
      withCookie('delete', '/api/session', cookieValue(signedIn)).set(
        'x-csrf-token',
        signedIn.body.csrfToken,
      ),
    );
    expect(out.status).toBe(204);

    const audit = await h.call('get', '/api/audit?targetType=session', { ip });
    expect(audit.status).toBe(200);
    const rows = audit.body.items as { action: string; actor: { name: string }; outcome: string }[];
    expect(rows.map((r) => [r.action, r.actor.name, r.outcome])).toEqual([
      ['session.sign_out', 'admin-all', 'success'],
      ['session.sign_in_link', 'console sign-in link', 'success'],
      ['session.sign_in', 'admin-all', 'success'],
    ]);
    const all = JSON.stringify(await h.orm.em.fork().getConnection().execute('select * from audit_events'));
    expect(all).not.toContain(token);
    expect(all).not.toContain(code);
    expect(all).not.toContain(cookieValue(signedIn));
  });
});
