// Refusals are audited (issue #29 item 6): a 403, or a 404 that hides another tenant, becomes
// an `access.denied` event (actor, key, route, status, ip) in the log of the tenant it was
// aimed at, at most 10 per actor and minute (the rest counted in `details.suppressed` of the
// next one), and in /metrics as tenantbase_access_denied_total. A guessed tenant id leaves
// nothing behind.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RFC3339_MS_Z, sleep, startServer } from './harness.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, RANDOM_ID, adminLogin, as, bearer, describeRes, expectSuccess, newUser,
} from './tenancy_helpers.mjs';

let server;
let admin;
let owner; // owner of tenant A
let viewer; // viewer in A
let outsider; // owner of another tenant, member of none of A's
let readKey; // a read-only key of owner's in A

before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  admin = await adminLogin(server);
  owner = await newUser(server, 'ad-owner');
  outsider = await newUser(server, 'ad-outsider');
  const v = await newUser(server, 'ad-viewer');
  expectSuccess(await server.post(`/v1/tenants/${owner.tid}/members`, {
    headers: owner.auth, json: { email: v.email, role: 'viewer' },
  }), 201);
  viewer = { ...v, auth: bearer((await server.post('/v1/auth/login', {
    json: { email: v.email, password: PASSWORD, tenant_id: owner.tid },
  })).json.data.tokens.access_token) };
  expectSuccess(await server.post('/v1/collections', { headers: as(owner, owner.tid), json: { name: 'notes' } }), 201);
  readKey = expectSuccess(await server.post('/v1/api-keys', {
    headers: as(owner, owner.tid), json: { name: 'reader', scopes: ['read'] },
  }), 201);
});
after(async () => { await server?.stop(); });

/** The access.denied events a reader sees, polled until `want` holds (flushed each second). */
async function denials(headers, want = (list) => list.length > 0) {
  let list = [];
  for (let i = 0; i < 40; i++) {
    const res = await server.get('/v1/audit-logs?action=access.denied&per_page=100', { headers });
    list = expectSuccess(res, 200);
    if (want(list)) return list;
    await sleep(100);
  }
  return list;
}

test('a viewer\'s 403 is recorded in the tenant\'s log with actor, route, status and ip', async () => {
  const res = await server.post('/v1/collections', {
    headers: as(viewer, owner.tid), json: { name: 'tasks' },
  });
  assert.equal(res.status, 403, describeRes(res));
  const list = await denials(as(owner, owner.tid), (l) => l.some((e) => e.actor === viewer.user.id));
  const e = list.find((x) => x.actor === viewer.user.id);
  assert.ok(e, `no access.denied for the viewer in ${JSON.stringify(list)}`);
  assert.equal(e.tenant_id, owner.tid);
  assert.equal(e.target, '/v1/collections');
  assert.equal(e.details.route, 'POST /v1/collections');
  assert.equal(e.details.status, 403);
  assert.equal(e.ip, '127.0.0.1');
  assert.match(e.ts, RFC3339_MS_Z);
  assert.equal(e.details.via_key, undefined);
});

test('a key without the scope: the event names the key', async () => {
  const res = await server.post('/v1/collections/notes/documents', {
    headers: { 'X-API-Key': readKey.key }, json: { title: 'x' },
  });
  assert.equal(res.status, 403, describeRes(res));
  const list = await denials(as(owner, owner.tid), (l) => l.some((e) => e.details.via_key === readKey.id));
  const e = list.find((x) => x.details.via_key === readKey.id);
  assert.ok(e, JSON.stringify(list));
  assert.equal(e.actor, owner.user.id);
  assert.equal(e.details.route, 'POST /v1/collections/{name}/documents');
});

test('an outsider\'s 404 on another tenant lands in that tenant\'s log, not in the outsider\'s', async () => {
  const byPath = await server.get(`/v1/tenants/${owner.tid}/members`, { headers: outsider.auth });
  assert.equal(byPath.status, 404, describeRes(byPath));
  const byHeader = await server.get('/v1/collections', { headers: as(outsider, owner.tid) });
  assert.equal(byHeader.status, 404, describeRes(byHeader));
  const list = await denials(as(owner, owner.tid), (l) => l.filter((e) => e.actor === outsider.user.id).length >= 2);
  const mine = list.filter((e) => e.actor === outsider.user.id);
  assert.deepEqual(mine.map((e) => e.details.route).sort(),
    ['GET /v1/collections', 'GET /v1/tenants/{id}/members']);
  for (const e of mine) {
    assert.equal(e.details.status, 404);
    assert.equal(e.tenant_id, owner.tid);
  }
  const own = await denials(as(outsider, outsider.tid), () => false);
  assert.deepEqual(own, [], 'nothing in the outsider\'s own log');
});

test('a guessed tenant id leaves nothing behind; a platform route\'s 403 is instance-level', async () => {
  const guessed = await server.get('/v1/collections', { headers: as(outsider, RANDOM_ID) });
  assert.equal(guessed.status, 404);
  // X-Tenant-ID naming a tenant on a 403 that entered none: not that tenant's log (anyone
  // could write into the log of any tenant they can name).
  const metrics = await server.get('/metrics', { headers: { ...outsider.auth, 'X-Tenant-ID': owner.tid } });
  assert.equal(metrics.status, 403, describeRes(metrics));
  const all = await denials(admin.auth, (l) => l.some((e) => e.target === '/metrics'));
  const platform = all.find((e) => e.target === '/metrics');
  assert.ok(platform, JSON.stringify(all));
  assert.equal(platform.tenant_id, null);
  assert.equal(platform.actor, outsider.user.id);
  assert.ok(!all.some((e) => e.tenant_id === RANDOM_ID), 'no event for a tenant that does not exist');
  const owners = await denials(as(owner, owner.tid), () => false);
  assert.ok(!owners.some((e) => e.target === '/metrics'), 'the named tenant got nothing');
});

test('a flood of refusals records at most 10 per actor and minute; /metrics counts them all', async () => {
  const flooder = await newUser(server, 'ad-flood');
  const count = (text) => Number(text.match(/^tenantbase_access_denied_total (\d+)/m)?.[1]);
  const before = count((await server.metrics()).body);
  const results = await Promise.all(Array.from({ length: 40 }, () =>
    server.get(`/v1/tenants/${owner.tid}`, { headers: flooder.auth })));
  for (const r of results) assert.equal(r.status, 404);
  const afterCount = count((await server.metrics()).body);
  assert.ok(afterCount - before >= 40, `counter went from ${before} to ${afterCount}`);
  // Every event of this minute has been flushed after a second or two.
  await sleep(2500);
  const mine = (await denials(as(owner, owner.tid))).filter((e) => e.actor === flooder.user.id);
  // The 40 may straddle a minute boundary: then up to 10 more, with the count of the rest.
  assert.ok(mine.length >= 10 && mine.length <= 20, `${mine.length} events recorded`);
  const suppressed = mine.reduce((n, e) => n + (e.details.suppressed ?? 0), 0);
  assert.ok(suppressed <= 40 - mine.length, `suppressed ${suppressed}`);
  // The tenant's own traffic is not held back by the flood.
  assert.equal((await server.get('/v1/collections', { headers: as(owner, owner.tid) })).status, 200);
});
