// The Nile dialect (docs/api.md §11, seed 000_3a478b64d6b51130.txt, issue #22): sign-up and
// login answer {id, tenants, token: {jwt, maxAge, type}}, the JWT is our access token (JWKS),
// users/me, the caller's tenants and their users; errors as {errorCode, message, statusCode}.
// The seed's own curl commands run as written.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as jose from 'jose';
import { RFC3339_MS_Z, UUID, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, PASSWORD, bearer, uniqueEmail } from './auth_helpers.mjs';
import { adminLogin, as, createKey, describeRes, expectSuccess, newUser } from './tenancy_helpers.mjs';
import { expectNileError } from './compat_helpers.mjs';

const run = promisify(execFile);
const W = '/workspaces/acme/databases/main';
const USER_KEYS = ['created', 'email', 'emailVerified', 'id', 'name', 'tenants', 'updated'];

function expectNileUser(u, { email, tenants } = {}) {
  for (const k of USER_KEYS) assert.ok(k in u, `user.${k}`);
  assert.match(u.id, UUID);
  if (email) assert.equal(u.email, email);
  assert.equal(typeof u.emailVerified, 'boolean');
  assert.match(u.created, RFC3339_MS_Z);
  if (tenants) assert.deepEqual(u.tenants, tenants);
}

function expectToken(token) {
  assert.deepEqual(Object.keys(token).sort(), ['jwt', 'maxAge', 'type']);
  assert.equal(token.type, 'ACCESS_TOKEN');
  assert.equal(token.maxAge, 900);
  assert.equal(token.jwt.split('.').length, 3);
}

async function signUp(server, email = uniqueEmail('nile'), extra = {}) {
  const res = await server.post(`${W}/users`, { json: { email, password: PASSWORD, ...extra } });
  assert.equal(res.status, 201, describeRes(res));
  return { ...res.json, email, auth: bearer(res.json.token.jwt) };
}

describe('the Nile dialect', () => {
  let server;
  before(async () => { server = await startServer({ env: NO_THROTTLE_ENV }); });
  after(async () => { await server?.stop(); });

  describe('users', () => {
    test('sign-up answers 201 with the user, its personal tenant and a token', async () => {
      const email = uniqueEmail('nile-up');
      const res = await server.post(`${W}/users`, { json: { email, password: PASSWORD, name: 'Nile User' } });
      assert.equal(res.status, 201, describeRes(res));
      expectNileUser(res.json, { email });
      assert.equal(res.json.name, 'Nile User');
      assert.equal(res.json.tenants.length, 1);
      expectToken(res.json.token);
      expectNileError(await server.post(`${W}/users`, { json: { email, password: PASSWORD } }), 409, 'conflict');
      expectNileError(await server.post(`${W}/users`, { json: { email: uniqueEmail(), password: 'short' } }), 422, 'validation_error');
      expectNileError(await server.post(`${W}/users`, { headers: { 'Content-Type': 'application/json' }, body: '{' }), 400, 'bad_request');
    });

    test('login answers {id, tenants, token: {jwt, maxAge, type}} as the seed shows', async () => {
      const u = await signUp(server);
      const res = await server.post(`${W}/users/login`, { json: { email: u.email, password: PASSWORD } });
      assert.equal(res.status, 200, describeRes(res));
      assert.deepEqual(Object.keys(res.json).sort(), ['id', 'tenants', 'token']);
      assert.equal(res.json.id, u.id);
      assert.deepEqual(res.json.tenants, u.tenants);
      expectToken(res.json.token);
      expectNileError(await server.post(`${W}/users/login`, { json: { email: u.email, password: 'wrong-password' } }),
        401, 'unauthorized');
      expectNileError(await server.post(`${W}/users/login`, { json: { email: u.email } }), 422);
      expectNileError(await server.post(`${W}/users/login`, { headers: { 'Content-Type': 'application/json' }, body: 'x' }), 400);
    });

    test('the JWT verifies with the JWKS and carries the seed\'s claims (email, name, scope)', async () => {
      const u = await signUp(server, uniqueEmail('nile-jwt'), { name: 'Claimed' });
      const jwks = jose.createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jose.jwtVerify(u.token.jwt, jwks,
        { issuer: 'tenantbase', audience: 'tenantbase', algorithms: ['RS256'] });
      assert.ok(protectedHeader.kid);
      assert.equal(payload.sub, u.id);
      assert.equal(payload.email, u.email);
      assert.equal(payload.name, 'Claimed');
      assert.equal(typeof payload.scope, 'string');
      assert.equal(payload.exp - payload.iat, u.token.maxAge);
      // The same token on /v1.
      const me = expectSuccess(await server.get('/v1/auth/me', { headers: u.auth }), 200);
      assert.equal(me.user.id, u.id);
    });

    test('users/me answers the user with its tenant ids; 401 without a token', async () => {
      const u = await signUp(server);
      const res = await server.get(`${W}/users/me`, { headers: u.auth });
      assert.equal(res.status, 200, describeRes(res));
      expectNileUser(res.json, { email: u.email, tenants: u.tenants });
      expectNileError(await server.get(`${W}/users/me`), 401, 'unauthorized');
    });

    test('the seed\'s curl commands, as written, against this server', async () => {
      const email = uniqueEmail('nile-curl');
      await signUp(server, email);
      const base = `${server.url}/workspaces/any/databases/thing`;
      const login = await run('curl', ['-s', `${base}/users/login`, '--header', 'Content-Type: application/json',
        '--data-raw', `{\n"email": "${email}",\n"password": "${PASSWORD}"\n}`]);
      const body = JSON.parse(login.stdout);
      expectToken(body.token);
      const me = await run('curl', ['-s', `${base}/users/me`, '--header', `Authorization: Bearer ${body.token.jwt}`]);
      assert.equal(JSON.parse(me.stdout).email, email);
    });
  });

  describe('tenants', () => {
    let owner; let member; let outsider; let tid;
    before(async () => {
      owner = await signUp(server);
      member = await signUp(server);
      outsider = await signUp(server);
      const t = await server.post(`${W}/tenants`, { headers: owner.auth, json: { name: 'Acme' } });
      assert.equal(t.status, 201, describeRes(t));
      assert.deepEqual(Object.keys(t.json).sort(), ['id', 'name']);
      assert.equal(t.json.name, 'Acme');
      tid = t.json.id;
    });

    test('GET tenants lists the caller\'s tenants; GET tenants/{id} one of them', async () => {
      const res = await server.get(`${W}/tenants`, { headers: owner.auth });
      assert.equal(res.status, 200, describeRes(res));
      assert.deepEqual(res.json.map((t) => t.id), [...owner.tenants, tid]);
      const one = await server.get(`${W}/tenants/${tid}`, { headers: owner.auth });
      assert.deepEqual(one.json, { id: tid, name: 'Acme' });
      expectNileError(await server.get(`${W}/tenants`), 401);
      expectNileError(await server.get(`${W}/tenants/${tid}`), 401);
    });

    test('another tenant is 404 exactly like a missing one (on every route)', async () => {
      const missing = '018b6216-27a1-7e2b-aa83-67d7ba500982';
      for (const id of [tid, missing]) {
        expectNileError(await server.get(`${W}/tenants/${id}`, { headers: outsider.auth }), 404, 'not_found');
        expectNileError(await server.get(`${W}/tenants/${id}/users`, { headers: outsider.auth }), 404);
        expectNileError(await server.post(`${W}/tenants/${id}/users`, { headers: outsider.auth, json: { email: outsider.email } }), 404);
        expectNileError(await server.request('DELETE', `${W}/tenants/${id}/users/${owner.id}`, { headers: outsider.auth }), 404);
      }
      const list = await server.get(`${W}/tenants`, { headers: outsider.auth });
      assert.ok(!list.json.some((t) => t.id === tid));
    });

    test('users of a tenant: add (201 a member, 202 an invitation), list, remove', async () => {
      const added = await server.post(`${W}/tenants/${tid}/users`, { headers: owner.auth, json: { email: member.email } });
      assert.equal(added.status, 201, describeRes(added));
      expectNileUser(added.json, { email: member.email, tenants: [tid] });
      const invited = await server.post(`${W}/tenants/${tid}/users`,
        { headers: owner.auth, json: { email: uniqueEmail('nile-inv'), role: 'viewer' } });
      assert.equal(invited.status, 202, describeRes(invited));
      assert.equal(invited.json.invitation.role, 'viewer');
      const users = await server.get(`${W}/tenants/${tid}/users`, { headers: member.auth });
      assert.equal(users.status, 200, describeRes(users));
      assert.deepEqual(users.json.map((u) => u.email).sort(), [owner.email, member.email].sort());
      // A member's other tenants are not shown to the tenant.
      for (const u of users.json) assert.deepEqual(u.tenants, [tid]);
      // A member may not manage the tenant's users.
      expectNileError(await server.post(`${W}/tenants/${tid}/users`, { headers: member.auth, json: { email: outsider.email } }),
        403, 'forbidden');
      expectNileError(await server.request('DELETE', `${W}/tenants/${tid}/users/${owner.id}`, { headers: member.auth }), 403);
      // Audited as access.denied in the tenant the path names, as on /v1.
      let denied = [];
      for (let i = 0; i < 40 && !denied.some((e) => e.actor === member.id); i++) {
        await sleep(100);
        denied = expectSuccess(await server.get('/v1/audit-logs?action=access.denied&per_page=100',
          { headers: as(owner, tid) }), 200);
      }
      const e = denied.find((x) => x.actor === member.id);
      assert.ok(e, `no access.denied in ${JSON.stringify(denied)}`);
      assert.match(e.details.route, /^(POST|DELETE) \/workspaces\/\{workspace\}\/databases\/\{database\}\/tenants\/\{id\}\/users/);
      expectNileError(await server.post(`${W}/tenants/${tid}/users`, { headers: owner.auth, json: { email: 'x', role: 'emperor' } }), 422);
      expectNileError(await server.post(`${W}/tenants/${tid}/users`, { json: { email: outsider.email } }), 401);
      expectNileError(await server.get(`${W}/tenants/${tid}/users`), 401);
      expectNileError(await server.request('DELETE', `${W}/tenants/${tid}/users/${member.id}`), 401);
      const removed = await server.request('DELETE', `${W}/tenants/${tid}/users/${member.id}`, { headers: owner.auth });
      assert.equal(removed.status, 204, describeRes(removed));
      expectNileError(await server.get(`${W}/tenants/${tid}`, { headers: member.auth }), 404);
    });

    test('creating a tenant: a name is required, and API keys may not', async () => {
      expectNileError(await server.post(`${W}/tenants`, { headers: owner.auth, json: {} }), 422);
      expectNileError(await server.post(`${W}/tenants`, { json: { name: 'x' } }), 401);
      const k = await createKey(server, as(owner, tid), { name: 'nile key' });
      expectNileError(await server.post(`${W}/tenants`, { headers: { 'X-API-Key': k.key }, json: { name: 'Keyed' } }), 403);
      const list = await server.get(`${W}/tenants`, { headers: { 'X-API-Key': k.key } });
      assert.deepEqual(list.json, [{ id: tid, name: 'Acme' }], 'a key sees its own tenant only');
    });

    test('the same tenants and members through /v1', async () => {
      const v1 = expectSuccess(await server.get(`/v1/tenants/${tid}/members`, { headers: owner.auth }), 200);
      assert.ok(v1.some((m) => m.user_id === owner.id && m.role === 'owner'));
      const v1user = await newUser(server, 'nile-v1');
      const res = await server.post(`${W}/users/login`, { json: { email: v1user.email, password: PASSWORD } });
      assert.deepEqual(res.json.tenants, [v1user.tid]);
    });

    test('router errors under /workspaces are Nile\'s too', async () => {
      expectNileError(await server.get(`${W}/nothing`), 404, 'not_found');
      expectNileError(await server.request('PUT', `${W}/tenants`, { headers: owner.auth, json: {} }), 405, 'method_not_allowed');
    });
  });

  test('tenant actions are audited in the tenant, as on /v1', async () => {
    const admin = await adminLogin(server);
    const o = await signUp(server);
    const t = await server.post(`${W}/tenants`, { headers: o.auth, json: { name: 'Audited' } });
    const events = expectSuccess(await server.get('/v1/audit-logs?per_page=100', { headers: as(admin, t.json.id) }), 200);
    assert.ok(events.some((e) => e.action === 'tenant.created' && e.target === t.json.id));
  });
});

describe('the Nile dialect with compat.nile.workspace and compat.nile.database set', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_COMPAT_NILE_WORKSPACE: 'acme', TB_COMPAT_NILE_DATABASE: 'main' } });
  });
  after(async () => { await server?.stop(); });

  test('only those names answer; others are 404', async () => {
    const email = uniqueEmail('nile-ws');
    const up = await server.post(`${W}/users`, { json: { email, password: PASSWORD } });
    assert.equal(up.status, 201, describeRes(up));
    for (const base of ['/workspaces/other/databases/main', '/workspaces/acme/databases/other']) {
      expectNileError(await server.post(`${base}/users/login`, { json: { email, password: PASSWORD } }), 404, 'not_found');
    }
    assert.equal((await server.post(`${W}/users/login`, { json: { email, password: PASSWORD } })).status, 200);
  });
});
