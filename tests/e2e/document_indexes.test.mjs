// Collection indexes (API.md §5.1 `indexes`, §13; docs/api.md "Collection indexes"): a
// declared index is a real SQL index (its query plans are checked in
// tests/storage/list_sql_test.cpp); `unique` refuses a repeated number or string with 409 on
// every write path and leaves nothing written; declaring a unique index over documents that
// already repeat a value answers 409 and changes nothing; removing it lifts the constraint.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, expectConflict, expectSuccess, newUser } from './tenancy_helpers.mjs';

let server;
let H;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  const owner = await newUser(server, 'dix');
  H = as(owner, owner.tid);
});
after(async () => { await server?.stop(); });

let n = 0;
const uname = () => `ix-${process.pid}-${++n}`;
const docs = (c) => `/v1/collections/${c}/documents`;
const count = async (c) => (await server.get(`${docs(c)}?per_page=1`, { headers: H })).json.meta.total;

test('a unique index refuses repeats on create, batch, PUT and PATCH, and nothing is written', async () => {
  const c = uname();
  expectSuccess(await server.post('/v1/collections', { headers: H, json: { name: c, indexes: [{ fields: ['sku'], unique: true }, { fields: ['tag', '-n'] }] } }), 201);
  const a = await server.post(docs(c), { headers: H, json: { sku: 'A-1', n: 1 } });
  expectSuccess(a, 201);
  expectConflict(await server.post(docs(c), { headers: H, json: { sku: 'A-1', n: 2 } }));
  // A batch with one repeat (against a stored document, or inside the batch) writes nothing.
  expectConflict(await server.post(docs(c), { headers: H, json: [{ sku: 'B-1' }, { sku: 'A-1' }] }));
  expectConflict(await server.post(docs(c), { headers: H, json: [{ sku: 'C-1' }, { sku: 'C-1' }] }));
  assert.equal(await count(c), 1);
  // Numbers: 5 and 5.0 are one value; the number 5 and the string "5" are two.
  expectSuccess(await server.post(docs(c), { headers: H, json: { sku: 5 } }), 201);
  expectConflict(await server.post(docs(c), { headers: H, json: { sku: 5.0 } }));
  expectSuccess(await server.post(docs(c), { headers: H, json: { sku: '5' } }), 201);
  // Missing, null, booleans and objects are not held by a unique index.
  for (const body of [{}, {}, { sku: null }, { sku: null }, { sku: true }, { sku: true }, { sku: { x: 1 } }, { sku: { x: 1 } }]) {
    expectSuccess(await server.post(docs(c), { headers: H, json: body }), 201);
  }
  const b = await server.post(docs(c), { headers: H, json: { sku: 'B-2' } });
  expectSuccess(b, 201);
  const put = await server.request('PUT', `${docs(c)}/${b.json.data._id}`, { headers: H, json: { sku: 'A-1' } });
  expectConflict(put);
  const patch = await server.request('PATCH', `${docs(c)}/${b.json.data._id}`, { headers: H, json: { sku: 'A-1' } });
  expectConflict(patch);
  const kept = await server.get(`${docs(c)}/${b.json.data._id}`, { headers: H });
  assert.equal(kept.json.data.sku, 'B-2');
  assert.equal(kept.json.data._version, 1);
  // Changing a document to a free value, and freeing a value by deleting, work.
  expectSuccess(await server.request('PATCH', `${docs(c)}/${b.json.data._id}`, { headers: H, json: { sku: 'B-3' } }), 200);
  assert.equal((await server.request('DELETE', `${docs(c)}/${a.json.data._id}`, { headers: H })).status, 204);
  expectSuccess(await server.post(docs(c), { headers: H, json: { sku: 'A-1' } }), 201);
});

test('declaring a unique index over repeated values → 409 naming it, nothing changes; dropping it lifts the constraint', async () => {
  const c = uname();
  expectSuccess(await server.post(docs(c), { headers: H, json: [{ email: 'x@y.z' }, { email: 'x@y.z' }, { email: 'q@y.z' }] }), 201);
  const res = await server.request('PATCH', `/v1/collections/${c}`, { headers: H, json: { indexes: [{ fields: ['other'] }, { fields: ['email'], unique: true }] } });
  expectConflict(res);
  assert.equal(res.json.error.details.field, 'indexes.1');
  let col = await server.get(`/v1/collections/${c}`, { headers: H });
  assert.deepEqual(col.json.data.indexes, []);
  // Without the repeat it is accepted, and then enforced.
  const all = (await server.get(`${docs(c)}?per_page=100`, { headers: H })).json.data;
  assert.equal((await server.request('DELETE', `${docs(c)}/${all[1]._id}`, { headers: H })).status, 204);
  expectSuccess(await server.request('PATCH', `/v1/collections/${c}`, { headers: H, json: { indexes: [{ fields: ['email'], unique: true }] } }), 200);
  col = await server.get(`/v1/collections/${c}`, { headers: H });
  assert.deepEqual(col.json.data.indexes, [{ fields: ['email'], unique: true }]);
  expectConflict(await server.post(docs(c), { headers: H, json: { email: 'x@y.z' } }));
  // Dropping the declaration drops the index.
  expectSuccess(await server.request('PATCH', `/v1/collections/${c}`, { headers: H, json: { indexes: [] } }), 200);
  expectSuccess(await server.post(docs(c), { headers: H, json: { email: 'x@y.z' } }), 201);
});

test('unique is per collection: the same value in another collection or another tenant is fine', async () => {
  const c1 = uname();
  const c2 = uname();
  for (const c of [c1, c2]) {
    expectSuccess(await server.post('/v1/collections', { headers: H, json: { name: c, indexes: [{ fields: ['code'], unique: true }] } }), 201);
    expectSuccess(await server.post(docs(c), { headers: H, json: { code: 'same' } }), 201);
  }
  const other = await newUser(server, 'dix2');
  const H2 = as(other, other.tid);
  expectSuccess(await server.post('/v1/collections', { headers: H2, json: { name: c1, indexes: [{ fields: ['code'], unique: true }] } }), 201);
  expectSuccess(await server.post(docs(c1), { headers: H2, json: { code: 'same' } }), 201);
  // Deleting a collection with indexes, then making it again, starts clean.
  assert.equal((await server.request('DELETE', `/v1/collections/${c2}`, { headers: H })).status, 204);
  expectSuccess(await server.post('/v1/collections', { headers: H, json: { name: c2, indexes: [{ fields: ['code'], unique: true }] } }), 201);
  expectSuccess(await server.post(docs(c2), { headers: H, json: { code: 'same' } }), 201);
});

test('lists filtered and sorted through an index answer like any other list', async () => {
  const c = uname();
  expectSuccess(await server.post('/v1/collections', { headers: H, json: { name: c, indexes: [{ fields: ['tag', '-n'] }] } }), 201);
  const bodies = Array.from({ length: 60 }, (_, i) => ({ tag: `t${i % 3}`, n: (i * 37) % 20 }));
  expectSuccess(await server.post(docs(c), { headers: H, json: bodies }), 201);
  const ids = [];
  let after = '';
  for (;;) {
    const res = await server.get(`${docs(c)}?tag=t1&sort=-n&per_page=7&after=${encodeURIComponent(after)}`, { headers: H });
    expectSuccess(res, 200);
    ids.push(...res.json.data.map((d) => d.n));
    after = res.json.meta.next_cursor;
    if (!after) break;
  }
  const expected = bodies.filter((b) => b.tag === 't1').map((b) => b.n).sort((x, y) => y - x);
  assert.deepEqual(ids, expected);
});

// The SQL index names behind the server's collections (dx_…), read from its database.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

function indexNames() {
  if (server.backend === 'postgres') {
    const out = execFileSync('psql', [server.databaseUrl, '-Atc',
      "SELECT indexname FROM pg_indexes WHERE tablename = 'documents' AND indexname LIKE 'dx\\_%'"], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean).sort();
  }
  const db = path.join(server.dataDir, 'tenantbase.db');
  const out = execFileSync('python3', ['-c', `import sqlite3,sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
print('\\n'.join(r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'dx%'")))`, db], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).sort();
}

test('indexes come and go with their declarations, collections and tenants', async () => {
  const before = indexNames();
  const owner = await newUser(server, 'dix3');
  const H3 = as(owner, owner.tid);
  const c = uname();
  expectSuccess(await server.post('/v1/collections', { headers: H3, json: { name: c, indexes: [{ fields: ['a'] }, { fields: ['b'], unique: true }] } }), 201);
  const added = indexNames().filter((x) => !before.includes(x));
  assert.equal(added.length, 2, `two new indexes: ${added}`);
  expectSuccess(await server.request('PATCH', `/v1/collections/${c}`, { headers: H3, json: { indexes: [{ fields: ['a'] }] } }), 200);
  assert.equal(indexNames().filter((x) => !before.includes(x)).length, 1);
  const c2 = uname();
  expectSuccess(await server.post('/v1/collections', { headers: H3, json: { name: c2, indexes: [{ fields: ['z'] }] } }), 201);
  assert.equal(indexNames().filter((x) => !before.includes(x)).length, 2);
  assert.equal((await server.request('DELETE', `/v1/collections/${c2}`, { headers: H3 })).status, 204);
  assert.equal(indexNames().filter((x) => !before.includes(x)).length, 1);
  // Deleting the tenant removes its collections, and their indexes with them.
  assert.equal((await server.request('DELETE', `/v1/tenants/${owner.tid}`, { headers: H3 })).status, 204);
  assert.deepEqual(indexNames(), before);
});
