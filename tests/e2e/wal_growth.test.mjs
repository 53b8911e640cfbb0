// The SQLite WAL stays bounded (issue #29: under continuous reads it reached 111 MiB for about
// 3 MB of rows and was never truncated). 100 MB of documents written while reads run all
// along: the WAL file stays under 64 MiB, and is small again once the writes stop.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BACKEND, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, expectSuccess, newUser } from './tenancy_helpers.mjs';

const MiB = 1024 * 1024;
let server;
let h;
before(async () => {
  if (BACKEND !== 'sqlite') return;
  server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_PLANS_FREE_MAX_DOCUMENTS: '10000000' } });
  const u = await newUser(server, 'wal');
  h = as(u, u.tid);
});
after(async () => { await server?.stop(); });

const walSize = () => {
  try { return fs.statSync(path.join(server.dataDir, 'tenantbase.db-wal')).size; } catch { return 0; }
};

test('100 MB written under continuous reads: the WAL stays under 64 MiB and shrinks after', { skip: BACKEND !== 'sqlite' && 'SQLite only', timeout: 180_000 }, async () => {
  expectSuccess(await server.post('/v1/collections/wal/documents', { headers: h, json: { seed: 1 } }), 201);
  let writing = true;
  let maxWal = 0;
  let reads = 0;
  const readers = Array.from({ length: 4 }, async () => {
    while (writing) {
      const r = await server.get('/v1/collections/wal/documents?per_page=5&sort=-n', { headers: h, validate: false });
      assert.ok(r.status === 200 || r.status === 503, `read: ${r.status}`);
      reads += 1;
      maxWal = Math.max(maxWal, walSize());
    }
  });
  const body = 'x'.repeat(1200);
  let written = 0;
  for (let b = 0; written < 100 * MiB; b++) {
    const docs = Array.from({ length: 500 }, (_, i) => ({ n: b * 500 + i, body }));
    const res = await server.post('/v1/collections/wal/documents', { headers: h, json: docs });
    assert.equal(res.status, 201, res.body.slice(0, 200));
    written += docs.length * (body.length + 60);
    maxWal = Math.max(maxWal, walSize());
  }
  writing = false;
  await Promise.all(readers);
  console.log(`wrote ${(written / MiB).toFixed(0)} MB with ${reads} reads alongside; largest WAL ${(maxWal / MiB).toFixed(1)} MiB`);
  assert.ok(reads > 100, 'reads ran all along');
  assert.ok(maxWal < 64 * MiB, `the WAL reached ${(maxWal / MiB).toFixed(1)} MiB`);
  // Once the writes stop, a few more commits see the WAL emptied.
  for (let i = 0; i < 5; i++) await server.post('/v1/collections/wal/documents', { headers: h, json: { after: i } });
  await sleep(200);
  assert.ok(walSize() < 32 * MiB, `after the writes the WAL is ${(walSize() / MiB).toFixed(1)} MiB`);
});
