// Rate limits (API.md §1.3, §13 "Rate-limit windows", "Limits settings"): one budget per
// signed-in user, per API key and per anonymous client IP, in fixed one-hour windows, with the
// limits of the plan of the request's tenant; X-RateLimit-* on every response to a limited
// principal, 429 RATE_LIMITED with Retry-After past the budget.
//
// Every request of a test run comes from 127.0.0.1: the small-budget servers trust it as a
// proxy, so that X-Forwarded-For gives each scenario its own client address.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKEND, DEFAULT_BUDGETS, expectEnvelopeError, sleep, startServer } from './harness.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, bearer, describeRes, expectSuccess, uniqueEmail,
} from './tenancy_helpers.mjs';

const SMALL = {
  ...NO_THROTTLE_ENV,
  TB_LIMITS_USER_PER_HOUR: '6',
  TB_LIMITS_KEY_PER_HOUR: '4',
  TB_LIMITS_ANONYMOUS_PER_HOUR: '3',
  TB_LIMITS_TRUSTED_PROXIES: '127.0.0.1',
  TB_PLANS_PRO_USER_PER_HOUR: '10',
};

// The whole tenant: 8 requests an hour, fewer than two keys' 4 + 4 plus its user's 6.
const TENANT_BUDGET = {
  ...SMALL,
  TB_LIMITS_TENANT_PER_HOUR: '8',
  TB_PLANS_PRO_TENANT_PER_HOUR: '12',
  TB_PLANS_PRO_KEY_PER_HOUR: '4',
};

const servers = {};
before(async () => {
  [servers.defaults, servers.small, servers.disabled, servers.tenant] = await Promise.all([
    startServer({ env: { ...NO_THROTTLE_ENV, ...DEFAULT_BUDGETS } }),
    startServer({ env: SMALL }),
    startServer({ env: { ...SMALL, TB_LIMITS_ENABLED: 'false' } }),
    startServer({ env: TENANT_BUDGET }),
  ]);
});
after(async () => { await Promise.all(Object.values(servers).map((s) => s?.stop())); });

let clientN = 0;
/** A fresh client address, sent as X-Forwarded-For through the trusted 127.0.0.1. */
function client() {
  clientN += 1;
  return { 'X-Forwarded-For': `198.51.100.${clientN}` };
}

function tenantRate(res) {
  return {
    limit: Number(res.headers['x-ratelimit-tenant-limit']),
    remaining: Number(res.headers['x-ratelimit-tenant-remaining']),
    reset: Number(res.headers['x-ratelimit-tenant-reset']),
  };
}

function rate(res) {
  return {
    limit: Number(res.headers['x-ratelimit-limit']),
    remaining: Number(res.headers['x-ratelimit-remaining']),
    reset: Number(res.headers['x-ratelimit-reset']),
  };
}

/** Reset is the end of the current fixed hour, in Unix seconds. */
function expectHourReset(reset) {
  const now = Date.now() / 1000;
  assert.ok(Number.isInteger(reset) && reset % 3600 === 0, `reset on an hour: ${reset}`);
  assert.ok(reset > now - 2 && reset <= now + 3600 + 2, `reset ends this hour: ${reset} vs ${now}`);
}

async function signUp(server, headers = {}) {
  const email = uniqueEmail('rl');
  const res = await server.post('/v1/auth/register', { headers, json: { email, password: PASSWORD } });
  const data = expectSuccess(res, 201);
  return { ...data, email, auth: bearer(data.tokens.access_token), tid: data.tenants[0].id };
}

function expectRateLimited(res, limit) {
  expectEnvelopeError(res, 429, 'RATE_LIMITED');
  const r = rate(res);
  assert.equal(r.limit, limit, describeRes(res));
  assert.equal(r.remaining, 0);
  expectHourReset(r.reset);
  const retry = Number(res.headers['retry-after']);
  const expected = r.reset - Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(retry - expected) <= 2, `Retry-After ${retry} ≈ seconds to reset ${expected}`);
}

describe('defaults (API.md §1.3: user 1000, key 5000, anonymous IP 100 per hour)', () => {
  test('an anonymous client sees 100 and a decreasing remainder on every route', async () => {
    const s = servers.defaults;
    const a = rate(await s.get('/v1/plans'));
    const b = rate(await s.get('/v1/openapi.json'));
    assert.equal(a.limit, 100);
    assert.equal(b.limit, 100);
    assert.equal(b.remaining, a.remaining - 1, 'one budget for the IP across routes');
    expectHourReset(a.reset);
  });

  test('a signed-in user sees 1000, one budget across routes and tenants; a key sees 5000', async () => {
    const s = servers.defaults;
    const u = await signUp(s);
    const first = await s.get('/v1/auth/me', { headers: u.auth });
    assert.equal(first.status, 200);
    assert.equal(rate(first).limit, 1000);
    const other = expectSuccess(await s.post('/v1/tenants', { headers: u.auth, json: { name: 'Second' } }), 201);
    const inOther = await s.get('/v1/collections', { headers: { ...u.auth, 'X-Tenant-ID': other.id } });
    assert.equal(inOther.status, 200, describeRes(inOther));
    assert.equal(rate(inOther).limit, 1000);
    assert.equal(rate(inOther).remaining, rate(first).remaining - 2, 'me, create tenant, list: one budget');

    const key = expectSuccess(await s.post('/v1/api-keys', { headers: u.auth, json: { name: 'k' } }), 201);
    const byKey = await s.get('/v1/collections', { headers: { 'X-API-Key': key.key } });
    assert.equal(byKey.status, 200, describeRes(byKey));
    assert.deepEqual([rate(byKey).limit, rate(byKey).remaining], [5000, 4999]);
    const again = await s.get('/v1/auth/me', { headers: u.auth });
    assert.equal(rate(again).remaining, rate(inOther).remaining - 2, 'the key has its own budget');
  });

  test('health and readiness are not limited and carry no rate headers', async () => {
    for (const p of ['/v1/health', '/healthz', '/readyz']) {
      const res = await servers.defaults.get(p);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers['x-ratelimit-limit'], undefined, p);
    }
  });

  test('CORS exposes the rate headers', async () => {
    const res = await servers.defaults.request('OPTIONS', '/v1/plans', {
      headers: { Origin: 'https://nobody.example', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(res.status, 204);
  });
});

describe('budgets run out (user 6, key 4, anonymous 3 per hour)', () => {
  test('anonymous: 3 requests, then 429 with Retry-After until the hour ends; other IPs unaffected', async () => {
    const s = servers.small;
    const ip = client();
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const res = await s.get('/v1/plans', { headers: ip });
      assert.equal(res.status, 200, describeRes(res));
      seen.push(rate(res).remaining);
    }
    assert.deepEqual(seen, [2, 1, 0]);
    expectRateLimited(await s.get('/v1/plans', { headers: ip }), 3);
    expectRateLimited(await s.post('/v1/auth/login', { headers: ip, json: { email: 'x@example.com', password: PASSWORD } }), 3);
    const other = await s.get('/v1/plans', { headers: client() });
    assert.equal(other.status, 200);
    assert.equal(rate(other).remaining, 2);
  });

  test('X-Forwarded-For from an untrusted peer is ignored', async () => {
    // servers.defaults trusts no proxy: two "clients" share 127.0.0.1's budget.
    const s = servers.defaults;
    const a = rate(await s.get('/v1/plans', { headers: { 'X-Forwarded-For': '203.0.113.1' } }));
    const b = rate(await s.get('/v1/plans', { headers: { 'X-Forwarded-For': '203.0.113.2' } }));
    assert.equal(b.remaining, a.remaining - 1);
  });

  test('bad credentials count against the client IP, then answer 429', async () => {
    const s = servers.small;
    const ip = client();
    for (let i = 0; i < 3; i++) {
      const res = await s.get('/v1/collections', { headers: { ...ip, Authorization: 'Bearer not-a-token' } });
      expectEnvelopeError(res, 401, 'UNAUTHORIZED');
      assert.equal(rate(res).remaining, 2 - i);
    }
    expectRateLimited(await s.get('/v1/collections', { headers: { ...ip, 'X-API-Key': 'tbk_guess' } }), 3);
  });

  test('a user: 6 requests across routes, then 429; the user\'s key has its own budget', async () => {
    const s = servers.small;
    const u = await signUp(s, client());
    const key = expectSuccess(await s.post('/v1/api-keys', { headers: u.auth, json: { name: 'k' } }), 201);
    const paths = ['/v1/auth/me', '/v1/collections', '/v1/tenants', '/v1/usage', '/v1/auth/me'];
    for (const [i, p] of paths.entries()) {
      const res = await s.get(p, { headers: u.auth });
      assert.equal(res.status, 200, `${p}: ${describeRes(res)}`);
      assert.equal(rate(res).remaining, 4 - i, p);
    }
    expectRateLimited(await s.get('/v1/collections', { headers: u.auth }), 6);
    // Refused requests are not counted: the user stays at 0, not below.
    expectRateLimited(await s.get('/v1/auth/me', { headers: u.auth }), 6);

    for (let i = 0; i < 4; i++) {
      const res = await s.get('/v1/collections', { headers: { 'X-API-Key': key.key } });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(rate(res).remaining, 3 - i);
    }
    expectRateLimited(await s.get('/v1/collections', { headers: { 'X-API-Key': key.key } }), 4);
  });

  test('limits follow a plan change (pro: 10 per hour for users here)', async () => {
    const s = servers.small;
    const u = await signUp(s, client());
    const inTenant = { ...u.auth, 'X-Tenant-ID': u.tid };
    for (let i = 0; i < 6; i++) assert.equal((await s.get('/v1/collections', { headers: inTenant })).status, 200);
    expectRateLimited(await s.get('/v1/collections', { headers: inTenant }), 6);

    const adminRes = await s.post('/v1/auth/login', {
      headers: client(), json: { email: 'admin@e2e.test', password: 'E2e-admin-Passw0rd!' },
    });
    const admin = bearer(expectSuccess(adminRes, 200).tokens.access_token);
    const put = await s.request('PUT', `/v1/tenants/${u.tid}`, { headers: admin, json: { plan: 'pro' } });
    assert.equal(put.status, 200, describeRes(put));

    const res = await s.get('/v1/collections', { headers: inTenant });
    assert.equal(res.status, 200, describeRes(res));
    assert.deepEqual([rate(res).limit, rate(res).remaining], [10, 3]);
  });

  test('limits.enabled=false: no budgets and no rate headers', async () => {
    const s = servers.disabled;
    const ip = client();
    for (let i = 0; i < 5; i++) {
      const res = await s.get('/v1/plans', { headers: ip });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-ratelimit-limit'], undefined);
    }
  });

  test('/metrics counts the refusals', async () => {
    const text = (await servers.small.metrics()).body;
    const m = text.match(/^tenantbase_rate_limited_total (\d+)/m);
    assert.ok(m && Number(m[1]) >= 5, `tenantbase_rate_limited_total in:\n${text.slice(0, 2000)}`);
  });
});

describe('a budget for the whole tenant (issue #29: tenant 8, key 4, user 6 per hour)', () => {
  test('every key and user of a tenant spends one tenant budget; past it 429 scope "tenant"', async () => {
    const s = servers.tenant;
    const u = await signUp(s, client());
    const inTenant = { ...u.auth, 'X-Tenant-ID': u.tid };
    // Requests outside a tenant spend only the user's budget and carry no tenant headers.
    const me = await s.get('/v1/auth/me', { headers: u.auth });
    assert.equal(me.status, 200);
    assert.equal(me.headers['x-ratelimit-tenant-limit'], undefined);

    const k1 = expectSuccess(await s.post('/v1/api-keys', { headers: inTenant, json: { name: 'k1' } }), 201);
    const k2Res = await s.post('/v1/api-keys', { headers: inTenant, json: { name: 'k2' } });
    const k2 = expectSuccess(k2Res, 201);
    assert.deepEqual([tenantRate(k2Res).limit, tenantRate(k2Res).remaining], [8, 6]);
    expectHourReset(tenantRate(k2Res).reset);
    assert.equal(tenantRate(k2Res).reset, rate(k2Res).reset);

    const seen = [];
    for (let i = 0; i < 4; i++) {
      const res = await s.get('/v1/collections', { headers: { 'X-API-Key': k1.key } });
      assert.equal(res.status, 200, describeRes(res));
      seen.push([rate(res).remaining, tenantRate(res).remaining]);
    }
    assert.deepEqual(seen, [[3, 5], [2, 4], [1, 3], [0, 2]]);
    for (let i = 0; i < 2; i++) {
      const res = await s.get('/v1/collections', { headers: { 'X-API-Key': k2.key } });
      assert.equal(res.status, 200, describeRes(res));
    }
    // k2 has 2 of its own 4 left, but the tenant has none: refused, and counted in neither.
    for (let i = 0; i < 2; i++) {
      const refused = await s.get('/v1/collections', { headers: { 'X-API-Key': k2.key } });
      const error = expectEnvelopeError(refused, 429, 'RATE_LIMITED');
      assert.equal(error.details.scope, 'tenant', describeRes(refused));
      assert.deepEqual([rate(refused).limit, rate(refused).remaining], [4, 2], 'the key budget is not spent');
      assert.deepEqual([tenantRate(refused).limit, tenantRate(refused).remaining], [8, 0]);
      const retry = Number(refused.headers['retry-after']);
      assert.ok(retry >= 1 && retry <= 3600, `Retry-After ${retry}`);
    }
    const byUser = await s.get('/v1/collections', { headers: inTenant });
    assert.equal(expectEnvelopeError(byUser, 429, 'RATE_LIMITED').details.scope, 'tenant');
    // The user still works outside the tenant, with the user budget the refusals did not spend
    // (me and two keys before: 3 of 6 left before this one).
    const meAgain = await s.get('/v1/auth/me', { headers: u.auth });
    assert.equal(meAgain.status, 200, describeRes(meAgain));
    assert.equal(rate(meAgain).remaining, 2);

    // Another tenant is untouched.
    const other = await signUp(s, client());
    const otherRes = await s.get('/v1/collections', { headers: { ...other.auth, 'X-Tenant-ID': other.tid } });
    assert.equal(otherRes.status, 200, describeRes(otherRes));
    assert.deepEqual([tenantRate(otherRes).limit, tenantRate(otherRes).remaining], [8, 7]);
  });

  test('a key refused by its own budget does not spend the tenant\'s; the plan sets the tenant limit', async () => {
    const s = servers.tenant;
    const u = await signUp(s, client());
    const inTenant = { ...u.auth, 'X-Tenant-ID': u.tid };
    const key = expectSuccess(await s.post('/v1/api-keys', { headers: inTenant, json: { name: 'k' } }), 201);
    for (let i = 0; i < 4; i++) assert.equal((await s.get('/v1/collections', { headers: { 'X-API-Key': key.key } })).status, 200);
    const refused = await s.get('/v1/collections', { headers: { 'X-API-Key': key.key } });
    assert.equal(expectEnvelopeError(refused, 429, 'RATE_LIMITED').details.scope, 'key');
    assert.equal(refused.headers['x-ratelimit-tenant-limit'], undefined, 'the tenant was not charged');
    const res = await s.get('/v1/collections', { headers: inTenant });
    assert.equal(res.status, 200, describeRes(res));
    assert.equal(tenantRate(res).remaining, 8 - 6, 'key creation, 4 by the key and this one');

    const adminRes = await s.post('/v1/auth/login', {
      headers: client(), json: { email: 'admin@e2e.test', password: 'E2e-admin-Passw0rd!' },
    });
    const admin = bearer(expectSuccess(adminRes, 200).tokens.access_token);
    const put = await s.request('PUT', `/v1/tenants/${u.tid}`, { headers: admin, json: { plan: 'pro' } });
    assert.equal(put.status, 200, describeRes(put));
    const onPro = await s.get('/v1/collections', { headers: inTenant });
    assert.deepEqual([tenantRate(onPro).limit, tenantRate(onPro).remaining], [12, 12 - 7]);
    const plans = expectSuccess(await s.get('/v1/plans', { headers: client() }), 200);
    const pro = plans.find((p) => p.name === 'pro');
    assert.equal(pro.limits.tenant_per_hour, 12);
    assert.equal(plans.find((p) => p.name === 'free').limits.tenant_per_hour, 8);
  });
});

describe('nodes sharing one PostgreSQL share budgets', { skip: BACKEND !== 'postgres' && 'PostgreSQL only' }, () => {
  test('requests on one node spend the budget another node answers from, exactly', { timeout: 30_000 }, async () => {
    const a = servers.small;
    const b = await startServer({ env: SMALL, databaseUrl: a.databaseUrl });
    try {
      const u = await signUp(a, client());
      // A node admits only what it reserved in the shared row (for a budget of 6, one request
      // at a time): no wait for a sync, no request past the limit on either node.
      for (let i = 0; i < 4; i++) assert.equal((await a.get('/v1/auth/me', { headers: u.auth })).status, 200);
      const fifth = await b.get('/v1/auth/me', { headers: u.auth });
      assert.equal(fifth.status, 200, describeRes(fifth));
      assert.equal(rate(fifth).remaining, 1, 'node B knows node A spent 4 of 6');
      const sixth = await b.get('/v1/auth/me', { headers: u.auth });
      assert.equal(sixth.status, 200, describeRes(sixth));
      assert.equal(rate(sixth).remaining, 0);
      expectRateLimited(await b.get('/v1/auth/me', { headers: u.auth }), 6);
      expectRateLimited(await a.get('/v1/auth/me', { headers: u.auth }), 6);
    } finally {
      await b.stop();
    }
  });
});
