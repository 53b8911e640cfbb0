// Differential test of the document query language (issue #6): random documents (every JSON
// type, missing fields, nulls, arrays, nested objects, unicode) and thousands of random
// queries; the server's answer must equal the reference evaluator's (query_reference.mjs),
// in the same order (_id ascending). Runs on whichever backend the harness is given, so
// SQLite and PostgreSQL are both held to the same reference.
//
// TB_TEST_SEED=<n> reproduces a run; TB_TEST_QUERIES=<n> sets how many queries (default 1500).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, expectSuccess, newUser } from './tenancy_helpers.mjs';
import { generators, matches, rng, sortComparator } from './query_reference.mjs';

const SEED = Number(process.env.TB_TEST_SEED || Date.now() % 1_000_000);
const QUERIES = Number(process.env.TB_TEST_QUERIES || 1500);
const DOCS = 300;

let server;
let H;
let docs; // as stored (with _id), in _id order

before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  const owner = await newUser(server, 'qdiff');
  H = as(owner, owner.tid);
  const { doc } = generators(rng(SEED));
  const bodies = Array.from({ length: DOCS }, () => doc());
  const res = await server.post('/v1/collections/things/documents', { headers: H, json: bodies });
  expectSuccess(res, 201);
  docs = res.json.data;
  assert.equal(docs.length, DOCS);
});

after(async () => { await server?.stop(); });

async function serverIds(q) {
  const ids = [];
  let after = '';
  for (;;) {
    const url = `/v1/collections/things/documents?per_page=100&after=${encodeURIComponent(after)}&q=${encodeURIComponent(JSON.stringify(q))}`;
    const res = await server.get(url, { headers: H });
    if (res.status !== 200) throw new Error(`q=${JSON.stringify(q)} → ${res.status} ${res.body}`);
    ids.push(...res.json.data.map((d) => d._id));
    after = res.json.meta.next_cursor;
    if (!after) return ids;
  }
}

test(`random queries agree with the reference evaluator (seed ${SEED}, ${QUERIES} queries)`, async () => {
  const { query } = generators(rng(SEED * 7919 + 1));
  const clientDocs = docs.map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('_'))));
  let nonEmpty = 0;
  for (let i = 0; i < QUERIES; i++) {
    const q = query();
    const expected = docs.filter((d, j) => matches(clientDocs[j], q)).map((d) => d._id);
    const got = await serverIds(q);
    if (expected.length) nonEmpty++;
    assert.deepEqual(got, expected, `query #${i} (TB_TEST_SEED=${SEED}): q=${JSON.stringify(q)}`);
  }
  // The generator must produce queries that select something, or the test proves little.
  assert.ok(nonEmpty > QUERIES / 4, `only ${nonEmpty} of ${QUERIES} queries matched anything`);
});

// Every page of a sorted, filtered list, followed by cursor or by $skip/$max hints.
async function sortedIds(q, sort, { perPage, viaHints }) {
  const ids = [];
  const qs = `q=${encodeURIComponent(JSON.stringify(q))}`;
  if (viaHints) {
    const orderby = Object.fromEntries(sort.map(([p, desc]) => [p, desc ? -1 : 1]));
    for (let skip = 0; ; skip += perPage) {
      const h = encodeURIComponent(JSON.stringify({ $orderby: orderby, $max: perPage, $skip: skip }));
      const res = await server.get(`/v1/collections/things/documents?${qs}&h=${h}`, { headers: H });
      if (res.status !== 200) throw new Error(`h → ${res.status} ${res.body}`);
      ids.push(...res.json.data.map((d) => d._id));
      if (res.json.data.length < perPage) return ids;
    }
  }
  const sortParam = sort.map(([p, desc]) => (desc ? '-' : '') + p).join(',');
  let after = '';
  for (;;) {
    const url = `/v1/collections/things/documents?per_page=${perPage}&sort=${sortParam}&after=${encodeURIComponent(after)}&${qs}`;
    const res = await server.get(url, { headers: H });
    if (res.status !== 200) throw new Error(`sort=${sortParam} → ${res.status} ${res.body}`);
    ids.push(...res.json.data.map((d) => d._id));
    after = res.json.meta.next_cursor;
    if (!after) return ids;
  }
}

test(`sorts on document paths agree with the reference order, by cursor and by hints (seed ${SEED})`, async () => {
  const random = rng(SEED * 31 + 5);
  const { query } = generators(random);
  const PATHS = ['a', 'b', 'c', 'n', 's', 'a.n', 'c.s', '_created', '_version'];
  const clientDocs = new Map(docs.map((d) => [d._id, Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('_')))]));
  const body = (d) => ({ ...clientDocs.get(d._id), _created: d._created, _version: d._version });
  const rounds = Math.max(20, Math.floor(QUERIES / 20));
  for (let i = 0; i < rounds; i++) {
    const q = random() < 0.3 ? {} : query();
    const sort = [];
    for (const p of PATHS.filter(() => random() < 0.25).slice(0, 3)) sort.push([p, random() < 0.5]);
    if (!sort.length) sort.push([PATHS[Math.floor(random() * 5)], random() < 0.5]);
    const expected = docs.filter((d) => matches(clientDocs.get(d._id), q)).sort(sortComparator(sort, body)).map((d) => d._id);
    const perPage = [7, 50, 100][i % 3];
    const viaHints = i % 4 === 3;
    const got = await sortedIds(q, sort, { perPage, viaHints });
    assert.deepEqual(got, expected, `round ${i} (TB_TEST_SEED=${SEED}): sort=${JSON.stringify(sort)} q=${JSON.stringify(q)} hints=${viaHints}`);
  }
});

test('h hints: $orderby, $max, $skip, $fields; conflicts and bad hints answer 400 naming h', async () => {
  const h = (o) => `h=${encodeURIComponent(JSON.stringify(o))}`;
  const all = docs.slice().sort(sortComparator([['n', true]], (d) => d)).map((d) => d._id);
  let res = await server.get(`/v1/collections/things/documents?${h({ $orderby: { n: -1 }, $max: 5, $skip: 10 })}`, { headers: H });
  expectSuccess(res, 200);
  assert.deepEqual(res.json.data.map((d) => d._id), all.slice(10, 15));
  res = await server.get(`/v1/collections/things/documents?${h({ $fields: { n: 1 }, $max: 3 })}`, { headers: H });
  expectSuccess(res, 200);
  for (const d of res.json.data) {
    for (const k of Object.keys(d)) assert.ok(k === 'n' || k.startsWith('_'), `field ${k} not asked for`);
  }
  for (const [query, why] of [
    [`${h({ $orderby: { n: 1 } })}&sort=n`, 'two sorts'],
    [`${h({ $max: 5 })}&per_page=5`, 'two page sizes'],
    [`${h({ $skip: 5 })}&page=2`, 'skip and page'],
    [`${h({ $skip: 5 })}&after=`, 'skip and after'],
    [`${h({ $fields: { n: 1 } })}&fields=n`, 'two projections'],
    [h({ $max: 0 }), '$max 0'],
    [h({ $max: 101 }), '$max over the page limit'],
    [h({ $skip: -1 }), 'negative $skip'],
    [h({ $orderby: { n: 2 } }), 'direction 2'],
    [h({ $orderby: { 'a..b': 1 } }), 'bad path'],
    [h({ $orderby: {} }), 'empty $orderby'],
    [h({ $fields: { n: 0 } }), 'exclusion'],
    [h({ $hint: 1 }), 'unknown hint'],
    ['h=%7B', 'malformed JSON'],
    ['h=%5B%5D', 'not an object'],
  ]) {
    res = await server.get(`/v1/collections/things/documents?${query}`, { headers: H });
    assert.equal(res.status, 400, `${why}: ${res.status} ${res.body}`);
    assert.equal(res.json.error.details.field, 'h', why);
  }
  // A cursor is bound to its hints.
  const first = await server.get(`/v1/collections/things/documents?after=&${h({ $orderby: { n: 1 }, $max: 2 })}`, { headers: H });
  expectSuccess(first, 200);
  res = await server.get(`/v1/collections/things/documents?after=${first.json.meta.next_cursor}&${h({ $orderby: { n: -1 }, $max: 2 })}`, { headers: H });
  assert.equal(res.status, 400);
});

test('sort on document paths: bad paths and repeats answer 400 naming sort', async () => {
  for (const sort of ['a..b', '1a', 'a,a', '-a,+a', 'a.b.c.d.e.f.g.h.i', 'n,s,a,b,c,_id']) {
    const res = await server.get(`/v1/collections/things/documents?sort=${encodeURIComponent(sort)}`, { headers: H });
    assert.equal(res.status, 400, `sort=${sort}: ${res.body}`);
    assert.equal(res.json.error.details.field, 'sort');
  }
});

test('q combines with total: the count equals the matching documents', async () => {
  const q = { n: { $gte: 1 } };
  const expected = docs.filter((d) => matches(d, q)).length;
  const res = await server.get(`/v1/collections/things/documents?per_page=5&q=${encodeURIComponent(JSON.stringify(q))}`, { headers: H });
  expectSuccess(res, 200);
  assert.equal(res.json.meta.total, expected);
});

test('bad queries answer 400 naming q and the offending path', async () => {
  const cases = [
    [{ a: { $gtx: 1 } }, 'a.$gtx'],
    [{ $nor: [] }, '$nor'],
    [{ 'a..b': 1 }, 'a..b'],
    [{ '1a': 1 }, '1a'],
    [{ a: { $in: 5 } }, 'a.$in'],
    [{ a: { $gt: null } }, 'a.$gt'],
    [{ a: { $exists: 'yes' } }, 'a.$exists'],
    [{ a: { $size: -1 } }, 'a.$size'],
    [{ a: { b: 1 } }, 'a.b'],
    [{ $or: [] }, '$or'],
    [{ $or: [{ a: { $bad: 1 } }] }, '$or.0.a.$bad'],
    [{ a: { $regex: 5 } }, 'a.$regex'],
    [{ a: { $regex: '(a)\\1' } }, 'a.$regex'],
    [{ a: { $regex: '(?=a)' } }, 'a.$regex'],
    [{ a: { $regex: 'x(?i)y' } }, 'a.$regex'],
    [{ a: { $regex: 'a{1,1000}' } }, 'a.$regex'],
    [{ a: { $regex: '[' } }, 'a.$regex'],
    [{ a: { $elemMatch: {} } }, 'a.$elemMatch'],
    [{ a: { $elemMatch: 5 } }, 'a.$elemMatch'],
    [{ a: { $elemMatch: { $bad: 1 } } }, 'a.$elemMatch.$bad'],
    [{ a: { $elemMatch: { 'b..c': 1 } } }, 'a.$elemMatch.b..c'],
  ];
  for (const [q, path] of cases) {
    const res = await server.get(`/v1/collections/things/documents?q=${encodeURIComponent(JSON.stringify(q))}`, { headers: H });
    assert.equal(res.status, 400, `q=${JSON.stringify(q)}: ${res.body}`);
    assert.equal(res.json.error.details.field, 'q');
    assert.equal(res.json.error.details.path, path, `q=${JSON.stringify(q)}`);
  }
  for (const raw of ['{', '[1]', '"x"', '']) {
    const res = await server.get(`/v1/collections/things/documents?q=${encodeURIComponent(raw)}`, { headers: H });
    assert.equal(res.status, 400, `q=${raw}`);
    assert.equal(res.json.error.details.field, 'q');
  }
  // Depth: the outer object counts 1; 16 levels pass, 17 do not (each $not adds one).
  const nest = (levels) => {
    let q = { a: 1 };
    for (let i = 1; i < levels; i++) q = { $not: q };
    return q;
  };
  let res = await server.get(`/v1/collections/things/documents?q=${encodeURIComponent(JSON.stringify(nest(16)))}`, { headers: H });
  assert.equal(res.status, 200, `depth 16: ${res.body}`);
  res = await server.get(`/v1/collections/things/documents?q=${encodeURIComponent(JSON.stringify(nest(17)))}`, { headers: H });
  assert.equal(res.status, 400, 'depth 17');
  assert.equal(res.json.error.details.field, 'q');
  assert.equal(res.json.error.details.path, Array(16).fill('$not').join('.'));
});

test('a cursor belongs to its q: reusing it with another q answers 400', async () => {
  const q1 = encodeURIComponent(JSON.stringify({ n: { $exists: true } }));
  const q2 = encodeURIComponent(JSON.stringify({ n: { $exists: false } }));
  const first = await server.get(`/v1/collections/things/documents?per_page=2&after=&q=${q1}`, { headers: H });
  expectSuccess(first, 200);
  assert.ok(first.json.meta.next_cursor);
  const res = await server.get(`/v1/collections/things/documents?per_page=2&after=${first.json.meta.next_cursor}&q=${q2}`, { headers: H });
  assert.equal(res.status, 400);
});

test('list filters on document paths mean what the equivalent q means (type-flexible values)', async () => {
  const enc = (q) => encodeURIComponent(JSON.stringify(q));
  const cases = [
    ['n=1', { $or: [{ n: 1 }, { n: '1' }] }],
    ['n=1.5', { $or: [{ n: 1.5 }, { n: '1.5' }] }],
    ['s=abc', { s: 'abc' }],
    ['a=true', { $or: [{ a: true }, { a: 'true' }] }],
    ['a=null', { a: null }],
    ['n[ne]=2', { $not: { $or: [{ n: 2 }, { n: '2' }] } }],
    ['n[gt]=2', { $or: [{ n: { $gt: 2 } }, { n: { $gt: '2' } }] }],
    ['s[lte]=b', { s: { $lte: 'b' } }],
    ['s[in]=a,zz,10', { s: { $in: ['a', 'zz', 10, '10'] } }],
    ['s[nin]=a,b', { s: { $nin: ['a', 'b'] } }],
    ['s[contains]=B', { s: { $contains: 'B' } }],
    ['s[startswith]=a', { s: { $startswith: 'a' } }],
    ['b[exists]=false', { b: { $exists: false } }],
    ['a.n[gte]=0', { $or: [{ 'a.n': { $gte: 0 } }, { 'a.n': { $gte: '0' } }] }],
    ['n[gte]=1&s[exists]=true', { $and: [{ $or: [{ n: { $gte: 1 } }, { n: { $gte: '1' } }] }, { s: { $exists: true } }] }],
  ];
  const clientDocs = docs.map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('_'))));
  for (const [params, q] of cases) {
    const expected = docs.filter((d, j) => matches(clientDocs[j], q)).map((d) => d._id).slice(0, 100);
    const viaParams = await server.get(`/v1/collections/things/documents?per_page=100&${params.split('&').map((p) => p.replace(/\[/g, '%5B').replace(/\]/g, '%5D')).join('&')}`, { headers: H });
    expectSuccess(viaParams, 200);
    assert.deepEqual(viaParams.json.data.map((d) => d._id), expected, params);
    const viaQ = await server.get(`/v1/collections/things/documents?per_page=100&q=${enc(q)}`, { headers: H });
    assert.deepEqual(viaQ.json.data.map((d) => d._id), expected, `q for ${params}`);
  }
  for (const bad of ['n[gtx]=1', 'a..b=1', '1a=1', 'n[gt]=null', 'n[exists]=maybe']) {
    const res = await server.get(`/v1/collections/things/documents?${bad.replace(/\[/g, '%5B').replace(/\]/g, '%5D')}`, { headers: H });
    assert.equal(res.status, 400, bad);
    assert.equal(res.json.error.details.field, decodeURIComponent(bad.split('=')[0]), bad);
  }
});

test('bulk delete by query: admin+, q required, deletes what q matches (the reference decides), all in one go', async () => {
  const { doc, query } = generators(rng(SEED + 17));
  const bodies = Array.from({ length: 120 }, () => doc());
  const created = await server.post('/v1/collections/bulk/documents', { headers: H, json: bodies });
  expectSuccess(created, 201);
  let alive = created.json.data;
  const path = '/v1/collections/bulk/documents:delete';
  // Refusals first: nothing is deleted by any of them.
  for (const json of [{}, { q: 5 }, { q: { a: { $bad: 1 } } }, { q: {}, extra: 1 }]) {
    const res = await server.post(path, { headers: H, json });
    assert.ok([400, 422].includes(res.status), `${JSON.stringify(json)} → ${res.status}`);
  }
  const member = await newUser(server, 'qdiff-member');
  const add = await server.post('/v1/users', { headers: H, json: { email: member.email, role: 'member' } });
  expectSuccess(add, 201);
  const asMember = as(member, H['X-Tenant-ID']);
  assert.equal((await server.post(path, { headers: asMember, json: { q: {} } })).status, 403);
  assert.equal((await server.post('/v1/collections/none-such/documents:delete', { headers: H, json: { q: {} } })).status, 404);
  const count = async () => (await server.get('/v1/collections/bulk', { headers: H })).json.data.document_count;
  assert.equal(await count(), alive.length);
  for (let i = 0; i < 5; i++) {
    const q = query();
    const strip = (d) => Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('_')));
    const doomed = alive.filter((d) => matches(strip(d), q)).map((d) => d._id);
    const res = await server.post(path, { headers: H, json: { q } });
    expectSuccess(res, 200);
    assert.equal(res.json.data.deleted, doomed.length, `q=${JSON.stringify(q)} (TB_TEST_SEED=${SEED})`);
    alive = alive.filter((d) => !doomed.includes(d._id));
    const left = await server.get('/v1/collections/bulk/documents?per_page=100&count=true', { headers: H });
    assert.equal(left.json.meta.total, alive.length);
    assert.equal(await count(), alive.length);
  }
  const all = await server.post(path, { headers: H, json: { q: {} } });
  assert.equal(all.json.data.deleted, alive.length);
  assert.equal(await count(), 0);
});
