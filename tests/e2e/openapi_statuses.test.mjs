// The statuses every operation of the OpenAPI document promises for malformed or refused
// requests, produced on every operation that lists them (issue #20: the document promised
// statuses that no test had produced, some that nothing could). The producers are generic:
//   400: a malformed JSON body, or a list's per_page out of range;
//   404: an X-Tenant-ID naming a tenant the caller is not in;
//   401: a Bearer token that is not one;
//   413: a body over the server's limit (4 KiB here);
//   415: a body declared text/plain on a JSON operation;
//   429: the budget of the caller (user or client IP) used up, on a server with small budgets.
// Every response is also checked against the document by the harness. What no generic
// request produces comes from the resource suites and from the recipes at the end; the
// suite-wide check (openapi_coverage.mjs, run by tests/run-e2e) holds them together.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV } from './tenancy_helpers.mjs';
import { operations, routeFixtures } from './route_fixtures.mjs';
import { fileBox, mailTo, tokenFrom } from './mail_helpers.mjs';

const BODY_LIMIT = 4096;
const isPublic = (op) => Array.isArray(op.security) && op.security.length === 0;
const jsonBody = (op) => Boolean(op.requestBody?.content?.['application/json']);

let server;
let limited; // small budgets: 429
let ops;
let fx;
let fxLimited;
before(async () => {
  [server, limited] = await Promise.all([
    startServer({ env: { ...NO_THROTTLE_ENV, TB_SERVER_MAX_BODY_BYTES: String(BODY_LIMIT) } }),
    startServer({ env: { ...NO_THROTTLE_ENV, TB_LIMITS_USER_PER_HOUR: '300', TB_LIMITS_ANONYMOUS_PER_HOUR: '300' } }),
  ]);
  [fx, fxLimited] = await Promise.all([routeFixtures(server, 'statuses'), routeFixtures(limited, 'limited')]);
  ops = await operations(server);
});
after(async () => { await Promise.all([server?.stop(), limited?.stop()]); });

/** Sends `init` to every operation documenting `status`; returns the ones answered otherwise. */
async function produce(srv, fixtures, status, init) {
  const wrong = [];
  let tried = 0;
  for (const { method, template, op } of ops) {
    if (!(String(status) in (op.responses || {}))) continue;
    const req = init({ method, template, op, path: fixtures.concrete(template), fixtures });
    if (!req) continue;
    tried += 1;
    const res = await srv.request(method, req.path, { headers: req.headers, body: req.body });
    if (res.status !== status) wrong.push(`${method} ${template}: ${res.status} ${res.body.slice(0, 100)}`);
  }
  assert.ok(tried > 0, `some operation documents ${status}`);
  return wrong;
}

const credentials = (op, fixtures) => (isPublic(op) ? {} : { ...fixtures.owner });

describe('generic statuses on every operation that documents them', () => {
  test('400: a malformed JSON body, or per_page out of range on a list', async () => {
    const isList = (op) => (op.parameters || []).some((p) => /PerPage$/.test(p.$ref || ''));
    const wrong = await produce(server, fx, 400, ({ op, path }) => {
      if (jsonBody(op)) {
        return { path, headers: { ...credentials(op, fx), 'Content-Type': 'application/json' }, body: '{"bad' };
      }
      if (isList(op)) return { path: `${path}?per_page=0`, headers: credentials(op, fx) };
      return null; // its own 400 comes from its suite
    });
    assert.deepEqual(wrong, []);
  });

  test('404: X-Tenant-ID naming a tenant the caller is not in', async () => {
    const wrong = await produce(server, fx, 404, ({ op, path, method }) => {
      if (isPublic(op)) return null;
      return {
        path,
        headers: { ...fx.owner, 'X-Tenant-ID': '018b6216-27a1-7e2b-aa83-67d7ba500982',
          ...(method === 'GET' || method === 'DELETE' ? {} : { 'Content-Type': 'application/json' }) },
        body: method === 'GET' || method === 'DELETE' ? undefined : '{}',
      };
    });
    // Routes whose tenant is in the path, or that act on no tenant, answer otherwise.
    const inPath = wrong.filter((w) => !/^\S+ \/v1\/(tenants\/\{id\}|auth\/)/.test(w));
    assert.deepEqual(inPath, []);
  });

  test('401: a Bearer token that is not one (or, where credentials travel in the body, bad ones)', async () => {
    const inBody = {
      'POST /v1/auth/login': { email: 'nobody@example.com', password: 'not the password' },
      'POST /v1/auth/refresh': { refresh_token: 'not-a-refresh-token' },
    };
    const wrong = await produce(server, fx, 401, ({ op, path, method, template }) => ({
      path,
      headers: { Authorization: 'Bearer not-a-token', ...(jsonBody(op) ? { 'Content-Type': 'application/json' } : {}) },
      body: method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(inBody[`${method} ${template}`] ?? {}),
    }));
    assert.deepEqual(wrong, []);
  });

  test('413: a body over the limit', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT * 2) });
    // A streamed upload has no server body limit: its 413 (the plan's per-file size) comes
    // from the files suite.
    const streamed = (op) => op.requestBody && !jsonBody(op);
    const wrong = await produce(server, fx, 413, ({ op, path }) => (streamed(op) ? null : {
      path, headers: { ...credentials(op, fx), 'Content-Type': 'application/json' }, body: big,
    }));
    assert.deepEqual(wrong, []);
  });

  test('415: a body that is not declared JSON', async () => {
    const wrong = await produce(server, fx, 415, ({ op, path }) => ({
      path, headers: { ...credentials(op, fx), 'Content-Type': 'text/plain' }, body: '{}',
    }));
    assert.deepEqual(wrong, []);
  });

  test('429: the caller\'s budget used up (a user\'s, or an anonymous client IP\'s)', async () => {
    for (const headers of [fxLimited.owner, {}]) {
      let res;
      for (let i = 0; i < 400; i++) {
        res = await limited.request('GET', Object.keys(headers).length ? '/v1/auth/me' : '/v1/plans', { headers });
        if (res.status === 429) break;
      }
      assert.equal(res.status, 429, 'the budget runs out');
    }
    const wrong = await produce(limited, fxLimited, 429, ({ op, path, method }) => ({
      path,
      headers: { ...credentials(op, fxLimited), ...(method === 'GET' || method === 'DELETE' ? {} : { 'Content-Type': 'application/json' }) },
      body: method === 'GET' || method === 'DELETE' ? undefined : '{}',
    }));
    assert.deepEqual(wrong, []);
  });
});

// What no generic request produces: one recipe per (operation, status), each a request the
// contract says must answer so.
describe('specific statuses', () => {
  const owner = () => fx.owner;
  const other = '018b6216-27a1-7e2b-aa83-67d7ba500982';

  test('PUT and PATCH of fixed resources answer alike (200, 404, 409, 422)', async () => {
    const { team, ids } = fx;
    const slug = async (path, json) => server.request('PATCH', path, { headers: owner(), json });
    // Members: PUT is PATCH (API.md §13 "PUT").
    const member = `/v1/tenants/${team.tid}/members/${team.mem.user.id}`;
    assert.equal((await server.request('PUT', member, { headers: owner(), json: { role: 'member' } })).status, 200);
    assert.equal((await server.request('PUT', `/v1/tenants/${team.tid}/members/${other}`,
      { headers: owner(), json: { role: 'member' } })).status, 404);
    assert.equal((await server.request('PUT', `/v1/tenants/${team.tid}/members/${team.owner.user.id}`,
      { headers: owner(), json: { role: 'admin' } })).status, 409, 'the last owner');
    // API keys, organizations, tenants, users: 409 and 422 through PATCH too.
    assert.equal((await slug(`/v1/api-keys/${ids.key}`, { name: 5 })).status, 422);
    const org2 = expectSuccessStatus(await server.post('/v1/organizations', { headers: owner(), json: { name: 'Second org' } }), 201);
    assert.equal((await slug(`/v1/organizations/${ids.org}`, { slug: org2.slug })).status, 409);
    assert.equal((await slug(`/v1/organizations/${ids.org}`, { name: 5 })).status, 422);
    const t2 = expectSuccessStatus(await server.post('/v1/tenants', { headers: team.owner.auth, json: { name: 'Second tenant' } }), 201);
    assert.equal((await server.request('PATCH', `/v1/tenants/${team.tid}`,
      { headers: team.owner.auth, json: { slug: t2.slug } })).status, 409);
    const admin = (await server.post('/v1/auth/login', { json: { email: 'admin@e2e.test', password: 'E2e-admin-Passw0rd!' } })).json.data;
    const asAdmin = { Authorization: `Bearer ${admin.tokens.access_token}`, 'X-Tenant-ID': team.tid };
    assert.equal((await server.request('PATCH', `/v1/users/${team.mem.user.id}`,
      { headers: asAdmin, json: { email: team.adm.email } })).status, 409);
    assert.equal((await server.request('PATCH', `/v1/users/${team.mem.user.id}`,
      { headers: asAdmin, json: { role: 'overlord' } })).status, 422);
  });

  test('400 of operations with parameters or bodies of their own', async () => {
    const admin = (await server.post('/v1/auth/login', { json: { email: 'admin@e2e.test', password: 'E2e-admin-Passw0rd!' } })).json.data;
    const asAdmin = { Authorization: `Bearer ${admin.tokens.access_token}` };
    assert.equal((await server.get(`/v1/tenants/${fx.team.tid}/usage?granularity=minute`, { headers: asAdmin })).status, 400);
    assert.equal((await server.request('DELETE', `/v1/users/${fx.team.vie.user.id}?purge=maybe`, { headers: owner() })).status, 400);
    const verify = await server.post('/v1/auth/verify-email/request',
      { headers: { ...fx.team.mem.auth, 'Content-Type': 'application/json' }, body: '{"bad' });
    assert.equal(verify.status, 400);
  });

  test('PUT /v1/collections/{name}: a unique index over duplicates -> 409', async () => {
    await server.post('/v1/collections/dupes/documents', { headers: owner(), json: [{ k: 1 }, { k: 1 }] });
    const res = await server.request('PUT', '/v1/collections/dupes',
      { headers: owner(), json: { indexes: [{ fields: ['k'], unique: true }] } });
    assert.equal(res.status, 409, res.body);
  });

  test('PUT of a document past the storage quota -> 402', async () => {
    const small = await startServer({ env: { ...NO_THROTTLE_ENV, TB_PLANS_FREE_MAX_STORAGE_BYTES: '4000' } });
    try {
      const f = await routeFixtures(small, 'quota');
      const res = await small.request('PUT', `/v1/collections/scoped/documents/${f.ids.doc}`,
        { headers: f.owner, json: { text: 'x'.repeat(5000) } });
      assert.equal(res.status, 402, res.body);
    } finally {
      await small.stop();
    }
  });

  test('POST /v1/invitations/accept for an account deactivated since the invitation -> 403', async () => {
    const email = `invited-${process.pid}@example.com`;
    const invite = await server.post(`/v1/tenants/${fx.team.tid}/members`, { headers: fx.team.owner.auth, json: { email, role: 'member' } });
    assert.equal(invite.status, 202, invite.body);
    const box = fileBox(server);
    const [mail] = await box.waitForMails(mailTo(email), 1);
    const token = tokenFrom(mail.text, 'accept-invitation');
    const joined = await server.post('/v1/auth/register', { json: { email, password: 'correct horse battery staple' } });
    assert.equal(joined.status, 201);
    const admin = (await server.post('/v1/auth/login', { json: { email: 'admin@e2e.test', password: 'E2e-admin-Passw0rd!' } })).json.data;
    const off = await server.request('PATCH', `/v1/users/${joined.json.data.user.id}`, {
      headers: { Authorization: `Bearer ${admin.tokens.access_token}`, 'X-Tenant-ID': joined.json.data.tenants[0].id },
      json: { is_active: false },
    });
    assert.equal(off.status, 200, off.body);
    const res = await server.post('/v1/invitations/accept', { json: { token } });
    assert.equal(res.status, 403, res.body);
  });
});

function expectSuccessStatus(res, status) {
  assert.equal(res.status, status, res.body);
  return res.json.data;
}
