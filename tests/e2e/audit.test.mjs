// The audit log of security events (API.md §9; docs/api.md §14 "Audit log", "Tenant
// context"): GET /v1/audit-logs. Admin+ of the current tenant read that tenant's events (a
// registered user owns their personal tenant); a plain member or viewer gets 403; an API key
// needs the admin scope. A platform admin without a tenant reads every event, with
// X-Tenant-ID the tenant's events plus the instance-level ones (tenant_id null).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, TEST_ADMIN, expectEnvelopeError, RFC3339_MS_Z, UUID } from './harness.mjs';
import { NO_THROTTLE_ENV, PASSWORD, bearer, login, refresh, register, uniqueEmail } from './auth_helpers.mjs';

const NEW_PASSWORD = 'another horse battery';

let server;
let adminToken;
let user; // registered: owner of the personal tenant user.tid
let owner; // {auth} of a fresh session of `user` (after the password change)
let keyId; // the key created, rotated and revoked in user's tenant
let other; // another registered user, with a key in their own tenant
let otherKeyId;
let roles; // {admin, member, viewer}: accounts added to user's tenant with that role

const tid = (acct) => acct.tenants[0].id;

before(async () => {
  server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_AUTH_REFRESH_GRACE_SECONDS: '0' } });
  adminToken = (await login(server, TEST_ADMIN.email, TEST_ADMIN.password)).tokens.access_token;
  // A little history: a registration, a failed login, a refresh reuse, a key's life, a
  // password change, a logout.
  user = await register(server, { email: uniqueEmail('audit') });
  assert.equal(user.tenants.length, 1);
  assert.equal(user.tenants[0].role, 'owner');
  await server.post('/v1/auth/login', { json: { email: user.user.email, password: 'wrong-password-1' } });
  const first = user.tokens.refresh_token;
  const rotated = await refresh(server, first);
  assert.equal(rotated.status, 200);
  assert.equal((await refresh(server, first)).status, 401); // reuse: the session is revoked
  const fresh = await login(server, user.user.email);
  const key = await server.post('/v1/api-keys', { headers: bearer(fresh.tokens.access_token), json: { name: 'k' } });
  assert.equal(key.status, 201);
  keyId = key.json.data.id;
  assert.equal(key.json.data.tenant_id, tid(user));
  assert.equal((await server.post(`/v1/api-keys/${keyId}/rotate`, { headers: bearer(fresh.tokens.access_token) })).status, 200);
  assert.equal((await server.request('DELETE', `/v1/api-keys/${keyId}`, { headers: bearer(fresh.tokens.access_token) })).status, 204);
  assert.equal((await server.post('/v1/auth/password', {
    headers: bearer(fresh.tokens.access_token),
    json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
  })).status, 200);
  assert.equal((await server.post('/v1/auth/logout', { headers: bearer(fresh.tokens.access_token) })).status, 200);

  // Tenancy: members of user's tenant with each role, and an unrelated tenant with a key.
  owner = { auth: bearer((await login(server, user.user.email, NEW_PASSWORD)).tokens.access_token) };
  roles = {};
  for (const role of ['admin', 'member', 'viewer']) {
    const acct = await register(server, { email: uniqueEmail(`audit-${role}`) });
    const res = await server.post(`/v1/tenants/${tid(user)}/members`, { headers: owner.auth, json: { email: acct.email, role } });
    assert.equal(res.status, 201, res.body);
    // Signs in choosing user's tenant: the token's tid is that tenant.
    const s = await server.post('/v1/auth/login', { json: { email: acct.email, password: PASSWORD, tenant_id: tid(user) } });
    assert.equal(s.status, 200, s.body);
    roles[role] = { ...acct, auth: bearer(s.json.data.tokens.access_token) };
  }
  other = await register(server, { email: uniqueEmail('audit-other') });
  const ok = await server.post('/v1/api-keys', { headers: bearer(other.tokens.access_token), json: { name: 'other key' } });
  assert.equal(ok.status, 201);
  otherKeyId = ok.json.data.id;
});

after(async () => { await server?.stop(); });

async function events(headers) {
  const res = await server.get('/v1/audit-logs?per_page=100', { headers });
  assert.equal(res.status, 200, res.body);
  assert.ok(res.json.meta.total <= 100, `more than one page of events: ${res.json.meta.total}`);
  return res;
}
const allEvents = () => events(bearer(adminToken));

test('a platform admin without a tenant reads every security event, with their shape', async () => {
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
    assert.ok(e.tenant_id === null || UUID.test(e.tenant_id), `tenant_id: ${JSON.stringify(e)}`);
  }
  const actions = data.map((e) => e.action);
  for (const expected of ['admin.created', 'user.registered', 'login.failed', 'login.succeeded',
    'refresh.reuse_detected', 'api_key.created', 'api_key.rotated', 'api_key.revoked',
    'password.changed', 'logout', 'member.added']) {
    assert.ok(actions.includes(expected), `missing ${expected} in ${actions.join(',')}`);
  }
  const ids = data.map((e) => e.id);
  assert.deepEqual([...ids].sort(), ids, 'oldest first (ids are time-ordered)');
  // Every tenant, and the instance-level events.
  const tenants = new Set(data.map((e) => e.tenant_id));
  for (const t of [tid(user), tid(other), null]) assert.ok(tenants.has(t), `no event of tenant ${t}`);
});

test('events name who, what, from where and in which tenant', async () => {
  const { data } = (await allEvents()).json;
  const failed = data.find((e) => e.action === 'login.failed' && e.target === user.user.email);
  assert.ok(failed, 'the failed login names the email tried');
  assert.equal(failed.actor, user.user.id);
  assert.equal(failed.ip, '127.0.0.1');
  const reuse = data.find((e) => e.action === 'refresh.reuse_detected');
  assert.equal(reuse.target, user.user.id);
  assert.ok(reuse.details.session_id);

  // user.registered carries the personal tenant; login.succeeded the chosen tenant.
  const registered = data.find((e) => e.action === 'user.registered' && e.target === user.user.id);
  assert.equal(registered?.tenant_id, tid(user), JSON.stringify(registered));
  assert.equal(registered.actor, user.user.id);
  const logins = data.filter((e) => e.action === 'login.succeeded' && e.actor === user.user.id);
  assert.ok(logins.length >= 2);
  for (const e of logins) assert.equal(e.tenant_id, tid(user), JSON.stringify(e));
  for (const role of ['admin', 'member', 'viewer']) {
    const acct = roles[role];
    const own = data.find((e) => e.action === 'user.registered' && e.target === acct.user.id);
    assert.equal(own?.tenant_id, tid(acct), `${role}: user.registered carries their personal tenant`);
    const chosen = data.filter((e) => e.action === 'login.succeeded' && e.actor === acct.user.id);
    assert.deepEqual(chosen.map((e) => e.tenant_id), [tid(user)], `${role}: login with tenant_id names it`);
  }
  // api_key.* carry the key's tenant.
  for (const action of ['api_key.created', 'api_key.rotated', 'api_key.revoked']) {
    const e = data.find((x) => x.action === action && x.target === keyId);
    assert.ok(e, `${action} of the key`);
    assert.equal(e.tenant_id, tid(user), `${action}: ${JSON.stringify(e)}`);
    assert.equal(e.actor, user.user.id);
  }
  const otherKey = data.find((x) => x.action === 'api_key.created' && x.target === otherKeyId);
  assert.equal(otherKey?.tenant_id, tid(other));
  // The platform admin's bootstrap is instance-level.
  const bootstrap = data.find((e) => e.action === 'admin.created');
  assert.equal(bootstrap.tenant_id, null);
});

test('no event carries a password, token or key', async () => {
  const res = await allEvents();
  for (const secret of [PASSWORD, 'wrong-password-1', NEW_PASSWORD, user.tokens.refresh_token,
    user.tokens.access_token, TEST_ADMIN.password]) {
    assert.ok(!res.body.includes(secret), 'a secret leaked into the audit log');
  }
  assert.ok(!/tbk_[A-Za-z0-9_-]{20,}/.test(res.body), 'an API key leaked into the audit log');
});

test('paging and the list mechanism work; bad parameters are refused', async () => {
  const res = await server.get('/v1/audit-logs?per_page=2&page=2', { headers: bearer(adminToken) });
  assert.equal(res.status, 200);
  assert.equal(res.json.data.length, 2);
  assert.equal(res.json.meta.page, 2);
  assert.ok(Number.isInteger(res.json.meta.total) && Number.isInteger(res.json.meta.total_pages), JSON.stringify(res.json.meta));
  const bad = await server.get('/v1/audit-logs?per_page=500', { headers: bearer(adminToken) });
  expectEnvelopeError(bad, 400, 'BAD_REQUEST');
  assert.equal(bad.json.error.details.field, 'per_page');
  // Filters and sort on the declared fields (id, ts, actor, action, target, ip).
  const failed = await server.get('/v1/audit-logs?action=login.failed&per_page=100', { headers: bearer(adminToken) });
  assert.equal(failed.status, 200, failed.body);
  assert.ok(failed.json.data.length >= 1);
  for (const e of failed.json.data) assert.equal(e.action, 'login.failed');
  assert.equal(failed.json.meta.total, failed.json.data.length);
  const newest = await server.get('/v1/audit-logs?sort=-ts&per_page=100', { headers: bearer(adminToken) });
  assert.equal(newest.status, 200, newest.body);
  const ts = newest.json.data.map((e) => e.ts);
  assert.deepEqual(ts, [...ts].sort().reverse(), 'newest first');
  // Anything else is refused.
  for (const q of ['nickname=x', 'user_agent=x', 'details=x', 'ts[gt]=yesterday', 'q=%7B%7D', 'sort=details']) {
    expectEnvelopeError(await server.get(`/v1/audit-logs?${q}`, { headers: bearer(adminToken) }), 400, 'BAD_REQUEST');
  }
});

test('the owner of a tenant (a registered user) reads that tenant\'s events only', async () => {
  const { data } = (await events(owner.auth)).json;
  assert.ok(data.length > 0);
  for (const e of data) assert.equal(e.tenant_id, tid(user), `an event of another tenant or the instance: ${JSON.stringify(e)}`);
  const actions = data.map((e) => e.action);
  for (const expected of ['user.registered', 'login.succeeded', 'api_key.created', 'api_key.rotated',
    'api_key.revoked', 'member.added']) {
    assert.ok(actions.includes(expected), `missing ${expected} in ${actions.join(',')}`);
  }
  assert.ok(!actions.includes('admin.created'), 'an instance-level event is shown to a tenant owner');
  assert.ok(!data.some((e) => e.target === otherKeyId || e.actor === other.user.id), 'another tenant\'s event leaked');
});

test('an admin of the tenant reads it too; a plain member or viewer -> 403', async () => {
  const { data } = (await events(roles.admin.auth)).json;
  assert.ok(data.some((e) => e.action === 'api_key.created' && e.target === keyId));
  for (const e of data) assert.equal(e.tenant_id, tid(user));
  for (const role of ['member', 'viewer']) {
    const res = await server.get('/v1/audit-logs', { headers: roles[role].auth });
    expectEnvelopeError(res, 403, 'FORBIDDEN');
    assert.ok(!res.body.includes(keyId), `${role}: an event leaked in the 403`);
  }
  // The member's own personal tenant is theirs to read (they own it).
  const own = await server.get('/v1/audit-logs', { headers: { ...roles.member.auth, 'X-Tenant-ID': tid(roles.member) } });
  assert.equal(own.status, 200, own.body);
  for (const e of own.json.data) assert.equal(e.tenant_id, tid(roles.member));
});

test('no credentials -> 401; a tenant the caller is not a member of -> 404', async () => {
  expectEnvelopeError(await server.get('/v1/audit-logs'), 401, 'UNAUTHORIZED');
  expectEnvelopeError(await server.get('/v1/audit-logs', { headers: { ...owner.auth, 'X-Tenant-ID': tid(other) } }),
    404, 'NOT_FOUND');
  expectEnvelopeError(await server.get('/v1/audit-logs',
    { headers: { ...owner.auth, 'X-Tenant-ID': '018b6216-27a1-7e2b-aa83-67d7ba500982' } }), 404, 'NOT_FOUND');
});

test('through an API key: the admin scope reads the key\'s tenant; read/write -> 403', async () => {
  const make = async (scopes) => {
    const res = await server.post('/v1/api-keys', { headers: owner.auth, json: { name: `audit ${scopes}`, scopes } });
    assert.equal(res.status, 201, res.body);
    return res.json.data.key;
  };
  const adminKey = await make(['read', 'write', 'admin']);
  const { data } = (await events({ 'X-API-Key': adminKey })).json;
  assert.ok(data.some((e) => e.action === 'api_key.revoked' && e.target === keyId));
  for (const e of data) assert.equal(e.tenant_id, tid(user), JSON.stringify(e));
  const rwKey = await make(['read', 'write']);
  expectEnvelopeError(await server.get('/v1/audit-logs', { headers: { 'X-API-Key': rwKey } }), 403, 'FORBIDDEN');
});

test('a platform admin with X-Tenant-ID reads the tenant\'s and the instance-level events', async () => {
  const { data } = (await events({ ...bearer(adminToken), 'X-Tenant-ID': tid(user) })).json;
  for (const e of data) {
    assert.ok(e.tenant_id === tid(user) || e.tenant_id === null, `an event of another tenant: ${JSON.stringify(e)}`);
  }
  assert.ok(data.some((e) => e.tenant_id === null && e.action === 'admin.created'), 'instance-level events');
  assert.ok(data.some((e) => e.tenant_id === tid(user) && e.action === 'api_key.created' && e.target === keyId));
  assert.ok(!data.some((e) => e.target === otherKeyId), 'another tenant\'s key event');
});

// Issue #20: a failed or throttled login for an email that belongs to a user is a security
// event of every tenant that user is a member of; an unknown email stays instance-level.
test('login failures and throttling show in the tenants of the user, and nowhere for an unknown email', async () => {
  const throttled = await startServer({ env: { ...NO_THROTTLE_ENV, TB_LIMITS_LOGIN_FAILURES: '3' } });
  try {
    const victim = await register(throttled, { email: uniqueEmail('audit-victim') });
    const team = await register(throttled, { email: uniqueEmail('audit-team') });
    const add = await throttled.post(`/v1/tenants/${tid(team)}/members`,
      { headers: bearer(team.tokens.access_token), json: { email: victim.user.email, role: 'member' } });
    assert.equal(add.status, 201, add.body);
    const admin = (await login(throttled, TEST_ADMIN.email, TEST_ADMIN.password)).tokens.access_token;
    const ghost = uniqueEmail('audit-ghost');
    // Three failures from this IP (the limit), then a throttled attempt.
    for (const email of [ghost, victim.user.email, victim.user.email, victim.user.email]) {
      await throttled.post('/v1/auth/login', { json: { email, password: 'wrong-password-2' } });
    }
    for (const [owner, tenant] of [[victim, tid(victim)], [team, tid(team)]]) {
      const res = await throttled.get('/v1/audit-logs?per_page=100', { headers: bearer(owner.tokens.access_token) });
      assert.equal(res.status, 200, res.body);
      const mine = res.json.data.filter((e) => e.target === victim.user.email);
      assert.deepEqual(mine.map((e) => e.action).sort(), ['login.failed', 'login.failed', 'login.throttled'],
        `tenant ${tenant}: ${JSON.stringify(mine)}`);
      for (const e of mine) assert.equal(e.tenant_id, tenant);
      assert.ok(!res.body.includes(ghost), 'an unknown email never reaches a tenant');
    }
    const instance = await throttled.get(`/v1/audit-logs?target=${encodeURIComponent(ghost)}`, { headers: bearer(admin) });
    assert.deepEqual(instance.json.data.map((e) => [e.action, e.tenant_id]), [['login.failed', null]]);
  } finally {
    await throttled.stop();
  }
});
