// Operations endpoints: /v1/health, /healthz, /readyz, /metrics (API.md §10, §13 "Health").

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKEND, JSON_CONTENT_TYPE, RFC3339_MS_Z, TEST_ADMIN, findSamples as find, inFlight, parseMetrics, request, startServer } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

describe('GET /v1/health', () => {
  test('answers the success envelope with the documented fields and types', async () => {
    const res = await server.get('/v1/health');
    assert.equal(res.status, 200, res.body);
    assert.match(res.headers['content-type'] || '', JSON_CONTENT_TYPE);
    assert.ok(res.headers['x-request-id'], 'X-Request-ID on every response');
    const { json } = res;
    assert.equal(json.success, true);
    assert.equal(typeof json.data, 'object');
    const d = json.data;
    assert.equal(d.status, 'OK');

    assert.match(d.timestamp, RFC3339_MS_Z);
    const skew = Math.abs(Date.parse(d.timestamp) - Date.now());
    assert.ok(skew < 60_000, `timestamp ${d.timestamp} is ${skew} ms away from now`);

    assert.ok(Number.isInteger(d.uptime), `uptime must be an integer, got ${JSON.stringify(d.uptime)}`);
    assert.ok(d.uptime >= 0);
    assert.ok(d.uptime < 3600, 'a fresh server has a small uptime');

    assert.equal(typeof d.version, 'string');
    assert.match(d.version, /^\d+\.\d+\.\d+/, 'version is semver');

    assert.equal(typeof d.brand, 'object');
    assert.ok(d.brand !== null);
    for (const k of ['name', 'shortName', 'description']) {
      assert.equal(typeof d.brand[k], 'string', `brand.${k}`);
      assert.ok(d.brand[k].length > 0, `brand.${k} non-empty`);
    }

    assert.equal(typeof d.checks, 'object');
    assert.equal(d.checks?.database, 'ok');
  });

  test('uptime grows with time', async () => {
    const first = (await server.get('/v1/health')).json.data.uptime;
    await new Promise((r) => setTimeout(r, 1100));
    const second = (await server.get('/v1/health')).json.data.uptime;
    assert.ok(second >= first + 1, `uptime ${first} -> ${second} after 1.1 s`);
  });
});

describe('liveness and readiness', () => {
  test('GET /readyz reports the database pool in X-DB-Pool', async () => {
    const res = await server.get('/readyz');
    assert.equal(res.status, 200);
    const m = /^in_use=(\d+); idle=(\d+); waiting=(\d+); size=(\d+)$/.exec(res.headers['x-db-pool'] || '');
    assert.ok(m, `X-DB-Pool: ${res.headers['x-db-pool']}`);
    const [inUse, idle, waiting, size] = m.slice(1).map(Number);
    assert.ok(inUse >= 0 && idle >= 0);
    assert.equal(waiting, 0);
    // postgres.pool_size (16 by default); SQLite's readers have no bound.
    assert.equal(size, BACKEND === 'postgres' ? 16 : 0);
  });

  for (const p of ['/healthz', '/readyz']) {
    test(`GET ${p} answers 200 "ok" as text`, async () => {
      const res = await server.get(p);
      assert.equal(res.status, 200);
      assert.equal(res.body.trim(), 'ok');
      assert.match(res.headers['content-type'] || '', /^text\/plain/);
      assert.ok(res.headers['x-request-id']);
    });
  }
});

async function scrape() {
  const res = await server.metrics();
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'] || '', /^text\/plain/);
  return { text: res.body, samples: parseMetrics(res.body) };
}

describe('GET /metrics', () => {
  test('exposes the documented metrics in Prometheus text format', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await server.get('/v1/health')).status, 200);
    assert.equal((await server.get('/no/such/route')).status, 404);
    const { text, samples } = await scrape();

    assert.match(text, /^# TYPE tenantbase_http_requests_total counter$/m);
    assert.match(text, /^# TYPE tenantbase_http_request_duration_seconds histogram$/m);
    for (const name of ['tenantbase_http_requests_in_flight', 'tenantbase_db_writer_queue_depth',
      'tenantbase_db_pool_connections', 'tenantbase_db_pool_size', 'tenantbase_db_pool_timeouts_total']) {
      assert.ok(samples.some((s) => s.name === name), `missing metric ${name}`);
    }

    const health = find(samples, 'tenantbase_http_requests_total', { method: 'GET', route: '/v1/health', status: '200' });
    assert.equal(health.length, 1, 'one series for GET /v1/health 200');
    assert.ok(health[0].value >= 3, `counted ${health[0].value} health requests`);

    const unmatched = find(samples, 'tenantbase_http_requests_total', { route: 'unmatched', status: '404' });
    assert.ok(unmatched.length >= 1 && unmatched.reduce((a, s) => a + s.value, 0) >= 1,
      'an unmatched route is counted under route="unmatched"');
    assert.ok(!samples.some((s) => s.labels.route === '/no/such/route'),
      'raw unmatched paths never become label values');

    const inf = find(samples, 'tenantbase_http_request_duration_seconds_bucket', { route: '/v1/health', le: '+Inf' });
    assert.equal(inf.length, 1, 'histogram +Inf bucket for /v1/health');
    const count = find(samples, 'tenantbase_http_request_duration_seconds_count', { route: '/v1/health' });
    const sum = find(samples, 'tenantbase_http_request_duration_seconds_sum', { route: '/v1/health' });
    assert.equal(count.length, 1);
    assert.equal(sum.length, 1);
    assert.equal(inf[0].value, count[0].value, '+Inf bucket equals _count');
    assert.ok(count[0].value >= 3);
    assert.ok(sum[0].value >= 0);

    // Buckets are cumulative: non-decreasing in le order.
    const buckets = find(samples, 'tenantbase_http_request_duration_seconds_bucket', { route: '/v1/health' })
      .map((s) => [Number(s.labels.le === '+Inf' ? Infinity : s.labels.le), s.value])
      .sort((a, b) => a[0] - b[0]);
    assert.ok(buckets.length >= 2, 'several buckets');
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1], 'cumulative buckets');
  });

  test('the request counter for route="/v1/health" follows the requests', async () => {
    const key = { method: 'GET', route: '/v1/health', status: '200' };
    const before = find((await scrape()).samples, 'tenantbase_http_requests_total', key)[0]?.value ?? 0;
    for (let i = 0; i < 2; i++) assert.equal((await server.get('/v1/health')).status, 200);
    const afterValue = find((await scrape()).samples, 'tenantbase_http_requests_total', key)[0]?.value ?? 0;
    // Nothing else requests /v1/health on this server while this test runs.
    assert.equal(afterValue - before, 2);
  });

  test('finished requests leave the in-flight gauge (only the scrape itself may count)', async () => {
    await server.get('/v1/health');
    await server.get('/nope');
    await server.post('/v1/health');
    const n = await inFlight(server);
    assert.ok(n <= 1, `in flight: ${n}`);
  });
});

// Issue #29: /metrics was public and its per-tenant series named every tenant id to anyone.
describe('who reads /metrics', () => {
  test('on the main listener: a platform admin only (401 without credentials, 403 for others)', async () => {
    const anonymous = await server.get('/metrics');
    assert.equal(anonymous.status, 401);
    assert.doesNotMatch(anonymous.body, /tenantbase_/);
    const reg = await server.post('/v1/auth/register', { json: { email: `metrics-${process.pid}@example.com`, password: 'correct horse battery staple' } });
    assert.equal(reg.status, 201, reg.body);
    const user = { Authorization: `Bearer ${reg.json.data.tokens.access_token}` };
    assert.equal((await server.get('/metrics', { headers: user })).status, 403);
    const key = await server.post('/v1/api-keys', { headers: { ...user, 'X-Tenant-ID': reg.json.data.tenants[0].id }, json: { name: 'k', scopes: ['read', 'write', 'admin'] } });
    assert.equal(key.status, 201, key.body);
    assert.equal((await server.get('/metrics', { headers: { 'X-API-Key': key.json.data.key } })).status, 403);
    const login = await server.post('/v1/auth/login', { json: { email: TEST_ADMIN.email, password: TEST_ADMIN.password } });
    const admin = await server.get('/metrics', { headers: { Authorization: `Bearer ${login.json.data.tokens.access_token}` } });
    assert.equal(admin.status, 200);
    assert.match(admin.body, /^# TYPE tenantbase_http_requests_total counter$/m);
  });

  test('on the metrics.http listener: open to whoever reaches it, and only /metrics and /healthz', async () => {
    const res = await server.metrics();
    assert.equal(res.status, 200);
    assert.match(res.body, /tenantbase_http_requests_total/);
    const other = await request(`${server.metricsUrl}/v1/health`, 'GET');
    assert.equal(other.status, 404);
    assert.equal((await request(`${server.metricsUrl}/healthz`, 'GET')).status, 200);
  });
});
