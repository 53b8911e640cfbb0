// Deep offsets are refused (issue #29: `page=999&per_page=100` over 100,000 documents took
// 18 s each and stalled every tenant): a page may skip at most 10,000 rows, by `page` or by
// `h`'s `$skip`; past that, 400 pointing to cursors, which cost the same at any depth.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, expectBadRequest, expectSuccess, list, newUser } from './tenancy_helpers.mjs';

let server;
let user;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  user = await newUser(server, 'offsets');
  expectSuccess(await server.post('/v1/collections/c/documents', { headers: as(user, user.tid), json: [{ n: 1 }, { n: 2 }] }), 201);
});
after(async () => { await server?.stop(); });

test('page × per_page past 10,000 rows -> 400 naming page; up to it, an empty page as before', async () => {
  const h = as(user, user.tid);
  for (const path of ['/v1/collections/c/documents', '/v1/users', '/v1/api-keys', '/v1/audit-logs', '/v1/tenants']) {
    const deep = await server.get(`${path}?page=999&per_page=100`, { headers: h });
    const error = expectBadRequest(deep, 'page');
    assert.match(error.message, /after=/, 'points to cursors');
    expectBadRequest(await server.get(`${path}?page=100000`, { headers: h }), 'page');
    const { data } = await list(server, `${path}?page=101&per_page=100`, h); // skips exactly 10,000
    assert.deepEqual(data, []);
  }
});

test("h's $skip past 10,000 -> 400 naming h", async () => {
  const h = as(user, user.tid);
  const deep = await server.get(`/v1/collections/c/documents?h=${encodeURIComponent('{"$skip":10000000}')}`, { headers: h });
  expectBadRequest(deep, 'h');
  const edge = await list(server, `/v1/collections/c/documents?h=${encodeURIComponent('{"$skip":10000}')}`, h);
  assert.deepEqual(edge.data, []);
  const near = await list(server, `/v1/collections/c/documents?h=${encodeURIComponent('{"$skip":1}')}`, h);
  assert.equal(near.data.length, 1);
});

test('cursors go as deep as the data', async () => {
  const h = as(user, user.tid);
  const first = await list(server, '/v1/collections/c/documents?per_page=1&after=', h);
  assert.equal(first.data.length, 1);
  const second = await list(server, `/v1/collections/c/documents?per_page=1&after=${first.meta.next_cursor}`, h);
  assert.equal(second.data.length, 1);
});
