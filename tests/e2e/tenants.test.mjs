// Tenants (API.md §3, §2 "Tenant context", §13; docs/api.md §14 "Accounts", "Tenant context",
// "Tenants"): the personal tenant made at registration, tenants in login/me answers, the `tid`
// claim, login/refresh with tenant_id, /v1/tenants CRUD with its rules, X-Tenant-ID, deletion
// and suspension.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RFC3339_MS_Z, expectEnvelopeError, startServer } from './harness.mjs';
import { UUID_V7, expectUnauthorized } from './auth_helpers.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, RANDOM_ID, TENANT_MEMBERS, addMember, adminLogin, as, bearer, createKey,
  createTenant, describeRes, expectBadRequest, expectConflict, expectForbidden, expectNotFound, expectSuccess,
  expectValidation, getTenant, jwtPayload, list, login, newUser, register, uniqueEmail,
} from './tenancy_helpers.mjs';

let server;
let admin;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  admin = await adminLogin(server);
});
after(async () => { await server?.stop(); });

const MEMBERSHIP_KEYS = ['id', 'name', 'plan', 'role', 'slug'];
const SLUG_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function expectTenant(t, { role } = {}) {
  assert.deepEqual(Object.keys(t).sort(), TENANT_MEMBERS, `tenant members: ${JSON.stringify(t)}`);
  assert.match(t.id, UUID_V7);
  assert.equal(typeof t.name, 'string');
  assert.match(t.slug, SLUG_RE, `slug ${t.slug}`);
  assert.ok(['free', 'pro', 'enterprise'].includes(t.plan), `plan ${t.plan}`);
  assert.ok(['active', 'suspended'].includes(t.status), `status ${t.status}`);
  assert.ok(t.settings && typeof t.settings === 'object' && !Array.isArray(t.settings), `settings ${JSON.stringify(t.settings)}`);
  assert.equal(typeof t.member_count, 'number');
  assert.match(t.created_at, RFC3339_MS_Z);
  assert.match(t.updated_at, RFC3339_MS_Z);
  if (role !== undefined) assert.equal(t.role, role, `role in ${JSON.stringify(t)}`);
}

const usersIn = (headers) => server.get('/v1/users', { headers });

// ---------------------------------------------------------------------------------------

describe('registration, login, me: the personal tenant and tid', () => {
  test('register creates "<name>\'s workspace" with the user as owner on the free plan', async () => {
    const u = await newUser(server, 'reg', { name: 'Ann' });
    assert.ok(Array.isArray(u.tenants) && u.tenants.length === 1, `tenants: ${JSON.stringify(u.tenants)}`);
    const [t] = u.tenants;
    assert.deepEqual(Object.keys(t).sort(), MEMBERSHIP_KEYS, JSON.stringify(t));
    assert.match(t.id, UUID_V7);
    assert.equal(t.name, "Ann's workspace");
    assert.match(t.slug, SLUG_RE);
    assert.equal(t.role, 'owner');
    assert.equal(t.plan, 'free');
    assert.equal(jwtPayload(u.tokens.access_token).tid, t.id, 'tid is the personal tenant');
    const full = await getTenant(server, u.auth, t.id);
    expectTenant(full, { role: 'owner' });
    assert.equal(full.member_count, 1);
    assert.equal(full.status, 'active');
    assert.deepEqual(full.settings, {});
  });

  test('tenant_name is honoured; without a name the part of the email before @ is used', async () => {
    const a = await newUser(server, 'regtn', { name: 'Bob', tenant_name: 'Bob Industries' });
    assert.equal(a.tenants[0].name, 'Bob Industries');
    const email = uniqueEmail('noname');
    const res = await server.post('/v1/auth/register', { json: { email, password: PASSWORD } });
    const data = expectSuccess(res, 201);
    assert.equal(data.tenants.length, 1);
    assert.equal(data.tenants[0].name, `${email.split('@')[0]}'s workspace`);
  });

  test('login and me answer the memberships, oldest first', async () => {
    const u = await newUser(server, 'lm', { name: 'Lm' });
    const second = await createTenant(server, u.auth, { name: 'Second of lm' });
    const l = await login(server, u.email);
    assert.deepEqual(l.tenants.map((t) => t.id), [u.tid, second.id]);
    for (const t of l.tenants) {
      assert.deepEqual(Object.keys(t).sort(), MEMBERSHIP_KEYS);
      assert.equal(t.role, 'owner');
    }
    assert.equal(jwtPayload(l.tokens.access_token).tid, u.tid, 'login without tenant_id: the first tenant');
    const me = expectSuccess(await server.get('/v1/auth/me', { headers: bearer(l.tokens.access_token) }), 200);
    assert.deepEqual(me.tenants, l.tenants);
  });

  test('login with tenant_id sets tid; a tenant the user is not in → 404', async () => {
    const u = await newUser(server, 'ltid');
    const other = await newUser(server, 'ltid-other');
    const second = await createTenant(server, u.auth, { name: 'Login target' });
    const res = await server.post('/v1/auth/login', { json: { email: u.email, password: PASSWORD, tenant_id: second.id } });
    const data = expectSuccess(res, 200);
    assert.equal(jwtPayload(data.tokens.access_token).tid, second.id);
    // The tid decides the tenant of /v1/users.
    const users = await list(server, '/v1/users', bearer(data.tokens.access_token));
    assert.deepEqual(users.data.map((x) => x.id), [u.user.id]);
    for (const tid of [other.tid, RANDOM_ID]) {
      expectNotFound(await server.post('/v1/auth/login', { json: { email: u.email, password: PASSWORD, tenant_id: tid } }));
    }
  });

  test('refresh with tenant_id moves the session; later refreshes stay there; non-member → 404', async () => {
    const u = await newUser(server, 'rtid');
    const other = await newUser(server, 'rtid-other');
    const second = await createTenant(server, u.auth, { name: 'Refresh target' });
    let res = await server.post('/v1/auth/refresh', { json: { refresh_token: u.tokens.refresh_token, tenant_id: second.id } });
    let tokens = expectSuccess(res, 200).tokens;
    assert.equal(jwtPayload(tokens.access_token).tid, second.id);
    res = await server.post('/v1/auth/refresh', { json: { refresh_token: tokens.refresh_token } });
    tokens = expectSuccess(res, 200).tokens;
    assert.equal(jwtPayload(tokens.access_token).tid, second.id, 'a plain refresh keeps the moved tenant');
    res = await server.post('/v1/auth/refresh', { json: { refresh_token: tokens.refresh_token, tenant_id: other.tid } });
    expectNotFound(res);
  });
});

// ---------------------------------------------------------------------------------------

describe('POST /v1/tenants', () => {
  let u;
  before(async () => { u = await newUser(server, 'create'); });

  test('201: the caller is owner, member_count 1, slug made from the name, default plan', async () => {
    const res = await server.post('/v1/tenants', { headers: u.auth, json: { name: 'Acme Corp' } });
    const t = expectSuccess(res, 201);
    expectTenant(t, { role: 'owner' });
    assert.equal(t.name, 'Acme Corp');
    assert.match(t.slug, /^acme-corp/);
    assert.equal(t.member_count, 1);
    assert.equal(t.plan, 'free');
    assert.equal(t.status, 'active');
    const again = await createTenant(server, u.auth, { name: 'Acme Corp' });
    assert.notEqual(again.slug, t.slug, 'a taken slug made from the name gets a suffix');
    assert.match(again.slug, /^acme-corp/);
    assert.match(again.slug, SLUG_RE);
    const mine = await list(server, '/v1/tenants?per_page=100', u.auth);
    assert.ok(mine.data.some((x) => x.id === t.id && x.role === 'owner'));
  });

  test('explicit slug: kept when valid, 422 on slug when malformed, 409 when taken', async () => {
    const slug = `team-${process.pid}-x1`;
    const t = await createTenant(server, u.auth, { name: 'Explicit', slug });
    assert.equal(t.slug, slug);
    for (const bad of ['Bad_Slug', '-lead', 'trail-', 'has space', 'a'.repeat(64), '', 'ÿnicode', 42]) {
      expectValidation(await server.post('/v1/tenants', { headers: u.auth, json: { name: 'X', slug: bad } }), 'slug');
    }
    const other = await newUser(server, 'create2');
    const res = await server.post('/v1/tenants', { headers: other.auth, json: { name: 'Dup', slug } });
    const err = expectConflict(res);
    assert.equal(err.details?.field, 'slug');
  });

  test('name: required, 1–100 characters', async () => {
    expectValidation(await server.post('/v1/tenants', { headers: u.auth, json: {} }), 'name');
    expectValidation(await server.post('/v1/tenants', { headers: u.auth, json: { name: '' } }), 'name');
    expectValidation(await server.post('/v1/tenants', { headers: u.auth, json: { name: 'n'.repeat(101) } }), 'name');
    expectValidation(await server.post('/v1/tenants', { headers: u.auth, json: { name: 7 } }), 'name');
    const t = await createTenant(server, u.auth, { name: 'é'.repeat(100) });
    assert.equal(t.name, 'é'.repeat(100), '100 code points is allowed');
  });

  test('unknown fields → 422 naming them; malformed JSON → 400; no credentials → 401', async () => {
    expectValidation(await server.post('/v1/tenants', { headers: u.auth, json: { name: 'X', colour: 'red' } }), 'colour');
    const res = await server.post('/v1/tenants', {
      headers: { ...u.auth, 'Content-Type': 'application/json' }, body: '{"name": "X",',
    });
    expectEnvelopeError(res, 400, 'BAD_REQUEST');
    expectUnauthorized(await server.post('/v1/tenants', { json: { name: 'X' } }));
  });

  test('a name with a NUL character is refused (422) or stored exactly as sent, never truncated', async () => {
    const res = await server.post('/v1/tenants', { headers: u.auth, json: { name: 'before\u0000after' } });
    if (res.status === 422) {
      expectValidation(res, 'name');
    } else {
      const t = expectSuccess(res, 201);
      assert.equal(t.name, 'before\u0000after');
      assert.equal((await getTenant(server, u.auth, t.id)).name, 'before\u0000after', 'stored as answered');
    }
  });

  test('only platform admins set plan (403 otherwise); an unknown plan → 422', async () => {
    expectForbidden(await server.post('/v1/tenants', { headers: u.auth, json: { name: 'Pro try', plan: 'pro' } }));
    const t = await createTenant(server, admin.auth, { name: 'Admin pro', plan: 'pro' });
    expectTenant(t, { role: 'owner' });
    assert.equal(t.plan, 'pro');
    expectValidation(await server.post('/v1/tenants', { headers: admin.auth, json: { name: 'Gold', plan: 'gold' } }), 'plan');
  });

  test('an API key cannot create a tenant (403)', async () => {
    const key = await createKey(server, as(u, u.tid), { name: 'k', scopes: ['read', 'write', 'admin'] });
    expectForbidden(await server.post('/v1/tenants', { headers: { 'X-API-Key': key.key }, json: { name: 'By key' } }));
  });
});

// ---------------------------------------------------------------------------------------

describe('GET /v1/tenants and /v1/tenants/{id}', () => {
  let a; let b;
  before(async () => {
    a = await newUser(server, 'lista');
    b = await newUser(server, 'listb');
  });

  test('a user sees only their own tenants, each with their role', async () => {
    const extra = await createTenant(server, a.auth, { name: 'A extra' });
    await addMember(server, as(b, b.tid), b.tid, a.email, 'viewer');
    const { data, meta } = await list(server, '/v1/tenants?per_page=100', a.auth);
    const byId = Object.fromEntries(data.map((t) => [t.id, t]));
    assert.deepEqual(Object.keys(byId).sort(), [a.tid, extra.id, b.tid].sort());
    for (const t of data) expectTenant(t);
    assert.equal(byId[a.tid].role, 'owner');
    assert.equal(byId[b.tid].role, 'viewer');
    assert.equal(meta.total, 3);
  });

  test('a platform admin sees every tenant (role null where not a member)', async () => {
    const { data, meta } = await list(server, '/v1/tenants?per_page=100', admin.auth);
    const ids = data.map((t) => t.id);
    assert.ok(ids.includes(a.tid) && ids.includes(b.tid), 'admin sees others\' tenants');
    assert.equal(data.find((t) => t.id === a.tid).role, null);
    assert.ok(meta.total >= data.length);
    const own = await list(server, '/v1/tenants?per_page=100', b.auth);
    assert.ok(meta.total > own.meta.total, 'admin sees more than a user');
  });

  test('GET {id}: member 200; someone else\'s or a random id 404; platform admin 200', async () => {
    expectTenant(await getTenant(server, a.auth, a.tid), { role: 'owner' });
    const c = await newUser(server, 'listc');
    const other = await server.get(`/v1/tenants/${c.tid}`, { headers: a.auth });
    expectNotFound(other);
    const random = await server.get(`/v1/tenants/${RANDOM_ID}`, { headers: a.auth });
    expectNotFound(random);
    assert.equal(other.json.error.message, random.json.error.message, 'another tenant looks like a missing one');
    expectNotFound(await server.get('/v1/tenants/not-a-uuid', { headers: a.auth }));
    const seen = await getTenant(server, admin.auth, c.tid);
    expectTenant(seen);
    assert.equal(seen.role, null);
  });
});

// ---------------------------------------------------------------------------------------

describe('PUT/PATCH /v1/tenants/{id}', () => {
  let owner; let adm; let mem; let t;
  before(async () => {
    owner = await newUser(server, 'putown');
    adm = await newUser(server, 'putadm');
    mem = await newUser(server, 'putmem');
    t = await createTenant(server, owner.auth, { name: 'Put target' });
    await addMember(server, owner.auth, t.id, adm.email, 'admin');
    await addMember(server, owner.auth, t.id, mem.email, 'member');
  });

  test('the owner updates name, slug and settings; only the fields sent change', async () => {
    const slug = `put-${process.pid}-renamed`;
    let res = await server.request('PUT', `/v1/tenants/${t.id}`, { headers: owner.auth, json: { name: 'Renamed', slug } });
    let data = expectSuccess(res, 200);
    expectTenant(data, { role: 'owner' });
    assert.equal(data.name, 'Renamed');
    assert.equal(data.slug, slug);
    assert.equal(data.member_count, 3);
    res = await server.request('PATCH', `/v1/tenants/${t.id}`, {
      headers: owner.auth, json: { settings: { cors_origins: ['https://app.example.com'] } },
    });
    data = expectSuccess(res, 200);
    assert.equal(data.name, 'Renamed', 'PATCH keeps the name');
    assert.equal(data.slug, slug);
    assert.deepEqual(data.settings.cors_origins, ['https://app.example.com']);
    res = await server.request('PUT', `/v1/tenants/${t.id}`, { headers: owner.auth, json: { name: 'Put target' } });
    data = expectSuccess(res, 200);
    assert.deepEqual(data.settings.cors_origins, ['https://app.example.com'], 'PUT keeps settings it was not sent');
    assert.ok(data.updated_at >= data.created_at);
    assert.deepEqual(await getTenant(server, owner.auth, t.id), data);
  });

  test('a tenant admin (not owner) and a member → 403; a non-member → 404', async () => {
    expectForbidden(await server.request('PUT', `/v1/tenants/${t.id}`, { headers: as(adm, t.id), json: { name: 'By admin' } }));
    expectForbidden(await server.request('PUT', `/v1/tenants/${t.id}`, { headers: as(mem, t.id), json: { name: 'By member' } }));
    const outsider = await newUser(server, 'putout');
    expectNotFound(await server.request('PUT', `/v1/tenants/${t.id}`, { headers: outsider.auth, json: { name: 'By outsider' } }));
    assert.equal((await getTenant(server, owner.auth, t.id)).name, 'Put target');
  });

  test('plan and status: 403 for the owner, allowed to a platform admin', async () => {
    expectForbidden(await server.request('PUT', `/v1/tenants/${t.id}`, { headers: owner.auth, json: { plan: 'pro' } }));
    expectForbidden(await server.request('PUT', `/v1/tenants/${t.id}`, { headers: owner.auth, json: { status: 'suspended' } }));
    const res = await server.request('PUT', `/v1/tenants/${t.id}`, { headers: admin.auth, json: { plan: 'enterprise' } });
    assert.equal(expectSuccess(res, 200).plan, 'enterprise');
    expectValidation(await server.request('PUT', `/v1/tenants/${t.id}`, { headers: admin.auth, json: { plan: 'gold' } }), 'plan');
    expectValidation(await server.request('PUT', `/v1/tenants/${t.id}`, { headers: admin.auth, json: { status: 'paused' } }), 'status');
  });

  test('validation: settings, cors_origins, name, slug, unknown fields → 422; malformed JSON → 400; taken slug → 409', async () => {
    const put = (json) => server.request('PUT', `/v1/tenants/${t.id}`, { headers: owner.auth, json });
    expectValidation(await put({ settings: { cors_origins: 'https://a.example' } }), /^settings\.cors_origins/);
    expectValidation(await put({ settings: { cors_origins: ['not an origin'] } }), /^settings\.cors_origins(\.0)?$/);
    expectValidation(await put({ settings: { cors_origins: [42] } }), /^settings\.cors_origins(\.0)?$/);
    expectValidation(await put({ settings: [] }), 'settings');
    expectValidation(await put({ settings: { big: 'x'.repeat(17 * 1024) } }), /^settings/);
    expectValidation(await put({ name: '' }), 'name');
    expectValidation(await put({ slug: 'No_Good' }), 'slug');
    expectValidation(await put({ nickname: 'x' }), 'nickname');
    expectEnvelopeError(await server.request('PUT', `/v1/tenants/${t.id}`, {
      headers: { ...owner.auth, 'Content-Type': 'application/json' }, body: '{"name":',
    }), 400, 'BAD_REQUEST');
    const taken = (await getTenant(server, owner.auth, owner.tid)).slug;
    const err = expectConflict(await put({ slug: taken }));
    assert.equal(err.details?.field, 'slug');
    assert.equal((await getTenant(server, owner.auth, t.id)).name, 'Put target', 'nothing changed');
  });
});

// ---------------------------------------------------------------------------------------

describe('DELETE /v1/tenants/{id}', () => {
  test('admin-role and member → 403; an API key → 403; the owner → 204, then everything is gone', async () => {
    const owner = await newUser(server, 'delown');
    const adm = await newUser(server, 'deladm');
    const mem = await newUser(server, 'delmem');
    const t = await createTenant(server, owner.auth, { name: 'Doomed' });
    await addMember(server, owner.auth, t.id, adm.email, 'admin');
    await addMember(server, owner.auth, t.id, mem.email, 'member');
    expectForbidden(await server.request('DELETE', `/v1/tenants/${t.id}`, { headers: as(adm, t.id) }));
    expectForbidden(await server.request('DELETE', `/v1/tenants/${t.id}`, { headers: as(mem, t.id) }));
    const ownerKey = await createKey(server, as(owner, t.id), { scopes: ['read', 'write', 'admin'] });
    assert.equal(ownerKey.tenant_id, t.id);
    expectForbidden(await server.request('DELETE', `/v1/tenants/${t.id}`, { headers: { 'X-API-Key': ownerKey.key } }));
    const memKey = await createKey(server, as(mem, t.id), { scopes: ['read'] });
    // The member signs in to the tenant: its token carries tid = t.
    const memLogin = await server.post('/v1/auth/login', { json: { email: mem.email, password: PASSWORD, tenant_id: t.id } });
    const memToken = expectSuccess(memLogin, 200).tokens.access_token;
    assert.equal(jwtPayload(memToken).tid, t.id);
    assert.equal((await usersIn(bearer(memToken))).status, 200);
    assert.equal((await usersIn({ 'X-API-Key': memKey.key })).status, 200);

    const res = await server.request('DELETE', `/v1/tenants/${t.id}`, { headers: owner.auth });
    assert.equal(res.status, 204, describeRes(res));
    assert.equal(res.body, '');

    expectNotFound(await server.get(`/v1/tenants/${t.id}`, { headers: owner.auth }));
    expectNotFound(await server.get(`/v1/tenants/${t.id}`, { headers: admin.auth }));
    expectNotFound(await usersIn(bearer(memToken)));
    expectNotFound(await usersIn(as(adm, t.id)));
    expectUnauthorized(await usersIn({ 'X-API-Key': memKey.key }));
    expectUnauthorized(await usersIn({ 'X-API-Key': ownerKey.key }));
    const mine = await list(server, '/v1/tenants?per_page=100', owner.auth);
    assert.ok(!mine.data.some((x) => x.id === t.id));
    const me = expectSuccess(await server.get('/v1/auth/me', { headers: mem.auth }), 200);
    assert.ok(!me.tenants.some((x) => x.id === t.id));
    expectNotFound(await server.request('DELETE', `/v1/tenants/${t.id}`, { headers: owner.auth }));
  });

  test('a platform admin may delete any tenant', async () => {
    const owner = await newUser(server, 'deladmin');
    const t = await createTenant(server, owner.auth, { name: 'Admin deletes' });
    const res = await server.request('DELETE', `/v1/tenants/${t.id}`, { headers: admin.auth });
    assert.equal(res.status, 204, describeRes(res));
    expectNotFound(await server.get(`/v1/tenants/${t.id}`, { headers: owner.auth }));
  });

  test('a non-member → 404', async () => {
    const owner = await newUser(server, 'delnm');
    const outsider = await newUser(server, 'delnm-out');
    expectNotFound(await server.request('DELETE', `/v1/tenants/${owner.tid}`, { headers: outsider.auth }));
    await getTenant(server, owner.auth, owner.tid);
  });
});

// ---------------------------------------------------------------------------------------

describe('suspension', () => {
  test('a suspended tenant answers 403 "Tenant suspended" to its members; platform admins still work', async () => {
    const owner = await newUser(server, 'susp');
    const mem = await newUser(server, 'suspmem');
    await addMember(server, owner.auth, owner.tid, mem.email, 'member');
    let res = await server.request('PATCH', `/v1/tenants/${owner.tid}`, { headers: admin.auth, json: { status: 'suspended' } });
    assert.equal(expectSuccess(res, 200).status, 'suspended');
    for (const headers of [owner.auth, as(mem, owner.tid)]) {
      const err = expectForbidden(await usersIn(headers));
      assert.equal(err.message, 'Tenant suspended');
      expectForbidden(await server.get('/v1/organizations', { headers }));
    }
    assert.equal((await usersIn(as(admin, owner.tid))).status, 200, 'the platform admin still works');
    res = await server.request('PATCH', `/v1/tenants/${owner.tid}`, { headers: admin.auth, json: { status: 'active' } });
    assert.equal(expectSuccess(res, 200).status, 'active');
    assert.equal((await usersIn(as(mem, owner.tid))).status, 200, 'active again');
  });
});

// ---------------------------------------------------------------------------------------

describe('X-Tenant-ID and the tenant context', () => {
  test('X-Tenant-ID selects one of the user\'s tenants', async () => {
    const u = await newUser(server, 'xt');
    const other = await newUser(server, 'xt-other');
    await addMember(server, other.auth, other.tid, u.email, 'viewer');
    const own = await list(server, '/v1/users', u.auth);
    assert.deepEqual(own.data.map((x) => [x.id, x.role]), [[u.user.id, 'owner']]);
    const there = await list(server, '/v1/users?sort=email', as(u, other.tid));
    assert.deepEqual(new Set(there.data.map((x) => x.id)), new Set([u.user.id, other.user.id]));
    assert.equal(there.data.find((x) => x.id === u.user.id).role, 'viewer');
  });

  test('X-Tenant-ID of a tenant the user is not in → 404, exactly like a random id', async () => {
    const u = await newUser(server, 'xt404');
    const other = await newUser(server, 'xt404-other');
    const a = await usersIn(as(u, other.tid));
    const b = await usersIn(as(u, RANDOM_ID));
    expectNotFound(a);
    expectNotFound(b);
    assert.equal(a.json.error.message, b.json.error.message);
    expectNotFound(await usersIn(as(u, 'garbage')));
  });

  test('a platform admin may name any tenant and acts there as owner', async () => {
    const u = await newUser(server, 'xtadm');
    const { data } = await list(server, '/v1/users', as(admin, u.tid));
    assert.deepEqual(data.map((x) => x.id), [u.user.id]);
    const res = await server.post('/v1/users', { headers: as(admin, u.tid), json: { email: uniqueEmail('byadmin'), role: 'admin' } });
    assert.equal(expectSuccess(res, 201).role, 'admin');
  });

  test('an API key is bound to its tenant: X-Tenant-ID naming another tenant → 403 with one message', async () => {
    const u = await newUser(server, 'xtkey');
    const other = await newUser(server, 'xtkey-other');
    const key = await createKey(server, as(u, u.tid), { scopes: ['read'] });
    assert.equal(key.tenant_id, u.tid);
    assert.equal((await usersIn({ 'X-API-Key': key.key })).status, 200);
    assert.equal((await usersIn({ 'X-API-Key': key.key, 'X-Tenant-ID': u.tid })).status, 200);
    const a = await usersIn({ 'X-API-Key': key.key, 'X-Tenant-ID': other.tid });
    const b = await usersIn({ 'X-API-Key': key.key, 'X-Tenant-ID': RANDOM_ID });
    expectForbidden(a);
    expectForbidden(b);
    assert.equal(a.json.error.message, b.json.error.message);
  });

  test('through a key: its own tenant only; reads need read/admin; changes need admin and an owner', async () => {
    const owner = await newUser(server, 'xtk-own');
    const adm = await newUser(server, 'xtk-adm');
    await addMember(server, owner.auth, owner.tid, adm.email, 'admin');
    const readKey = await createKey(server, owner.auth, { scopes: ['read'] });
    const writeKey = await createKey(server, owner.auth, { scopes: ['write'] });
    const adminKey = await createKey(server, owner.auth, { scopes: ['admin'] });
    const admsKey = await createKey(server, as(adm, owner.tid), { scopes: ['admin'] });
    const k = (key) => ({ 'X-API-Key': key.key });
    const { data } = await list(server, '/v1/tenants', k(readKey));
    assert.deepEqual(data.map((x) => x.id), [owner.tid], 'a key lists only its own tenant');
    expectTenant(await getTenant(server, k(readKey), owner.tid));
    expectNotFound(await server.get(`/v1/tenants/${adm.tid}`, { headers: k(admsKey) }));
    expectForbidden(await server.get(`/v1/tenants/${owner.tid}`, { headers: k(writeKey) }));
    expectForbidden(await server.request('PUT', `/v1/tenants/${owner.tid}`, { headers: k(readKey), json: { name: 'By read key' } }));
    expectForbidden(await server.request('PUT', `/v1/tenants/${owner.tid}`, { headers: k(admsKey), json: { name: 'By admin\'s key' } }));
    const res = await server.request('PUT', `/v1/tenants/${owner.tid}`, {
      headers: k(adminKey), json: { name: 'By owner\'s admin key', settings: { cors_origins: ['https://k.example'] } },
    });
    const t = expectSuccess(res, 200);
    assert.equal(t.name, 'By owner\'s admin key');
    assert.deepEqual(t.settings.cors_origins, ['https://k.example']);
    expectForbidden(await server.request('PUT', `/v1/tenants/${owner.tid}`, { headers: k(adminKey), json: { plan: 'pro' } }));
  });

  test('a user who left every tenant: login has no tid and tenant routes → 404 "No tenant selected"', async () => {
    const owner = await newUser(server, 'lonely-own');
    const email = uniqueEmail('lonely');
    const created = expectSuccess(await server.post('/v1/users', {
      headers: owner.auth, json: { email, password: PASSWORD, name: 'Lonely' },
    }), 201);
    let l = await login(server, email);
    assert.deepEqual(l.tenants.map((t) => t.id), [owner.tid], 'a user made by POST /v1/users has no personal tenant');
    assert.equal(jwtPayload(l.tokens.access_token).tid, owner.tid);
    const res = await server.request('DELETE', `/v1/tenants/${owner.tid}/members/${created.id}`, { headers: owner.auth });
    assert.equal(res.status, 204, describeRes(res));
    expectNotFound(await usersIn(bearer(l.tokens.access_token)));
    l = await login(server, email);
    assert.deepEqual(l.tenants, []);
    assert.ok(!('tid' in jwtPayload(l.tokens.access_token)), 'no tenant, no tid');
    const err = expectNotFound(await usersIn(bearer(l.tokens.access_token)));
    assert.match(err.message, /^No tenant selected\b/);
  });
});

// ---------------------------------------------------------------------------------------

describe('settings: no personal tenant, no self-service', () => {
  let s2;
  before(async () => {
    s2 = await startServer({
      env: { ...NO_THROTTLE_ENV, TB_TENANTS_PERSONAL_ON_REGISTER: 'false', TB_TENANTS_SELF_SERVICE: 'false' },
    });
  });
  after(async () => { await s2?.stop(); });

  test('register makes no tenant; POST /v1/tenants is for platform admins only', async () => {
    const u = await register(s2, { email: uniqueEmail('nops'), name: 'Nops' });
    assert.deepEqual(u.tenants, []);
    assert.ok(!('tid' in jwtPayload(u.tokens.access_token)));
    expectForbidden(await s2.post('/v1/tenants', { headers: bearer(u.tokens.access_token), json: { name: 'Mine' } }));
    const adm = await adminLogin(s2);
    const res = await s2.post('/v1/tenants', { headers: adm.auth, json: { name: 'Admin made' } });
    const t = expectSuccess(res, 201);
    expectTenant(t, { role: 'owner' });
    // A token without tid uses the user's first tenant once there is one.
    const userAuth = bearer(u.tokens.access_token);
    const none = expectNotFound(await s2.get('/v1/users', { headers: userAuth }));
    assert.match(none.message, /^No tenant selected\b/);
    const added = await s2.post(`/v1/tenants/${t.id}/members`, { headers: adm.auth, json: { email: u.email, role: 'viewer' } });
    expectSuccess(added, 201);
    const users = await s2.get('/v1/users', { headers: userAuth });
    const data = expectSuccess(users, 200);
    assert.ok(data.some((x) => x.id === u.user.id && x.role === 'viewer'), describeRes(users));
  });
});
