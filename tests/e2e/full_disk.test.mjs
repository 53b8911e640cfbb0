// A full disk (issue #24): the server's data directory is a small tmpfs, filled to the last
// byte by another file while clients keep writing documents and files. Writes that find no
// space answer 507 or 503 in the error envelope (never 500, never a hang); reads keep
// working; nothing acknowledged before or during is lost (checked again after a restart,
// with SQLite's integrity check); and once space returns, writes succeed again without a
// restart. On PostgreSQL the database lives elsewhere: the tmpfs holds the files.
// Needs root (mount -t tmpfs); skipped, saying so, where mounting is not allowed.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BACKEND, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, describeRes, newUser } from './tenancy_helpers.mjs';

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

function mountTmpfs(dir, size) {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-full-probe-'));
const canMount = mountTmpfs(probe, '1m');
if (canMount) execFileSync('umount', [probe]);
fs.rmdirSync(probe);

describe('a full disk', { skip: !canMount && 'mounting a tmpfs needs root' }, () => {
  let dir; let server; let h; let dataDir;
  const docs = new Map(); const files = new Map();
  const filler = () => path.join(dir, 'filler');

  const startOn = () => startServer({ dataDir, databaseUrl: server?.databaseUrl,
    env: { ...NO_THROTTLE_ENV, TB_LOG_ACCESS: 'true' } });

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-full-disk-'));
    assert.ok(mountTmpfs(dir, '48m'));
    dataDir = path.join(dir, 'data');
    await fsp.mkdir(dataDir);
    server = await startOn();
    const u = await newUser(server, 'full');
    h = as(u, u.tid);
  });
  after(async () => {
    await server?.stop();
    if (dir) {
      try { execFileSync('umount', [dir]); } catch { /* already gone */ }
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  async function writeDoc(i) {
    const body = { i, pad: crypto.randomBytes(1500).toString('base64') };
    const res = await server.post('/v1/collections/full/documents', { headers: h, json: body });
    if (res.status === 201) docs.set(res.json.data._id, body);
    return res;
  }
  async function writeFile(i, size) {
    const bytes = crypto.randomBytes(size);
    const res = await server.post(`/v1/files?name=f${i}.bin`, {
      headers: { ...h, 'Content-Type': 'application/octet-stream' }, body: bytes });
    if (res.status === 201) files.set(res.json.data.id, sha256(bytes));
    return res;
  }
  // A write the disk refused: 507 or 503, in the envelope.
  async function refusedOrDone(res, created) {
    if (res.status === created) return 'ok';
    if (res.status !== 507 && res.status !== 503) await sleep(300);  // the log line, for the message
    assert.ok(res.status === 507 || res.status === 503,
      `${describeRes(res)}\n${server.output().split('\n').filter((l) => /error|warn|"status":5/.test(l)).slice(-4).join('\n')}`);
    assert.equal(res.json?.success, false, describeRes(res));
    assert.ok(Number(res.headers['retry-after']) > 0, `no Retry-After: ${describeRes(res)}`);
    assert.ok(['INSUFFICIENT_STORAGE', 'UNAVAILABLE'].includes(res.json.error.code), describeRes(res));
    return 'refused';
  }
  async function readAll() {
    for (const [id, body] of docs) {
      const res = await server.get(`/v1/collections/full/documents/${id}`, { headers: h });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(res.json.data.pad, body.pad);
    }
    for (const [id, digest] of files) {
      const res = await server.get(`/v1/files/${id}/content`, { headers: h });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(sha256(res.bytes), digest);
    }
  }

  test('writes are refused with 507 or 503, reads keep working, nothing acknowledged is lost', async (t) => {
    for (let i = 0; i < 40; ++i) assert.equal(await refusedOrDone(await writeDoc(i), 201), 'ok');
    for (let i = 0; i < 5; ++i) assert.equal(await refusedOrDone(await writeFile(i, 200_000), 201), 'ok');

    // Another file takes every byte left.
    const fd = fs.openSync(filler(), 'w');
    const chunk = Buffer.alloc(1 << 20, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      assert.equal(err.code, 'ENOSPC');
    }
    try { for (;;) fs.writeSync(fd, chunk.subarray(0, 4096)); } catch { /* full to the page */ }
    fs.closeSync(fd);

    const outcomes = { doc: { ok: 0, refused: 0 }, file: { ok: 0, refused: 0 } };
    for (let i = 0; i < 60; ++i) {
      outcomes.doc[await refusedOrDone(await writeDoc(100 + i), 201)]++;
      if (i % 6 === 0) outcomes.file[await refusedOrDone(await writeFile(100 + i, 300_000), 201)]++;
    }
    t.diagnostic(`while full: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.file.refused > 0, 'no file upload was refused on a full disk');
    assert.ok(outcomes.doc.refused + outcomes.file.refused > 0);
    // A refused upload leaves no partial file behind.
    const tmp = path.join(dataDir, 'files', 'tmp');
    const partial = fs.existsSync(tmp) ? fs.readdirSync(tmp) : [];
    assert.deepEqual(partial, [], 'partial uploads left behind');
    // Reads keep working, and so does the server.
    await readAll();
    assert.equal((await server.get('/healthz')).status, 200);
    assert.equal(server.exitCode, undefined);

    // Space returns: writes succeed again, without a restart.
    await fsp.rm(filler());
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; ++i) {
      recovered = (await writeDoc(1000 + i)).status === 201 && (await writeFile(1000 + i, 100_000)).status === 201;
      if (!recovered) await sleep(100);
    }
    assert.ok(recovered, 'writes did not succeed again once space returned');
    await readAll();

    // And after a restart everything acknowledged is still there, in a sound database.
    await server.stop();
    if (BACKEND === 'sqlite') {
      const db = fs.readdirSync(dataDir).find((f) => f.endsWith('.db'));
      const check = execFileSync('sqlite3', [path.join(dataDir, db), 'PRAGMA integrity_check;']).toString().trim();
      assert.equal(check, 'ok');
    }
    server = await startOn();
    await readAll();
    t.diagnostic(`${docs.size} documents and ${files.size} files acknowledged, all read back`);
  });
});
