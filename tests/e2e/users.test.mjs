// Users of the current tenant (API.md §3.1; docs/api.md §14 "Users of the tenant", "Tenant
// context", "API keys and tenancy routes"): GET/POST /v1/users, GET/PUT/PATCH/DELETE
// /v1/users/{id}, purge, deactivation.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RFC3339_MS_Z, startServer } from './harness.mjs';
import { UUID_V7, expectUnauthorized } from './auth_helpers.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, RANDOM_ID, TENANT_USER_MEMBERS, addMember, adminLogin, as, createKey, createTenant,
  describeRes, expectConflict, expectForbidden, expectNotFound, expectSuccess, expectValidation, list, login,
  newUser, uniqueEmail,
  makeTeam,
} from './tenancy_helpers.mjs';

let server;
let admin;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  admin = await adminLogin(server);
});
after(async () => { await server?.stop(); });

function expectTenantUser(u, { id, email, role } = {}) {
  assert.deepEqual(Object.keys(u).sort(), TENANT_USER_MEMBERS, `user of the tenant: ${JSON.stringify(u)}`);
  assert.match(u.id, UUID_V7);
  if (id !== undefined) assert.equal(u.id, id);
  if (email !== undefined) assert.equal(u.email, email);
  if (role !== undefined) assert.equal(u.role, role);
  assert.ok(['owner', 'admin', 'member', 'viewer'].includes(u.role), `role ${u.role}`);
  assert.match(u.joined_at, RFC3339_MS_Z);
  assert.match(u.created_at, RFC3339_MS_Z);
  assert.equal(typeof u.is_active, 'boolean');
  assert.equal(typeof u.is_admin, 'boolean');
  assert.ok(!/password|hash/i.test(JSON.stringify(u)), 'no password material');
}

const putUser = (headers, id, json, method = 'PUT') => server.request(method, `/v1/users/${id}`, { headers, json });
const createUser = (headers, json) => server.post('/v1/users', { headers, json });

const team = (tag) => makeTeam(server, tag);

// ---------------------------------------------------------------------------------------

describe('GET /v1/users, GET /v1/users/{id}', () => {
  let t;
  before(async () => { t = await team('get'); });

  test('the users of the current tenant, each with role and joined_at', async () => {
    const { data, meta } = await list(server, '/v1/users?per_page=100', as(t.vie, t.tid));
    for (const u of data) expectTenantUser(u);
    assert.deepEqual(Object.fromEntries(data.map((u) => [u.id, u.role])), {
      [t.owner.user.id]: 'owner', [t.adm.user.id]: 'admin', [t.mem.user.id]: 'member', [t.vie.user.id]: 'viewer',
    });
    assert.equal(meta.total, 4);
    assert.deepEqual(data.map((u) => u.id), [t.owner.user.id, t.adm.user.id, t.mem.user.id, t.vie.user.id],
      'default order: id ascending');
    const o = data.find((u) => u.id === t.owner.user.id);
    assert.equal(o.email, t.owner.email);
    assert.equal(o.name, t.owner.user.name);
  });

  test('GET {id}: a user of the tenant 200; a user of another tenant or a random id 404', async () => {
    const res = await server.get(`/v1/users/${t.mem.user.id}`, { headers: as(t.vie, t.tid) });
    expectTenantUser(expectSuccess(res, 200), { id: t.mem.user.id, email: t.mem.email, role: 'member' });
    const outsider = await newUser(server, 'get-out');
    expectNotFound(await server.get(`/v1/users/${outsider.user.id}`, { headers: t.owner.auth }));
    expectNotFound(await server.get(`/v1/users/${RANDOM_ID}`, { headers: t.owner.auth }));
    expectNotFound(await server.get(`/v1/users/${t.mem.user.id}`, { headers: outsider.auth }));
    expectUnauthorized(await server.get('/v1/users'));
  });
});

// ---------------------------------------------------------------------------------------

describe('POST /v1/users', () => {
  let t;
  before(async () => { t = await team('post'); });

  test('a new user with a password: 201, the role asked for, and they can sign in to the tenant', async () => {
    const email = uniqueEmail('post-new');
    const res = await createUser(t.owner.auth, { email: `  ${email.toUpperCase()} `, name: 'New One', password: 'a fine password 1', role: 'admin' });
    const u = expectSuccess(res, 201);
    expectTenantUser(u, { email, role: 'admin' });
    assert.equal(u.name, 'New One');
    assert.equal(u.is_admin, false);
    const l = await login(server, email, 'a fine password 1');
    assert.equal(l.user.id, u.id);
    assert.deepEqual(l.tenants.map((x) => [x.id, x.role]), [[t.tid, 'admin']]);
    const got = expectSuccess(await server.get(`/v1/users/${u.id}`, { headers: t.owner.auth }), 200);
    assert.equal(got.role, 'admin');
  });

  test('role defaults to member; without a password the account cannot sign in', async () => {
    const email = uniqueEmail('post-nopw');
    const u = expectSuccess(await createUser(as(t.adm, t.tid), { email }), 201);
    expectTenantUser(u, { email, role: 'member' });
    for (const pw of ['', 'anything at all', PASSWORD]) {
      const r = await server.post('/v1/auth/login', { json: { email, password: pw } });
      assert.ok(r.status === 401 || r.status === 422, `login without a password set: ${describeRes(r)}`);
    }
  });

  test('an existing account keeps its name and password and just joins', async () => {
    const existing = await newUser(server, 'post-exist', { name: 'Original Name' });
    const res = await createUser(t.owner.auth, { email: existing.email, name: 'Other Name', password: 'another password 9', role: 'viewer' });
    const u = expectSuccess(res, 201);
    expectTenantUser(u, { id: existing.user.id, role: 'viewer' });
    assert.equal(u.name, 'Original Name');
    const l = await login(server, existing.email, PASSWORD);
    assert.ok(l.tenants.some((x) => x.id === t.tid && x.role === 'viewer'));
    const bad = await server.post('/v1/auth/login', { json: { email: existing.email, password: 'another password 9' } });
    expectUnauthorized(bad);
    // Already a member now.
    expectConflict(await createUser(t.owner.auth, { email: existing.email, role: 'member' }));
  });

  test('validation: email, role, password → 422 naming the field', async () => {
    expectValidation(await createUser(t.owner.auth, { role: 'member' }), 'email');
    expectValidation(await createUser(t.owner.auth, { email: 'nope', role: 'member' }), 'email');
    expectValidation(await createUser(t.owner.auth, { email: uniqueEmail('post-v'), role: 'chief' }), 'role');
    expectValidation(await createUser(t.owner.auth, { email: uniqueEmail('post-v'), password: 'short' }), 'password');
  });

  test('a member or viewer → 403; an admin cannot create an owner (403); a read key → 403', async () => {
    expectForbidden(await createUser(as(t.mem, t.tid), { email: uniqueEmail('post-f') }));
    expectForbidden(await createUser(as(t.vie, t.tid), { email: uniqueEmail('post-f') }));
    expectForbidden(await createUser(as(t.adm, t.tid), { email: uniqueEmail('post-f'), role: 'owner' }));
    const readKey = await createKey(server, t.owner.auth, { scopes: ['read'] });
    expectForbidden(await createUser({ 'X-API-Key': readKey.key }, { email: uniqueEmail('post-f') }));
    const adminKey = await createKey(server, t.owner.auth, { scopes: ['admin'] });
    const res = await createUser({ 'X-API-Key': adminKey.key }, { email: uniqueEmail('post-key') });
    assert.equal(expectSuccess(res, 201).role, 'member', 'a key with the admin scope of an owner may add users');
    const users = await list(server, '/v1/users', { 'X-API-Key': readKey.key });
    assert.ok(users.data.length >= 4, 'a read key lists its tenant\'s users');
  });
});

// ---------------------------------------------------------------------------------------

describe('PUT/PATCH /v1/users/{id}', () => {
  let t;
  before(async () => { t = await team('put'); });

  test('a user changes their own name (PUT and PATCH update only the fields sent)', async () => {
    let res = await putUser(as(t.mem, t.tid), t.mem.user.id, { name: 'Self Named' });
    let u = expectSuccess(res, 200);
    assert.equal(u.name, 'Self Named');
    assert.equal(u.email, t.mem.email);
    assert.equal(u.role, 'member');
    res = await putUser(as(t.vie, t.tid), t.vie.user.id, { name: 'Viewer Named' }, 'PATCH');
    u = expectSuccess(res, 200);
    assert.equal(u.name, 'Viewer Named');
    assert.equal(u.role, 'viewer');
  });

  test('name of someone else: 403 even for the owner; 200 for a platform admin', async () => {
    expectForbidden(await putUser(t.owner.auth, t.mem.user.id, { name: 'By owner' }));
    expectForbidden(await putUser(as(t.vie, t.tid), t.mem.user.id, { name: 'By viewer' }));
    const res = await putUser(as(admin, t.tid), t.mem.user.id, { name: 'By platform admin' });
    assert.equal(expectSuccess(res, 200).name, 'By platform admin');
  });

  test('role: admin+ changes it; a member cannot (not even their own); owner rules hold', async () => {
    let res = await putUser(as(t.adm, t.tid), t.vie.user.id, { role: 'member' });
    assert.equal(expectSuccess(res, 200).role, 'member');
    res = await putUser(t.owner.auth, t.vie.user.id, { role: 'viewer' }, 'PATCH');
    assert.equal(expectSuccess(res, 200).role, 'viewer');
    expectForbidden(await putUser(as(t.mem, t.tid), t.mem.user.id, { role: 'admin' }));
    expectForbidden(await putUser(as(t.mem, t.tid), t.vie.user.id, { role: 'member' }));
    expectForbidden(await putUser(as(t.adm, t.tid), t.owner.user.id, { role: 'member' }));
    expectForbidden(await putUser(as(t.adm, t.tid), t.mem.user.id, { role: 'owner' }));
    expectConflict(await putUser(t.owner.auth, t.owner.user.id, { role: 'admin' }));
    expectValidation(await putUser(t.owner.auth, t.mem.user.id, { role: 'nobody' }), 'role');
  });

  test('is_active and email: platform admins only (403 to the tenant owner, also for oneself)', async () => {
    expectForbidden(await putUser(t.owner.auth, t.mem.user.id, { is_active: false }));
    expectForbidden(await putUser(t.owner.auth, t.mem.user.id, { email: uniqueEmail('put-e') }));
    expectForbidden(await putUser(as(t.mem, t.tid), t.mem.user.id, { email: uniqueEmail('put-e') }));
    expectForbidden(await putUser(as(t.mem, t.tid), t.mem.user.id, { name: 'ok', is_active: false }));
    const after_ = expectSuccess(await server.get(`/v1/users/${t.mem.user.id}`, { headers: t.owner.auth }), 200);
    assert.equal(after_.is_active, true);
    assert.equal(after_.email, t.mem.email);
  });

  test('a platform admin changes the email (login with the new one; 409 when taken; 422 when invalid)', async () => {
    const u = await newUser(server, 'put-mail');
    await addMember(server, t.owner.auth, t.tid, u.email, 'member');
    const fresh = uniqueEmail('put-mail-new');
    const res = await putUser(as(admin, t.tid), u.user.id, { email: fresh });
    assert.equal(expectSuccess(res, 200).email, fresh);
    assert.equal((await login(server, fresh)).user.id, u.user.id);
    expectConflict(await putUser(as(admin, t.tid), u.user.id, { email: t.owner.email }));
    expectValidation(await putUser(as(admin, t.tid), u.user.id, { email: 'not-an-email' }), 'email');
  });

  test('deactivation by a platform admin takes effect at once (403 "Inactive user"), and reactivation', async () => {
    const u = await newUser(server, 'put-inact');
    await addMember(server, t.owner.auth, t.tid, u.email, 'member');
    assert.equal((await server.get('/v1/users', { headers: as(u, t.tid) })).status, 200);
    let res = await putUser(as(admin, t.tid), u.user.id, { is_active: false });
    assert.equal(expectSuccess(res, 200).is_active, false);
    let err = expectForbidden(await server.get('/v1/users', { headers: as(u, t.tid) }));
    assert.equal(err.message, 'Inactive user');
    err = expectForbidden(await server.get('/v1/auth/me', { headers: u.auth }));
    assert.equal(err.message, 'Inactive user');
    err = expectForbidden(await server.post('/v1/auth/login', { json: { email: u.email, password: PASSWORD } }));
    assert.equal(err.message, 'Inactive user');
    // Refresh answers as login and /me do (issue #20: it said 401 "Invalid refresh token").
    err = expectForbidden(await server.post('/v1/auth/refresh', { json: { refresh_token: u.tokens.refresh_token } }));
    assert.equal(err.message, 'Inactive user');
    res = await putUser(as(admin, t.tid), u.user.id, { is_active: true }, 'PATCH');
    assert.equal(expectSuccess(res, 200).is_active, true);
    assert.equal((await login(server, u.email)).user.id, u.user.id);
    // The refused refresh retired nothing: the session refreshes again.
    expectSuccess(await server.post('/v1/auth/refresh', { json: { refresh_token: u.tokens.refresh_token } }), 200);
  });

  test('not in the tenant → 404; bad values → 422', async () => {
    const outsider = await newUser(server, 'put-out');
    expectNotFound(await putUser(t.owner.auth, outsider.user.id, { role: 'member' }));
    expectNotFound(await putUser(t.owner.auth, RANDOM_ID, { role: 'member' }));
    expectValidation(await putUser(as(t.mem, t.tid), t.mem.user.id, { name: 42 }), 'name');
  });
});

// ---------------------------------------------------------------------------------------

describe('DELETE /v1/users/{id}', () => {
  test('admin+ removes the membership (the account stays); member → 403; owner rules hold', async () => {
    const t = await team('del');
    expectForbidden(await server.request('DELETE', `/v1/users/${t.vie.user.id}`, { headers: as(t.mem, t.tid) }));
    expectForbidden(await server.request('DELETE', `/v1/users/${t.owner.user.id}`, { headers: as(t.adm, t.tid) }));
    expectConflict(await server.request('DELETE', `/v1/users/${t.owner.user.id}`, { headers: t.owner.auth }));
    let res = await server.request('DELETE', `/v1/users/${t.vie.user.id}`, { headers: as(t.adm, t.tid) });
    assert.equal(res.status, 204, describeRes(res));
    assert.equal(res.body, '');
    expectNotFound(await server.get(`/v1/users/${t.vie.user.id}`, { headers: t.owner.auth }));
    expectNotFound(await server.get('/v1/users', { headers: as(t.vie, t.tid) }));
    const l = await login(server, t.vie.email);
    assert.ok(!l.tenants.some((x) => x.id === t.tid));
    expectNotFound(await server.request('DELETE', `/v1/users/${t.vie.user.id}`, { headers: t.owner.auth }));
    res = await server.request('DELETE', `/v1/users/${RANDOM_ID}`, { headers: t.owner.auth });
    expectNotFound(res);
  });

  test('?purge=true: 403 to a tenant owner; a platform admin deletes the account (login → 401)', async () => {
    const t = await team('purge');
    expectForbidden(await server.request('DELETE', `/v1/users/${t.mem.user.id}?purge=true`, { headers: t.owner.auth }));
    assert.equal((await login(server, t.mem.email)).user.id, t.mem.user.id, 'still there');
    const res = await server.request('DELETE', `/v1/users/${t.mem.user.id}?purge=true`, { headers: as(admin, t.tid) });
    assert.equal(res.status, 204, describeRes(res));
    expectUnauthorized(await server.post('/v1/auth/login', { json: { email: t.mem.email, password: PASSWORD } }));
    expectNotFound(await server.get(`/v1/users/${t.mem.user.id}`, { headers: t.owner.auth }));
    const { data } = await list(server, `/v1/tenants/${t.tid}/members`, t.owner.auth);
    assert.ok(!data.some((m) => m.user_id === t.mem.user.id));
    // Their token is dead too.
    const r = await server.get('/v1/auth/me', { headers: t.mem.auth });
    assert.ok(r.status === 401 || r.status === 403, `a purged user's token: ${describeRes(r)}`);
  });

  test('purge refuses oneself and the last owner of a tenant with other members (409)', async () => {
    const t = await team('purge409');
    expectConflict(await server.request('DELETE', `/v1/users/${t.owner.user.id}?purge=true`, { headers: as(admin, t.tid) }));
    assert.equal((await login(server, t.owner.email)).user.id, t.owner.user.id);
    const own = await createTenant(server, admin.auth, { name: 'Admin own tenant' });
    expectConflict(await server.request('DELETE', `/v1/users/${admin.user.id}?purge=true`, { headers: as(admin, own.id) }));
  });
});
