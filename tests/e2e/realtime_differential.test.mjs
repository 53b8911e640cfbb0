// Realtime filters against list filters (issue #25): a subscription's `q` is matched in memory
// (query::DocMatcher) and a list's `q` in SQL; on random documents and random queries (the
// generator of query_differential.test.mjs) the documents whose create events a subscriber
// gets must be exactly the documents the list returns for the same `q`, on either database.
//
// TB_TEST_SEED=<n> reproduces a run; TB_TEST_REALTIME_QUERIES=<n> sets how many (default 40).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EventSource } from 'eventsource';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, expectSuccess, newUser } from './tenancy_helpers.mjs';
import { generators, rng } from './query_reference.mjs';

const SEED = Number(process.env.TB_TEST_SEED || Date.now() % 1_000_000);
const QUERIES = Number(process.env.TB_TEST_REALTIME_QUERIES || 40);
const DOCS = 200;

let server;
let H;
const streams = [];

before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  const owner = await newUser(server, 'rtdiff');
  H = as(owner, owner.tid);
  for (const name of ['things', 'sentinel']) {
    expectSuccess(await server.post('/v1/collections', { headers: H, json: { name } }), 201);
  }
});
after(async () => {
  for (const es of streams) es.close();
  await server?.stop();
});

/** A subscribed client: the ids of `things` created, and a promise of the sentinel's event. */
async function subscriber(q) {
  const es = new EventSource(`${server.url}/v1/realtime`);
  streams.push(es);
  const created = [];
  let sentinel;
  const sentinelSeen = new Promise((resolve) => { sentinel = resolve; });
  const clientId = await new Promise((resolve, reject) => {
    es.addEventListener('connect', (e) => resolve(JSON.parse(e.data).client_id));
    setTimeout(() => reject(new Error('no connect event')), 5000);
  });
  es.addEventListener('create', (e) => {
    const data = JSON.parse(e.data);
    if (data.collection === 'sentinel') sentinel();
    else created.push(data.id);
  });
  const res = await server.post(`/v1/realtime/${clientId}/subscriptions`, {
    headers: H, json: { subscriptions: [{ collection: 'things', q: JSON.stringify(q) }, { collection: 'sentinel' }] },
  });
  expectSuccess(res, 200);
  return { created, sentinelSeen };
}

async function listedIds(q) {
  const ids = [];
  let cursor = '';
  for (;;) {
    const url = `/v1/collections/things/documents?per_page=100&after=${encodeURIComponent(cursor)}&q=${encodeURIComponent(JSON.stringify(q))}`;
    const res = await server.get(url, { headers: H });
    assert.equal(res.status, 200, `q=${JSON.stringify(q)} → ${res.status} ${res.body}`);
    ids.push(...res.json.data.map((d) => d._id));
    cursor = res.json.meta.next_cursor;
    if (!cursor) return ids;
  }
}

test(`subscriptions match the documents lists match (seed ${SEED}, ${QUERIES} queries)`, async () => {
  const { query } = generators(rng(SEED * 7919 + 1));
  const { doc } = generators(rng(SEED));
  const queries = Array.from({ length: QUERIES }, () => query());
  const clients = [];
  for (const q of queries) clients.push(await subscriber(q));

  expectSuccess(await server.post('/v1/collections/things/documents',
    { headers: H, json: Array.from({ length: DOCS }, () => doc()) }), 201);
  // Each client's events come in order: once the sentinel's arrives, every earlier one has.
  expectSuccess(await server.post('/v1/collections/sentinel/documents', { headers: H, json: { last: true } }), 201);
  await Promise.all(clients.map((c, i) => Promise.race([
    c.sentinelSeen,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`client ${i}: no sentinel`)), 10_000)),
  ])));

  let nonEmpty = 0;
  for (let i = 0; i < queries.length; i++) {
    const expected = await listedIds(queries[i]);
    if (expected.length) nonEmpty++;
    assert.deepEqual([...clients[i].created].sort(), [...expected].sort(),
      `query #${i} (TB_TEST_SEED=${SEED}): q=${JSON.stringify(queries[i])}`);
  }
  assert.ok(nonEmpty >= QUERIES / 5, `enough queries match something: ${nonEmpty} of ${QUERIES}`);
});
