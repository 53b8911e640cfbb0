// The Nilux dialect (docs/api.md §11, seed 003_a6612fd435a589e7.txt, issue #22): every request
// and answer of the seed, then its edge cases. Bare bodies, errors as {"detail": "…"}, the
// user's primary key (sk_live_…) made at registration, and the same accounts, sessions and
// keys as /v1.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RFC3339_MS_Z, UUID, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, PASSWORD, bearer, register, uniqueEmail } from './auth_helpers.mjs';
import { adminLogin, as, createKey, describeRes, expectSuccess } from './tenancy_helpers.mjs';
import { expectNiluxError, niluxRegister } from './compat_helpers.mjs';

const USER_KEYS = ['created_at', 'email', 'email_verified', 'id', 'is_active', 'name', 'tier', 'updated_at'];
const PRIMARY = /^sk_live_[A-Za-z0-9_-]{32}$/;

function expectNiluxUser(user, { email, name = '', tier = 'free' } = {}) {
  assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
  assert.match(user.id, UUID);
  if (email) assert.equal(user.email, email);
  assert.equal(user.name, name);
  assert.equal(user.tier, tier);
  assert.equal(user.email_verified, false);
  assert.equal(user.is_active, true);
  assert.match(user.created_at, RFC3339_MS_Z);
  assert.match(user.updated_at, RFC3339_MS_Z);
}

function expectNiluxTokens(tokens) {
  assert.deepEqual(Object.keys(tokens).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
  assert.equal(tokens.token_type, 'bearer');
  assert.equal(tokens.expires_in, 900);
  assert.equal(tokens.access_token.split('.').length, 3);
  assert.ok(tokens.refresh_token.length >= 32);
}

const preview = (key) => `sk_live...${key.slice(-4)}`;

describe('the Nilux dialect', () => {
  let server;
  before(async () => { server = await startServer({ env: NO_THROTTLE_ENV }); });
  after(async () => { await server?.stop(); });

  test('GET /api/health answers the seed\'s bare object, without credentials or a budget', async () => {
    const res = await server.get('/api/health');
    assert.equal(res.status, 200, describeRes(res));
    const h = res.json;
    assert.equal(h.status, 'OK');
    assert.match(h.timestamp, RFC3339_MS_Z);
    assert.equal(typeof h.uptime, 'number');
    assert.equal(typeof h.version, 'string');
    assert.deepEqual(Object.keys(h.brand).sort(), ['description', 'name', 'shortName']);
    assert.equal(h.success, undefined);
    assert.equal(res.headers['x-ratelimit-limit'], undefined, 'exempt like /v1/health');
  });

  describe('POST /api/auth/register', () => {
    test('answers 200 {user, tokens, api_key} with the full primary key shown once', async () => {
      const email = uniqueEmail('nx-reg');
      const res = await server.post('/api/auth/register', { json: { email, password: 'securepassword123', name: 'Optional Name' } });
      assert.equal(res.status, 200, describeRes(res));
      assert.deepEqual(Object.keys(res.json).sort(), ['api_key', 'tokens', 'user']);
      expectNiluxUser(res.json.user, { email, name: 'Optional Name' });
      expectNiluxTokens(res.json.tokens);
      const k = res.json.api_key;
      assert.deepEqual(Object.keys(k).sort(), ['createdAt', 'isActive', 'key', 'keyPreview', 'name']);
      assert.match(k.key, PRIMARY);
      assert.equal(k.name, 'Primary Key');
      assert.equal(k.keyPreview, preview(k.key));
      assert.match(k.createdAt, RFC3339_MS_Z);
      assert.equal(k.isActive, true);
    });

    test('the name is optional; a duplicate email answers 400 "Email already registered"', async () => {
      const u = await niluxRegister(server);
      assert.equal(u.user.name, '');
      expectNiluxError(await server.post('/api/auth/register', { json: { email: u.email, password: PASSWORD } }),
        400, 'Email already registered');
      // Case and spaces do not make another account.
      expectNiluxError(await server.post('/api/auth/register',
        { json: { email: ` ${u.email.toUpperCase()} `, password: PASSWORD } }), 400, 'Email already registered');
    });

    test('bad input: 422 with a string detail, 400 for malformed JSON, 415 for another type', async () => {
      for (const json of [{ email: uniqueEmail('nx') }, { password: PASSWORD }, { email: 'not-an-email', password: PASSWORD },
        { email: uniqueEmail('nx'), password: 'short' }, { email: uniqueEmail('nx'), password: PASSWORD, tier: 'pro' },
        { email: 5, password: PASSWORD }]) {
        expectNiluxError(await server.post('/api/auth/register', { json }), 422);
      }
      expectNiluxError(await server.post('/api/auth/register',
        { headers: { 'Content-Type': 'application/json' }, body: '{"email":' }), 400);
      expectNiluxError(await server.post('/api/auth/register',
        { headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }) }), 415);
    });
  });

  describe('POST /api/auth/login', () => {
    test('answers the same structure, api_key without the full key', async () => {
      const u = await niluxRegister(server, { name: 'Log In' });
      const res = await server.post('/api/auth/login', { json: { email: u.email, password: u.password } });
      assert.equal(res.status, 200, describeRes(res));
      expectNiluxUser(res.json.user, { email: u.email, name: 'Log In' });
      expectNiluxTokens(res.json.tokens);
      const k = res.json.api_key;
      assert.deepEqual(Object.keys(k).sort(), ['createdAt', 'isActive', 'keyPreview', 'lastUsed', 'name']);
      assert.equal(k.keyPreview, preview(u.api_key.key));
      assert.equal(k.lastUsed, null);
    });

    test('a user without a primary key (registered on /v1) gets api_key null', async () => {
      const u = await register(server, { email: uniqueEmail('nx-v1') });
      const res = await server.post('/api/auth/login', { json: { email: u.email, password: PASSWORD } });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(res.json.api_key, null);
    });

    test('401 "Invalid credentials" for a wrong password and an unknown email alike', async () => {
      const u = await niluxRegister(server);
      expectNiluxError(await server.post('/api/auth/login', { json: { email: u.email, password: 'wrong-password' } }),
        401, 'Invalid credentials');
      expectNiluxError(await server.post('/api/auth/login', { json: { email: uniqueEmail('nobody'), password: PASSWORD } }),
        401, 'Invalid credentials');
      expectNiluxError(await server.post('/api/auth/login', { json: { email: u.email } }), 422);
    });

    test('an inactive user answers 400 "Inactive user" (login and refresh)', async () => {
      const admin = await adminLogin(server);
      const u = await niluxRegister(server);
      const tid = (await server.get('/v1/auth/me', { headers: bearer(u.tokens.access_token) })).json.data.tenants[0].id;
      expectSuccess(await server.request('PUT', `/v1/users/${u.user.id}`,
        { headers: as(admin, tid), json: { is_active: false } }), 200);
      expectNiluxError(await server.post('/api/auth/login', { json: { email: u.email, password: u.password } }),
        400, 'Inactive user');
      expectNiluxError(await server.post('/api/auth/refresh', { json: { refresh_token: u.tokens.refresh_token } }),
        400, 'Inactive user');
      expectNiluxError(await server.get('/api/auth/me', { headers: bearer(u.tokens.access_token) }), 403);
    });
  });

  describe('POST /api/auth/refresh', () => {
    test('answers the bare token pair; the old refresh token is then refused', async () => {
      const u = await niluxRegister(server);
      const res = await server.post('/api/auth/refresh', { json: { refresh_token: u.tokens.refresh_token } });
      assert.equal(res.status, 200, describeRes(res));
      expectNiluxTokens(res.json);
      assert.notEqual(res.json.refresh_token, u.tokens.refresh_token);
      const me = await server.get('/api/auth/me', { headers: bearer(res.json.access_token) });
      assert.equal(me.status, 200);
      // Past the grace window a reuse is theft; within it a lost answer is forgiven (API.md
      // §2.1), so the refusal is tested with a token that never existed.
      expectNiluxError(await server.post('/api/auth/refresh', { json: { refresh_token: 'eyJhbGciOi...' } }),
        401, 'Invalid refresh token');
      expectNiluxError(await server.post('/api/auth/refresh', { json: {} }), 422);
      expectNiluxError(await server.post('/api/auth/refresh',
        { headers: { 'Content-Type': 'application/json' }, body: '[' }), 400);
    });
  });

  describe('GET /api/auth/me', () => {
    test('answers the bare user; without a valid token 401 with a detail', async () => {
      const u = await niluxRegister(server, { name: 'Me Myself' });
      const res = await server.get('/api/auth/me', { headers: bearer(u.tokens.access_token) });
      assert.equal(res.status, 200, describeRes(res));
      expectNiluxUser(res.json, { email: u.email, name: 'Me Myself' });
      assert.ok(res.headers['x-ratelimit-limit'], 'charged like /v1/auth/me');
      expectNiluxError(await server.get('/api/auth/me'), 401);
      const bad = await server.get('/api/auth/me', { headers: bearer('not.a.jwt') });
      expectNiluxError(bad, 401);
      assert.equal(bad.headers['www-authenticate'], 'Bearer');
    });

    test('tier is the plan of the user\'s personal tenant', async () => {
      const admin = await adminLogin(server);
      const u = await niluxRegister(server);
      const tid = (await server.get('/v1/auth/me', { headers: bearer(u.tokens.access_token) })).json.data.tenants[0].id;
      expectSuccess(await server.request('PUT', `/v1/tenants/${tid}`, { headers: admin.auth, json: { plan: 'pro' } }), 200);
      const res = await server.get('/api/auth/me', { headers: bearer(u.tokens.access_token) });
      assert.equal(res.json.tier, 'pro');
    });
  });

  describe('the primary key', () => {
    test('GET /api/auth/api-key previews it; null for a user without one', async () => {
      const u = await niluxRegister(server);
      const res = await server.get('/api/auth/api-key', { headers: bearer(u.tokens.access_token) });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(res.json.name, 'Primary Key');
      assert.equal(res.json.keyPreview, preview(u.api_key.key));
      assert.equal(res.json.isActive, true);
      assert.equal(res.json.key, undefined);
      const v1 = await register(server, { email: uniqueEmail('nx-nokey') });
      const none = await server.get('/api/auth/api-key', { headers: bearer(v1.tokens.access_token) });
      assert.equal(none.status, 200);
      assert.equal(none.body, 'null');
      expectNiluxError(await server.get('/api/auth/api-key'), 401);
    });

    test('works on /v1 as X-API-Key and as Bearer, in the personal tenant; lastUsed follows', async () => {
      const u = await niluxRegister(server);
      const key = u.api_key.key;
      const me = expectSuccess(await server.get('/v1/auth/me', { headers: { 'X-API-Key': key } }), 200);
      assert.equal(me.user.id, u.user.id);
      const keys = expectSuccess(await server.get('/v1/api-keys', { headers: bearer(key) }), 200);
      assert.deepEqual(keys.map((k) => k.name), ['Primary Key']);
      assert.deepEqual(keys[0].scopes.sort(), ['admin', 'read', 'write']);
      // last_used_at is written in batches every 5 s.
      let res;
      for (let i = 0; i < 40; i++) {
        res = await server.get('/api/auth/api-key', { headers: bearer(u.tokens.access_token) });
        if (res.json.lastUsed) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.match(res.json.lastUsed, RFC3339_MS_Z);
    });

    test('a /v1 key works on the dialect', async () => {
      const u = await register(server, { email: uniqueEmail('nx-tbk') });
      const k = await createKey(server, as({ auth: bearer(u.tokens.access_token) }, u.tenants[0].id), { name: 'v1' });
      const res = await server.get('/api/auth/me', { headers: bearer(k.key) });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(res.json.id, u.user.id);
    });

    test('POST /api/auth/api-key/rotate answers the new key; the old one stops at once', async () => {
      const u = await niluxRegister(server);
      const old = u.api_key.key;
      const before = Date.parse(u.api_key.createdAt);
      const res = await server.post('/api/auth/api-key/rotate', { headers: bearer(u.tokens.access_token) });
      assert.equal(res.status, 200, describeRes(res));
      const k = res.json;
      assert.deepEqual(Object.keys(k).sort(), ['createdAt', 'isActive', 'key', 'keyPreview', 'name']);
      assert.match(k.key, PRIMARY);
      assert.notEqual(k.key, old);
      assert.equal(k.keyPreview, preview(k.key));
      assert.equal(k.name, 'Primary Key');
      assert.ok(Date.parse(k.createdAt) >= before, 'createdAt is the rotation time');
      assert.equal((await server.get('/v1/auth/me', { headers: { 'X-API-Key': old } })).status, 401);
      assert.equal((await server.get('/v1/auth/me', { headers: { 'X-API-Key': k.key } })).status, 200);
      const keys = expectSuccess(await server.get('/v1/api-keys', { headers: { 'X-API-Key': k.key } }), 200);
      assert.equal(keys.length, 1, 'rotated in place, not a second key');
    });

    test('on /v1: outside the key quota, rotated in its own form, rotated by its owner only', async () => {
      const u = await niluxRegister(server);
      const tid = (await server.get('/v1/auth/me', { headers: bearer(u.tokens.access_token) })).json.data.tenants[0].id;
      const owner = as({ auth: bearer(u.tokens.access_token) }, tid);
      const billing = expectSuccess(await server.get('/v1/billing', { headers: owner }), 200);
      assert.equal(billing.usage.api_keys, 0, 'the primary key is not counted');
      const id = expectSuccess(await server.get('/v1/api-keys', { headers: owner }), 200)[0].id;
      const rotated = expectSuccess(await server.post(`/v1/api-keys/${id}/rotate`, { headers: owner }), 200);
      assert.match(rotated.key, PRIMARY);
      const shown = await server.get('/api/auth/api-key', { headers: bearer(u.tokens.access_token) });
      assert.equal(shown.json.keyPreview, preview(rotated.key));
      // An admin of the tenant may revoke it, not rotate it (the secret would act as its owner).
      const adm = await niluxRegister(server);
      expectSuccess(await server.post(`/v1/tenants/${tid}/members`, { headers: bearer(u.tokens.access_token),
        json: { email: adm.email, role: 'admin' } }), 201);
      const asAdmin = as({ auth: bearer(adm.tokens.access_token) }, tid);
      const refused = await server.post(`/v1/api-keys/${id}/rotate`, { headers: asAdmin });
      assert.equal(refused.status, 403, describeRes(refused));
      assert.equal((await server.request('DELETE', `/v1/api-keys/${id}`, { headers: asAdmin })).status, 204);
      assert.equal((await server.get('/v1/auth/me', { headers: { 'X-API-Key': rotated.key } })).status, 401);
    });

    test('rotation needs a session (a key answers 403) and makes the key of a user who has none', async () => {
      const u = await niluxRegister(server);
      expectNiluxError(await server.post('/api/auth/api-key/rotate', { headers: bearer(u.api_key.key) }), 403);
      expectNiluxError(await server.post('/api/auth/api-key/rotate'), 401);
      const v1 = await register(server, { email: uniqueEmail('nx-make') });
      const made = await server.post('/api/auth/api-key/rotate', { headers: bearer(v1.tokens.access_token) });
      assert.equal(made.status, 200, describeRes(made));
      assert.match(made.json.key, PRIMARY);
      const shown = await server.get('/api/auth/api-key', { headers: bearer(v1.tokens.access_token) });
      assert.equal(shown.json.keyPreview, preview(made.json.key));
      const me = expectSuccess(await server.get('/v1/api-keys', { headers: { 'X-API-Key': made.json.key } }), 200);
      assert.equal(me[0].tenant_id, v1.tenants[0].id, 'in the personal tenant');
    });
  });

  describe('POST /api/auth/logout', () => {
    test('answers 200 {"message": "Logged out successfully"} whatever the token; a valid session ends', async () => {
      const u = await niluxRegister(server);
      for (const headers of [{}, bearer('garbage'), bearer(u.tokens.access_token)]) {
        const res = await server.post('/api/auth/logout', { headers });
        assert.equal(res.status, 200, describeRes(res));
        assert.deepEqual(res.json, { message: 'Logged out successfully' });
      }
      expectNiluxError(await server.get('/api/auth/me', { headers: bearer(u.tokens.access_token) }), 401);
      expectNiluxError(await server.post('/api/auth/refresh', { json: { refresh_token: u.tokens.refresh_token } }),
        401, 'Invalid refresh token');
      // The key is not a session: it keeps working.
      assert.equal((await server.get('/v1/auth/me', { headers: { 'X-API-Key': u.api_key.key } })).status, 200);
      expectNiluxError(await server.post('/api/auth/logout',
        { headers: { 'Content-Type': 'application/json' }, body: '{' }), 400);
    });
  });

  test('the pipeline\'s own answers under /api are in the dialect too (404, 405, 413)', async () => {
    expectNiluxError(await server.get('/api/nothing'), 404);
    expectNiluxError(await server.get('/api'), 404);
    const res = await server.request('DELETE', '/api/auth/me');
    expectNiluxError(res, 405);
    assert.match(res.headers.allow, /GET/);
    expectNiluxError(await server.post('/api/auth/login',
      { json: { email: uniqueEmail(), password: 'x'.repeat(20_000) } }), 413);
    // Outside the dialects, the /v1 envelope as ever.
    const v1 = await server.get('/apix');
    assert.equal(v1.json.success, false);
  });

  test('registration and key rotation are in the audit log of the personal tenant', async () => {
    const u = await niluxRegister(server);
    await server.post('/api/auth/api-key/rotate', { headers: bearer(u.tokens.access_token) });
    const tid = (await server.get('/v1/auth/me', { headers: bearer(u.tokens.access_token) })).json.data.tenants[0].id;
    const events = expectSuccess(await server.get('/v1/audit-logs?per_page=100',
      { headers: as({ auth: bearer(u.tokens.access_token) }, tid) }), 200);
    const actions = events.map((e) => e.action);
    for (const a of ['api_key.created', 'api_key.rotated', 'tenant.created']) assert.ok(actions.includes(a), `${a} in ${actions}`);
  });
});

describe('the Nilux dialect\'s throttles answer 429 with Retry-After in its shape', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { TB_LIMITS_LOGIN_FAILURES: '2', TB_LIMITS_REGISTER_PER_HOUR: '1' } });
  });
  after(async () => { await server?.stop(); });

  test('login after too many failures, and registration past its hourly limit', async () => {
    const u = await niluxRegister(server);
    for (let i = 0; i < 2; i++) {
      expectNiluxError(await server.post('/api/auth/login', { json: { email: u.email, password: 'wrong-password' } }), 401);
    }
    const res = await server.post('/api/auth/login', { json: { email: u.email, password: u.password } });
    expectNiluxError(res, 429);
    assert.ok(Number(res.headers['retry-after']) > 0);
    const reg = await server.post('/api/auth/register', { json: { email: uniqueEmail('nx-lim'), password: PASSWORD } });
    expectNiluxError(reg, 429);
    assert.ok(Number(reg.headers['retry-after']) > 0);
  });
});
