import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, newApiToken } from '../../../src/http/auth/index.ts';
import { counter, startTestAgent, type TestAgent } from '../../helpers/agent-harness.ts';
import { storeModelFixture } from '../../inventory/store-fixture.ts';

type Json = Record<string, any>;

const managerPassword = 'manager-password-0001';
const staffPassword = 'staff-password-000002';
const staffToken = newApiToken();

/** One agent for the file: logins cost a scrypt each; every test logs in afresh. */
let t: TestAgent;
beforeAll(async () => {
  t = await startTestAgent({
    store: { model: storeModelFixture },
    http: {
      users: [
        { name: 'maria', role: 'manager', passwordHash: await hashPassword(managerPassword) },
        { name: 'sam', role: 'staff', passwordHash: await hashPassword(staffPassword) },
        { name: 'tess', role: 'staff', passwordHash: await hashPassword(staffPassword) },
      ],
      apiTokens: [{ name: 'handheld-1', role: 'staff', tokenSha256: staffToken.tokenSha256 }],
      loginThrottle: { maxFailures: 3, windowMs: 60_000 },
    },
  });
});
afterAll(async () => t?.close());

interface Reply {
  status: number;
  json: Json;
  headers: Headers;
}

async function request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const res = await fetch(`${t.agent.httpUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // pages and empty bodies
  }
  return { status: res.status, json, headers: res.headers };
}

/** Logs in; returns the cookie and the CSRF token to send with mutating requests. */
async function login(name: string, password: string): Promise<{ cookie: string; csrf: string; headers: Record<string, string> }> {
  const res = await request('POST', '/api/auth/login', { body: { name, password } });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  const cookie = res.headers.get('set-cookie')!.split(';', 1)[0]!;
  const csrf = res.json.csrfToken as string;
  return { cookie, csrf, headers: { cookie, 'x-csrf-token': csrf } };
}

const authEvents = () => t.agent.ledger.events({ stream: 'auth' });

describe('HTTP access: nobody unauthenticated gets in', () => {
  it('a page without a session goes to /login (302); the login page and its assets stay public', async () => {
    for (const path of ['/', '/alerts', '/some/deep/page?x=1']) {
      const res = await request('GET', path);
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location')).toBe('/login');
    }
    expect((await request('GET', '/login')).status).not.toBe(302);
    expect((await request('GET', '/assets/none.js')).status).not.toBe(302);
  });

  it('every API route but login and health answers 401 EDGE_ERR_AUTH_REQUIRED, whatever the method; /metrics too', async () => {
    const refused = [
      ['GET', '/api/stock'],
      ['GET', '/api/events'],
      ['GET', '/api/auth/session'],
      ['GET', '/metrics'],
      ['GET', '/api/no-such-route'],
      ['POST', '/api/review/r-1/resolve'],
      ['POST', '/api/receipts/x/corrections'],
      ['POST', '/api/prices'],
      ['POST', '/api/alerts/al-1/ack'],
      ['POST', '/api/stock/restock'],
      ['POST', '/api/auth/logout'],
      ['DELETE', '/api/stock'],
    ] as const;
    for (const [method, path] of refused) {
      const res = await request(method, path, method === 'GET' ? {} : { body: {} });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.json.error.code, `${method} ${path}`).toBe('EDGE_ERR_AUTH_REQUIRED');
    }
    expect((await request('GET', '/api/health')).status).toBe(200);
    expect(await counter(t.agent, 'storeedge_http_auth_refusals_total', { code: 'EDGE_ERR_AUTH_REQUIRED' })).toBeGreaterThanOrEqual(refused.length);
  });

  it('a stale or made-up session cookie is refused and cleared', async () => {
    const res = await request('GET', '/api/stock', { headers: { cookie: 'storeedge_session=made-up' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toContain('Max-Age=0');
  });
});

describe('HTTP access: logins and sessions', () => {
  it('logs in with a session cookie (HttpOnly, SameSite=Strict) and a CSRF token; the ledger records it, without secrets', async () => {
    const res = await request('POST', '/api/auth/login', { body: { name: 'maria', password: managerPassword } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ user: { name: 'maria', role: 'manager' }, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^storeedge_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
    const cookie = setCookie.split(';', 1)[0]!;
    const session = await request('GET', '/api/auth/session', { headers: { cookie } });
    expect(session).toMatchObject({ status: 200, json: { user: { name: 'maria', role: 'manager' }, csrfToken: res.json.csrfToken } });

    const login = authEvents().filter((e) => e.type === 'auth.login').at(-1)!;
    expect(login.payload).toMatchObject({ actor: 'maria', role: 'manager', session: expect.any(String) });
    const ledgerText = JSON.stringify(t.agent.ledger.events({}));
    for (const secret of [managerPassword, cookie.split('=')[1]!, res.json.csrfToken as string, staffToken.token]) expect(ledgerText).not.toContain(secret);
  });

  it('a wrong password and an unknown name get the same 401 EDGE_ERR_AUTH_INVALID; a mistyped password in the name field is not recorded', async () => {
    const wrong = await request('POST', '/api/auth/login', { body: { name: 'maria', password: 'not-her-password' } });
    const unknown = await request('POST', '/api/auth/login', { body: { name: managerPassword, password: 'whatever-123' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json).toEqual(unknown.json);
    expect(wrong.json.error.code).toBe('EDGE_ERR_AUTH_INVALID');
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const failed = authEvents().filter((e) => e.type === 'auth.login-failed').slice(-2).map((e) => e.payload);
    expect(failed).toEqual([
      { name: 'maria', reason: 'invalid', address: expect.any(String) },
      { name: null, reason: 'invalid', address: expect.any(String) },
    ]);
    expect(JSON.stringify(t.agent.ledger.events({}))).not.toContain(managerPassword);
    expect((await request('POST', '/api/auth/login', { body: { name: 'maria' } })).json.error.code).toBe('EDGE_ERR_BAD_REQUEST');
  });

  it('throttles failed logins per name and address with 429 EDGE_ERR_AUTH_THROTTLED — the right password included — and leaves others alone', async () => {
    // The agent trusts no proxy headers (every request here comes from 127.0.0.1): tess is locked out, the others are not.
    const tries = [];
    for (let i = 0; i < 3; i++) tries.push(await request('POST', '/api/auth/login', { body: { name: 'tess', password: `guess-${i}-xxxxxx` }, headers: { 'x-forwarded-for': `10.0.0.${i}` } }));
    expect(tries.map((r) => r.status)).toEqual([401, 401, 401]);
    const throttled = await request('POST', '/api/auth/login', { body: { name: 'tess', password: staffPassword } });
    expect(throttled.status).toBe(429);
    expect(throttled.json.error.code).toBe('EDGE_ERR_AUTH_THROTTLED');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await request('POST', '/api/auth/login', { body: { name: 'maria', password: managerPassword } })).status).toBe(200);
    expect(await counter(t.agent, 'storeedge_http_auth_refusals_total', { code: 'EDGE_ERR_AUTH_THROTTLED' })).toBe(1);
  });

  it('logout needs the CSRF token, ends the session and clears the cookie', async () => {
    const maria = await login('maria', managerPassword);
    expect((await request('POST', '/api/auth/logout', { headers: { cookie: maria.cookie } })).json.error.code).toBe('EDGE_ERR_AUTH_CSRF');
    const out = await request('POST', '/api/auth/logout', { headers: maria.headers });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await request('GET', '/api/auth/session', { headers: { cookie: maria.cookie } })).status).toBe(401);
    expect((await request('GET', '/api/stock', { headers: { cookie: maria.cookie } })).status).toBe(401);
    expect(authEvents().at(-1)).toMatchObject({ type: 'auth.logout', payload: { actor: 'maria', role: 'manager' } });
  });
});

describe('HTTP access: roles, CSRF and audit', () => {
  it('staff see everything, acknowledge alerts as themselves, and may not resolve a review, refund or change a price (403)', async () => {
    const sam = await login('sam', staffPassword);
    expect((await request('GET', '/api/stock', { headers: { cookie: sam.cookie } })).status).toBe(200);
    const alerts = await request('GET', '/api/alerts?state=open', { headers: { cookie: sam.cookie } });
    const alert = alerts.json.alerts.find((a: Json) => a.kind === 'low-stock');
    expect(alert).toBeDefined();

    for (const [path, body] of [
      ['/api/review/r-000000000000/resolve', { lines: 'accept' }],
      ['/api/receipts/rc-1/corrections', { lines: [{ sku: 'cola-330', quantity: 1 }], reason: 'dented' }],
      ['/api/prices', { sku: 'cola-330', priceMinor: 99, reason: 'x' }],
      ['/api/stock/reconcile', {}],
    ] as const) {
      const res = await request('POST', path, { body, headers: sam.headers });
      expect(res.status, path).toBe(403);
      expect(res.json.error).toEqual({ code: 'EDGE_ERR_AUTH_FORBIDDEN', message: expect.stringContaining('manager') });
    }

    const assign = await request('POST', `/api/alerts/${alert.id}/assign`, { body: { to: 'Kim' }, headers: sam.headers });
    expect(assign).toMatchObject({ status: 200, json: { assignedTo: 'Kim', assignedBy: 'sam' } });
    expect((await request('POST', `/api/alerts/${alert.id}/assign`, { body: { to: 'Kim', actor: 'maria' }, headers: sam.headers })).status).toBe(400);
    expect((await request('POST', `/api/alerts/${alert.id}/assign`, { body: { to: '<b>x</b>' }, headers: sam.headers })).status).toBe(400);
    const ack = await request('POST', `/api/alerts/${alert.id}/ack`, { body: {}, headers: sam.headers });
    expect(ack).toMatchObject({ status: 200, json: { state: 'acknowledged', acknowledgedBy: 'sam' } });
    expect(t.agent.ledger.getByKey(`alert-ack:${alert.id}`)?.payload).toMatchObject({ actor: 'sam' });

    const requests = authEvents().filter((e) => e.type === 'auth.request').map((e) => e.payload as Json);
    expect(requests.filter((p) => p.actor === 'sam').map((p) => [p.route, p.status])).toEqual([
      ['/api/review/:id/resolve', 403],
      ['/api/receipts/:id/corrections', 403],
      ['/api/prices', 403],
      ['/api/stock/reconcile', 403],
      ['/api/alerts/:id/assign', 200],
      ['/api/alerts/:id/assign', 400],
      ['/api/alerts/:id/assign', 400],
      ['/api/alerts/:id/ack', 200],
    ]);
  });

  it('a manager passes the role check for refunds and reviews (the checkout then answers for the unknown id)', async () => {
    const maria = await login('maria', managerPassword);
    const refund = await request('POST', '/api/receipts/rc-1/corrections', { body: { lines: [{ sku: 'cola-330', quantity: 1 }], reason: 'dented' }, headers: maria.headers });
    expect(refund.json.error.code).toBe('EDGE_ERR_CHECKOUT_NOT_FOUND');
    const review = await request('POST', '/api/review/r-000000000000/resolve', { body: { lines: 'accept' }, headers: maria.headers });
    expect(review.json.error.code).toBe('EDGE_ERR_CHECKOUT_NOT_FOUND');
  });

  it('a mutating request on a session needs its x-csrf-token and, when sent, this server as Origin (403 EDGE_ERR_AUTH_CSRF)', async () => {
    const sam = await login('sam', staffPassword);
    const restock = { trayId: 't3', sku: 'soap-tag', quantity: 1 };
    const cases: Array<Record<string, string>> = [
      { cookie: sam.cookie },
      { cookie: sam.cookie, 'x-csrf-token': 'wrong' },
      { cookie: sam.cookie, 'x-csrf-token': `${sam.csrf.slice(0, -1)}x` },
      { ...sam.headers, origin: 'http://evil.example' },
      { ...sam.headers, origin: 'null' },
    ];
    for (const headers of cases) {
      const res = await request('POST', '/api/stock/restock', { body: restock, headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.json.error.code).toBe('EDGE_ERR_AUTH_CSRF');
    }
    expect((await request('POST', '/api/stock/restock', { body: restock, headers: { ...sam.headers, origin: t.agent.httpUrl } })).status).toBe(200);
    // A login from another site is refused too (login CSRF).
    expect((await request('POST', '/api/auth/login', { body: { name: 'sam', password: staffPassword }, headers: { origin: 'http://evil.example' } })).json.error.code).toBe('EDGE_ERR_AUTH_CSRF');
  });

  it('a bearer token works without CSRF, within its role; an unknown token is 401 EDGE_ERR_AUTH_INVALID', async () => {
    const bearer = { authorization: `Bearer ${staffToken.token}` };
    const alert = (await request('GET', '/api/alerts?kind=low-stock', { headers: bearer })).json.alerts[0];
    const restock = await request('POST', '/api/stock/restock', { body: { trayId: 't3', sku: 'soap-tag', quantity: 2 }, headers: bearer });
    expect(restock.status).toBe(200);
    expect(t.agent.ledger.events({ stream: 'inventory' }).filter((e) => e.type === 'inventory.restock.declared').at(-1)?.payload).toMatchObject({ actor: 'handheld-1' });
    expect((await request('POST', '/api/prices', { body: { sku: 'cola-330', priceMinor: 99, reason: 'x' }, headers: bearer })).status).toBe(403);
    const session = await request('GET', '/api/auth/session', { headers: bearer });
    expect(session.json).toEqual({ user: { name: 'handheld-1', role: 'staff' }, csrfToken: null });
    expect(alert).toBeDefined();
    for (const authorization of [`Bearer ${staffToken.token}x`, 'Bearer', `Basic ${staffToken.token}`]) {
      const res = await request('GET', '/api/stock', { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(res.json.error.code).toBe('EDGE_ERR_AUTH_INVALID');
    }
    expect(authEvents().filter((e) => e.type === 'auth.request').at(-1)?.payload).toMatchObject({ actor: 'handheld-1', via: 'token', route: '/api/prices', status: 403 });
  });

  it('a body actor cannot impersonate: it is refused, and the ledger names who is logged in', async () => {
    const sam = await login('sam', staffPassword);
    const res = await request('POST', '/api/stock/restock', { body: { trayId: 't3', sku: 'soap-tag', quantity: 1, actor: 'maria' }, headers: sam.headers });
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual({ code: 'EDGE_ERR_BAD_REQUEST', message: expect.stringContaining('body.actor') });
    const ok = await request('POST', '/api/stock/restock', { body: { trayId: 't3', sku: 'soap-tag', quantity: 1 }, headers: sam.headers });
    expect(ok.status).toBe(200);
    const declared = t.agent.ledger.events({ stream: 'inventory' }).filter((e) => e.type === 'inventory.restock.declared');
    expect(declared.map((e) => (e.payload as Json).actor)).not.toContain('maria');
    expect((declared.at(-1)!.payload as Json).actor).toBe('sam');
  });
});
