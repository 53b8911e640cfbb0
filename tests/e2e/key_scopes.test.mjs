// Every route × every API key scope (issue #20: a write-only key could list tenants while
// every other read with it answered 403). The table below is the contract of API.md §4 and
// §13 "API key scopes": `read` for reads of the tenant's data, `write` for document writes,
// `admin` for management (it covers read and write too); some routes take no key at all
// (a signed-in user only), others need no credentials. A route of the OpenAPI document
// missing from the table fails the test, so a new route has to say what a key needs.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, createKey } from './tenancy_helpers.mjs';
import { operations, routeFixtures } from './route_fixtures.mjs';

// What a key needs, by "METHOD path template".
//   public: no credentials needed; a key changes nothing (never 401 or 403).
//   session: a signed-in user only; every key gets 403.
//   any: any key will do (it authenticates as its owner).
//   read | write | admin: the scope needed (admin covers the other two).
const NEEDS = {
  'GET /v1/health': 'public', 'GET /healthz': 'public', 'GET /readyz': 'public', 'GET /metrics': 'session',
  'GET /.well-known/jwks.json': 'public', 'GET /v1/openapi.json': 'public', 'GET /docs': 'public',
  'GET /compat/openapi.json': 'public',
  'GET /v1/openapi-3.0.json': 'public',
  // The event stream needs no credentials (EventSource sends none): what it carries is set by
  // the subscription call (realtime.test.mjs). Called here it would stay open: not walked.
  'GET /v1/realtime': null, 'POST /v1/realtime/{client_id}/subscriptions': 'read',
  'POST /v1/auth/register': 'public', 'POST /v1/auth/login': 'public', 'POST /v1/auth/refresh': 'public',
  'POST /v1/auth/password-reset/request': 'public', 'POST /v1/auth/password-reset/confirm': 'public',
  'POST /v1/auth/verify-email/confirm': 'public', 'POST /v1/invitations/accept': 'public', 'GET /v1/plans': 'public',
  'POST /v1/auth/logout': 'session', 'PATCH /v1/auth/me': 'session', 'POST /v1/auth/password': 'session',
  'POST /v1/auth/verify-email/request': 'session', 'POST /v1/tenants': 'session', 'DELETE /v1/tenants/{id}': 'session',
  'GET /v1/tenants/{id}/usage': 'session',
  'GET /v1/auth/me': 'any',
  'GET /v1/collections': 'read', 'GET /v1/collections/{name}': 'read', 'GET /v1/meta': 'read',
  'GET /v1/collections/{name}/documents': 'read', 'GET /v1/collections/{name}/documents/{id}': 'read',
  'GET /v1/usage': 'read', 'GET /v1/tenants': 'read', 'GET /v1/tenants/{id}': 'read',
  'GET /v1/tenants/{id}/members': 'read', 'GET /v1/users': 'read', 'GET /v1/users/{id}': 'read',
  'GET /v1/organizations': 'read', 'GET /v1/organizations/{id}': 'read', 'GET /v1/organizations/{id}/members': 'read',
  'POST /v1/collections/{name}/documents': 'write', 'POST /v1/collections/{name}/documents:delete': 'write',
  'PUT /v1/collections/{name}/documents/{id}': 'write', 'PATCH /v1/collections/{name}/documents/{id}': 'write',
  'DELETE /v1/collections/{name}/documents/{id}': 'write',
  'POST /v1/collections': 'admin', 'PUT /v1/collections/{name}': 'admin', 'PATCH /v1/collections/{name}': 'admin',
  'DELETE /v1/collections/{name}': 'admin',
  'POST /v1/mail': 'admin', 'GET /v1/mail/{id}': 'admin', 'GET /v1/audit-logs': 'admin', 'GET /v1/billing': 'admin',
  'GET /v1/api-keys': 'admin', 'POST /v1/api-keys': 'admin', 'GET /v1/api-keys/{id}': 'admin',
  'PUT /v1/api-keys/{id}': 'admin', 'PATCH /v1/api-keys/{id}': 'admin', 'DELETE /v1/api-keys/{id}': 'admin',
  'POST /v1/api-keys/{id}/rotate': 'admin',
  'PUT /v1/tenants/{id}': 'admin', 'PATCH /v1/tenants/{id}': 'admin',
  'POST /v1/tenants/{id}/members': 'admin', 'PUT /v1/tenants/{id}/members/{user_id}': 'admin',
  'PATCH /v1/tenants/{id}/members/{user_id}': 'admin', 'DELETE /v1/tenants/{id}/members/{user_id}': 'admin',
  'POST /v1/users': 'admin', 'PUT /v1/users/{id}': 'admin', 'PATCH /v1/users/{id}': 'admin', 'DELETE /v1/users/{id}': 'admin',
  'POST /v1/organizations': 'admin', 'PUT /v1/organizations/{id}': 'admin', 'PATCH /v1/organizations/{id}': 'admin',
  'GET /v1/files': 'read', 'GET /v1/files/{id}': 'read', 'GET /v1/files/{id}/content': 'read',
  'POST /v1/files/{id}/link': 'read', 'POST /v1/files': 'write', 'DELETE /v1/files/{id}': 'write',
  'DELETE /v1/organizations/{id}': 'admin', 'POST /v1/organizations/{id}/members': 'admin',
  'DELETE /v1/organizations/{id}/members/{user_id}': 'admin',
};

const SCOPES = [['read'], ['write'], ['admin'], ['read', 'write']];
const allows = (need, scopes) => need === 'any' || scopes.includes('admin') || scopes.includes(need);

let server;
let ops; // [{method, template}]
let keys; // scope list joined -> key text
let concrete; // template -> a path with real ids
before(async () => {
  server = await startServer({ env: { ...NO_THROTTLE_ENV } });
  const fixtures = await routeFixtures(server, 'scopes');
  concrete = fixtures.concrete;
  keys = {};
  for (const scopes of SCOPES) keys[scopes.join()] = (await createKey(server, fixtures.owner, { name: scopes.join(), scopes })).key;
  ops = await operations(server);
});
after(async () => { await server?.stop(); });

describe('every route × every key scope', () => {
  test('every operation of the document is in the table', () => {
    const missing = ops.map((o) => `${o.method} ${o.template}`).filter((k) => !(k in NEEDS));
    assert.deepEqual(missing, [], 'add these to NEEDS with what a key needs');
  });

  test('a key without the scope a route needs -> 403, before anything changes', async () => {
    const wrong = [];
    for (const { method, template } of ops) {
      const need = NEEDS[`${method} ${template}`];
      if (!need || need === 'public') continue;
      for (const scopes of SCOPES) {
        if (need !== 'session' && allows(need, scopes)) continue;
        const res = await server.request(method, concrete(template), {
          headers: { 'X-API-Key': keys[scopes.join()] }, json: method === 'GET' || method === 'DELETE' ? undefined : {},
        });
        if (res.status !== 403 || res.json?.error?.code !== 'FORBIDDEN') {
          wrong.push(`${method} ${template} with [${scopes}]: ${res.status} ${res.body.slice(0, 120)}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('a key with the scope gets past the scope check (no 401 or 403)', async () => {
    const wrong = [];
    for (const { method, template } of ops) {
      const need = NEEDS[`${method} ${template}`];
      // Deleting and rotating would take away what later rows use; the refusals above cover them.
      if (!need || need === 'session' || method === 'DELETE' || template.endsWith('/rotate')) continue;
      for (const scopes of SCOPES) {
        if (need !== 'public' && !allows(need, scopes)) continue;
        const res = await server.request(method, concrete(template), {
          headers: { 'X-API-Key': keys[scopes.join()] }, json: method === 'GET' ? undefined : {},
        });
        if (res.status === 401 || res.status === 403 || res.status >= 500) {
          wrong.push(`${method} ${template} with [${scopes}]: ${res.status} ${res.body.slice(0, 120)}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });
});

// Issue #29: a key limited to some collections listed every collection and its fields.
describe('a key limited to collections', () => {
  test('sees only its collections in /v1/collections and /v1/meta; others answer 403', async () => {
    const fx = await routeFixtures(server, 'limited-key');
    for (const name of ['alpha', 'beta', 'gamma']) {
      const res = await server.post(`/v1/collections/${name}/documents`, { headers: fx.owner, json: { secret_field: 1 } });
      assert.equal(res.status, 201, res.body);
    }
    const key = (await createKey(server, fx.owner, { name: 'alpha and beta', collections: ['alpha', 'beta'] })).key;
    const headers = { 'X-API-Key': key };
    const listed = await server.get('/v1/collections', { headers });
    assert.equal(listed.status, 200, listed.body);
    assert.deepEqual(listed.json.data.map((c) => c.name).sort(), ['alpha', 'beta']);
    assert.equal(listed.json.meta.total, 2, 'the total counts only what the key sees');
    const meta = await server.get('/v1/meta', { headers });
    assert.equal(meta.status, 200, meta.body);
    assert.deepEqual(meta.json.data.collections.map((c) => c.name).sort(), ['alpha', 'beta']);
    assert.doesNotMatch(meta.body, /gamma|scoped/);
    assert.equal((await server.get('/v1/collections/gamma', { headers })).status, 403);
    assert.equal((await server.get('/v1/collections/gamma/documents', { headers })).status, 403);
    // An unrestricted key of the same tenant sees them all.
    const all = (await createKey(server, fx.owner, { name: 'all' })).key;
    const every = await server.get('/v1/collections', { headers: { 'X-API-Key': all } });
    assert.deepEqual(every.json.data.map((c) => c.name).sort(), ['alpha', 'beta', 'gamma', 'scoped']);
  });
});
