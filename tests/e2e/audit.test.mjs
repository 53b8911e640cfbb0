// The audit log of security events (API.md §9): GET /v1/audit-logs for platform admins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, TEST_ADMIN, expectEnvelopeError, RFC3339_MS_Z, UUID } from './harness.mjs';
import { NO_THROTTLE_ENV, PASSWORD, bearer, login, refresh, register, uniqueEmail } from './auth_helpers.mjs';

let server;
let adminToken;
let user;

before(async () => {
  server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_AUTH_REFRESH_GRACE_SECONDS: '0' } });
  adminToken = (await login(server, TEST_ADMIN.email, TEST_ADMIN.password)).tokens.access_token;
  // A little history: a registration, a failed login, a refresh reuse, a key's life, a
  // password change, a logout.
  user = await register(server, { email: uniqueEmail('audit') });
  await server.post('/v1/auth/login', { json: { email: user.user.email, password: 'wrong-password-1' } });
  const first = user.tokens.refresh_token;
  const rotated = await refresh(server, first);
  assert.equal(rotated.status, 200);
  assert.equal((await refresh(server, first)).status, 401); // reuse: the session is revoked
  const fresh = await login(server, user.user.email);
  const key = await server.post('/v1/api-keys', { headers: bearer(fresh.tokens.access_token), json: { name: 'k' } });
  assert.equal(key.status, 201);
  assert.equal((await server.post(`/v1/api-keys/${key.json.data.id}/rotate`, { headers: bearer(fresh.tokens.access_token) })).status, 200);
  assert.equal((await server.request('DELETE', `/v1/api-keys/${key.json.data.id}`, { headers: bearer(fresh.tokens.access_token) })).status, 204);
  assert.equal((await server.post('/v1/auth/password', {
    headers: bearer(fresh.tokens.access_token),
    json: { current_password: PASSWORD, new_password: 'another horse battery' },
  })).status, 200);
  assert.equal((await server.post('/v1/auth/logout', { headers: bearer(fresh.tokens.access_token) })).status, 200);
});

after(async () => { await server?.stop(); });

async function allEvents() {
  const res = await server.get('/v1/audit-logs?per_page=100', { headers: bearer(adminToken) });
  assert.equal(res.status, 200, res.body);
  return res;
}

test('a platform admin reads the security events with their shape', async () => {
  const res = await allEvents();
  const { data, meta } = res.json;
  assert.equal(res.json.success, true);
  assert.equal(meta.page, 1);
  assert.equal(meta.per_page, 100);
  assert.equal(meta.total, data.length);
  for (const e of data) {
    assert.match(e.id, UUID);
    assert.match(e.ts, RFC3339_MS_Z);
    assert.equal(typeof e.action, 'string');
    assert.equal(typeof e.details, 'object');
    assert.ok('actor' in e && 'target' in e && 'ip' in e && 'user_agent' in e);
  }
  const actions = data.map((e) => e.action);
  for (const expected of ['admin.created', 'user.registered', 'login.failed', 'login.succeeded',
    'refresh.reuse_detected', 'api_key.created', 'api_key.rotated', 'api_key.revoked',
    'password.changed', 'logout']) {
    assert.ok(actions.includes(expected), `missing ${expected} in ${actions.join(',')}`);
  }
  const ids = data.map((e) => e.id);
  assert.deepEqual([...ids].sort(), ids, 'oldest first (ids are time-ordered)');
});

test('events name who, what and from where', async () => {
  const { data } = (await allEvents()).json;
  const failed = data.find((e) => e.action === 'login.failed' && e.target === user.user.email);
  assert.ok(failed, 'the failed login names the email tried');
  assert.equal(failed.actor, user.user.id);
  assert.equal(failed.ip, '127.0.0.1');
  const reuse = data.find((e) => e.action === 'refresh.reuse_detected');
  assert.equal(reuse.target, user.user.id);
  assert.ok(reuse.details.session_id);
});

test('no event carries a password, token or key', async () => {
  const res = await allEvents();
  for (const secret of [PASSWORD, 'wrong-password-1', 'another horse battery', user.tokens.refresh_token,
    user.tokens.access_token, TEST_ADMIN.password]) {
    assert.ok(!res.body.includes(secret), 'a secret leaked into the audit log');
  }
  assert.ok(!/tbk_[A-Za-z0-9_-]{20,}/.test(res.body), 'an API key leaked into the audit log');
});

test('paging works and bad parameters are refused', async () => {
  const res = await server.get('/v1/audit-logs?per_page=2&page=2', { headers: bearer(adminToken) });
  assert.equal(res.status, 200);
  assert.equal(res.json.data.length, 2);
  assert.equal(res.json.meta.page, 2);
  const bad = await server.get('/v1/audit-logs?per_page=500', { headers: bearer(adminToken) });
  expectEnvelopeError(bad, 400, 'BAD_REQUEST');
  assert.equal(bad.json.error.details.field, 'per_page');
});

test('only platform admins, and never through an API key', async () => {
  expectEnvelopeError(await server.get('/v1/audit-logs'), 401, 'UNAUTHORIZED');
  const other = await register(server, { email: uniqueEmail('plain') });
  expectEnvelopeError(await server.get('/v1/audit-logs', { headers: bearer(other.tokens.access_token) }), 403, 'FORBIDDEN');
  const key = await server.post('/v1/api-keys', { headers: bearer(adminToken), json: { name: 'admin key', scopes: ['read', 'write', 'admin'] } });
  assert.equal(key.status, 201);
  expectEnvelopeError(await server.get('/v1/audit-logs', { headers: { 'X-API-Key': key.json.data.key } }), 403, 'FORBIDDEN');
});
