// API keys (API.md §2 "ways to authenticate", §4, §13 "API key scopes", "CORS", "Viewer keys"):
// the management endpoints under /v1/api-keys, using a key (X-API-Key or Bearer tbk_…),
// scopes, revocation, rotation, expiry, last_used_at and CORS keys.
//
// Tenancy (docs/api.md §14 "API keys", "Tenant context"): a key is bound to the tenant it
// was created in (`tenant_id`, the caller's current tenant: a registered user's personal
// tenant, where they are the owner). Admin+ of a tenant see and manage every key of the
// tenant, a plain member only their own; a platform admin names a tenant with X-Tenant-ID
// (without one, key endpoints answer 404 "No tenant selected"). Cross-tenant isolation of
// keys in depth: isolation.test.mjs.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  RFC3339_MS_Z, TEST_ADMIN, expectEnvelopeError, headerTokens, sleep, startServer,
} from './harness.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, UUID_V7, bearer, expectRecentTimestamp, expectSuccess, expectUnauthorized,
  login, register, uniqueEmail,
} from './auth_helpers.mjs';

let server;
before(async () => { server = await startServer({ env: NO_THROTTLE_ENV }); });
after(async () => { await server?.stop(); });

// ---------------------------------------------------------------------------------------
// Helpers.

const KEY_RE = /^tbk_[A-Za-z0-9_-]{43}$/;
/** Every full key the server handed out (create and rotate), for the at-rest checks at the end. */
const issuedKeys = new Set();
const KEY_MEMBERS = ['allowed_origins', 'collections', 'created_at', 'expires_at', 'id', 'is_active',
  'last_used_at', 'name', 'owner_user_id', 'preview', 'scopes', 'tenant_id'];
const RANDOM_ID = '018b6216-27a1-7e2b-aa83-67d7ba500982';

const xkey = (key) => ({ 'X-API-Key': key });
const previewOf = (key) => `tbk_\u2026${key.slice(-4)}`;
const sorted = (xs) => [...xs].sort();

function describeRes(res) {
  return `status ${res.status}, body ${res.body?.slice(0, 500)}`;
}

/**
 * A fresh user: {user, tokens, tenants, email, password, auth (Bearer headers), tid (the
 * personal tenant's id: registration makes the user its owner)}.
 */
async function newUser(tag = 'keys') {
  const acct = await register(server, { email: uniqueEmail(tag) });
  assert.equal(acct.tenants?.length, 1, `registration makes one personal tenant: ${JSON.stringify(acct.tenants)}`);
  assert.equal(acct.tenants[0].role, 'owner');
  return { ...acct, auth: bearer(acct.tokens.access_token), tid: acct.tenants[0].id };
}

/** Checks a key object (API.md §4); `withKey` for the answers of create and rotate. */
function expectKey(k, { withKey = false, owner, tenant } = {}) {
  assert.ok(k && typeof k === 'object', `key object: ${JSON.stringify(k)}`);
  const members = withKey ? sorted([...KEY_MEMBERS, 'key']) : KEY_MEMBERS;
  assert.deepEqual(Object.keys(k).sort(), members, `key object members: ${JSON.stringify(k)}`);
  assert.match(k.id, UUID_V7, `id is a UUIDv7: ${k.id}`);
  assert.equal(typeof k.name, 'string');
  assert.ok(Array.isArray(k.scopes) && k.scopes.length > 0, `scopes: ${JSON.stringify(k.scopes)}`);
  for (const s of k.scopes) assert.ok(['read', 'write', 'admin'].includes(s), `scope ${s}`);
  assert.equal(new Set(k.scopes).size, k.scopes.length, `duplicate scopes: ${JSON.stringify(k.scopes)}`);
  assert.ok(Array.isArray(k.collections), `collections: ${JSON.stringify(k.collections)}`);
  assert.ok(Array.isArray(k.allowed_origins), `allowed_origins: ${JSON.stringify(k.allowed_origins)}`);
  assert.match(k.owner_user_id, UUID_V7);
  if (owner !== undefined) assert.equal(k.owner_user_id, owner, 'owner_user_id');
  assert.match(String(k.tenant_id), UUID_V7, `tenant_id is the tenant's id: ${JSON.stringify(k.tenant_id)}`);
  if (tenant !== undefined) assert.equal(k.tenant_id, tenant, 'tenant_id is the tenant the key was created in');
  assert.equal(typeof k.is_active, 'boolean');
  expectRecentTimestamp(k.created_at, 'created_at');
  if (k.expires_at !== null) assert.match(k.expires_at, RFC3339_MS_Z, `expires_at ${k.expires_at}`);
  if (k.last_used_at !== null) assert.match(k.last_used_at, RFC3339_MS_Z, `last_used_at ${k.last_used_at}`);
  assert.match(k.preview, /^tbk_\u2026[A-Za-z0-9_-]{4}$/, `preview ${JSON.stringify(k.preview)}`);
  if (withKey) {
    assert.match(k.key, KEY_RE, `key format: ${k.key}`);
    assert.equal(k.preview, previewOf(k.key), 'preview is "tbk_…" + the last 4 characters of the key');
  }
}

/** POST /v1/api-keys expecting 201; returns the key object (with `key`). */
async function createKey(auth, body = {}) {
  const res = await server.post('/v1/api-keys', { headers: auth, json: { name: 'test key', ...body } });
  const data = expectSuccess(res, 201);
  expectKey(data, { withKey: true });
  issuedKeys.add(data.key);
  return data;
}

const getKey = (auth, id) => server.get(`/v1/api-keys/${id}`, { headers: auth });
const putKey = (auth, id, json) => server.request('PUT', `/v1/api-keys/${id}`, { headers: auth, json });
const deleteKey = (auth, id) => server.request('DELETE', `/v1/api-keys/${id}`, { headers: auth });
const rotateKey = async (auth, id) => {
  const res = await server.post(`/v1/api-keys/${id}/rotate`, { headers: auth });
  if (typeof res.json?.data?.key === 'string') issuedKeys.add(res.json.data.key);
  return res;
};
const listKeys = (auth, query = '') => server.get(`/v1/api-keys${query}`, { headers: auth });

/** GET /v1/auth/me with the key; returns the response. */
const meWithKey = (key, extra = {}) => server.get('/v1/auth/me', { headers: { ...xkey(key), ...extra } });

async function expectKeyWorks(key, userId, label = 'key') {
  const res = await meWithKey(key);
  assert.equal(res.status, 200, `${label} should work on /v1/auth/me; got ${describeRes(res)}`);
  if (userId !== undefined) assert.equal(res.json.data.user.id, userId, `${label}: /me names the owner`);
  return res.json.data;
}

async function expectKeyRefused(key, extra = {}) {
  const res = await meWithKey(key, extra);
  expectUnauthorized(res);
  assert.ok(!res.body.includes(key), 'the 401 body echoes the key');
}

/**
 * Uses the key on several connections at once (the server has more than one worker thread,
 * and fetch opens a connection per concurrent request): warms whatever per-thread cache exists,
 * or checks that a revocation reached all of them. Returns the statuses.
 */
async function statusesInParallel(key, n = 6) {
  const results = await Promise.all(Array.from({ length: n }, () => meWithKey(key)));
  return results.map((r) => r.status);
}

/** 422 VALIDATION_ERROR with details.field equal to `field` or matching it (RegExp). */
function expectValidationField(res, field) {
  const error = expectEnvelopeError(res, 422, 'VALIDATION_ERROR');
  if (field instanceof RegExp) assert.match(String(error.details?.field), field, `details.field; got ${JSON.stringify(error)}`);
  else assert.equal(error.details?.field, field, `details.field; got ${JSON.stringify(error)}`);
  return error;
}

/** `name` or `name.<index>` (§13: array positions as numbers). */
const fieldOrItem = (name) => new RegExp(`^${name}(\\.\\d+)?$`);

/** Every key the caller sees, through all pages. */
async function listAll(auth) {
  const all = [];
  for (let page = 1; ; page++) {
    const res = await listKeys(auth, `?per_page=100&page=${page}`);
    assert.equal(res.status, 200, describeRes(res));
    all.push(...res.json.data);
    if (page >= res.json.meta.total_pages || res.json.data.length === 0) return all;
  }
}

function expectPreflight(res, origin, allowed) {
  assert.equal(res.status, 204, `preflight status; ${describeRes(res)}`);
  assert.equal(res.body, '', 'a preflight has no body');
  if (allowed) {
    assert.equal(res.headers['access-control-allow-origin'], origin, `preflight from ${origin}: ${JSON.stringify(res.headers)}`);
  } else {
    assert.equal(res.headers['access-control-allow-origin'], undefined, `preflight from ${origin} must not be allowed`);
  }
}

const preflight = (origin, path = '/v1/auth/me') => server.request('OPTIONS', path,
  { headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-api-key' } });

let originN = 0;
/** A unique origin, so that CORS keys of different tests do not interfere. */
const uniqueOrigin = () => `https://app-${process.pid}-${++originN}.example`;

// ---------------------------------------------------------------------------------------

describe('POST /v1/api-keys', () => {
  let owner;
  before(async () => { owner = await newUser('create'); });

  test('201 with defaults: read+write, no collections/origins, active, never used, full key once', async () => {
    const res = await server.post('/v1/api-keys', { headers: owner.auth, json: { name: 'CI deploy' } });
    const k = expectSuccess(res, 201);
    expectKey(k, { withKey: true, owner: owner.user.id, tenant: owner.tid });
    assert.equal(k.tenant_id, owner.tid, 'bound to the caller\'s current tenant (the personal one)');
    assert.equal(k.name, 'CI deploy');
    assert.deepEqual(sorted(k.scopes), ['read', 'write']);
    assert.deepEqual(k.collections, []);
    assert.deepEqual(k.allowed_origins, []);
    assert.equal(k.is_active, true);
    assert.equal(k.expires_at, null);
    assert.equal(k.last_used_at, null);
    assert.equal(k.preview.length, 9, 'tbk_ + … + 4');
    assert.ok(!/hash/i.test(res.body), `the stored hash is exposed: ${res.body}`);
  });

  test('the new key authenticates as its owner on GET /v1/auth/me ({user, tenants: [the personal tenant]})', async () => {
    const k = await createKey(owner.auth);
    const res = await meWithKey(k.key);
    const data = expectSuccess(res, 200);
    assert.deepEqual(Object.keys(data).sort(), ['tenants', 'user']);
    assert.deepEqual(data.user, owner.user);
    assert.deepEqual(data.tenants, owner.tenants);
    assert.equal(data.tenants[0].id, k.tenant_id);
    assert.ok(!res.body.includes(k.key), 'the key is echoed');
  });

  test('all fields: scopes, collections, allowed_origins, expires_at are stored and echoed', async () => {
    const k = await createKey(owner.auth, {
      name: 'Full',
      scopes: ['read'],
      collections: ['posts', 'a_b-c9'],
      allowed_origins: ['https://app.example', 'http://localhost:3000'],
      expires_at: '2099-01-02T03:04:05.678Z',
    });
    assert.equal(k.name, 'Full');
    assert.deepEqual(k.scopes, ['read']);
    assert.deepEqual(sorted(k.collections), ['a_b-c9', 'posts']);
    assert.deepEqual(sorted(k.allowed_origins), ['http://localhost:3000', 'https://app.example']);
    assert.equal(k.expires_at, '2099-01-02T03:04:05.678Z');
    const got = expectSuccess(await getKey(owner.auth, k.id), 200);
    const { key: _omit, ...withoutKey } = k;
    assert.deepEqual(got, withoutKey, 'GET shows what create answered, without key');
  });

  test('expires_at with an offset and without fractions is normalised to UTC milliseconds', async () => {
    const k = await createKey(owner.auth, { expires_at: '2099-06-01T14:00:00+02:00' });
    assert.equal(k.expires_at, '2099-06-01T12:00:00.000Z');
  });

  test('each scope alone, and all three, are accepted; duplicates are collapsed', async () => {
    for (const scopes of [['read'], ['write'], ['admin'], ['read', 'write', 'admin']]) {
      const k = await createKey(owner.auth, { scopes });
      assert.deepEqual(sorted(k.scopes), sorted(scopes));
    }
    const dup = await createKey(owner.auth, { scopes: ['read', 'read', 'write', 'read'] });
    assert.deepEqual(sorted(dup.scopes), ['read', 'write']);
  });

  test('keys and ids are distinct; ids are time-ordered', async () => {
    const a = await createKey(owner.auth);
    const b = await createKey(owner.auth);
    assert.notEqual(a.key, b.key);
    assert.notEqual(a.id, b.id);
    assert.ok(a.id < b.id, `${a.id} should sort before ${b.id}`);
  });

  test('a name of 100 characters is accepted (characters, not bytes)', async () => {
    const a = await createKey(owner.auth, { name: 'n'.repeat(100) });
    assert.equal(a.name, 'n'.repeat(100));
    const b = await createKey(owner.auth, { name: 'é'.repeat(100) });
    assert.equal(b.name, 'é'.repeat(100));
  });

  test('a collection name of 63 characters is accepted', async () => {
    const name = `a${'b'.repeat(62)}`;
    const k = await createKey(owner.auth, { collections: [name] });
    assert.deepEqual(k.collections, [name]);
  });

  describe('422 VALIDATION_ERROR naming the field; nothing is created', () => {
    const cases = [
      ['name missing', {}, 'name', true],
      ['name empty', { name: '' }, 'name'],
      ['name of 101 characters', { name: 'n'.repeat(101) }, 'name'],
      ['name a number', { name: 42 }, 'name'],
      ['name null', { name: null }, 'name'],
      ['scopes empty', { scopes: [] }, 'scopes'],
      ['scopes with an unknown scope', { scopes: ['read', 'superuser'] }, fieldOrItem('scopes')],
      ['scopes upper-case', { scopes: ['READ'] }, fieldOrItem('scopes')],
      ['scopes a string', { scopes: 'read' }, 'scopes'],
      ['scopes with a number', { scopes: [1] }, fieldOrItem('scopes')],
      ['collections a string', { collections: 'posts' }, 'collections'],
      ['collections upper-case', { collections: ['Posts'] }, fieldOrItem('collections')],
      ['collections starting with a digit', { collections: ['1posts'] }, fieldOrItem('collections')],
      ['collections starting with "_"', { collections: ['_posts'] }, fieldOrItem('collections')],
      ['collections empty name', { collections: [''] }, fieldOrItem('collections')],
      ['collections with a space', { collections: ['my posts'] }, fieldOrItem('collections')],
      ['collections of 64 characters', { collections: [`a${'b'.repeat(63)}`] }, fieldOrItem('collections')],
      ['collections with a number', { collections: [7] }, fieldOrItem('collections')],
      ['allowed_origins a string', { allowed_origins: 'https://app.example' }, 'allowed_origins'],
      ['allowed_origins without a scheme', { allowed_origins: ['app.example'] }, fieldOrItem('allowed_origins')],
      ['allowed_origins with a path', { allowed_origins: ['https://app.example/path'] }, fieldOrItem('allowed_origins')],
      ['allowed_origins with a query', { allowed_origins: ['https://app.example?x=1'] }, fieldOrItem('allowed_origins')],
      ['allowed_origins with user info', { allowed_origins: ['https://user:pw@app.example'] }, fieldOrItem('allowed_origins')],
      ['allowed_origins "*"', { allowed_origins: ['*'] }, fieldOrItem('allowed_origins')],
      ['allowed_origins "null"', { allowed_origins: ['null'] }, fieldOrItem('allowed_origins')],
      ['allowed_origins empty string', { allowed_origins: [''] }, fieldOrItem('allowed_origins')],
      ['allowed_origins with a number', { allowed_origins: [42] }, fieldOrItem('allowed_origins')],
      ['a CORS key with the admin scope', { allowed_origins: ['https://app.example'], scopes: ['read', 'admin'] }, 'scopes'],
      ['expires_at in the past', { expires_at: '2020-01-01T00:00:00.000Z' }, 'expires_at'],
      ['expires_at not a date', { expires_at: 'tomorrow' }, 'expires_at'],
      ['expires_at a date without a time', { expires_at: '2099-01-01' }, 'expires_at'],
      ['expires_at a number', { expires_at: 4102444800 }, 'expires_at'],
      ['an unknown field "key"', { key: `tbk_${'A'.repeat(43)}` }, 'key'],
      ['an unknown field "owner_user_id"', { owner_user_id: RANDOM_ID }, 'owner_user_id'],
      ['an unknown field "is_admin"', { is_admin: true }, 'is_admin'],
    ];
    let user;
    before(async () => { user = await newUser('invalid'); });
    for (const [label, extra, field, noName] of cases) {
      test(label, async () => {
        const json = noName ? extra : { name: 'bad key', ...extra };
        const res = await server.post('/v1/api-keys', { headers: user.auth, json });
        expectValidationField(res, field);
        assert.ok(!/tbk_[A-Za-z0-9_-]{43}/.test(res.body), 'no key in an error');
      });
    }
    test('after all of them the user has no key', async () => {
      const res = await listKeys(user.auth);
      const data = expectSuccess(res, 200);
      assert.deepEqual(data, []);
      assert.equal(res.json.meta.total, 0);
    });
  });

  test('null for an optional field is refused (422) or means "not given"', async () => {
    for (const [field, dflt] of [['scopes', ['read', 'write']], ['collections', []], ['allowed_origins', []],
      ['expires_at', null]]) {
      const res = await server.post('/v1/api-keys', { headers: owner.auth, json: { name: 'nulls', [field]: null } });
      if (res.status === 422) {
        expectValidationField(res, field);
      } else {
        const k = expectSuccess(res, 201);
        assert.deepEqual(field === 'scopes' ? sorted(k[field]) : k[field], dflt, `${field}: null`);
      }
    }
  });

  test('malformed JSON -> 400 BAD_REQUEST', async () => {
    const res = await server.post('/v1/api-keys', {
      headers: { ...owner.auth, 'Content-Type': 'application/json' }, body: '{"name": "x",',
    });
    expectEnvelopeError(res, 400, 'BAD_REQUEST');
  });

  test('a JSON body that is not an object -> 422 (or 400)', async () => {
    const res = await server.post('/v1/api-keys', { headers: owner.auth, json: ['name'] });
    assert.ok([400, 422].includes(res.status), describeRes(res));
    expectEnvelopeError(res, res.status);
  });
});

describe('credentials for the management endpoints', () => {
  let owner;
  let target;
  let rwKey;
  before(async () => {
    owner = await newUser('mgmt');
    target = await createKey(owner.auth, { name: 'target' });
    rwKey = await createKey(owner.auth, { name: 'read-write', scopes: ['read', 'write'] });
  });

  const endpoints = [
    ['GET /v1/api-keys', () => ['GET', '/v1/api-keys', undefined]],
    ['POST /v1/api-keys', () => ['POST', '/v1/api-keys', { name: 'x' }]],
    ['GET /v1/api-keys/{id}', () => ['GET', `/v1/api-keys/${target.id}`, undefined]],
    ['PUT /v1/api-keys/{id}', () => ['PUT', `/v1/api-keys/${target.id}`, { name: 'renamed' }]],
    ['DELETE /v1/api-keys/{id}', () => ['DELETE', `/v1/api-keys/${target.id}`, undefined]],
    ['POST /v1/api-keys/{id}/rotate', () => ['POST', `/v1/api-keys/${target.id}/rotate`, undefined]],
  ];

  for (const [label, spec] of endpoints) {
    test(`${label} without credentials -> 401`, async () => {
      const [method, path, json] = spec();
      expectUnauthorized(await server.request(method, path, { json }));
    });
    test(`${label} with a key lacking the admin scope -> 403 FORBIDDEN`, async () => {
      const [method, path, json] = spec();
      const viaHeader = await server.request(method, path, { headers: xkey(rwKey.key), json });
      expectEnvelopeError(viaHeader, 403, 'FORBIDDEN');
      const viaBearer = await server.request(method, path, { headers: bearer(rwKey.key), json });
      expectEnvelopeError(viaBearer, 403, 'FORBIDDEN');
    });
  }

  test('the key that was the target of all the refused calls is unchanged and works', async () => {
    const got = expectSuccess(await getKey(owner.auth, target.id), 200);
    assert.equal(got.name, 'target');
    assert.equal(got.is_active, true);
    await expectKeyWorks(target.key, owner.user.id, 'target');
  });

  test('a read-only key is refused too (403)', async () => {
    const ro = await createKey(owner.auth, { scopes: ['read'] });
    expectEnvelopeError(await listKeys(xkey(ro.key)), 403, 'FORBIDDEN');
  });

  test('an unknown key -> 401, not 403', async () => {
    expectUnauthorized(await listKeys(xkey(`tbk_${'Q'.repeat(43)}`)));
  });
});

describe('a key with the admin scope acts as its owner', () => {
  let owner;
  let other;
  let adminKey;
  let othersKey;
  before(async () => {
    [owner, other] = await Promise.all([newUser('adm-owner'), newUser('adm-other')]);
    adminKey = await createKey(owner.auth, { name: 'admin', scopes: ['read', 'write', 'admin'] });
    othersKey = await createKey(other.auth, { name: 'not yours' });
  });

  test('lists the owner\'s keys (X-API-Key and Authorization: Bearer tbk_…)', async () => {
    for (const auth of [xkey(adminKey.key), bearer(adminKey.key)]) {
      const res = await listKeys(auth);
      const data = expectSuccess(res, 200);
      assert.deepEqual(data.map((k) => k.id), [adminKey.id]);
      assert.ok(!res.body.includes(adminKey.key), 'the list contains the full key');
    }
  });

  test('creates a key owned by the same user, which works', async () => {
    const k = await createKey(xkey(adminKey.key), { name: 'made by a key', scopes: ['read'] });
    assert.equal(k.owner_user_id, owner.user.id);
    assert.deepEqual(k.scopes, ['read']);
    await expectKeyWorks(k.key, owner.user.id, 'key made by a key');
    const ids = (await listAll(owner.auth)).map((x) => x.id);
    assert.ok(ids.includes(k.id), 'the owner sees the new key');
  });

  test('can create another admin key', async () => {
    const k = await createKey(bearer(adminKey.key), { scopes: ['admin'] });
    assert.deepEqual(k.scopes, ['admin']);
    assert.equal(k.owner_user_id, owner.user.id);
  });

  test('gets, updates and rotates the owner\'s keys', async () => {
    const k = await createKey(owner.auth, { name: 'managed by key' });
    const auth = xkey(adminKey.key);
    assert.equal(expectSuccess(await getKey(auth, k.id), 200).id, k.id);
    assert.equal(expectSuccess(await putKey(auth, k.id, { name: 'renamed by key' }), 200).name, 'renamed by key');
    const rotated = expectSuccess(await rotateKey(auth, k.id), 200);
    assert.notEqual(rotated.key, k.key);
    await expectKeyRefused(k.key);
    await expectKeyWorks(rotated.key, owner.user.id);
  });

  test('cannot see or touch another user\'s key (404)', async () => {
    const auth = xkey(adminKey.key);
    expectEnvelopeError(await getKey(auth, othersKey.id), 404, 'NOT_FOUND');
    expectEnvelopeError(await putKey(auth, othersKey.id, { is_active: false }), 404, 'NOT_FOUND');
    expectEnvelopeError(await rotateKey(auth, othersKey.id), 404, 'NOT_FOUND');
    expectEnvelopeError(await deleteKey(auth, othersKey.id), 404, 'NOT_FOUND');
    await expectKeyWorks(othersKey.key, other.user.id, 'the other user\'s key');
  });

  test('hands out no more than it holds: an admin-only key asking for `read` -> 403', async () => {
    const only = await createKey(owner.auth, { scopes: ['admin'] });
    const res = await server.post('/v1/api-keys', { headers: xkey(only.key), json: { name: 'more', scopes: ['read'] } });
    expectEnvelopeError(res, 403, 'FORBIDDEN');
    assert.ok(!(await listAll(owner.auth)).some((x) => x.name === 'more'), 'the key was created anyway');
  });

  test('X-Tenant-ID naming another tenant, existing or not -> 403 with the same message (§13)', async () => {
    const a = await listKeys({ ...xkey(adminKey.key), 'X-Tenant-ID': other.tid });
    const b = await listKeys({ ...xkey(adminKey.key), 'X-Tenant-ID': RANDOM_ID });
    const e1 = expectEnvelopeError(a, 403, 'FORBIDDEN');
    const e2 = expectEnvelopeError(b, 403, 'FORBIDDEN');
    assert.equal(e1.message, e2.message);
    assert.ok(!a.body.includes(othersKey.id), 'the other tenant\'s key leaked');
    // Its own tenant named explicitly is fine.
    expectSuccess(await listKeys({ ...xkey(adminKey.key), 'X-Tenant-ID': owner.tid }), 200);
  });

  test('deletes itself: 204, then it is refused', async () => {
    const k = await createKey(owner.auth, { scopes: ['admin'] });
    const res = await deleteKey(xkey(k.key), k.id);
    assert.equal(res.status, 204, describeRes(res));
    await expectKeyRefused(k.key);
  });
});

describe('GET /v1/api-keys', () => {
  test('the keys of the caller\'s tenant only (here: their own), in creation order, without the full key', async () => {
    const [a, b] = await Promise.all([newUser('list-a'), newUser('list-b')]);
    const ka1 = await createKey(a.auth, { name: 'a1' });
    const kb1 = await createKey(b.auth, { name: 'b1' });
    const ka2 = await createKey(a.auth, { name: 'a2', allowed_origins: [uniqueOrigin()] });
    const ka3 = await createKey(a.auth, { name: 'a3', scopes: ['admin'] });

    const res = await listKeys(a.auth);
    const data = expectSuccess(res, 200);
    assert.ok(Array.isArray(data));
    assert.deepEqual(data.map((k) => k.id), [ka1.id, ka2.id, ka3.id]);
    for (const k of data) expectKey(k, { owner: a.user.id, tenant: a.tid });
    assert.deepEqual(res.json.meta, { page: 1, per_page: 20, total: 3, total_pages: 1 });
    for (const k of [ka1, ka2, ka3, kb1]) assert.ok(!res.body.includes(k.key), 'a full key is in the list');
    const { key: _omit, ...ka2NoKey } = ka2;
    assert.deepEqual(data[1], ka2NoKey);

    const resB = await listKeys(b.auth);
    assert.deepEqual(expectSuccess(resB, 200).map((k) => k.id), [kb1.id]);
  });

  test('a user without keys gets an empty list', async () => {
    const u = await newUser('list-empty');
    const res = await listKeys(u.auth);
    assert.deepEqual(expectSuccess(res, 200), []);
    assert.equal(res.json.meta.total, 0);
    assert.equal(res.json.meta.page, 1);
    assert.equal(res.json.meta.per_page, 20);
  });

  test('page and per_page; a page past the end is empty with the usual meta', async () => {
    const u = await newUser('list-pages');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await createKey(u.auth, { name: `k${i}` })).id);
    const seen = [];
    for (const page of [1, 2, 3]) {
      const res = await listKeys(u.auth, `?page=${page}&per_page=2`);
      const data = expectSuccess(res, 200);
      assert.deepEqual(res.json.meta, { page, per_page: 2, total: 5, total_pages: 3 });
      assert.equal(data.length, page < 3 ? 2 : 1);
      seen.push(...data.map((k) => k.id));
    }
    assert.deepEqual(seen, ids);
    const past = await listKeys(u.auth, '?page=4&per_page=2');
    assert.deepEqual(expectSuccess(past, 200), []);
    assert.deepEqual(past.json.meta, { page: 4, per_page: 2, total: 5, total_pages: 3 });
    const max = await listKeys(u.auth, '?per_page=100');
    assert.equal(expectSuccess(max, 200).length, 5);
    assert.equal(max.json.meta.per_page, 100);
  });

  describe('400 BAD_REQUEST naming the parameter', () => {
    let u;
    before(async () => { u = await newUser('list-bad'); });
    for (const [query, field] of [['per_page=101', 'per_page'], ['per_page=0', 'per_page'], ['per_page=abc', 'per_page'],
      ['per_page=-5', 'per_page'], ['page=0', 'page'], ['page=abc', 'page'], ['page=-1', 'page'],
      // The list mechanism (docs/api.md §14 "Lists", "Declared list fields"): API keys declare
      // id, name, owner_user_id, is_active, created_at, expires_at, last_used_at.
      ['is_active=yes', 'is_active'], ['created_at[gt]=yesterday', 'created_at[gt]'],
      ['expires_at[lt]=null', 'expires_at[lt]'], ['q=%7B%7D', 'q'], ['sort=scopes', 'sort'], ['fields=id,key', 'fields'],
      ['count=maybe', 'count'], ['page=1&page=2', 'page'], ['after=x', 'after'],
      ['nickname=x'], ['scopes=read'], ['tenant_id=x'], ['key_hash=x'], ['key=x'], ['preview=x'], ['name[regex]=x'],
      ['is_active[contains]=t'], ['page=1&after=']]) {
      test(query, async () => {
        const error = expectEnvelopeError(await listKeys(u.auth, `?${query}`), 400, 'BAD_REQUEST');
        if (field !== undefined) assert.equal(error.details?.field, field, `details.field; got ${JSON.stringify(error)}`);
      });
    }
  });

  describe('filters, sort, fields, count and cursors on the declared fields', () => {
    let u;
    let ks;
    before(async () => {
      u = await newUser('list-mech');
      ks = [];
      for (const name of ['beta', 'alpha', 'gamma', 'alphabet']) ks.push(await createKey(u.auth, { name }));
      expectSuccess(await putKey(u.auth, ks[2].id, { is_active: false }), 200);
    });
    const ids = async (query) => {
      const res = await listKeys(u.auth, query);
      return expectSuccess(res, 200).map((k) => k.id);
    };

    test('equality and bracket filters', async () => {
      assert.deepEqual(await ids('?name=alpha'), [ks[1].id]);
      assert.deepEqual(await ids('?is_active=false'), [ks[2].id]);
      assert.deepEqual(await ids('?is_active=true'), [ks[0].id, ks[1].id, ks[3].id]);
      assert.deepEqual(await ids('?name[startswith]=alpha'), [ks[1].id, ks[3].id]);
      assert.deepEqual(await ids('?name%5Bcontains%5D=MM'), [ks[2].id], 'contains, percent-encoded brackets');
      assert.deepEqual(await ids('?name[in]=beta,gamma'), [ks[0].id, ks[2].id]);
      assert.deepEqual(await ids('?name[ne]=beta&is_active=true'), [ks[1].id, ks[3].id], 'filters are ANDed');
      assert.deepEqual(await ids(`?owner_user_id=${u.user.id}`), ks.map((k) => k.id));
      assert.deepEqual(await ids(`?owner_user_id=${RANDOM_ID}`), []);
      assert.deepEqual(await ids('?expires_at=null'), ks.map((k) => k.id));
      assert.deepEqual(await ids(`?created_at[gte]=${encodeURIComponent(ks[2].created_at)}`),
        ks.filter((k) => k.created_at >= ks[2].created_at).map((k) => k.id));
      const res = await listKeys(u.auth, '?name[startswith]=alpha');
      assert.deepEqual(res.json.meta, { page: 1, per_page: 20, total: 2, total_pages: 1 }, 'total counts the filtered rows');
    });

    test('sort (ties broken by id) and fields', async () => {
      assert.deepEqual(await ids('?sort=name'), [ks[1].id, ks[3].id, ks[0].id, ks[2].id]);
      assert.deepEqual(await ids('?sort=-name'), [ks[2].id, ks[0].id, ks[3].id, ks[1].id]);
      assert.deepEqual(await ids('?sort=is_active,name'), [ks[2].id, ks[1].id, ks[3].id, ks[0].id]);
      const res = await listKeys(u.auth, '?fields=name,is_active&sort=-created_at');
      const data = expectSuccess(res, 200);
      assert.deepEqual(data, [...ks].reverse().map((k) => ({ name: k.name, is_active: k.id !== ks[2].id })));
      for (const k of ks) assert.ok(!res.body.includes(k.key));
    });

    test('count=false drops total and total_pages', async () => {
      const res = await listKeys(u.auth, '?count=false&per_page=2');
      assert.equal(expectSuccess(res, 200).length, 2);
      assert.equal(res.json.meta.total, undefined, JSON.stringify(res.json.meta));
      assert.equal(res.json.meta.total_pages, undefined, JSON.stringify(res.json.meta));
      assert.equal(res.json.meta.per_page, 2);
    });

    test('cursor pagination with after=: next_cursor walks every key once, null at the end', async () => {
      const seen = [];
      let cursor = '';
      for (let i = 0; i < 5; i++) {
        const res = await listKeys(u.auth, `?per_page=3&after=${encodeURIComponent(cursor)}`);
        const data = expectSuccess(res, 200);
        assert.equal(res.json.meta.page, undefined, `cursor mode has no page: ${JSON.stringify(res.json.meta)}`);
        assert.equal(res.json.meta.per_page, 3);
        seen.push(...data.map((k) => k.id));
        cursor = res.json.meta.next_cursor;
        if (cursor === null) break;
        assert.equal(typeof cursor, 'string');
      }
      assert.equal(cursor, null);
      assert.deepEqual(seen, ks.map((k) => k.id));
    });

    test('a filter cannot reach another user\'s or another tenant\'s keys', async () => {
      const v = await newUser('list-mech-other');
      const theirs = await createKey(v.auth, { name: 'alpha' });
      assert.deepEqual(await ids(`?owner_user_id=${v.user.id}`), []);
      assert.deepEqual(await ids(`?id=${theirs.id}`), []);
      assert.deepEqual(await ids('?name=alpha'), [ks[1].id]);
    });
  });

  test('the platform admin names a tenant with X-Tenant-ID and sees all of its keys (and only its keys)', async () => {
    const [u, v] = await Promise.all([newUser('list-admin'), newUser('list-admin-other')]);
    const k1 = await createKey(u.auth, { name: 'seen by the admin' });
    const k2 = await createKey(u.auth, { name: 'seen by the admin too', scopes: ['admin'] });
    const elsewhere = await createKey(v.auth, { name: 'in another tenant' });
    const admin = await login(server, TEST_ADMIN.email, TEST_ADMIN.password);
    assert.deepEqual(admin.tenants, [], 'the platform admin has no tenant of their own');
    const all = await listAll({ ...bearer(admin.tokens.access_token), 'X-Tenant-ID': u.tid });
    assert.deepEqual(all.map((x) => x.id), [k1.id, k2.id], 'every key of the tenant, ordered by id');
    for (const x of all) {
      expectKey(x, { owner: u.user.id, tenant: u.tid });
      assert.equal(x.key, undefined);
    }
    assert.ok(!all.some((x) => x.id === elsewhere.id), 'a key of another tenant is listed');
  });

  test('the platform admin without a tenant: every key endpoint -> 404 "No tenant selected"', async () => {
    const u = await newUser('list-admin-none');
    const k = await createKey(u.auth);
    const admin = await login(server, TEST_ADMIN.email, TEST_ADMIN.password);
    const auth = bearer(admin.tokens.access_token);
    const calls = [
      ['GET', '/v1/api-keys', undefined],
      ['POST', '/v1/api-keys', { name: 'no tenant' }],
      ['GET', `/v1/api-keys/${k.id}`, undefined],
      ['PUT', `/v1/api-keys/${k.id}`, { is_active: false }],
      ['POST', `/v1/api-keys/${k.id}/rotate`, undefined],
      ['DELETE', `/v1/api-keys/${k.id}`, undefined],
    ];
    for (const [method, p, json] of calls) {
      const res = await server.request(method, p, { headers: auth, json });
      const error = expectEnvelopeError(res, 404, 'NOT_FOUND');
      assert.match(error.message, /No tenant selected/, `${method} ${p}: ${JSON.stringify(error)}`);
    }
    await expectKeyWorks(k.key, u.user.id, 'the key the admin could not reach');
    assert.equal(expectSuccess(await getKey(u.auth, k.id), 200).is_active, true);
  });
});

describe('GET /v1/api-keys/{id}', () => {
  let owner;
  let other;
  let k;
  before(async () => {
    [owner, other] = await Promise.all([newUser('get-owner'), newUser('get-other')]);
    k = await createKey(owner.auth, { name: 'gettable', collections: ['notes'] });
  });

  test('200 the key without `key`; the body never contains the full key', async () => {
    const res = await getKey(owner.auth, k.id);
    const data = expectSuccess(res, 200);
    expectKey(data, { owner: owner.user.id });
    const { key: _omit, ...noKey } = k;
    assert.deepEqual(data, noKey);
    assert.ok(!res.body.includes(k.key), 'GET contains the full key');
    assert.ok(!/hash/i.test(res.body), `the stored hash is exposed: ${res.body}`);
  });

  test('another user\'s key -> 404 NOT_FOUND, like a key that does not exist', async () => {
    const theirs = await getKey(other.auth, k.id);
    const none = await getKey(other.auth, RANDOM_ID);
    const e1 = expectEnvelopeError(theirs, 404, 'NOT_FOUND');
    const e2 = expectEnvelopeError(none, 404, 'NOT_FOUND');
    assert.equal(e1.message, e2.message, 'the same message for "not yours" and "no such key"');
  });

  for (const id of ['not-a-uuid', '123', RANDOM_ID.toUpperCase().replace('7E2B', '7E2C'), `${RANDOM_ID}x`]) {
    test(`a malformed or unknown id ${JSON.stringify(id)} -> 404`, async () => {
      expectEnvelopeError(await getKey(owner.auth, encodeURIComponent(id)), 404, 'NOT_FOUND');
    });
  }

  test('the platform admin may get any key in the tenant named by X-Tenant-ID (§13: a platform admin may always)', async () => {
    const admin = await login(server, TEST_ADMIN.email, TEST_ADMIN.password);
    const auth = bearer(admin.tokens.access_token);
    const data = expectSuccess(await getKey({ ...auth, 'X-Tenant-ID': owner.tid }, k.id), 200);
    assert.equal(data.id, k.id);
    assert.equal(data.owner_user_id, owner.user.id);
    assert.equal(data.tenant_id, owner.tid);
    // Naming another tenant: the key is not there (404, like a missing key).
    const wrong = await getKey({ ...auth, 'X-Tenant-ID': other.tid }, k.id);
    const none = await getKey({ ...auth, 'X-Tenant-ID': other.tid }, RANDOM_ID);
    assert.equal(expectEnvelopeError(wrong, 404, 'NOT_FOUND').message, expectEnvelopeError(none, 404, 'NOT_FOUND').message);
    // No tenant at all: 404 "No tenant selected".
    assert.match(expectEnvelopeError(await getKey(auth, k.id), 404, 'NOT_FOUND').message, /No tenant selected/);
  });
});

// Roles inside a tenant (API.md §3, §4, §13 "Viewer keys"; docs/api.md §14 "API keys"):
// admin+ of a tenant see and manage every key of the tenant, a member or viewer only their
// own; a key created without scopes gets ["read","write"] narrowed to the caller's rights.
describe('keys and tenant roles', () => {
  let owner; // registered: owner of the personal tenant T
  let admin; // role admin in T
  let member; // role member in T
  let viewer; // role viewer in T
  let inT; // {owner, admin, member, viewer} -> headers acting in T
  let ownerKey;
  let memberKey;
  let adminKey;
  before(async () => {
    [owner, admin, member, viewer] = await Promise.all(['role-owner', 'role-admin', 'role-member', 'role-viewer']
      .map((t) => newUser(t)));
    for (const [u, role] of [[admin, 'admin'], [member, 'member'], [viewer, 'viewer']]) {
      const res = await server.post(`/v1/tenants/${owner.tid}/members`, { headers: owner.auth, json: { email: u.email, role } });
      expectSuccess(res, 201);
    }
    const h = (u) => ({ ...u.auth, 'X-Tenant-ID': owner.tid });
    inT = { owner: owner.auth, admin: h(admin), member: h(member), viewer: h(viewer) };
    ownerKey = await createKey(inT.owner, { name: 'owner key' });
    memberKey = await createKey(inT.member, { name: 'member key' });
    adminKey = await createKey(inT.admin, { name: 'admin key' });
  });

  test('a key is bound to the tenant it is created in, and owned by its creator', () => {
    expectKey(ownerKey, { withKey: true, owner: owner.user.id, tenant: owner.tid });
    expectKey(memberKey, { withKey: true, owner: member.user.id, tenant: owner.tid });
    expectKey(adminKey, { withKey: true, owner: admin.user.id, tenant: owner.tid });
  });

  test('without X-Tenant-ID a member\'s keys go to their own current tenant (the token\'s tid)', async () => {
    const k = await createKey(member.auth, { name: 'personal' });
    assert.equal(k.tenant_id, member.tid);
    assert.notEqual(member.tid, owner.tid);
    // Each tenant's list shows its own keys only.
    assert.deepEqual((await listAll(member.auth)).map((x) => x.id), [k.id]);
    assert.ok(!(await listAll(inT.member)).some((x) => x.id === k.id));
    // ... and the owner of T does not see a key of the member's personal tenant.
    expectEnvelopeError(await getKey(inT.owner, k.id), 404, 'NOT_FOUND');
  });

  test('login with tenant_id selects the tenant: keys are created and listed there', async () => {
    const res = await server.post('/v1/auth/login', { json: { email: member.email, password: PASSWORD, tenant_id: owner.tid } });
    const s = expectSuccess(res, 200);
    const auth = bearer(s.tokens.access_token);
    const k = await createKey(auth, { name: 'via login tenant' });
    assert.equal(k.tenant_id, owner.tid);
    const ids = (await listAll(auth)).map((x) => x.id);
    assert.ok(ids.includes(memberKey.id) && ids.includes(k.id), 'the member sees their keys in T');
  });

  test('default scopes: owner/admin/member read+write, viewer read only', async () => {
    assert.deepEqual(sorted(ownerKey.scopes), ['read', 'write']);
    assert.deepEqual(sorted(adminKey.scopes), ['read', 'write']);
    assert.deepEqual(sorted(memberKey.scopes), ['read', 'write']);
    const v = await createKey(inT.viewer, { name: 'viewer key' });
    assert.deepEqual(v.scopes, ['read']);
    expectKey(v, { withKey: true, owner: viewer.user.id, tenant: owner.tid });
  });

  test('scopes above one\'s rights -> 403: viewer write/admin, member admin; owner and admin may ask admin', async () => {
    for (const [who, scopes] of [['viewer', ['write']], ['viewer', ['read', 'admin']], ['member', ['admin']],
      ['member', ['read', 'write', 'admin']]]) {
      const res = await server.post('/v1/api-keys', { headers: inT[who], json: { name: 'too much', scopes } });
      expectEnvelopeError(res, 403, 'FORBIDDEN');
      assert.ok(!/tbk_[A-Za-z0-9_-]{43}/.test(res.body));
    }
    for (const who of ['viewer', 'member']) {
      assert.ok(!(await listAll(inT[who])).some((x) => x.name === 'too much'), `${who}: a refused key was created`);
    }
    assert.deepEqual(sorted((await createKey(inT.owner, { scopes: ['read', 'write', 'admin'] })).scopes), ['admin', 'read', 'write']);
    assert.deepEqual((await createKey(inT.admin, { scopes: ['admin'] })).scopes, ['admin']);
  });

  test('a member cannot raise their key\'s scopes above their rights (PUT -> 403)', async () => {
    const k = await createKey(inT.member, { name: 'member raise', scopes: ['read'] });
    expectEnvelopeError(await putKey(inT.member, k.id, { scopes: ['read', 'admin'] }), 403, 'FORBIDDEN');
    assert.deepEqual(expectSuccess(await getKey(inT.member, k.id), 200).scopes, ['read']);
    assert.deepEqual(expectSuccess(await putKey(inT.member, k.id, { scopes: ['read', 'write'] }), 200).scopes.sort(),
      ['read', 'write']);
  });

  test('owner and admin see every key of the tenant; member and viewer only their own', async () => {
    for (const who of ['owner', 'admin']) {
      const ids = (await listAll(inT[who])).map((x) => x.id);
      for (const k of [ownerKey, memberKey, adminKey]) assert.ok(ids.includes(k.id), `${who} does not see ${k.name}`);
    }
    const mine = await listAll(inT.member);
    assert.ok(mine.length > 0);
    for (const k of mine) assert.equal(k.owner_user_id, member.user.id, `the member sees ${k.name}`);
    const seen = await listAll(inT.viewer);
    for (const k of seen) assert.equal(k.owner_user_id, viewer.user.id, `the viewer sees ${k.name}`);
  });

  test('a member gets 404 for the owner\'s and the admin\'s keys, exactly like a missing key; they keep working', async () => {
    const none = expectEnvelopeError(await getKey(inT.member, RANDOM_ID), 404, 'NOT_FOUND');
    for (const k of [ownerKey, adminKey]) {
      assert.equal(expectEnvelopeError(await getKey(inT.member, k.id), 404, 'NOT_FOUND').message, none.message);
      expectEnvelopeError(await putKey(inT.member, k.id, { is_active: false }), 404, 'NOT_FOUND');
      expectEnvelopeError(await rotateKey(inT.member, k.id), 404, 'NOT_FOUND');
      expectEnvelopeError(await deleteKey(inT.member, k.id), 404, 'NOT_FOUND');
      expectEnvelopeError(await getKey(inT.viewer, k.id), 404, 'NOT_FOUND');
    }
    await expectKeyWorks(ownerKey.key, owner.user.id, 'the owner\'s key');
    await expectKeyWorks(adminKey.key, admin.user.id, 'the admin\'s key');
  });

  test('the owner and an admin manage a member\'s key: get, update, rotate, delete', async () => {
    const k = await createKey(inT.member, { name: 'managed by admins' });
    assert.equal(expectSuccess(await getKey(inT.owner, k.id), 200).owner_user_id, member.user.id);
    const renamed = expectSuccess(await putKey(inT.admin, k.id, { name: 'renamed by the admin' }), 200);
    assert.equal(renamed.name, 'renamed by the admin');
    assert.equal(renamed.owner_user_id, member.user.id, 'an update does not change the owner');
    const r = expectSuccess(await rotateKey(inT.owner, k.id), 200);
    await expectKeyRefused(k.key);
    await expectKeyWorks(r.key, member.user.id, 'the rotated member key (still the member\'s)');
    assert.equal((await deleteKey(inT.admin, k.id)).status, 204);
    await expectKeyRefused(r.key);
    expectEnvelopeError(await getKey(inT.member, k.id), 404, 'NOT_FOUND');
  });

  test('the owner\'s admin-scope key also sees and manages the member\'s keys', async () => {
    const ak = await createKey(inT.owner, { name: 'owner admin key', scopes: ['read', 'write', 'admin'] });
    const ids = (await listAll(xkey(ak.key))).map((x) => x.id);
    assert.ok(ids.includes(memberKey.id) && ids.includes(ownerKey.id));
    assert.equal(expectSuccess(await getKey(xkey(ak.key), memberKey.id), 200).id, memberKey.id);
  });

  test('an admin cannot reach keys of another tenant (404)', async () => {
    const stranger = await newUser('role-stranger');
    const sk = await createKey(stranger.auth);
    for (const who of ['owner', 'admin']) {
      expectEnvelopeError(await getKey(inT[who], sk.id), 404, 'NOT_FOUND');
      expectEnvelopeError(await putKey(inT[who], sk.id, { is_active: false }), 404, 'NOT_FOUND');
      expectEnvelopeError(await rotateKey(inT[who], sk.id), 404, 'NOT_FOUND');
      expectEnvelopeError(await deleteKey(inT[who], sk.id), 404, 'NOT_FOUND');
    }
    await expectKeyWorks(sk.key, stranger.user.id);
    // X-Tenant-ID naming a tenant the caller is not a member of: 404, like a random id.
    expectEnvelopeError(await listKeys({ ...owner.auth, 'X-Tenant-ID': stranger.tid }), 404, 'NOT_FOUND');
    expectEnvelopeError(await listKeys({ ...owner.auth, 'X-Tenant-ID': RANDOM_ID }), 404, 'NOT_FOUND');
  });

  test('the platform admin acting in T sees and manages every key, and creates keys there', async () => {
    const a = await login(server, TEST_ADMIN.email, TEST_ADMIN.password);
    const auth = { ...bearer(a.tokens.access_token), 'X-Tenant-ID': owner.tid };
    const ids = (await listAll(auth)).map((x) => x.id);
    for (const k of [ownerKey, memberKey, adminKey]) assert.ok(ids.includes(k.id));
    const k = await createKey(auth, { name: 'made by the platform admin', scopes: ['read', 'write', 'admin'] });
    expectKey(k, { withKey: true, owner: a.user.id, tenant: owner.tid });
    assert.ok((await listAll(inT.owner)).some((x) => x.id === k.id), 'the tenant\'s owner sees it');
    assert.equal((await deleteKey(auth, k.id)).status, 204);
  });

  test('a member who leaves the tenant loses their keys in it (not those elsewhere)', async () => {
    const leaver = await newUser('role-leaver');
    expectSuccess(await server.post(`/v1/tenants/${owner.tid}/members`,
      { headers: owner.auth, json: { email: leaver.email, role: 'member' } }), 201);
    const inside = await createKey({ ...leaver.auth, 'X-Tenant-ID': owner.tid }, { name: 'leaves with me' });
    const outside = await createKey(leaver.auth, { name: 'stays' });
    await expectKeyWorks(inside.key, leaver.user.id, 'before leaving');
    const res = await server.request('DELETE', `/v1/tenants/${owner.tid}/members/${leaver.user.id}`, { headers: leaver.auth });
    assert.equal(res.status, 204, describeRes(res));
    await expectKeyRefused(inside.key);
    expectEnvelopeError(await getKey(inT.owner, inside.id), 404, 'NOT_FOUND');
    await expectKeyWorks(outside.key, leaver.user.id, 'the key of the personal tenant');
  });
});

describe('PUT /v1/api-keys/{id}', () => {
  let owner;
  let other;
  before(async () => { [owner, other] = await Promise.all([newUser('put-owner'), newUser('put-other')]); });

  test('{name} changes only the name', async () => {
    const k = await createKey(owner.auth, { name: 'before', scopes: ['read'], collections: ['x'] });
    const res = await putKey(owner.auth, k.id, { name: 'after' });
    const data = expectSuccess(res, 200);
    expectKey(data, { owner: owner.user.id });
    const { key: _omit, ...noKey } = k;
    assert.deepEqual(data, { ...noKey, name: 'after' });
    assert.ok(!res.body.includes(k.key), 'PUT answers the full key');
    assert.deepEqual(expectSuccess(await getKey(owner.auth, k.id), 200), data);
    await expectKeyWorks(k.key, owner.user.id, 'renamed key');
  });

  test('{scopes} changes the scopes: adding admin lets the key manage keys, removing it stops that', async () => {
    const k = await createKey(owner.auth, { scopes: ['read'] });
    expectEnvelopeError(await listKeys(xkey(k.key)), 403, 'FORBIDDEN');
    const up = expectSuccess(await putKey(owner.auth, k.id, { scopes: ['read', 'admin'] }), 200);
    assert.deepEqual(sorted(up.scopes), ['admin', 'read']);
    assert.equal(up.name, k.name);
    expectSuccess(await listKeys(xkey(k.key)), 200);
    const down = expectSuccess(await putKey(owner.auth, k.id, { scopes: ['write'] }), 200);
    assert.deepEqual(down.scopes, ['write']);
    expectEnvelopeError(await listKeys(xkey(k.key)), 403, 'FORBIDDEN');
  });

  test('{is_active: false} disables the key at once; true enables it again', async () => {
    const k = await createKey(owner.auth);
    await expectKeyWorks(k.key, owner.user.id);
    const off = expectSuccess(await putKey(owner.auth, k.id, { is_active: false }), 200);
    assert.equal(off.is_active, false);
    await expectKeyRefused(k.key);
    expectUnauthorized(await server.get('/v1/auth/me', { headers: bearer(k.key) }));
    assert.equal(expectSuccess(await getKey(owner.auth, k.id), 200).is_active, false);
    const inList = (await listAll(owner.auth)).find((x) => x.id === k.id);
    assert.equal(inList?.is_active, false, 'an inactive key is still listed');
    const on = expectSuccess(await putKey(owner.auth, k.id, { is_active: true }), 200);
    assert.equal(on.is_active, true);
    await expectKeyWorks(k.key, owner.user.id, 're-enabled key');
  });

  test('an empty body changes nothing', async () => {
    const k = await createKey(owner.auth, { name: 'steady' });
    const data = expectSuccess(await putKey(owner.auth, k.id, {}), 200);
    const { key: _omit, ...noKey } = k;
    assert.deepEqual(data, noKey);
  });

  test('PATCH updates like PUT (§13: PUT and PATCH both update only the fields sent)', async () => {
    const k = await createKey(owner.auth, { name: 'patch me' });
    const res = await server.request('PATCH', `/v1/api-keys/${k.id}`, { headers: owner.auth, json: { name: 'patched' } });
    const data = expectSuccess(res, 200);
    assert.equal(data.name, 'patched');
    assert.deepEqual(sorted(data.scopes), ['read', 'write']);
  });

  describe('422 naming the field; nothing changes', () => {
    let k;
    let cors;
    before(async () => {
      k = await createKey(owner.auth, { name: 'validated' });
      cors = await createKey(owner.auth, { name: 'cors', allowed_origins: [uniqueOrigin()], scopes: ['read'] });
    });
    const cases = [
      ['name empty', { name: '' }, 'name'],
      ['name of 101 characters', { name: 'x'.repeat(101) }, 'name'],
      ['name a number', { name: 5 }, 'name'],
      ['scopes empty', { scopes: [] }, 'scopes'],
      ['scopes unknown', { scopes: ['root'] }, fieldOrItem('scopes')],
      ['scopes a string', { scopes: 'admin' }, 'scopes'],
      ['is_active a string', { is_active: 'no' }, 'is_active'],
      ['is_active a number', { is_active: 0 }, 'is_active'],
      ['an unknown field "key"', { key: `tbk_${'B'.repeat(43)}` }, 'key'],
      ['an unknown field "owner_user_id"', { owner_user_id: RANDOM_ID }, 'owner_user_id'],
      ['a valid name with an invalid is_active', { name: 'half', is_active: 'yes' }, 'is_active'],
    ];
    for (const [label, json, field] of cases) {
      test(label, async () => {
        expectValidationField(await putKey(owner.auth, k.id, json), field);
        const got = expectSuccess(await getKey(owner.auth, k.id), 200);
        const { key: _omit, ...noKey } = k;
        assert.deepEqual(got, noKey, 'the key changed after a refused update');
      });
    }
    test('admin scope on a CORS key -> 422 details.field "scopes"', async () => {
      expectValidationField(await putKey(owner.auth, cors.id, { scopes: ['read', 'admin'] }), 'scopes');
      assert.deepEqual(expectSuccess(await getKey(owner.auth, cors.id), 200).scopes, ['read']);
    });
  });

  test('another user\'s key, a random id, a malformed id -> 404; the key is unchanged', async () => {
    const k = await createKey(owner.auth, { name: 'mine' });
    expectEnvelopeError(await putKey(other.auth, k.id, { name: 'stolen', is_active: false }), 404, 'NOT_FOUND');
    expectEnvelopeError(await putKey(other.auth, RANDOM_ID, { name: 'x' }), 404, 'NOT_FOUND');
    expectEnvelopeError(await putKey(owner.auth, 'nope', { name: 'x' }), 404, 'NOT_FOUND');
    const got = expectSuccess(await getKey(owner.auth, k.id), 200);
    assert.equal(got.name, 'mine');
    assert.equal(got.is_active, true);
    await expectKeyWorks(k.key, owner.user.id);
  });

  test('without credentials -> 401 (before the body is looked at)', async () => {
    const k = await createKey(owner.auth);
    expectUnauthorized(await server.request('PUT', `/v1/api-keys/${k.id}`, { json: { name: '' } }));
  });
});

describe('DELETE /v1/api-keys/{id}', () => {
  let owner;
  let other;
  before(async () => { [owner, other] = await Promise.all([newUser('del-owner'), newUser('del-other')]); });

  test('204 without a body; the key is refused at once; GET -> 404; gone from the list', async () => {
    const k = await createKey(owner.auth);
    const keep = await createKey(owner.auth);
    await expectKeyWorks(k.key, owner.user.id);
    const res = await deleteKey(owner.auth, k.id);
    assert.equal(res.status, 204, describeRes(res));
    assert.equal(res.body, '');
    await expectKeyRefused(k.key);
    expectUnauthorized(await server.get('/v1/auth/me', { headers: bearer(k.key) }));
    expectEnvelopeError(await getKey(owner.auth, k.id), 404, 'NOT_FOUND');
    const ids = (await listAll(owner.auth)).map((x) => x.id);
    assert.ok(!ids.includes(k.id), 'a deleted key is still listed');
    assert.ok(ids.includes(keep.id));
    await expectKeyWorks(keep.key, owner.user.id, 'the other key');
  });

  test('deleting twice -> 404 the second time', async () => {
    const k = await createKey(owner.auth);
    assert.equal((await deleteKey(owner.auth, k.id)).status, 204);
    expectEnvelopeError(await deleteKey(owner.auth, k.id), 404, 'NOT_FOUND');
    expectEnvelopeError(await putKey(owner.auth, k.id, { is_active: true }), 404, 'NOT_FOUND');
    expectEnvelopeError(await rotateKey(owner.auth, k.id), 404, 'NOT_FOUND');
    await expectKeyRefused(k.key);
  });

  test('another user\'s key -> 404 and it keeps working', async () => {
    const k = await createKey(owner.auth);
    expectEnvelopeError(await deleteKey(other.auth, k.id), 404, 'NOT_FOUND');
    expectEnvelopeError(await deleteKey(other.auth, RANDOM_ID), 404, 'NOT_FOUND');
    await expectKeyWorks(k.key, owner.user.id);
  });
});

describe('POST /v1/api-keys/{id}/rotate', () => {
  let owner;
  let other;
  before(async () => { [owner, other] = await Promise.all([newUser('rot-owner'), newUser('rot-other')]); });

  test('200 with a new key for the same id; the old key is refused at once, the new one works', async () => {
    const k = await createKey(owner.auth, { name: 'rotating', scopes: ['read'], collections: ['posts'] });
    await expectKeyWorks(k.key, owner.user.id);
    const res = await rotateKey(owner.auth, k.id);
    const r = expectSuccess(res, 200);
    expectKey(r, { withKey: true, owner: owner.user.id });
    assert.equal(r.id, k.id);
    assert.notEqual(r.key, k.key);
    assert.equal(r.preview, previewOf(r.key));
    for (const f of ['name', 'scopes', 'collections', 'allowed_origins', 'owner_user_id', 'tenant_id', 'is_active',
      'created_at', 'expires_at']) {
      assert.deepEqual(r[f], k[f], `${f} is kept by a rotation`);
    }
    await expectKeyRefused(k.key);
    await expectKeyWorks(r.key, owner.user.id, 'rotated key');
    const got = expectSuccess(await getKey(owner.auth, k.id), 200);
    assert.equal(got.preview, r.preview);
    assert.ok(!JSON.stringify(got).includes(r.key));
  });

  test('rotating twice: only the latest key works', async () => {
    const k = await createKey(owner.auth);
    const r1 = expectSuccess(await rotateKey(owner.auth, k.id), 200);
    const r2 = expectSuccess(await rotateKey(owner.auth, k.id), 200);
    assert.equal(new Set([k.key, r1.key, r2.key]).size, 3);
    await expectKeyRefused(k.key);
    await expectKeyRefused(r1.key);
    await expectKeyWorks(r2.key, owner.user.id);
  });

  test('another user\'s key, a random id -> 404; the key keeps working', async () => {
    const k = await createKey(owner.auth);
    expectEnvelopeError(await rotateKey(other.auth, k.id), 404, 'NOT_FOUND');
    expectEnvelopeError(await rotateKey(owner.auth, RANDOM_ID), 404, 'NOT_FOUND');
    await expectKeyWorks(k.key, owner.user.id);
  });
});

describe('using a key', () => {
  let owner;
  let k;
  before(async () => {
    owner = await newUser('use');
    k = await createKey(owner.auth, { name: 'user' });
  });

  test('X-API-Key, Authorization: Bearer and lower-case bearer all work', async () => {
    for (const headers of [xkey(k.key), bearer(k.key), { Authorization: `bearer ${k.key}` }]) {
      const res = await server.get('/v1/auth/me', { headers });
      const data = expectSuccess(res, 200);
      assert.equal(data.user.id, owner.user.id);
      assert.deepEqual(data.tenants, owner.tenants);
    }
  });

  const badKeys = {
    'a well-formed unknown key': () => `tbk_${'x'.repeat(43)}`,
    'the key with its last character changed': () => k.key.slice(0, -1) + (k.key.endsWith('A') ? 'B' : 'A'),
    'the key truncated': () => k.key.slice(0, -1),
    'the key with a character appended': () => `${k.key}A`,
    'the key without its prefix': () => k.key.slice(4),
    'the key with an upper-case prefix': () => `TBK_${k.key.slice(4)}`,
    'the preview': () => k.preview.replace('\u2026', '...'),
  };
  for (const [label, make] of Object.entries(badKeys)) {
    test(`401 with WWW-Authenticate: Bearer for ${label} (X-API-Key)`, async () => {
      await expectKeyRefused(make());
    });
  }
  test('401 for an unknown tbk_ key as Bearer', async () => {
    expectUnauthorized(await server.get('/v1/auth/me', { headers: bearer(`tbk_${'y'.repeat(43)}`) }));
  });

  test('the key keeps working after its owner logs out (all sessions) and changes the password', async () => {
    const u = await newUser('survivor');
    const key = await createKey(u.auth);
    expectSuccess(await server.post('/v1/auth/logout', { headers: u.auth, json: { all: true } }), 200);
    await expectKeyWorks(key.key, u.user.id, 'key after logout');
    const s = await login(server, u.email);
    const res = await server.post('/v1/auth/password', {
      headers: bearer(s.tokens.access_token),
      json: { current_password: PASSWORD, new_password: 'a completely new passphrase' },
    });
    assert.equal(res.status, 200, describeRes(res));
    await expectKeyWorks(key.key, u.user.id, 'key after a password change');
  });

  describe('session-only endpoints refuse a key (403 FORBIDDEN) and change nothing', () => {
    let u;
    let key;
    before(async () => {
      u = await newUser('session-only');
      key = await createKey(u.auth, { scopes: ['read', 'write', 'admin'] });
    });
    for (const [label, auth] of [['X-API-Key', (kk) => xkey(kk)], ['Bearer', (kk) => bearer(kk)]]) {
      test(`POST /v1/auth/logout (${label})`, async () => {
        const res = await server.post('/v1/auth/logout', { headers: auth(key.key), json: { all: true } });
        expectEnvelopeError(res, 403, 'FORBIDDEN');
        await expectKeyWorks(key.key, u.user.id);
        const me = await server.get('/v1/auth/me', { headers: u.auth });
        assert.equal(me.status, 200, 'the user\'s session survives');
      });
      test(`PATCH /v1/auth/me (${label})`, async () => {
        const res = await server.request('PATCH', '/v1/auth/me', { headers: auth(key.key), json: { name: 'Changed by key' } });
        expectEnvelopeError(res, 403, 'FORBIDDEN');
        const me = expectSuccess(await meWithKey(key.key), 200);
        assert.notEqual(me.user.name, 'Changed by key');
      });
      test(`POST /v1/auth/password (${label})`, async () => {
        const res = await server.post('/v1/auth/password', {
          headers: auth(key.key), json: { current_password: PASSWORD, new_password: 'stolen via a key 123' },
        });
        expectEnvelopeError(res, 403, 'FORBIDDEN');
        assert.ok(!res.body.includes('stolen via a key 123'));
        await login(server, u.email, PASSWORD); // the password did not change
      });
    }
  });
});

describe('CORS keys (allowed_origins)', () => {
  let owner;
  let origin;
  let cors;
  before(async () => {
    owner = await newUser('cors');
    origin = uniqueOrigin();
    cors = await createKey(owner.auth, { name: 'browser', scopes: ['read'], allowed_origins: [origin] });
  });

  test('with a listed Origin: 200, Access-Control-Allow-Origin and Vary: Origin', async () => {
    const res = await meWithKey(cors.key, { Origin: origin });
    const data = expectSuccess(res, 200);
    assert.equal(data.user.id, owner.user.id);
    assert.equal(res.headers['access-control-allow-origin'], origin);
    assert.ok(headerTokens(res.headers.vary).includes('origin'), `Vary: ${res.headers.vary}`);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
  });

  test('the same with Authorization: Bearer', async () => {
    const res = await server.get('/v1/auth/me', { headers: { ...bearer(cors.key), Origin: origin } });
    expectSuccess(res, 200);
    assert.equal(res.headers['access-control-allow-origin'], origin);
  });

  test('a key listing two origins works from either', async () => {
    const o1 = uniqueOrigin();
    const o2 = 'http://localhost:5173';
    const two = await createKey(owner.auth, { allowed_origins: [o1, o2] });
    for (const o of [o1, o2]) {
      const res = await meWithKey(two.key, { Origin: o });
      expectSuccess(res, 200);
      assert.equal(res.headers['access-control-allow-origin'], o);
    }
  });

  test('without an Origin header -> 401', async () => {
    await expectKeyRefused(cors.key);
  });

  for (const [label, make] of [
    ['another origin', () => 'https://evil.example'],
    ['the origin with another scheme', () => origin.replace('https:', 'http:')],
    ['the origin with a port', () => `${origin}:8443`],
    ['a suffix of the origin', () => `${origin}.evil.example`],
    ['"null"', () => 'null'],
  ]) {
    test(`with ${label} -> 401`, async () => {
      const res = await meWithKey(cors.key, { Origin: make() });
      expectUnauthorized(res);
      assert.notEqual(res.headers['access-control-allow-origin'], make());
    });
  }

  test('preflight from a listed origin -> 204 with Access-Control-Allow-Origin; unlisted -> without', async () => {
    expectPreflight(await preflight(origin), origin, true);
    expectPreflight(await preflight(origin, '/v1/api-keys'), origin, true);
    const unlisted = uniqueOrigin();
    expectPreflight(await preflight(unlisted), unlisted, false);
  });

  test('an origin stops passing the preflight when its only key is disabled or deleted', async () => {
    const o = uniqueOrigin();
    const k = await createKey(owner.auth, { allowed_origins: [o] });
    expectPreflight(await preflight(o), o, true);
    expectSuccess(await putKey(owner.auth, k.id, { is_active: false }), 200);
    expectPreflight(await preflight(o), o, false);
    expectSuccess(await putKey(owner.auth, k.id, { is_active: true }), 200);
    expectPreflight(await preflight(o), o, true);
    assert.equal((await deleteKey(owner.auth, k.id)).status, 204);
    expectPreflight(await preflight(o), o, false);
  });

  test('a disabled CORS key is refused even from its origin', async () => {
    const o = uniqueOrigin();
    const k = await createKey(owner.auth, { allowed_origins: [o] });
    expectSuccess(await meWithKey(k.key, { Origin: o }), 200);
    expectSuccess(await putKey(owner.auth, k.id, { is_active: false }), 200);
    await expectKeyRefused(k.key, { Origin: o });
  });

  test('an ordinary key\'s request from an origin gets no Access-Control-Allow-Origin (server allows none)', async () => {
    const plain = await createKey(owner.auth);
    const o = uniqueOrigin();
    const res = await meWithKey(plain.key, { Origin: o });
    assert.equal(res.status, 200, describeRes(res));
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  test('a CORS key can be created with read/write but never admin (also via an admin key)', async () => {
    // A key hands out no more than it holds: the creating key has read and write besides admin.
    const adminKey = await createKey(owner.auth, { scopes: ['read', 'write', 'admin'] });
    const ok = await createKey(xkey(adminKey.key), { scopes: ['read', 'write'], allowed_origins: [uniqueOrigin()] });
    assert.deepEqual(sorted(ok.scopes), ['read', 'write']);
    const res = await server.post('/v1/api-keys', {
      headers: xkey(adminKey.key), json: { name: 'x', scopes: ['admin'], allowed_origins: [uniqueOrigin()] },
    });
    expectValidationField(res, 'scopes');
  });

  test('a CORS key created without scopes gets read+write', async () => {
    const k = await createKey(owner.auth, { allowed_origins: [uniqueOrigin()] });
    assert.deepEqual(sorted(k.scopes), ['read', 'write']);
  });
});

describe('a revocation reaches every connection at once (caches warmed on several first)', () => {
  let owner;
  before(async () => { owner = await newUser('revoke-all'); });
  const ways = {
    'DELETE': async (k) => { assert.equal((await deleteKey(owner.auth, k.id)).status, 204); },
    'PUT is_active false': async (k) => { expectSuccess(await putKey(owner.auth, k.id, { is_active: false }), 200); },
    'rotate': async (k) => { expectSuccess(await rotateKey(owner.auth, k.id), 200); },
  };
  for (const [label, revoke] of Object.entries(ways)) {
    test(label, async () => {
      const k = await createKey(owner.auth);
      assert.deepEqual(await statusesInParallel(k.key), Array(6).fill(200));
      await revoke(k);
      assert.deepEqual(await statusesInParallel(k.key), Array(6).fill(401));
    });
  }
  test('PUT scopes without admin: management refused on every connection at once', async () => {
    const k = await createKey(owner.auth, { scopes: ['read', 'admin'] });
    const many = () => Promise.all(Array.from({ length: 6 }, () => listKeys(xkey(k.key)).then((r) => r.status)));
    assert.deepEqual(await many(), Array(6).fill(200));
    expectSuccess(await putKey(owner.auth, k.id, { scopes: ['read'] }), 200);
    assert.deepEqual(await many(), Array(6).fill(403));
  });
});

// The slow ones (they wait for the clock or for a batched write) run side by side.
describe('time: expiry and last_used_at', { concurrency: true }, () => {
  test('a key past its expires_at is refused (401)', async () => {
    const owner = await newUser('expiry');
    const expiresAt = new Date(Date.now() + 3_000);
    const k = await createKey(owner.auth, { expires_at: expiresAt.toISOString() });
    assert.equal(Date.parse(k.expires_at), expiresAt.getTime());
    await expectKeyWorks(k.key, owner.user.id, 'key before expiry');
    await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 600);
    await expectKeyRefused(k.key);
    expectUnauthorized(await server.get('/v1/auth/me', { headers: bearer(k.key) }));
    // It is still listed, with its expiry.
    const got = expectSuccess(await getKey(owner.auth, k.id), 200);
    assert.equal(got.expires_at, k.expires_at);
  });

  test('an expired admin key cannot manage keys either (401)', async () => {
    const owner = await newUser('expiry-admin');
    const expiresAt = new Date(Date.now() + 3_000);
    const k = await createKey(owner.auth, { scopes: ['admin'], expires_at: expiresAt.toISOString() });
    expectSuccess(await listKeys(xkey(k.key)), 200);
    await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 600);
    expectUnauthorized(await listKeys(xkey(k.key)));
  });

  test('last_used_at: null until used, then a recent timestamp within 10 s', async () => {
    const owner = await newUser('last-used');
    const k = await createKey(owner.auth);
    const unused = await createKey(owner.auth);
    assert.equal(k.last_used_at, null);
    const t0 = Date.now();
    await expectKeyWorks(k.key, owner.user.id);
    let got;
    while (true) {
      got = expectSuccess(await getKey(owner.auth, k.id), 200);
      if (got.last_used_at !== null || Date.now() - t0 > 10_000) break;
      await sleep(250);
    }
    assert.notEqual(got.last_used_at, null, 'last_used_at still null 10 s after a use');
    expectRecentTimestamp(got.last_used_at, 'last_used_at');
    assert.ok(got.last_used_at >= k.created_at, `last_used_at ${got.last_used_at} < created_at ${k.created_at}`);
    assert.ok(Date.parse(got.last_used_at) >= t0 - 1_000, `last_used_at ${got.last_used_at} is before the use`);
    assert.equal(expectSuccess(await getKey(owner.auth, unused.id), 200).last_used_at, null,
      'an unused key has last_used_at null');
  });
});

// Last: what the server keeps. "Stored as a hash only" (API.md §4): no full key in the
// database files (SQLite: main file and WAL) or in a dump of the PostgreSQL database, and none
// in the server's own output.
describe('no full key at rest or in the logs', () => {
  test('the database does not contain any full key', async () => {
    assert.ok(issuedKeys.size > 20, `only ${issuedKeys.size} keys were recorded`);
    let haystack;
    if (server.backend === 'postgres') {
      const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', server.databaseUrl],
        { maxBuffer: 256 * 1024 * 1024, timeout: 20_000 });
      haystack = Buffer.from(stdout);
      assert.ok(haystack.length > 0, 'empty dump');
    } else {
      const files = [];
      const walk = async (dir) => {
        for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) await walk(p);
          else if (e.isFile()) files.push(p);
        }
      };
      await walk(server.dataDir);
      assert.ok(files.length > 0, `no files in ${server.dataDir}`);
      haystack = Buffer.concat(await Promise.all(files.map((f) => fsp.readFile(f))));
    }
    const text = haystack.toString('latin1');
    assert.ok(text.includes('CI deploy'), 'sanity: the keys table (a key named "CI deploy") is in what was searched');
    for (const key of issuedKeys) {
      assert.ok(!text.includes(key), `a full key is stored in the database (${key.slice(0, 8)}…)`);
      assert.ok(!text.includes(key.slice(4)), `a full key without its prefix is stored in the database`);
    }
  });

  test('the server output never contains a full key', () => {
    const out = server.output();
    for (const key of issuedKeys) assert.ok(!out.includes(key.slice(4)), 'a full key is in the server output');
  });
});
