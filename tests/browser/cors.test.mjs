// A tenant's browser app on another origin signs up, signs in, reads its user and a document
// through real CORS (issue #20: the /v1/auth/* answers never carried
// Access-Control-Allow-Origin, so the browser refused to hand them to the page). Debian's
// Chromium, driven by playwright-core, enforces CORS as users' browsers do.
//
//   TB_BIN=build/tenantbase node --test tests/browser/
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { launchChromium } from './chromium.mjs';
import { freePort, startServer } from '../e2e/harness.mjs';

const ADMIN = { email: 'admin@e2e.test', password: 'E2e-admin-Passw0rd!' };

let server;
let app; // the tenant's web app: another origin (another port)
let appOrigin;
let browser;
let tenant;
let adminAuth;

async function call(method, path, { headers = {}, json } = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method, headers: { ...headers, ...(json ? { 'Content-Type': 'application/json' } : {}) },
    body: json ? JSON.stringify(json) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

before(async () => {
  server = await startServer({ env: { TB_LIMITS_LOGIN_FAILURES: '100000', TB_LIMITS_REGISTER_PER_HOUR: '100000' } });
  const port = await freePort();
  appOrigin = `http://127.0.0.1:${port}`;
  app = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Tenant app</title><h1>Tenant app</h1>');
  });
  await new Promise((resolve) => app.listen(port, '127.0.0.1', resolve));
  // The platform admin sets up the tenant that owns the app, with the app's origin, and a
  // collection its members read.
  const login = await call('POST', '/v1/auth/login', { json: ADMIN });
  adminAuth = { Authorization: `Bearer ${login.json.data.tokens.access_token}` };
  tenant = (await call('POST', '/v1/tenants', { headers: adminAuth, json: { name: 'Browser App' } })).json.data;
  const put = await call('PUT', `/v1/tenants/${tenant.id}`, {
    headers: adminAuth, json: { settings: { cors_origins: [appOrigin] } },
  });
  assert.equal(put.status, 200);
  const doc = await call('POST', '/v1/collections/notes/documents', {
    headers: { ...adminAuth, 'X-Tenant-ID': tenant.id }, json: { text: 'hello from the tenant' },
  });
  assert.equal(doc.status, 201);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => (app ? app.close(resolve) : resolve()));
  await server?.stop();
});

test("register, login, /me and a document read from a tenant's own origin", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const corsErrors = [];
  page.on('console', (msg) => { if (/CORS|Access-Control/i.test(msg.text())) corsErrors.push(msg.text()); });
  await page.goto(appOrigin);
  const api = server.url;
  const email = `browser-${process.pid}@example.com`;

  // In the page: a fetch is refused by the browser (TypeError) unless the answer allows the
  // page's origin, so every step below passing proves the headers.
  const register = await page.evaluate(async ({ api, email, tid }) => {
    const r = await fetch(`${api}/v1/auth/register`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': tid },
      body: JSON.stringify({ email, password: 'correct horse battery staple' }),
    });
    return { status: r.status, body: await r.json(), requestId: r.headers.get('x-request-id') };
  }, { api, email, tid: tenant.id });
  assert.equal(register.status, 201, JSON.stringify(register.body));
  assert.ok(register.requestId, 'X-Request-ID is exposed to the page');

  // The tenant lets the new user in (its invitation, done here by the admin).
  const added = await call('POST', `/v1/tenants/${tenant.id}/members`, {
    headers: adminAuth, json: { email, role: 'member' },
  });
  assert.equal(added.status, 201, JSON.stringify(added.json));

  const result = await page.evaluate(async ({ api, email, tid }) => {
    const login = await fetch(`${api}/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct horse battery staple', tenant_id: tid }),
    });
    const signedIn = await login.json();
    const auth = { Authorization: `Bearer ${signedIn.data.tokens.access_token}` };
    const me = await fetch(`${api}/v1/auth/me`, { headers: auth });
    const meBody = await me.json();
    const notes = await fetch(`${api}/v1/collections/notes/documents`, { headers: auth });
    const notesBody = await notes.json();
    const refreshed = await fetch(`${api}/v1/auth/refresh`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: signedIn.data.tokens.refresh_token }),
    });
    return {
      login: login.status, me: me.status, email: meBody.data.user.email, notes: notes.status,
      texts: notesBody.data.map((d) => d.text), refresh: refreshed.status,
      limit: notes.headers.get('x-ratelimit-limit'),
    };
  }, { api, email, tid: tenant.id });
  assert.equal(result.login, 200);
  assert.equal(result.me, 200);
  assert.equal(result.email, email);
  assert.equal(result.notes, 200);
  assert.deepEqual(result.texts, ['hello from the tenant']);
  assert.equal(result.refresh, 200);
  assert.ok(result.limit, 'X-RateLimit-Limit is exposed to the page');
  assert.deepEqual(corsErrors, []);

  // From an origin no tenant lists (a page of the API's own host under another name), the
  // browser refuses the answer.
  const stranger = await browser.newPage();
  await stranger.goto(`${api}/v1/health`);
  const refused = await stranger.evaluate(async ({ api }) => {
    try {
      const r = await fetch(`${api.replace('127.0.0.1', 'localhost')}/v1/plans`);
      return `answered ${r.status}`;
    } catch (e) {
      return `refused: ${e.name}`;
    }
  }, { api });
  assert.match(refused, /^refused: TypeError$/, 'an origin nobody lists gets no CORS grant');
});
