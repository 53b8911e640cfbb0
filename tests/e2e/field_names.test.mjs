// Field names documents may not hold (issue #29): a '.' (a dotted query path would be
// ambiguous) or a leading '$' (read as an operator), at any depth, on every write path and in
// schemas: 422 naming the path, nothing stored.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, expectSuccess, expectValidation, list, newUser } from './tenancy_helpers.mjs';

let server;
let h;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  const user = await newUser(server, 'fields');
  h = as(user, user.tid);
});
after(async () => { await server?.stop(); });

test('create, batch, replace and patch refuse "a.b" and "$set"; the stored document is unchanged', async () => {
  const doc = expectSuccess(await server.post('/v1/collections/names/documents', { headers: h, json: { a: { b: 1 } } }), 201);
  expectValidation(await server.post('/v1/collections/names/documents', { headers: h, json: { 'a.b': 1 } }), 'a.b');
  expectValidation(await server.post('/v1/collections/names/documents',
    { headers: h, json: [{ ok: 1 }, { nested: { $set: 1 } }] }), '1.nested.$set');
  const path = `/v1/collections/names/documents/${doc._id}`;
  expectValidation(await server.request('PUT', path, { headers: h, json: { $set: { a: 2 } } }), '$set');
  expectValidation(await server.request('PATCH', path, { headers: h, json: { a: { 'x.y': 2 } } }), 'a.x.y');
  const { data } = await list(server, '/v1/collections/names/documents', h);
  assert.equal(data.length, 1);
  assert.deepEqual(data[0].a, { b: 1 });
  assert.equal(data[0]._version, 1);
  // The dotted path finds the nested field, and only it.
  const found = await list(server, '/v1/collections/names/documents?a.b=1', h);
  assert.equal(found.data.length, 1);
});

test('schemas refuse such property names', async () => {
  const res = await server.post('/v1/collections', {
    headers: h, json: { name: 'schemed', schema: { type: 'object', properties: { 'a.b': { type: 'string' } } } },
  });
  expectValidation(res, 'schema.properties.a.b');
});
