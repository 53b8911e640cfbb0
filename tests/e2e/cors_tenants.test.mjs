// CORS origins from a tenant's settings (API.md §13 "CORS"): a preflight is allowed when any
// tenant lists the origin; an actual response carries Access-Control-Allow-Origin only when
// the origin is listed by that request's tenant. The server config lists nothing here.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV } from './auth_helpers.mjs';
import { as, describeRes, newUser } from './tenancy_helpers.mjs';

const A_ORIGIN = 'https://a-app.example';
const B_ORIGIN = 'https://b-app.example:8443';
const NOBODY = 'https://evil.example';

let server;
let a;
let b;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  [a, b] = await Promise.all([newUser(server, 'corsa'), newUser(server, 'corsb')]);
  for (const [acct, origin] of [[a, A_ORIGIN], [b, B_ORIGIN]]) {
    const res = await server.request('PUT', `/v1/tenants/${acct.tid}`, {
      headers: as(acct), json: { settings: { cors_origins: [origin] } },
    });
    assert.equal(res.status, 200, describeRes(res));
  }
});
after(async () => { await server?.stop(); });

const preflight = (origin) => server.request('OPTIONS', '/v1/users', {
  headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
});

describe('tenant CORS origins', () => {
  test('a preflight from any tenant\'s origin is allowed; an unknown origin is not', async () => {
    for (const origin of [A_ORIGIN, B_ORIGIN]) {
      const res = await preflight(origin);
      assert.equal(res.status, 204, describeRes(res));
      assert.equal(res.headers['access-control-allow-origin'], origin);
    }
    const res = await preflight(NOBODY);
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  test('an actual response is opened only to its own tenant\'s origins', async () => {
    const own = await server.get('/v1/users', { headers: { ...as(a), Origin: A_ORIGIN } });
    assert.equal(own.status, 200, describeRes(own));
    assert.equal(own.headers['access-control-allow-origin'], A_ORIGIN);
    // B's origin is allowed somewhere, but not for A's tenant.
    const other = await server.get('/v1/users', { headers: { ...as(a), Origin: B_ORIGIN } });
    assert.equal(other.status, 200);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  test('removing the origin from the settings closes it at once', async () => {
    const res = await server.request('PUT', `/v1/tenants/${b.tid}`, {
      headers: as(b), json: { settings: {} },
    });
    assert.equal(res.status, 200, describeRes(res));
    assert.equal((await preflight(B_ORIGIN)).headers['access-control-allow-origin'], undefined);
    const actual = await server.get('/v1/users', { headers: { ...as(b), Origin: B_ORIGIN } });
    assert.equal(actual.headers['access-control-allow-origin'], undefined);
  });

  test('a malformed origin in the settings is refused (422 on settings.cors_origins)', async () => {
    const res = await server.request('PUT', `/v1/tenants/${a.tid}`, {
      headers: as(a), json: { settings: { cors_origins: ['not an origin'] } },
    });
    assert.equal(res.status, 422, describeRes(res));
    assert.equal(JSON.parse(res.body).error.details.field, 'settings.cors_origins');
  });
});

// Issue #20: the routes that act on no tenant's data (/v1/auth/*, invitations, plans, health,
// keys, docs) never carried Access-Control-Allow-Origin for a tenant's origin, so a tenant's
// browser app could not sign in or read its user.
describe('routes outside a tenant (API.md §13 "CORS")', () => {
  const C_ORIGIN = 'https://c-app.example';
  let c;
  before(async () => {
    c = await newUser(server, 'corsc');
    const res = await server.request('PUT', `/v1/tenants/${c.tid}`, {
      headers: as(c), json: { settings: { cors_origins: [C_ORIGIN] } },
    });
    assert.equal(res.status, 200, describeRes(res));
  });
  const allowOrigin = (res) => res.headers['access-control-allow-origin'];

  test('naming no tenant: any origin a tenant lists is allowed, an unknown one is not', async () => {
    for (const [method, path, json] of [['POST', '/v1/auth/login', { email: c.email, password: 'wrong password' }],
      ['POST', '/v1/auth/register', { email: 'x' }], ['GET', '/v1/plans'], ['GET', '/v1/health'],
      ['GET', '/.well-known/jwks.json'], ['POST', '/v1/invitations/accept', {}]]) {
      const res = await server.request(method, path, { headers: { Origin: C_ORIGIN }, json });
      assert.equal(allowOrigin(res), C_ORIGIN, `${method} ${path}: ${JSON.stringify(res.headers)}`);
      assert.match(res.headers['access-control-expose-headers'] || '', /x-request-id/);
      const unknown = await server.request(method, path, { headers: { Origin: NOBODY }, json });
      assert.equal(allowOrigin(unknown), undefined, `${method} ${path} for an unknown origin`);
    }
  });

  test("with a token: the token's tenant decides (GET /v1/auth/me, refresh, logout)", async () => {
    const own = await server.get('/v1/auth/me', { headers: { ...c.auth, Origin: C_ORIGIN } });
    assert.equal(own.status, 200, describeRes(own));
    assert.equal(allowOrigin(own), C_ORIGIN);
    // A's origin is known, but C's token names C's tenant.
    const other = await server.get('/v1/auth/me', { headers: { ...c.auth, Origin: A_ORIGIN } });
    assert.equal(other.status, 200);
    assert.equal(allowOrigin(other), undefined);
    const patched = await server.request('PATCH', '/v1/auth/me', { headers: { ...c.auth, Origin: C_ORIGIN }, json: { name: 'C' } });
    assert.equal(allowOrigin(patched), C_ORIGIN);
  });

  test('X-Tenant-ID names the tenant when sent', async () => {
    const named = await server.post('/v1/auth/login', {
      headers: { Origin: A_ORIGIN, 'X-Tenant-ID': a.tid }, json: { email: a.email, password: 'wrong password' },
    });
    assert.equal(allowOrigin(named), A_ORIGIN);
    const mismatch = await server.post('/v1/auth/login', {
      headers: { Origin: C_ORIGIN, 'X-Tenant-ID': a.tid }, json: { email: a.email, password: 'wrong password' },
    });
    assert.equal(allowOrigin(mismatch), undefined, "C's origin is not A's");
    const me = await server.get('/v1/auth/me', { headers: { ...c.auth, Origin: A_ORIGIN, 'X-Tenant-ID': a.tid } });
    assert.equal(allowOrigin(me), A_ORIGIN);
  });
});
