// Two nodes on one PostgreSQL share rate-limit budgets (issue #23, limits/rate_limiter.h): a
// node admits only requests it has reserved in the shared row, so a burst spread over both
// nodes ends within 5% of the limit (never above it), and a plan changed through node A
// gives node B's requests the new limits at once (the change feed drops B's cached tenant).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKEND, createPgDatabase, startServer } from '../e2e/harness.mjs';
import { NO_THROTTLE_ENV } from '../e2e/auth_helpers.mjs';
import { adminLogin, as, createKey, describeRes, expectSuccess, newUser } from '../e2e/tenancy_helpers.mjs';

const KEY_LIMIT = 300;
const ENV = { ...NO_THROTTLE_ENV, TB_LIMITS_KEY_PER_HOUR: String(KEY_LIMIT), TB_LIMITS_USER_PER_HOUR: '3000' };

/** `total` requests, `concurrency` at a time, alternating between the nodes; status counts. */
async function burst(nodes, total, concurrency, request) {
  const counts = {};
  let next = 0;
  async function worker() {
    while (next < total) {
      const i = next++;
      const res = await request(nodes[i % nodes.length]);
      counts[res.status] = (counts[res.status] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return counts;
}

function assertWithin(counts, limit, label) {
  const admitted = counts[200] ?? 0;
  console.log(`${label}: ${JSON.stringify(counts)} for a limit of ${limit} (${((admitted / limit) * 100).toFixed(1)}%)`);
  assert.ok(admitted <= limit, `${label}: ${admitted} admitted past the limit of ${limit}`);
  assert.ok(admitted >= limit * 0.95, `${label}: only ${admitted} of ${limit} admitted`);
  const other = Object.keys(counts).filter((s) => s !== '200' && s !== '429');
  assert.deepEqual(other, [], `${label}: statuses other than 200 and 429`);
}

describe('two nodes on one PostgreSQL share budgets', { skip: BACKEND !== 'postgres' && 'PostgreSQL only' }, () => {
  let a; let b; let owner;
  before(async () => {
    const databaseUrl = await createPgDatabase();
    a = await startServer({ databaseUrl, env: ENV });
    b = await startServer({ databaseUrl, env: ENV });
    owner = await newUser(a, 'budget');
  });
  after(async () => { await a?.stop(); await b?.stop(); });

  test(`a burst of ${KEY_LIMIT * 2} requests of one key over both nodes admits ${KEY_LIMIT} less at most 5%`, async () => {
    const k = await createKey(a, as(owner, owner.tid), { name: 'burst' });
    const counts = await burst([a, b], KEY_LIMIT * 2, 32, (n) => n.get('/v1/collections', { headers: { 'X-API-Key': k.key } }));
    assertWithin(counts, KEY_LIMIT, 'API key budget');
    // Spent on both nodes.
    for (const n of [a, b]) assert.equal((await n.get('/v1/collections', { headers: { 'X-API-Key': k.key } })).status, 429);
  });

  test('a larger budget, reserved in leases, ends within 5% too', async () => {
    const u = await newUser(a, 'budget-user');
    const counts = await burst([a, b], 4000, 32, (n) => n.get('/v1/auth/me', { headers: u.auth }));
    assertWithin(counts, 3000, 'user budget');
  });

  test('a plan changed on A gives B\'s requests its limits at once', async () => {
    const admin = await adminLogin(a);
    const u = await newUser(a, 'budget-plan');
    const probe = () => b.get('/v1/collections', { headers: as(u, u.tid) });
    const first = await probe();
    assert.equal(first.status, 200, describeRes(first));
    assert.equal(first.headers['x-ratelimit-limit'], '3000');
    expectSuccess(await a.request('PUT', `/v1/tenants/${u.tid}`, { headers: admin.auth, json: { plan: 'pro' } }), 200);
    const since = performance.now();
    for (;;) {
      const res = await probe();
      if (res.headers['x-ratelimit-limit'] === '10000') break; // the pro plan's user_per_hour
      assert.ok(performance.now() - since < 1000, `B still answers with ${res.headers['x-ratelimit-limit']}`);
    }
    const lag = performance.now() - since;
    console.log(`plan change seen on B after ${lag.toFixed(1)} ms`);
    assert.ok(lag < 100, `${lag} ms`);
  });
});
