// Accounts (API.md §2.2): register, login, GET/PATCH /v1/auth/me.
// Sessions, refresh and logout: auth_sessions.test.mjs; JWTs: auth_tokens.test.mjs;
// login throttling and the registration limit: auth_throttle.test.mjs.
// Content types and malformed bodies of login/register: json_body.test.mjs.
// Tenancy (API.md §2.2, docs/api.md §14 "Accounts", "Tenants", "Tenant context"):
// registration makes a personal tenant with the user as owner; register/login/me answer the
// memberships as `tenants: [{id, name, slug, role, plan}]`, oldest first; the access token's
// `tid` is the chosen tenant. Tenants themselves: tenants.test.mjs.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_ADMIN, expectEnvelopeError, startServer } from './harness.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, UUID_V7, bearer, decodeParts, expectAccessWorks, expectSuccess, expectTokens,
  expectUnauthorized, expectUser, expectValidation, login, me, register, uniqueEmail,
} from './auth_helpers.mjs';

let server;
before(async () => { server = await startServer({ env: NO_THROTTLE_ENV }); });
after(async () => { await server?.stop(); });

const RANDOM_ID = '018b6216-27a1-7e2b-aa83-67d7ba500982';
const tidOf = (tokens) => decodeParts(tokens.access_token).payload.tid;

/**
 * `tenants` of a fresh registration: exactly the personal tenant, {id, name, slug, role:
 * "owner", plan: "free"} (API.md §2.2; docs/api.md §14 "Tenants"). Returns it.
 */
function expectPersonalTenant(tenants, name) {
  assert.ok(Array.isArray(tenants) && tenants.length === 1, `tenants: ${JSON.stringify(tenants)}`);
  const [t] = tenants;
  assert.deepEqual(Object.keys(t).sort(), ['id', 'name', 'plan', 'role', 'slug'], `tenant members: ${JSON.stringify(t)}`);
  assert.match(t.id, UUID_V7);
  if (name !== undefined) assert.equal(t.name, name);
  assert.match(t.slug, /^[a-z0-9]+(-[a-z0-9]+)*$/, `slug ${t.slug}`);
  assert.ok(t.slug.length <= 63);
  assert.equal(t.role, 'owner');
  assert.equal(t.plan, 'free');
  return t;
}

describe('POST /v1/auth/register', () => {
  test('201 {user, tokens, tenants}: email trimmed and lower-cased, not an admin', async () => {
    const email = uniqueEmail('Reg');
    const res = await server.post('/v1/auth/register',
      { json: { email: `  ${email.toUpperCase()}\t`, password: PASSWORD, name: 'Ada Lovelace' } });
    const data = expectSuccess(res, 201);
    assert.deepEqual(Object.keys(data).sort(), ['tenants', 'tokens', 'user']);
    expectUser(data.user, { email: email.toLowerCase(), name: 'Ada Lovelace' });
    assert.equal(data.user.email_verified, false);
    assert.equal(data.user.created_at, data.user.updated_at);
    expectTokens(data.tokens);
    // The personal tenant "<name>'s workspace", with the user as owner; the token names it.
    const personal = expectPersonalTenant(data.tenants, "Ada Lovelace's workspace");
    assert.equal(tidOf(data.tokens), personal.id, 'the access token\'s tid is the personal tenant');
    assert.ok(!res.body.includes(PASSWORD), 'the password is echoed');

    // The new session works at once and describes the same user and tenants.
    const meRes = await me(server, data.tokens.access_token);
    const meData = expectSuccess(meRes, 200);
    assert.deepEqual(meData.user, data.user);
    assert.deepEqual(meData.tenants, data.tenants);
  });

  test('name is optional; tenant_name is accepted and names the personal tenant', async () => {
    const a = await register(server, {});
    expectUser(a.user, { email: a.email });
    // Without a name: the part of the email before "@".
    expectPersonalTenant(a.tenants, `${a.email.split('@')[0]}'s workspace`);
    const b = await register(server, { name: 'Grace', tenant_name: 'Hopper Labs' });
    expectUser(b.user, { email: b.email, name: 'Grace' });
    const t = expectPersonalTenant(b.tenants, 'Hopper Labs');
    assert.equal(tidOf(b.tokens), t.id);
  });

  test('every registration gets its own personal tenant, even with the same tenant_name', async () => {
    const a = await register(server, { tenant_name: 'Same Name' });
    const b = await register(server, { tenant_name: 'Same Name' });
    const ta = expectPersonalTenant(a.tenants, 'Same Name');
    const tb = expectPersonalTenant(b.tenants, 'Same Name');
    assert.notEqual(ta.id, tb.id);
    assert.notEqual(ta.slug, tb.slug, 'slugs are unique');
  });

  test('user ids are distinct, time-ordered UUIDv7s', async () => {
    const a = await register(server, {});
    const b = await register(server, {});
    assert.notEqual(a.user.id, b.user.id);
    assert.ok(a.user.id < b.user.id, `${a.user.id} should sort before ${b.user.id}`);
  });

  test('an 8-character uncommon password is long enough', async () => {
    const r = await register(server, { password: 'xK3!vq9Z' });
    expectUser(r.user, { email: r.email });
  });

  describe('409 CONFLICT for an email already taken', () => {
    let email;
    before(async () => { email = (await register(server, { email: uniqueEmail('dup') })).email; });
    const variants = {
      'the same address': (e) => e,
      'upper-cased': (e) => e.toUpperCase(),
      'mixed case': (e) => e[0].toUpperCase() + e.slice(1),
      'with surrounding spaces': (e) => `  ${e}  `,
      'upper-cased with spaces': (e) => ` ${e.toUpperCase()} `,
    };
    for (const [label, variant] of Object.entries(variants)) {
      test(label, async () => {
        const res = await server.post('/v1/auth/register',
          { json: { email: variant(email), password: 'another fine passphrase' } });
        expectEnvelopeError(res, 409, 'CONFLICT');
        assert.ok(!res.body.includes('another fine passphrase'), 'the password is echoed');
      });
    }
    test('a refused registration leaves no personal tenant behind', async () => {
      const tenantName = `Orphan ${process.pid} ${Date.now()}`;
      const res = await server.post('/v1/auth/register',
        { json: { email, password: 'another fine passphrase', tenant_name: tenantName } });
      expectEnvelopeError(res, 409, 'CONFLICT');
      const admin = await login(server, TEST_ADMIN.email, TEST_ADMIN.password);
      const found = await server.get(`/v1/tenants?name=${encodeURIComponent(tenantName)}`,
        { headers: bearer(admin.tokens.access_token) });
      assert.equal(found.status, 200, found.body);
      assert.deepEqual(found.json.data, [], `a tenant was created for a refused registration: ${found.body}`);
      // Control: the same query finds the tenant once a registration succeeds with that name.
      const ok = await register(server, { tenant_name: tenantName });
      const again = await server.get(`/v1/tenants?name=${encodeURIComponent(tenantName)}`,
        { headers: bearer(admin.tokens.access_token) });
      assert.deepEqual(again.json.data.map((t) => t.id), [ok.tenants[0].id]);
    });
  });

  describe('422 details.field "email" for an invalid email', () => {
    for (const email of ['', '   ', 'plain', 'a@', '@example.com', 'a b@example.com', 'a@@example.com',
      'a@example..com', 'a@.example.com', 'two@at@example.com']) {
      test(JSON.stringify(email), async () => {
        const res = await server.post('/v1/auth/register', { json: { email, password: PASSWORD } });
        expectValidation(res, 'email');
      });
    }
  });

  describe('422 details.field "password" for a weak password (never echoed)', () => {
    for (const password of ['', 'x', 'Sh0rt!7', 'password123', '12345678', 'qwerty123']) {
      test(JSON.stringify(password), async () => {
        const res = await server.post('/v1/auth/register', { json: { email: uniqueEmail('weak'), password } });
        const error = expectValidation(res, 'password');
        if (password.length >= 3) {
          assert.ok(!res.body.includes(password), `the password is echoed: ${res.body}`);
        }
        assert.notEqual(error.details?.value, password);
      });
    }
  });

  test('an unknown field -> 422 details.field naming it', async () => {
    const res = await server.post('/v1/auth/register',
      { json: { email: uniqueEmail(), password: PASSWORD, nickname: 'ada' } });
    expectValidation(res, 'nickname');
  });

  // "Trimmed, lower-cased and validated" (API.md §2.2) applied beyond ASCII: either the
  // server folds/trims such addresses or it refuses them; it must not store look-alikes.
  test('a non-ASCII upper-case email is lower-cased or refused ("Ü@…" and "ü@…" are not two accounts)', async () => {
    const local = `ü-${process.pid}-${Date.now()}`;
    const upper = `${local.toUpperCase()}@example.com`;
    const lower = `${local}@example.com`;
    const first = await server.post('/v1/auth/register', { json: { email: upper, password: PASSWORD } });
    if (first.status === 422) {
      expectValidation(first, 'email');
      return;
    }
    const data = expectSuccess(first, 201);
    assert.equal(data.user.email, lower, `"${upper}" is stored as "${data.user.email}", not lower-cased`);
    const second = await server.post('/v1/auth/register', { json: { email: lower, password: PASSWORD } });
    expectEnvelopeError(second, 409, 'CONFLICT');
  });

  test('an email with a leading no-break space is trimmed or refused', async () => {
    const email = uniqueEmail('nbsp');
    const res = await server.post('/v1/auth/register', { json: { email: `\u00a0${email}\u2003`, password: PASSWORD } });
    if (res.status === 422) {
      expectValidation(res, 'email');
      return;
    }
    const data = expectSuccess(res, 201);
    assert.equal(data.user.email, email, `stored as ${JSON.stringify(data.user.email)}`);
  });

  test('is_admin cannot be sent (422 details.field "is_admin"); the account is not created', async () => {
    const email = uniqueEmail('would-be-admin');
    const res = await server.post('/v1/auth/register', { json: { email, password: PASSWORD, is_admin: true } });
    expectValidation(res, 'is_admin');
    // Nothing was stored: the same email registers now, and not as an admin.
    const r = await register(server, { email });
    expectUser(r.user, { email, isAdmin: false });
  });
});

describe('POST /v1/auth/login', () => {
  let account;
  before(async () => { account = await register(server, { name: 'Login User' }); });

  test('200 {user, tokens, tenants} with last_login_at set', async () => {
    const res = await server.post('/v1/auth/login', { json: { email: account.email, password: PASSWORD } });
    const data = expectSuccess(res, 200);
    assert.deepEqual(Object.keys(data).sort(), ['tenants', 'tokens', 'user']);
    expectUser(data.user, { email: account.email, name: 'Login User', loggedIn: true });
    assert.equal(data.user.id, account.user.id);
    assert.equal(data.user.created_at, account.user.created_at);
    assert.ok(data.user.last_login_at >= data.user.created_at);
    expectTokens(data.tokens);
    assert.deepEqual(data.tenants, account.tenants, 'the memberships: the personal tenant');
    expectPersonalTenant(data.tenants, "Login User's workspace");
    assert.equal(tidOf(data.tokens), account.tenants[0].id, 'without tenant_id: the first (only) tenant');
    assert.ok(!res.body.includes(PASSWORD), 'the password is echoed');

    // The login is visible on /me.
    const meUser = await expectAccessWorks(server, data.tokens.access_token);
    assert.equal(meUser.last_login_at, data.user.last_login_at);
  });

  test('the email is matched trimmed and case-insensitively', async () => {
    const data = await login(server, `  ${account.email.toUpperCase()} `);
    assert.equal(data.user.id, account.user.id);
    assert.equal(data.user.email, account.email);
  });

  test('every login starts a new session (new sid, new refresh token)', async () => {
    const a = await login(server, account.email);
    const b = await login(server, account.email);
    assert.notEqual(decodeParts(a.tokens.access_token).payload.sid, decodeParts(b.tokens.access_token).payload.sid);
    assert.notEqual(a.tokens.refresh_token, b.tokens.refresh_token);
    await expectAccessWorks(server, a.tokens.access_token, 'first session');
    await expectAccessWorks(server, b.tokens.access_token, 'second session');
  });

  test('a wrong password and an unknown email get the same 401 "Invalid credentials"', async () => {
    const wrong = await server.post('/v1/auth/login', { json: { email: account.email, password: 'not the password' } });
    const unknown = await server.post('/v1/auth/login', { json: { email: uniqueEmail('nobody'), password: PASSWORD } });
    const e1 = expectUnauthorized(wrong);
    const e2 = expectUnauthorized(unknown);
    assert.equal(e1.message, 'Invalid credentials');
    assert.equal(e2.message, 'Invalid credentials');
    assert.deepEqual({ code: e1.code, message: e1.message, details: e1.details },
      { code: e2.code, message: e2.message, details: e2.details });
    assert.equal(wrong.headers['www-authenticate'], unknown.headers['www-authenticate']);
    assert.ok(!wrong.body.includes('not the password'), 'the password is echoed');
  });

  test('a wrong password and an unknown email take about the same time', async () => {
    // Loose bounds (a factor of 3 between medians): catches skipping the hash for unknown
    // emails (~50 ms of Argon2id vs a bare lookup), not small differences.
    const timeOne = async (email) => {
      const t0 = performance.now();
      expectUnauthorized(await server.post('/v1/auth/login', { json: { email, password: 'not the password' } }));
      return performance.now() - t0;
    };
    const known = [];
    const unknown = [];
    for (let i = 0; i < 5; i++) {
      known.push(await timeOne(account.email));
      unknown.push(await timeOne(uniqueEmail('nobody')));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const [mk, mu] = [median(known), median(unknown)];
    assert.ok(mu > mk / 3 && mu < mk * 3, `median ${mk.toFixed(1)} ms (wrong password) vs ${mu.toFixed(1)} ms (unknown email)`);
  });

  test('the password is case-sensitive', async () => {
    const res = await server.post('/v1/auth/login', { json: { email: account.email, password: PASSWORD.toUpperCase() } });
    expectUnauthorized(res);
  });

  test('tenant_id of a tenant that does not exist -> 404 NOT_FOUND', async () => {
    const res = await server.post('/v1/auth/login',
      { json: { email: account.email, password: PASSWORD, tenant_id: RANDOM_ID } });
    expectEnvelopeError(res, 404, 'NOT_FOUND');
  });

  test('tenant_id of an existing tenant the user is not a member of -> 404, like a missing one', async () => {
    const stranger = await register(server, {});
    const res = await server.post('/v1/auth/login',
      { json: { email: account.email, password: PASSWORD, tenant_id: stranger.tenants[0].id } });
    const e1 = expectEnvelopeError(res, 404, 'NOT_FOUND');
    const e2 = expectEnvelopeError(await server.post('/v1/auth/login',
      { json: { email: account.email, password: PASSWORD, tenant_id: RANDOM_ID } }), 404, 'NOT_FOUND');
    assert.equal(e1.message, e2.message, 'the same answer as for a tenant that does not exist');
    assert.ok(!res.body.includes(stranger.tenants[0].name));
  });

  test('a wrong password with a tenant_id is still 401 "Invalid credentials" (no hint about the tenant)', async () => {
    const res = await server.post('/v1/auth/login',
      { json: { email: account.email, password: 'not the password', tenant_id: RANDOM_ID } });
    assert.equal(expectUnauthorized(res).message, 'Invalid credentials');
  });

  test('tenant_id of a tenant the user is a member of selects it (tid); tenants lists both, oldest first', async () => {
    const host = await register(server, { name: 'Host', tenant_name: 'Host Co' });
    const guest = await register(server, { name: 'Guest' });
    const add = await server.post(`/v1/tenants/${host.tenants[0].id}/members`,
      { headers: bearer(host.tokens.access_token), json: { email: guest.email, role: 'member' } });
    expectSuccess(add, 201);
    const res = await server.post('/v1/auth/login',
      { json: { email: guest.email, password: PASSWORD, tenant_id: host.tenants[0].id } });
    const data = expectSuccess(res, 200);
    assert.equal(tidOf(data.tokens), host.tenants[0].id, 'the token names the chosen tenant');
    const { id, name, slug, plan } = host.tenants[0];
    assert.deepEqual(data.tenants, [guest.tenants[0], { id, name, slug, role: 'member', plan }],
      'the memberships, oldest first, each with the caller\'s role');
    // Without tenant_id: the first (oldest) membership, the personal tenant.
    const plain = await login(server, guest.email);
    assert.equal(tidOf(plain.tokens), guest.tenants[0].id);
    assert.deepEqual(plain.tenants, data.tenants);
    // /me lists the same memberships whichever tenant the session is in.
    assert.deepEqual(expectSuccess(await me(server, data.tokens.access_token), 200).tenants, data.tenants);
  });

  test('an unknown field -> 422 details.field naming it', async () => {
    const res = await server.post('/v1/auth/login', { json: { email: account.email, password: PASSWORD, remember: true } });
    expectValidation(res, 'remember');
  });

  test('the bootstrap platform admin signs in with is_admin true, no tenant of their own and no tid', async () => {
    const data = await login(server, TEST_ADMIN.email, TEST_ADMIN.password);
    expectUser(data.user, { email: TEST_ADMIN.email, isAdmin: true, loggedIn: true });
    assert.deepEqual(data.tenants, []);
    assert.ok(!('tid' in decodeParts(data.tokens.access_token).payload), 'tid is absent without a tenant');
    const meUser = await expectAccessWorks(server, data.tokens.access_token);
    assert.equal(meUser.is_admin, true);
  });
});

describe('GET /v1/auth/me', () => {
  let account;
  before(async () => { account = await register(server, { name: 'Me' }); });

  test('200 {user, tenants} for a Bearer access token', async () => {
    const res = await me(server, account.tokens.access_token);
    const data = expectSuccess(res, 200);
    assert.deepEqual(Object.keys(data).sort(), ['tenants', 'user']);
    assert.deepEqual(data.user, account.user);
    assert.deepEqual(data.tenants, account.tenants);
    expectPersonalTenant(data.tenants, "Me's workspace");
  });

  const badAuth = {
    'no Authorization header': undefined,
    'Basic credentials': 'Basic Zm9vQGV4YW1wbGUuY29tOnNlY3JldA==',
    'an API key prefix (tbk_) as Bearer': 'Bearer tbk_0123456789abcdef0123456789abcdef',
    'Bearer with nothing after it': 'Bearer ',
    'a bare token without a scheme': 'PLACEHOLDER_ACCESS',
  };
  for (const [label, value] of Object.entries(badAuth)) {
    test(`401 with WWW-Authenticate: Bearer for ${label}`, async () => {
      const v = value === 'PLACEHOLDER_ACCESS' ? account.tokens.access_token : value;
      const res = await server.get('/v1/auth/me', { headers: v === undefined ? {} : { Authorization: v } });
      expectUnauthorized(res);
    });
  }

  test('the auth scheme is case-insensitive ("bearer")', async () => {
    const res = await server.get('/v1/auth/me', { headers: { Authorization: `bearer ${account.tokens.access_token}` } });
    assert.equal(expectSuccess(res, 200).user.id, account.user.id);
  });

  test('an unknown X-API-Key -> 401', async () => {
    const res = await server.get('/v1/auth/me', { headers: { 'X-API-Key': 'tbk_0123456789abcdef0123456789abcdef' } });
    expectUnauthorized(res);
  });

  test('a refresh token is not an access token (401)', async () => {
    expectUnauthorized(await me(server, account.tokens.refresh_token));
  });
});

describe('PATCH /v1/auth/me', () => {
  let account;
  before(async () => { account = await register(server, { name: 'Before' }); });

  test('{name} -> 200 {user} with the new name; GET /me shows it', async () => {
    const res = await server.request('PATCH', '/v1/auth/me',
      { headers: bearer(account.tokens.access_token), json: { name: 'After' } });
    const data = expectSuccess(res, 200);
    assert.deepEqual(Object.keys(data), ['user']);
    expectUser(data.user, { email: account.email, name: 'After' });
    assert.equal(data.user.id, account.user.id);
    assert.equal(data.user.created_at, account.user.created_at);
    assert.ok(data.user.updated_at >= account.user.updated_at);
    const meUser = await expectAccessWorks(server, account.tokens.access_token);
    assert.equal(meUser.name, 'After');
    assert.deepEqual(meUser, data.user);
  });

  test('Content-Type application/merge-patch+json is accepted', async () => {
    const res = await server.request('PATCH', '/v1/auth/me', {
      headers: { ...bearer(account.tokens.access_token), 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({ name: 'Merge Patched' }),
    });
    const data = expectSuccess(res, 200);
    assert.equal(data.user.name, 'Merge Patched');
    assert.equal((await expectAccessWorks(server, account.tokens.access_token)).name, 'Merge Patched');
  });

  test('an unknown field -> 422 details.field naming it; nothing changes', async () => {
    const before = await expectAccessWorks(server, account.tokens.access_token);
    const res = await server.request('PATCH', '/v1/auth/me',
      { headers: bearer(account.tokens.access_token), json: { name: 'Sneaky', email: 'other@example.com' } });
    expectValidation(res, 'email');
    const after = await expectAccessWorks(server, account.tokens.access_token);
    assert.deepEqual(after, before);
  });

  test('is_admin cannot be patched (422 details.field "is_admin")', async () => {
    const res = await server.request('PATCH', '/v1/auth/me',
      { headers: bearer(account.tokens.access_token), json: { is_admin: true } });
    expectValidation(res, 'is_admin');
    assert.equal((await expectAccessWorks(server, account.tokens.access_token)).is_admin, false);
  });

  test('a name that is not a string -> 422 details.field "name"', async () => {
    const res = await server.request('PATCH', '/v1/auth/me',
      { headers: bearer(account.tokens.access_token), json: { name: 42 } });
    expectValidation(res, 'name');
  });

  test('without credentials -> 401', async () => {
    const res = await server.request('PATCH', '/v1/auth/me', { json: { name: 'Anonymous' } });
    expectUnauthorized(res);
  });
});
