// Concurrent single-document creates in one collection (issue #23): on PostgreSQL they are
// written in shared transactions (collections/create_combiner.h), on SQLite by the writer's
// group commit. Either way every request gets the answer it would have had alone: of
// concurrent creates repeating a unique value exactly one is 201 and the others 409; against
// a quota exactly the room is 201 and the rest 402; every 201 is stored (by id, with the
// `_created` it was answered with), and the collection's count is the number of 201s.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV } from './auth_helpers.mjs';
import { as, describeRes, expectSuccess, newUser } from './tenancy_helpers.mjs';

let server; let h;
before(async () => {
  server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_PLANS_QUOTA40_MAX_DOCUMENTS: '40' } });
  const u = await newUser(server, 'combine');
  h = as(u, u.tid);
});
after(async () => { await server?.stop(); });

const post = (c, json) => server.post(`/v1/collections/${c}/documents`, { headers: h, json });

test('concurrent creates with repeated unique values: one 201 per value, the rest 409, all 201s stored', async () => {
  expectSuccess(await server.post('/v1/collections', { headers: h, json: { name: 'burst', indexes: [{ fields: ['u'], unique: true }] } }), 201);
  // 96 creates at once: 64 distinct values, and 8 values sent 4 times each.
  const bodies = [];
  for (let i = 0; i < 64; i++) bodies.push({ u: `solo-${i}`, i });
  for (let v = 0; v < 8; v++) for (let k = 0; k < 4; k++) bodies.push({ u: `dup-${v}`, k });
  const answers = await Promise.all(bodies.map((b) => post('burst', b)));
  const created = [];
  const byValue = new Map();
  answers.forEach((res, i) => {
    assert.ok(res.status === 201 || res.status === 409, describeRes(res));
    const u = bodies[i].u;
    byValue.set(u, [...(byValue.get(u) ?? []), res.status]);
    if (res.status === 201) created.push(res.json.data);
    else assert.equal(res.json.error.code, 'CONFLICT');
  });
  for (const [u, statuses] of byValue) {
    assert.equal(statuses.filter((s) => s === 201).length, 1, `${u}: ${statuses}`);
  }
  assert.equal(created.length, 72);
  for (const doc of created) {
    const got = expectSuccess(await server.get(`/v1/collections/burst/documents/${doc._id}`, { headers: h }), 200);
    assert.equal(got._created, doc._created);
    assert.equal(got.u, doc.u);
  }
  const c = expectSuccess(await server.get('/v1/collections/burst', { headers: h }), 200);
  assert.equal(c.document_count, 72);
  const sorted = expectSuccess(await server.get('/v1/collections/burst/documents?sort=_created&per_page=100', { headers: h }), 200);
  assert.equal(sorted.length, 72);
});

test('concurrent creates against a quota: exactly the room is written', async () => {
  const admin = await import('./tenancy_helpers.mjs').then((m) => m.adminLogin(server));
  const u = await newUser(server, 'combine-quota');
  expectSuccess(await server.request('PUT', `/v1/tenants/${u.tid}`, { headers: admin.auth, json: { plan: 'quota40' } }), 200);
  const hq = as(u, u.tid);
  // The owner's personal tenant holds no documents yet: room for 40.
  const answers = await Promise.all(Array.from({ length: 64 }, (_, i) =>
    server.post('/v1/collections/q/documents', { headers: hq, json: { i } })));
  const statuses = answers.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 40, JSON.stringify(statuses));
  assert.equal(statuses.filter((s) => s === 402).length, 24);
  const c = expectSuccess(await server.get('/v1/collections/q', { headers: hq }), 200);
  assert.equal(c.document_count, 40);
});

// Concurrent writes to one document queue on its row (PostgreSQL reads it FOR UPDATE; SQLite's
// writer runs them one at a time): 48 PUTs and PATCHes at once all succeed, each version from
// 2 to 49 is answered exactly once, and the document ends at version 49.
test('48 concurrent updates of one document: all 200, versions 2 to 49 once each', async () => {
  const made = await post('hot', { n: 0 });
  expectSuccess(made, 201);
  const id = made.json.data._id;
  const answers = await Promise.all(Array.from({ length: 48 }, (_, i) => server.request(
    i % 2 ? 'PATCH' : 'PUT', `/v1/collections/hot/documents/${id}`, { headers: h, json: { n: i } })));
  for (const res of answers) assert.equal(res.status, 200, describeRes(res));
  const versions = answers.map((r) => r.json.data._version).sort((a, b) => a - b);
  assert.deepEqual(versions, Array.from({ length: 48 }, (_, i) => i + 2));
  const now = await server.get(`/v1/collections/hot/documents/${id}`, { headers: h });
  assert.equal(now.json.data._version, 49);
});
