// The generated TypeScript SDK (issue #8; sdk/typescript, `make sdk`): the committed sources
// are exactly what @hey-api/openapi-ts makes of the current docs/openapi.yaml, they compile
// with tsc (strict), and the compiled client drives a live server through a round trip —
// register → create a tenant → create an API key → create a collection with an index →
// create and query documents with the key — with the errors surfacing as typed envelopes.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { EventSource } from 'eventsource';
import { REPO_ROOT, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, createKey, expectSuccess, newUser } from './tenancy_helpers.mjs';

const SDK = path.join(REPO_ROOT, 'sdk', 'typescript');
const BIN = path.join(REPO_ROOT, 'tests', 'node_modules', '.bin');

let server;
let work;
let sdk; // the compiled package's exports
let createClient;

function listFiles(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  }).sort();
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-sdk-'));
  // Compile the committed sources into a scratch directory (the checkout stays untouched).
  const out = path.join(work, 'dist');
  execFileSync(path.join(BIN, 'tsc'), ['-p', path.join(SDK, 'tsconfig.json'), '--outDir', out], { stdio: 'pipe' });
  fs.writeFileSync(path.join(out, 'package.json'), '{"type": "module"}\n');
  sdk = await import(pathToFileURL(path.join(out, 'index.js')).href);
  ({ createClient } = await import(pathToFileURL(path.join(out, 'client', 'index.js')).href));
  server = await startServer({ env: NO_THROTTLE_ENV });
});

after(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('sdk/typescript/src is what `make sdk` generates from the current OpenAPI document', () => {
  const fresh = path.join(work, 'fresh');
  execFileSync(path.join(REPO_ROOT, 'scripts', 'sdk'), [fresh], { stdio: 'pipe' });
  const committed = path.join(SDK, 'src');
  const files = listFiles(committed);
  assert.deepEqual(listFiles(fresh), files, 'the generated file list differs: run `make sdk`');
  for (const f of files) {
    assert.equal(fs.readFileSync(path.join(fresh, f), 'utf8'), fs.readFileSync(path.join(committed, f), 'utf8'),
      `${f} is stale: run \`make sdk\` after changing docs/openapi.yaml`);
  }
});

test('a round trip through the generated client: register, tenant, key, collection, documents, query', async () => {
  let token;
  let apiKey;
  const client = createClient({
    baseUrl: server.url,
    // Each operation names the schemes it accepts; answer with what we hold.
    auth: (scheme) => (scheme.type === 'http' ? token : apiKey),
  });
  const email = `sdk-${process.pid}-${Date.now()}@example.com`;
  const registered = await sdk.register({ client, body: { email, password: 'a long sdk passphrase', name: 'SDK' } });
  assert.equal(registered.response.status, 201, JSON.stringify(registered.error));
  token = registered.data.data.tokens.access_token;

  const me = await sdk.getMe({ client });
  assert.equal(me.data.data.user.email, email);

  const tenant = await sdk.createTenant({ client, body: { name: 'SDK Inc' } });
  assert.equal(tenant.response.status, 201, JSON.stringify(tenant.error));
  const tid = tenant.data.data.id;
  const headers = { 'X-Tenant-ID': tid };

  const key = await sdk.createApiKey({ client, headers, body: { name: 'sdk key', scopes: ['read', 'write'] } });
  assert.equal(key.response.status, 201, JSON.stringify(key.error));
  const collection = await sdk.createCollection({
    client, headers, body: { name: 'notes', indexes: [{ fields: ['tag', '-n'] }, { fields: ['slug'], unique: true }] },
  });
  assert.equal(collection.response.status, 201, JSON.stringify(collection.error));

  // From here on, the API key alone (no Bearer token).
  token = undefined;
  apiKey = key.data.data.key;
  const bodies = Array.from({ length: 12 }, (_, i) => ({ slug: `note-${i}`, tag: i % 2 ? 'odd' : 'even', n: i, title: `Note ${i}` }));
  const created = await sdk.createDocuments({ client, path: { name: 'notes' }, body: bodies });
  assert.equal(created.response.status, 201, JSON.stringify(created.error));
  assert.equal(created.data.data.length, 12);

  const page = await sdk.listDocuments({
    client, path: { name: 'notes' },
    query: { q: JSON.stringify({ tag: 'odd', n: { $gte: 5 } }), sort: '-n', per_page: 2 },
  });
  assert.equal(page.response.status, 200, JSON.stringify(page.error));
  assert.deepEqual(page.data.data.map((d) => d.n), [11, 9]);
  assert.equal(page.data.meta.total, 4);

  const one = await sdk.getDocument({ client, path: { name: 'notes', id: page.data.data[0]._id } });
  assert.equal(one.data.data.title, 'Note 11');
  const patched = await sdk.patchDocument({ client, path: { name: 'notes', id: one.data.data._id }, body: { title: 'Eleven' } });
  assert.equal(patched.data.data.title, 'Eleven');
  assert.equal(patched.data.data._version, 2);

  // Errors come back as the envelope, typed: a repeated unique value, a bad query.
  const dup = await sdk.createDocuments({ client, path: { name: 'notes' }, body: { slug: 'note-1' } });
  assert.equal(dup.response.status, 409);
  assert.equal(dup.error.error.code, 'CONFLICT');
  const bad = await sdk.listDocuments({ client, path: { name: 'notes' }, query: { q: '{"n": {"$nope": 1}}' } });
  assert.equal(bad.response.status, 400);
  assert.equal(bad.error.error.details.field, 'q');
});

test('Realtime (the SDK\'s hand-written stream client): events of a subscription; after the key is replaced and the old one deleted, it subscribes again on its own', async () => {
  const { Realtime, RealtimeError } = await import(pathToFileURL(path.join(work, 'dist', 'realtime.js')).href);
  const owner = await newUser(server, 'sdk-rt');
  const h = as(owner, owner.tid);
  expectSuccess(await server.post('/v1/collections', { headers: h, json: { name: 'live' } }), 201);
  let key = (await createKey(server, h, { name: 'rt1', scopes: ['read', 'write'] })).key;
  const first = key;
  const live = new Realtime({
    baseUrl: server.url,
    headers: () => ({ 'X-API-Key': key }),
    eventSource: (url) => new EventSource(url),
  });
  const events = [];
  let resets = 0;
  live.on((e) => events.push(e));
  live.onReset(() => { resets++; });
  const seen = async (id, ms = 10_000) => {
    for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(20)) {
      const e = events.find((x) => x.id === id);
      if (e) return e;
    }
    throw new Error(`no event for ${id}: ${JSON.stringify(events)}`);
  };
  try {
    await assert.rejects(live.subscribe([{ collection: 'nope' }]),
      (e) => e instanceof RealtimeError && e.status === 404 && e.code === 'NOT_FOUND');
    await live.subscribe([{ collection: 'live' }]);
    const write = (k, n) => server.post('/v1/collections/live/documents', { headers: { 'X-API-Key': k }, json: { n } });
    const d1 = expectSuccess(await write(first, 1), 201);
    const e1 = await seen(d1._id);
    assert.equal(e1.type, 'create');
    assert.equal(e1.collection, 'live');
    assert.deepEqual(e1.document, d1);
    // A new key, the old one deleted: the server ends the stream (reset); the client
    // reconnects, gets a new client id and subscribes again with the new key.
    const second = await createKey(server, h, { name: 'rt2', scopes: ['read', 'write'] });
    key = second.key;
    const old = (await server.get('/v1/api-keys', { headers: h })).json.data.find((k) => k.name === 'rt1');
    assert.equal((await server.request('DELETE', `/v1/api-keys/${old.id}`, { headers: h })).status, 204);
    for (const t0 = Date.now(); resets === 0 && Date.now() - t0 < 5000;) await sleep(20);
    assert.ok(resets > 0, 'the page was told to reload');
    // Writes until one arrives: the resubscription follows the reconnect (a few seconds).
    let arrived;
    for (let i = 2; !arrived && i < 400; i++) {
      const d = expectSuccess(await write(key, i), 201);
      arrived = await seen(d._id, 100).catch(() => undefined);
    }
    assert.ok(arrived, 'events flow again on the new client id');
  } finally {
    live.close();
  }
});
