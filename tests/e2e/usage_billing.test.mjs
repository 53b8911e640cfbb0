// Usage metering, plans, quotas and billing (API.md §8, §13 "Usage counting", "Plans of new
// tenants"): totals equal the requests a test made, 402 QUOTA_EXCEEDED with nothing written,
// a hand-computed bill, counters that survive a graceful restart.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_BUDGETS, expectEnvelopeError, sleep, startServer } from './harness.mjs';
import { FAST_MAIL_ENV, fileBox, mailTo, tokenFrom } from './mail_helpers.mjs';
import {
  NO_THROTTLE_ENV, RANDOM_ID, adminLogin, as, describeRes, expectBadRequest, expectForbidden,
  expectNotFound, expectSuccess, makeTeam, newUser,
} from './tenancy_helpers.mjs';

const PLANS = {
  // A plan with small numbers, for a bill computed by hand.
  TB_PLANS_METERED_PRICE_MONTHLY: '10',
  TB_PLANS_METERED_CURRENCY: 'EUR',
  TB_PLANS_METERED_INCLUDED_REQUESTS: '5',
  TB_PLANS_METERED_OVERAGE_PER_1000_REQUESTS: '250', // 0.25 a request
  TB_PLANS_METERED_INCLUDED_DOCUMENTS_WRITTEN: '1',
  TB_PLANS_METERED_OVERAGE_PER_1000_DOCUMENTS_WRITTEN: '1000', // 1.00 a document
  TB_PLANS_METERED_MAX_DOCUMENTS: '8',
  // Tiny quotas.
  TB_PLANS_TINY_MAX_DOCUMENTS: '3',
  TB_PLANS_TINY_MAX_STORAGE_BYTES: '2000',
  TB_PLANS_TINY_MAX_API_KEYS: '1',
  TB_PLANS_TINY_MAX_MEMBERS: '2',
};


let server;
let admin;
before(async () => {
  server = await startServer({ env: { ...NO_THROTTLE_ENV, ...DEFAULT_BUDGETS, ...FAST_MAIL_ENV, ...PLANS } });
  admin = await adminLogin(server);
});
after(async () => { await server?.stop(); });

const FLUSH_MS = 2500; // counters are written every second; API.md §13 promises 5 s

/** Counts what a test sends into one tenant, to compare with what /v1/usage reports. */
class Tally {
  constructor(srv) {
    this.server = srv;
    this.requests = 0; this.errors = 0; this.bytesIn = 0; this.bytesOut = 0;
  }

  async send(method, path, headers, json) {
    const res = await this.server.request(method, path, json === undefined ? { headers } : { headers, json });
    this.requests += 1;
    if (res.status >= 400) this.errors += 1;
    if (json !== undefined) this.bytesIn += Buffer.byteLength(JSON.stringify(json));
    this.bytesOut += Buffer.byteLength(res.body);
    return res;
  }
}

async function setPlan(tenantId, plan) {
  const res = await server.request('PUT', `/v1/tenants/${tenantId}`, { headers: admin.auth, json: { plan } });
  assert.equal(res.status, 200, describeRes(res));
  assert.equal(res.json.data.plan, plan);
}

async function usage(headers, query = '') {
  return expectSuccess(await server.get(`/v1/usage${query}`, { headers }), 200);
}

describe('metering: /v1/usage equals the requests made', () => {
  let owner; let tally; let key; let usageBefore;
  before(async () => {
    owner = await newUser(server, 'meter');
    const h = as(owner, owner.tid);
    tally = new Tally(server);
    let res = await tally.send('POST', '/v1/collections', h, { name: 'notes' });
    assert.equal(res.status, 201, describeRes(res));
    res = await tally.send('POST', '/v1/collections/notes/documents', h, [{ n: 1 }, { n: 2 }]);
    assert.equal(res.status, 201, describeRes(res));
    const first = res.json.data[0]._id;
    res = await tally.send('POST', '/v1/collections/notes/documents', h, { n: 3, text: 'héllo' });
    assert.equal(res.status, 201, describeRes(res));
    res = await tally.send('PATCH', `/v1/collections/notes/documents/${first}`, h, { n: 10 });
    assert.equal(res.status, 200, describeRes(res));
    res = await tally.send('DELETE', `/v1/collections/notes/documents/${first}`, h);
    assert.equal(res.status, 204, describeRes(res));
    res = await tally.send('GET', `/v1/collections/notes/documents/${RANDOM_ID}`, h);
    assert.equal(res.status, 404);
    res = await tally.send('POST', '/v1/collections/notes/documents', h, { _bad: 1 }); // 422
    assert.equal(res.status, 422);
    res = await tally.send('POST', '/v1/api-keys', h, { name: 'meter key' });
    assert.equal(res.status, 201, describeRes(res));
    key = res.json.data;
    for (let i = 0; i < 2; i++) {
      res = await tally.send('GET', '/v1/collections/notes/documents', { 'X-API-Key': key.key });
      assert.equal(res.status, 200, describeRes(res));
    }
    await sleep(FLUSH_MS);
    usageBefore = { ...tally };
  });

  test('totals, series, by key and by user', async () => {
    const data = await usage(as(owner, owner.tid), '?granularity=hour');
    assert.deepEqual(data.totals, {
      requests: usageBefore.requests,
      errors: usageBefore.errors,
      documents_written: 5, // 2 + 1 created, 1 patched, 1 deleted
      bytes_in: usageBefore.bytesIn,
      bytes_out: usageBefore.bytesOut,
    });
    assert.equal(data.period.granularity, 'hour');
    const sum = data.series.reduce((n, p) => n + p.requests, 0);
    assert.equal(sum, usageBefore.requests, 'the series adds up to the totals');
    assert.ok(data.series.length >= 1 && data.series.length <= 24 * 31);
    assert.deepEqual(data.by_key.map((k) => [k.key_id, k.requests]), [[key.id, 2]]);
    assert.deepEqual(data.by_user.map((u) => [u.user_id, u.requests]), [[owner.user.id, usageBefore.requests]]);
  });

  test('by day (the default), this month; the usage request itself counts afterwards', async () => {
    await sleep(FLUSH_MS);
    const data = await usage(as(owner, owner.tid));
    assert.equal(data.period.granularity, 'day');
    assert.ok(data.period.from.endsWith('-01T00:00:00.000Z'), data.period.from);
    // The hour-granularity request of the test above is counted now.
    assert.equal(data.totals.requests, usageBefore.requests + 1);
    for (const p of data.series) assert.ok(p.ts.endsWith('T00:00:00.000Z'), p.ts);
  });

  test('an explicit range; a range without requests is all zeros', async () => {
    const data = await usage(as(owner, owner.tid), '?from=2020-01-01&to=2020-01-03');
    assert.equal(data.series.length, 2);
    assert.equal(data.series[0].ts, '2020-01-01T00:00:00.000Z');
    assert.equal(data.totals.requests, 0);
    assert.deepEqual(data.by_key, []);
  });

  test('bad parameters are 400 naming the parameter', async () => {
    const h = as(owner, owner.tid);
    expectBadRequest(await server.get('/v1/usage?granularity=week', { headers: h }), 'granularity');
    expectBadRequest(await server.get('/v1/usage?from=yesterday', { headers: h }), 'from');
    expectBadRequest(await server.get('/v1/usage?to=2020-13-01', { headers: h }), 'to');
    expectBadRequest(await server.get('/v1/usage?from=2020-02-01&to=2020-01-01', { headers: h }), 'to');
    expectBadRequest(await server.get('/v1/usage?granularity=hour&from=2020-01-01&to=2020-03-01', { headers: h }), 'to');
    expectBadRequest(await server.get('/v1/usage?foo=1', { headers: h }), 'foo');
    expectBadRequest(await server.get('/v1/usage?from=2020-01-01&from=2020-01-02', { headers: h }), 'from');
    expectBadRequest(await server.get('/v1/usage?from=%zz', { headers: h }), 'query');
    // Access first, then the parameters (API.md §13 "Precedence of errors").
    expectForbidden(await server.get(`/v1/tenants/${owner.tid}/usage?foo=1`, { headers: h }));
    expectNotFound(await server.get(`/v1/tenants/${RANDOM_ID}/usage?foo=1`, { headers: admin.auth }));
    expectEnvelopeError(await server.get('/v1/usage'), 401, 'UNAUTHORIZED');
  });

  test('another tenant sees none of it, and cannot ask for it', async () => {
    const other = await newUser(server, 'meter-other');
    const mine = await usage(as(other, other.tid));
    assert.equal(mine.totals.requests, 0);
    expectNotFound(await server.get('/v1/usage', { headers: as(other, owner.tid) }));
    expectNotFound(await server.get('/v1/billing', { headers: as(other, owner.tid) }));
    // A key is bound to its tenant: naming another one is 403 (API.md §13).
    expectForbidden(await server.get('/v1/usage', { headers: { 'X-API-Key': key.key, 'X-Tenant-ID': other.tid } }));
    expectForbidden(await server.get(`/v1/tenants/${owner.tid}/usage`, { headers: other.auth }));
  });

  test('a platform admin reads any tenant\'s usage; an unknown tenant is 404', async () => {
    const data = expectSuccess(await server.get(`/v1/tenants/${owner.tid}/usage`, { headers: admin.auth }), 200);
    assert.ok(data.totals.requests >= usageBefore.requests);
    assert.equal(data.totals.documents_written, 5);
    expectNotFound(await server.get(`/v1/tenants/${RANDOM_ID}/usage`, { headers: admin.auth }));
  });

  test('/metrics counts requests per tenant', async () => {
    const text = (await server.metrics()).body;
    const line = text.split('\n').find((l) => l.startsWith(`tenantbase_tenant_requests_total{tenant="${owner.tid}"}`));
    assert.ok(line, 'a series for the tenant');
    assert.ok(Number(line.split(' ').pop()) >= usageBefore.requests);
  });
});

describe('/v1/plans', () => {
  test('anyone reads the plan table: free (default), pro, enterprise and the configured ones', async () => {
    const plans = expectSuccess(await server.get('/v1/plans'), 200);
    const byName = Object.fromEntries(plans.map((p) => [p.name, p]));
    assert.deepEqual(plans.map((p) => p.name), ['free', 'pro', 'enterprise', 'metered', 'tiny']);
    assert.equal(byName.free.default, true);
    assert.equal(byName.pro.default, false);
    // API.md §1.3 and §13: free is 1000/5000/100 per hour, 10 MiB per file, 1 GiB per tenant.
    assert.equal(byName.free.limits.user_per_hour, 1000);
    assert.equal(byName.free.limits.key_per_hour, 5000);
    assert.equal(byName.free.limits.anonymous_per_hour, 100);
    assert.equal(byName.free.limits.tenant_per_hour, 50_000);
    assert.equal(byName.pro.limits.tenant_per_hour, 500_000);
    assert.equal(byName.free.limits.max_file_bytes, 10 * 1024 * 1024);
    assert.equal(byName.free.limits.max_storage_bytes, 1024 ** 3);
    assert.equal(byName.pro.limits.max_file_bytes, 100 * 1024 * 1024);
    assert.equal(byName.pro.limits.max_storage_bytes, 100 * 1024 ** 3);
    assert.equal(byName.enterprise.limits.max_documents, null, 'unlimited is null');
    // Realtime streams subscribed at once per tenant (issue #25).
    assert.equal(byName.free.limits.max_realtime_connections, 100);
    assert.equal(byName.pro.limits.max_realtime_connections, 10_000);
    assert.equal(byName.enterprise.limits.max_realtime_connections, null);
    assert.equal(byName.metered.price.currency, 'EUR');
    assert.equal(byName.metered.price.monthly, 10);
    assert.equal(byName.metered.price.overage_per_1000_requests, 250);
  });

  test('a tenant\'s plan must be a configured one', async () => {
    const u = await newUser(server, 'planname');
    const res = await server.request('PUT', `/v1/tenants/${u.tid}`, { headers: admin.auth, json: { plan: 'gold' } });
    assert.equal(res.status, 422, describeRes(res));
  });
});

describe('/v1/billing', () => {
  test('a bill computed by hand (plan metered: 10 EUR, 5 requests and 1 document included)', async () => {
    const owner = await newUser(server, 'bill');
    await setPlan(owner.tid, 'metered');
    const h = as(owner, owner.tid);
    const tally = new Tally(server);
    assert.equal((await tally.send('POST', '/v1/collections', h, { name: 'b' })).status, 201);
    assert.equal((await tally.send('POST', '/v1/collections/b/documents', h, [{ a: 1 }, { a: 2 }, { a: 3 }])).status, 201);
    for (let i = 0; i < 8; i++) assert.equal((await tally.send('GET', '/v1/collections/b/documents', h)).status, 200);
    await sleep(FLUSH_MS);
    const bill = expectSuccess(await server.get('/v1/billing', { headers: h }), 200);
    // 10 requests: 5 over at 0.25 = 1.25; 3 documents written: 2 over at 1.00 = 2.00.
    assert.equal(tally.requests, 10);
    assert.equal(bill.plan, 'metered');
    assert.deepEqual(bill.usage, {
      requests: 10, errors: 0, documents_written: 3, documents: 3, storage_bytes: bill.usage.storage_bytes,
      members: 1, api_keys: 0, realtime_connections: 0,
    });
    assert.ok(bill.usage.storage_bytes > 3 * 20, `storage_bytes ${bill.usage.storage_bytes}`);
    assert.deepEqual(bill.estimated_charges, { base: 10, overage: 3.25, total: 13.25, currency: 'EUR' });
    assert.equal(bill.limits.max_documents, 8);
    assert.equal(bill.limits.included_requests, 5);
    assert.equal(bill.usage_percent.documents, 37.5);
    assert.equal(bill.usage_percent.requests, 200);
    // A new plan starts as a copy of free: 1 GiB of storage.
    assert.equal(bill.limits.max_storage_bytes, 1024 ** 3);
    assert.equal(typeof bill.usage_percent.storage_bytes, 'number');
  });

  test('the period is the calendar month (UTC)', async () => {
    const owner = await newUser(server, 'period');
    const bill = expectSuccess(await server.get('/v1/billing', { headers: as(owner, owner.tid) }), 200);
    const now = new Date();
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    assert.equal(bill.period_start, start.toISOString());
    assert.equal(bill.period_end, end.toISOString());
    assert.equal(bill.plan, 'free');
    assert.deepEqual(bill.estimated_charges, { base: 0, overage: 0, total: 0, currency: 'USD' });
  });

  test('admin+ only: a member or viewer is 403, a viewer still reads usage', async () => {
    const team = await makeTeam(server, 'billteam');
    expectSuccess(await server.get('/v1/billing', { headers: as(team.adm, team.tid) }), 200);
    expectForbidden(await server.get('/v1/billing', { headers: as(team.mem, team.tid) }));
    expectForbidden(await server.get('/v1/billing', { headers: as(team.vie, team.tid) }));
    expectSuccess(await server.get('/v1/usage', { headers: as(team.vie, team.tid) }), 200);
    expectNotFound(await server.get('/v1/billing', { headers: as(team.owner, RANDOM_ID) }));
    // Keys: billing needs the admin scope; usage needs read.
    const reader = expectSuccess(await server.post('/v1/api-keys', { headers: as(team.owner, team.tid), json: { name: 'r', scopes: ['read'] } }), 201);
    const adminKey = expectSuccess(await server.post('/v1/api-keys', { headers: as(team.owner, team.tid), json: { name: 'a', scopes: ['admin'] } }), 201);
    const writer = expectSuccess(await server.post('/v1/api-keys', { headers: as(team.owner, team.tid), json: { name: 'w', scopes: ['write'] } }), 201);
    expectForbidden(await server.get('/v1/billing', { headers: { 'X-API-Key': reader.key } }));
    expectSuccess(await server.get('/v1/billing', { headers: { 'X-API-Key': adminKey.key } }), 200);
    expectSuccess(await server.get('/v1/usage', { headers: { 'X-API-Key': reader.key } }), 200);
    expectForbidden(await server.get('/v1/usage', { headers: { 'X-API-Key': writer.key } }));
    expectForbidden(await server.get('/v1/usage?granularity=week', { headers: { 'X-API-Key': writer.key } }));
  });
});

describe('quotas: 402 QUOTA_EXCEEDED naming the limit, nothing written', () => {
  function expectQuota(res, limit, value) {
    const error = expectEnvelopeError(res, 402, 'QUOTA_EXCEEDED');
    assert.equal(error.details?.limit, limit, JSON.stringify(error));
    assert.equal(error.details?.value, value, JSON.stringify(error));
  }
  const count = async (h, coll) =>
    expectSuccess(await server.get(`/v1/collections/${coll}/documents`, { headers: h }), 200).length;

  test('documents: a batch that would pass max_documents writes none of it', async () => {
    const owner = await newUser(server, 'qdocs');
    await setPlan(owner.tid, 'tiny');
    const h = as(owner, owner.tid);
    expectSuccess(await server.post('/v1/collections/q/documents', { headers: h, json: [{ i: 1 }, { i: 2 }] }), 201);
    expectQuota(await server.post('/v1/collections/q/documents', { headers: h, json: [{ i: 3 }, { i: 4 }] }), 'max_documents', 3);
    assert.equal(await count(h, 'q'), 2);
    expectSuccess(await server.post('/v1/collections/q/documents', { headers: h, json: { i: 3 } }), 201);
    expectQuota(await server.post('/v1/collections/other/documents', { headers: h, json: { i: 4 } }), 'max_documents', 3);
    // A delete frees a slot; a plan change lifts the limit.
    const docs = expectSuccess(await server.get('/v1/collections/q/documents', { headers: h }), 200);
    assert.equal((await server.request('DELETE', `/v1/collections/q/documents/${docs[0]._id}`, { headers: h })).status, 204);
    expectSuccess(await server.post('/v1/collections/q/documents', { headers: h, json: { i: 5 } }), 201);
    await setPlan(owner.tid, 'free');
    expectSuccess(await server.post('/v1/collections/q/documents', { headers: h, json: [{ i: 6 }, { i: 7 }] }), 201);
  });

  test('storage: a create or an update that would pass max_storage_bytes changes nothing', async () => {
    const owner = await newUser(server, 'qbytes');
    await setPlan(owner.tid, 'tiny');
    const h = as(owner, owner.tid);
    expectQuota(await server.post('/v1/collections/s/documents', { headers: h, json: { blob: 'x'.repeat(2500) } }),
      'max_storage_bytes', 2000);
    const doc = expectSuccess(await server.post('/v1/collections/s/documents', { headers: h, json: { blob: 'small' } }), 201);
    const res = await server.request('PATCH', `/v1/collections/s/documents/${doc._id}`, { headers: h, json: { blob: 'y'.repeat(2500) } });
    expectQuota(res, 'max_storage_bytes', 2000);
    const now = expectSuccess(await server.get(`/v1/collections/s/documents/${doc._id}`, { headers: h }), 200);
    assert.equal(now.blob, 'small');
    assert.equal(now._version, 1);
    const bill = expectSuccess(await server.get('/v1/billing', { headers: h }), 200);
    assert.ok(bill.usage.storage_bytes > 0 && bill.usage.storage_bytes < 2000, JSON.stringify(bill.usage));
    assert.equal(bill.usage_percent.storage_bytes, Math.round(bill.usage.storage_bytes * 10000 / 2000) / 100);
    // Deleting gives the bytes back.
    assert.equal((await server.request('DELETE', `/v1/collections/s/documents/${doc._id}`, { headers: h })).status, 204);
    const after = expectSuccess(await server.get('/v1/billing', { headers: h }), 200);
    assert.equal(after.usage.storage_bytes, 0);
  });

  test('API keys: max_api_keys', async () => {
    const owner = await newUser(server, 'qkeys');
    await setPlan(owner.tid, 'tiny');
    const h = as(owner, owner.tid);
    expectSuccess(await server.post('/v1/api-keys', { headers: h, json: { name: 'one' } }), 201);
    expectQuota(await server.post('/v1/api-keys', { headers: h, json: { name: 'two' } }), 'max_api_keys', 1);
    assert.equal(expectSuccess(await server.get('/v1/api-keys', { headers: h }), 200).length, 1);
  });

  test('members: max_members, by adding an account or creating a user', async () => {
    const owner = await newUser(server, 'qmem');
    const second = await newUser(server, 'qmem2');
    const third = await newUser(server, 'qmem3');
    await setPlan(owner.tid, 'tiny');
    const h = as(owner, owner.tid);
    expectSuccess(await server.post(`/v1/tenants/${owner.tid}/members`, { headers: h, json: { email: second.email, role: 'member' } }), 201);
    expectQuota(await server.post(`/v1/tenants/${owner.tid}/members`, { headers: h, json: { email: third.email, role: 'member' } }),
      'max_members', 2);
    expectQuota(await server.post('/v1/users', { headers: h, json: { email: 'new-qmem@example.com', name: 'New', role: 'member' } }),
      'max_members', 2);
    // An email without an account would be invited: refused too, and no mail goes out.
    expectQuota(await server.post(`/v1/tenants/${owner.tid}/members`, { headers: h, json: { email: 'nobody-qmem@example.com', role: 'member' } }),
      'max_members', 2);
    const members = expectSuccess(await server.get(`/v1/tenants/${owner.tid}/members`, { headers: h }), 200);
    assert.equal(members.length, 2);
    const tenant = expectSuccess(await server.get(`/v1/tenants/${owner.tid}`, { headers: h }), 200);
    assert.equal(tenant.member_count, 2, 'the count rolled back with the refused insert');
  });

  test('members: an invitation accepted after the tenant filled up is 402, and creates no account', async () => {
    const owner = await newUser(server, 'qacc');
    const later = await newUser(server, 'qacc2');
    await setPlan(owner.tid, 'tiny');
    const h = as(owner, owner.tid);
    const invitee = `invitee-${Date.now()}@example.com`;
    const invited = await server.post(`/v1/tenants/${owner.tid}/members`, { headers: h, json: { email: invitee, role: 'member' } });
    assert.equal(invited.status, 202, describeRes(invited));
    expectSuccess(await server.post(`/v1/tenants/${owner.tid}/members`, { headers: h, json: { email: later.email, role: 'member' } }), 201);
    const [mail] = await fileBox(server).waitForMails(mailTo(invitee), 1);
    const token = tokenFrom(mail.text, 'accept-invitation');
    const res = await server.post('/v1/invitations/accept', { json: { token, password: 'a fine password 77' } });
    expectQuota(res, 'max_members', 2);
    expectEnvelopeError(await server.post('/v1/auth/login', { json: { email: invitee, password: 'a fine password 77' } }), 401, 'UNAUTHORIZED');
    const tenant = expectSuccess(await server.get(`/v1/tenants/${owner.tid}`, { headers: h }), 200);
    assert.equal(tenant.member_count, 2);
  });
});

describe('counters survive a graceful restart', () => {
  test('requests answered just before SIGTERM are in /v1/usage after the restart', { timeout: 60_000 }, async () => {
    const first = await startServer({ env: NO_THROTTLE_ENV });
    let second;
    try {
      const owner = await newUser(first, 'restart');
      const h = as(owner, owner.tid);
      const tally = new Tally(first);
      for (let i = 0; i < 7; i++) await tally.send('GET', '/v1/collections', h);
      // At once: the periodic flush has most likely not run; the shutdown's must.
      assert.equal(await first.stop(), 0, first.output());
      second = await startServer({ env: NO_THROTTLE_ENV, dataDir: first.dataDir, databaseUrl: first.databaseUrl });
      const data = expectSuccess(await second.get('/v1/usage', { headers: h }), 200);
      assert.equal(data.totals.requests, tally.requests);
      assert.equal(data.totals.bytes_out, tally.bytesOut);
    } finally {
      await first.stop();
      await second?.stop();
    }
  });
});
