// A 1 GiB file streamed up and down (issue #21; 256 MiB on the database store): the server's resident memory, sampled from
// /proc during both transfers, stays within 16 MiB of what it was at rest, and the bytes come
// back exactly (SHA-256 on both sides). Run with nothing else (tests/latency/ runs alone), so
// the transfers and the samples are the server's own.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { startServer } from '../e2e/harness.mjs';
import { NO_THROTTLE_ENV, as, expectSuccess, newUser } from '../e2e/tenancy_helpers.mjs';

const GIB = 1024 ** 3;
const PIECE = 1024 * 1024;
const MAX_GROWTH = 16 * 1024 * 1024;

const ENV = {
  ...NO_THROTTLE_ENV,
  TB_PLANS_FREE_MAX_FILE_BYTES: String(2 * GIB),
  TB_PLANS_FREE_MAX_STORAGE_BYTES: String(4 * GIB),
  // Under AddressSanitizer freed memory stays resident in its quarantine (256 MiB by
  // default), by design: keep it small, so that RSS measures what the server holds.
  ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4'].filter(Boolean).join(':'),
};
let server;
after(async () => { await server?.stop(); });

function rssBytes(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(m[1]) * 1024;
}

/** Samples the server's RSS every 20 ms until stopped; returns the peak. */
function sampler(pid) {
  let peak = rssBytes(pid);
  const t = setInterval(() => { peak = Math.max(peak, rssBytes(pid)); }, 20);
  return () => { clearInterval(t); return Math.max(peak, rssBytes(pid)); };
}

// The local store at 1 GiB; the database store (chunks in SQLite or PostgreSQL) at 256 MiB.
for (const [store, size] of [['local', GIB], ['database', GIB / 4]]) {
  test(`${size / 1024 / 1024} MiB up and down on the ${store} store: RSS within 16 MiB of idle, bytes intact`,
    { timeout: 300_000 }, async () => transfer(store, size));
}

async function transfer(store, size) {
  await server?.stop();
  server = await startServer({ env: { ...ENV, TB_FILES_BACKEND: store } });
  const u = await newUser(server, 'large');
  const h = as(u, u.tid);
  // Warm up: the first upload and download allocate what every later one reuses.
  const warm = expectSuccess(await server.post('/v1/files?name=warm', { headers: h, body: Buffer.alloc(4 * PIECE, 1) }), 201);
  assert.equal((await server.get(warm.url, { headers: h })).bytes.length, 4 * PIECE);
  await new Promise((r) => setTimeout(r, 500));
  const idle = rssBytes(server.pid);

  // Up: a stream the client makes as it goes (a pattern that differs per piece).
  const sent = crypto.createHash('sha256');
  let offset = 0;
  const body = new ReadableStream({
    pull(c) {
      if (offset >= size) { c.close(); return; }
      const piece = Buffer.alloc(PIECE, offset / PIECE % 251);
      piece.writeUInt32BE(offset / PIECE, 0);
      sent.update(piece);
      offset += PIECE;
      c.enqueue(piece);
    },
  });
  let stop = sampler(server.pid);
  const up = await fetch(`${server.url}/v1/files?name=big.bin`, {
    method: 'POST', headers: { ...h, 'Content-Type': 'application/octet-stream' }, body, duplex: 'half',
  });
  const upPeak = stop();
  assert.equal(up.status, 201, await up.clone().text());
  const file = (await up.json()).data;
  const digest = sent.digest('hex');
  assert.equal(file.size, size);
  assert.equal(file.sha256, digest);

  // Down: read as it arrives, hashed, never kept.
  stop = sampler(server.pid);
  const down = await fetch(`${server.url}${file.url}`, { headers: h });
  assert.equal(down.status, 200);
  assert.equal(down.headers.get('content-length'), String(size));
  const got = crypto.createHash('sha256');
  let received = 0;
  for await (const chunk of down.body) {
    got.update(chunk);
    received += chunk.length;
  }
  const downPeak = stop();
  assert.equal(received, size);
  assert.equal(got.digest('hex'), digest);
  const mib = (n) => (n / 1024 / 1024).toFixed(1);
  console.log(`${store} store, ${size / 1024 / 1024} MiB: RSS idle ${mib(idle)} MiB, peak during upload ${mib(upPeak)} MiB, during download ${mib(downPeak)} MiB`);
  assert.ok(upPeak - idle <= MAX_GROWTH, `upload: RSS grew ${mib(upPeak - idle)} MiB`);
  assert.ok(downPeak - idle <= MAX_GROWTH, `download: RSS grew ${mib(downPeak - idle)} MiB`);
  assert.equal((await server.request('DELETE', `/v1/files/${file.id}`, { headers: h })).status, 204);
}
