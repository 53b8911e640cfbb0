// Clients of the dialects as their users wrote them (docs/api.md §11, issue #22): plain fetch,
// no SDK (none is maintained for these on npm), following each seed's own instructions — the
// Nilux dashboard's "on 401 refresh, if refresh fails log in again", RestDB's JavaScript
// examples with `x-apikey` and `cache-control: no-cache` — and raw HTTP for the refusals that
// come before a request is parsed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, uniqueEmail } from './auth_helpers.mjs';

/** The Nilux seed's client: tokens from login/register, Bearer on every call, refresh on 401. */
class NiluxClient {
  constructor(base) { this.base = base; this.tokens = null; this.logins = 0; this.refreshes = 0; }

  async call(method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...(this.tokens ? { Authorization: `Bearer ${this.tokens.access_token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async register(email, password, name) {
    const r = await this.call('POST', '/api/auth/register', { email, password, name });
    if (r.status !== 200) throw new Error(r.body.detail);
    this.tokens = r.body.tokens;
    this.credentials = { email, password };
    return r.body;
  }

  async login() {
    this.logins += 1;
    const r = await this.call('POST', '/api/auth/login', this.credentials);
    if (r.status !== 200) throw new Error(r.body.detail);
    this.tokens = r.body.tokens;
    return r.body;
  }

  // "If a request returns 401 Unauthorized, attempt a token refresh. If refresh fails,
  // redirect to login."
  async authed(method, path, body) {
    let r = await this.call(method, path, body);
    if (r.status !== 401) return r;
    this.refreshes += 1;
    const refreshed = await fetch(`${this.base}/api/auth/refresh`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: this.tokens.refresh_token }),
    });
    if (refreshed.status === 200) {
      this.tokens = await refreshed.json();
    } else {
      assert.equal((await refreshed.json()).detail, 'Invalid refresh token');
      await this.login();
    }
    r = await this.call(method, path, body);
    return r;
  }
}

describe('a Nilux client written from the seed', () => {
  let server;
  before(async () => { server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_AUTH_ACCESS_TTL_SECONDS: '10' } }); });
  after(async () => { await server?.stop(); });

  test('signs up, keeps its key, refreshes on an expired token, logs in again after logout', async () => {
    const c = new NiluxClient(server.url);
    const signedUp = await c.register(uniqueEmail('client'), 'securepassword123', 'Client');
    const savedKey = signedUp.api_key.key; // "Save it immediately"
    assert.equal((await c.authed('GET', '/api/auth/me')).body.name, 'Client');
    // The access token expires (10 s here): the next call refreshes and goes on.
    await sleep(11_000);
    const me = await c.authed('GET', '/api/auth/me');
    assert.equal(me.status, 200);
    assert.equal(c.refreshes, 1);
    assert.equal(c.logins, 0);
    // Logout (server-side a revoke, client-side clearing nothing yet): the next call's refresh
    // fails, so the client logs in again, as the seed says.
    assert.equal((await c.call('POST', '/api/auth/logout')).body.message, 'Logged out successfully');
    const again = await c.authed('GET', '/api/auth/api-key');
    assert.equal(again.status, 200);
    assert.equal(c.logins, 1);
    assert.equal(again.body.keyPreview, `sk_live...${savedKey.slice(-4)}`);
    const rotated = await c.authed('POST', '/api/auth/api-key/rotate');
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.key, savedKey);
  });
});

describe('a RestDB client written from RestDB\'s JavaScript examples', () => {
  let server; let key;
  before(async () => {
    server = await startServer({ env: NO_THROTTLE_ENV });
    const r = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail('rdb-client'), password: 'securepassword123' }),
    });
    key = (await r.json()).api_key.key;
  });
  after(async () => { await server?.stop(); });

  const settings = (method, body) => ({
    method,
    headers: { 'content-type': 'application/json', 'x-apikey': key, 'cache-control': 'no-cache' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

  test('adds, queries, updates and deletes records; uploads and fetches media', async () => {
    const base = `${server.url}/rest/contacts`;
    let res = await fetch(base, settings('POST', { name: 'Jane', email: 'jane@example.com', tags: ['vip'] }));
    assert.equal(res.status, 201);
    const jane = await res.json();
    res = await fetch(`${base}?q=${encodeURIComponent(JSON.stringify({ name: 'Jane' }))}`, settings('GET'));
    assert.deepEqual((await res.json()).map((d) => d._id), [jane._id]);
    res = await fetch(`${base}/${jane._id}`, settings('PUT', { phone: '555-0100' }));
    assert.deepEqual(await res.json(), { ...jane, phone: '555-0100' });
    res = await fetch(`${base}/${jane._id}`, { ...settings('POST', {}), headers: { ...settings('POST').headers, 'X-HTTP-Method-Override': 'DELETE' } });
    assert.deepEqual(await res.json(), { result: [jane._id] });
    const form = new FormData();
    form.append('file', new Blob(['a,b\n1,2\n'], { type: 'text/csv' }), 'data.csv');
    res = await fetch(`${server.url}/media`, { method: 'POST', headers: { 'x-apikey': key }, body: form });
    const { ids } = await res.json();
    res = await fetch(`${server.url}/media/${ids[0]}`, { headers: { 'x-apikey': key } });
    assert.equal(await res.text(), 'a,b\n1,2\n');
    assert.match(res.headers.get('content-disposition'), /data\.csv/);
  });
});

describe('refusals before a request is parsed are written in its dialect when the request line is read', () => {
  let server;
  before(async () => { server = await startServer({ env: NO_THROTTLE_ENV }); });
  after(async () => { await server?.stop(); });

  const bigHeader = `X-Big: ${'a'.repeat(17 * 1024)}\r\n`;
  for (const [path, check] of [
    ['/api/auth/me', (b) => assert.deepEqual(Object.keys(b), ['detail'])],
    ['/workspaces/w/databases/d/users/me', (b) => assert.equal(b.statusCode, 431)],
    ['/rest/things', (b) => assert.equal(b.status, 431)],
    ['/v1/auth/me', (b) => assert.equal(b.error.code, 'HEADERS_TOO_LARGE')],
  ]) {
    test(`431 on ${path}`, async () => {
      const res = await rawRequest(server.port, `GET ${path} HTTP/1.1\r\nHost: x\r\n${bigHeader}\r\n`);
      assert.equal(res.status, 431, res.text.slice(0, 200));
      check(JSON.parse(res.response.body.toString()));
    });
  }

  test('ambiguous framing under /rest is RestDB\'s 400; an unreadable request line the /v1 envelope', async () => {
    let res = await rawRequest(server.port,
      'POST /rest/things HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}');
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.response.body.toString()).name, 'BadRequestError');
    res = await rawRequest(server.port, `GET /api/auth/me\r\nHost: x\r\n${bigHeader}\r\n`);
    assert.equal(res.status, 431);
    assert.equal(JSON.parse(res.response.body.toString()).success, false);
  });
});
