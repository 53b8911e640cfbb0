// Response compression (issue #20): `Accept-Encoding: gzip` gets gzip on answers of 1 KiB and
// more (lists, the OpenAPI documents, the /docs assets, stored pre-compressed), with
// `Vary: Accept-Encoding`; small answers, clients that do not ask, and `gzip;q=0` get the
// identity bytes. Read with node:http, which (unlike fetch) does not decompress by itself.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, expectSuccess, newUser } from './tenancy_helpers.mjs';

let server;
let user;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  user = await newUser(server, 'gzip');
  const docs = Array.from({ length: 60 }, (_, i) => ({ title: `note ${i}`, body: 'lorem ipsum '.repeat(4) }));
  expectSuccess(await server.post('/v1/collections/notes/documents', { headers: as(user, user.tid), json: docs }), 201);
});
after(async () => { await server?.stop(); });

/** GET with raw bytes back: {status, headers, bytes}. */
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${server.url}${path}`, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

test('lists, documents and assets are gzip for a client that asks, identity otherwise, the same JSON', async () => {
  const auth = as(user, user.tid);
  for (const [path, headers] of [['/v1/collections/notes/documents?per_page=50', auth], ['/v1/openapi.json', {}],
    ['/v1/openapi-3.0.json', {}], ['/docs/swagger-ui-bundle.js', {}], ['/docs/swagger-ui.css', {}], ['/v1/plans', {}]]) {
    const plain = await get(path, headers);
    const packed = await get(path, { ...headers, 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(plain.status, 200);
    assert.equal(packed.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined, `${path}: identity for a client that did not ask`);
    assert.equal(packed.headers['content-encoding'], 'gzip', path);
    assert.match(plain.headers.vary || '', /Accept-Encoding/i, `${path}: Vary on both`);
    assert.match(packed.headers.vary || '', /Accept-Encoding/i);
    assert.equal(Number(packed.headers['content-length']), packed.bytes.length);
    assert.ok(packed.bytes.length < plain.bytes.length / 2, `${path}: ${packed.bytes.length} vs ${plain.bytes.length}`);
    const unpacked = zlib.gunzipSync(packed.bytes);
    if (path.includes('documents')) {
      // The same documents (the request ids and the like differ per request, not here).
      assert.deepEqual(JSON.parse(unpacked).data, JSON.parse(plain.bytes).data);
    } else {
      assert.ok(unpacked.equals(plain.bytes), `${path}: the same bytes once decompressed`);
    }
  }
});

test('small answers, gzip;q=0 and identity stay uncompressed', async () => {
  const small = await get('/v1/health', { 'Accept-Encoding': 'gzip' });
  assert.equal(small.headers['content-encoding'], undefined);
  assert.equal(small.headers.vary, undefined, 'under 1 KiB nothing varies');
  for (const accept of ['gzip;q=0', 'identity', 'br']) {
    const res = await get('/v1/openapi.json', { 'Accept-Encoding': accept });
    assert.equal(res.headers['content-encoding'], undefined, accept);
    JSON.parse(res.bytes);
  }
});

test('a large document keeps its version: the ETag turns weak and still works with If-None-Match', async () => {
  const auth = as(user, user.tid);
  const doc = expectSuccess(await server.post('/v1/collections/big/documents',
    { headers: auth, json: { text: 'x'.repeat(3000) } }), 201);
  const res = await get(`/v1/collections/big/documents/${doc._id}`, { ...auth, 'Accept-Encoding': 'gzip' });
  assert.equal(res.headers['content-encoding'], 'gzip');
  assert.equal(res.headers.etag, 'W/"1"');
  assert.equal(JSON.parse(zlib.gunzipSync(res.bytes)).data.text.length, 3000);
  const again = await get(`/v1/collections/big/documents/${doc._id}`, { ...auth, 'If-None-Match': res.headers.etag });
  assert.equal(again.status, 304);
});
