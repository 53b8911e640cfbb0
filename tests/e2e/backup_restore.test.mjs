// Backup and restore (issue #24). `tenantbase backup FILE` runs beside a serving node while 8
// clients write documents (creates, updates) and files; `tenantbase restore FILE` puts it into
// a new data directory. Every row of the backup is in the restored database, the same; every
// file's content there matches its row's SHA-256; everything acknowledged before the backup
// began is in it; a server on the restored directory serves it all. Restore refuses a data
// directory that holds a database; backup refuses to overwrite. On PostgreSQL both commands
// refuse and point to pg_dump/pg_restore.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BACKEND, runCli, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, describeRes, newUser } from './tenancy_helpers.mjs';

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const CLIENTS = 8;
// The tables compared row by row, each in a stable order.
const TABLES = {
  users: 'id', tenants: 'id', memberships: 'tenant_id, user_id', collections: 'tenant_id, id',
  documents: 'tenant_id, collection_id, id', files: 'id', api_keys: 'id', schema_migrations: 'version',
};
const dump = (db, table) => execFileSync('sqlite3', ['-json', db, `SELECT * FROM ${table} ORDER BY ${TABLES[table]}`],
  { maxBuffer: 1 << 28 }).toString();

describe('backup and restore', { skip: BACKEND !== 'sqlite' && 'SQLite (PostgreSQL: see below)' }, () => {
  let dir; let server; let h;
  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-backup-'));
    server = await startServer({ env: NO_THROTTLE_ENV });
    const u = await newUser(server, 'bk');
    h = as(u, u.tid);
  });
  after(async () => {
    await server?.stop();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  async function client(state, k) {
    const mine = [];
    for (let j = 0; !state.stop; ++j) {
      const startedBeforeBackup = !state.backupStarted;
      if (j % 5 === 4) {
        const bytes = crypto.randomBytes(1 + ((k * 7919 + j * 104729) % 200_000));
        const res = await server.post(`/v1/files?name=b${k}-${j}.bin`, {
          headers: { ...h, 'Content-Type': 'application/octet-stream' }, body: bytes });
        assert.equal(res.status, 201, describeRes(res));
        if (startedBeforeBackup) state.before.files.set(res.json.data.id, sha256(bytes));
      } else if (mine.length === 0 || j % 2 === 0) {
        const res = await server.post('/v1/collections/ledger/documents', { headers: h, json: { k, j, n: 0 } });
        assert.equal(res.status, 201, describeRes(res));
        mine.push(res.json.data._id);
        if (startedBeforeBackup) state.before.docs.set(res.json.data._id, 1);
      } else {
        const id = mine[j % mine.length];
        const res = await server.request('PATCH', `/v1/collections/ledger/documents/${id}`, { headers: h, json: { n: j } });
        assert.equal(res.status, 200, describeRes(res));
        if (startedBeforeBackup) state.before.docs.set(id, res.json.data._version);
      }
    }
  }

  test('a backup taken under writes restores every row and file', async (t) => {
    const state = { stop: false, backupStarted: false, before: { docs: new Map(), files: new Map() } };
    const clients = Array.from({ length: CLIENTS }, (_, k) => client(state, k));
    await sleep(1000);
    const file = path.join(dir, 'backup.db');
    state.backupStarted = true;
    const t0 = performance.now();
    const backup = await runCli(['backup', file, '--data', server.dataDir], { timeoutMs: 60_000 });
    const took = performance.now() - t0;
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /backup written to .*backup\.db and .*backup\.db\.files\/ \(\d+ files\)/);
    await sleep(500);
    state.stop = true;
    await Promise.all(clients);
    // Overwriting is refused.
    const again = await runCli(['backup', file, '--data', server.dataDir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists/);
    await server.stop();

    const restoredDir = path.join(dir, 'restored');
    const restore = await runCli(['restore', file, '--data', restoredDir], { timeoutMs: 60_000 });
    assert.equal(restore.code, 0, restore.stderr);
    // Not over a database.
    const over = await runCli(['restore', file, '--data', restoredDir]);
    assert.equal(over.code, 2);
    assert.match(over.stderr, /exists/);

    // Row by row, the restored database is the backup.
    const restoredDb = path.join(restoredDir, 'tenantbase.db');
    for (const table of Object.keys(TABLES)) assert.equal(dump(restoredDb, table), dump(file, table), table);
    const rows = JSON.parse(dump(file, 'files') || '[]');
    for (const row of rows) {
      const content = fs.readFileSync(path.join(restoredDir, 'files', row.tenant_id, row.id.slice(-2), row.id));
      assert.equal(sha256(content), row.sha256, `file ${row.id}`);
    }
    // Everything acknowledged before the backup began is in it.
    const docs = new Map(JSON.parse(dump(file, 'documents')).map((d) => [d.id, d]));
    for (const [id, version] of state.before.docs) assert.ok(docs.get(id)?.version >= version, `document ${id}`);
    const fileIds = new Set(rows.map((r) => r.id));
    for (const id of state.before.files.keys()) assert.ok(fileIds.has(id), `file ${id}`);
    t.diagnostic(`backup of ${docs.size} documents and ${rows.length} files in ${Math.round(took)} ms under writes; ` +
      `${state.before.docs.size} documents and ${state.before.files.size} files acknowledged before it began`);

    // A server on the restored directory serves it.
    server = await startServer({ dataDir: restoredDir, env: NO_THROTTLE_ENV });
    for (const [id, row] of docs) {
      const res = await server.get(`/v1/collections/ledger/documents/${id}`, { headers: h });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(res.json.data._version, row.version);
    }
    for (const row of rows) {
      const res = await server.get(`/v1/files/${row.id}/content`, { headers: h });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(sha256(res.bytes), row.sha256);
    }
  });
});

describe('backup and restore on PostgreSQL', { skip: BACKEND !== 'postgres' && 'PostgreSQL only' }, () => {
  // The procedure docs/deploy.md "Backups" gives, run as written: pg_dump while a node serves
  // writes, pg_restore into a new database, a node on it serves everything acknowledged
  // before the dump began, and every documents row of the restored database is in the source.
  test('pg_dump under writes and pg_restore, as docs/deploy.md says', async (t) => {
    const server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_FILES_BACKEND: 'database' } });
    let restored;
    try {
      const u = await newUser(server, 'pgdump');
      const h = as(u, u.tid);
      const acked = new Map();
      let dumping = false; let stop = false;
      const writers = Array.from({ length: 4 }, async (_, k) => {
        for (let j = 0; !stop; ++j) {
          const before = !dumping;
          const res = await server.post('/v1/collections/ledger/documents', { headers: h, json: { k, j } });
          assert.equal(res.status, 201, describeRes(res));
          if (before) acked.set(res.json.data._id, { k, j });
        }
      });
      await sleep(500);
      dumping = true;
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-pgdump-'));
      const dumpFile = path.join(dir, 'tb.dump');
      execFileSync('pg_dump', ['--format=custom', `--file=${dumpFile}`, server.databaseUrl]);
      stop = true;
      await Promise.all(writers);
      const target = new URL(server.databaseUrl);
      target.pathname = `${target.pathname}_restored`;
      execFileSync('createdb', ['--maintenance-db', server.databaseUrl, target.pathname.slice(1)]);
      execFileSync('pg_restore', ['--no-owner', `--dbname=${target}`, dumpFile]);
      await fsp.rm(dir, { recursive: true, force: true });
      restored = await startServer({ databaseUrl: target.toString(), env: NO_THROTTLE_ENV });
      for (const [id, body] of acked) {
        const res = await restored.get(`/v1/collections/ledger/documents/${id}`, { headers: h });
        assert.equal(res.status, 200, describeRes(res));
        assert.deepEqual([res.json.data.k, res.json.data.j], [body.k, body.j]);
      }
      const rows = (url) => execFileSync('psql', [url, '-At', '-c',
        'SELECT tenant_id, id, version, body::text FROM documents ORDER BY 1, 2']).toString().trim().split('\n');
      const source = new Set(rows(server.databaseUrl));
      const copy = rows(target.toString());
      for (const row of copy) assert.ok(source.has(row), 'a restored row the source does not hold');
      t.diagnostic(`${copy.length} documents restored; ${acked.size} acknowledged before the dump, all served`);
      await restored.stop();
      execFileSync('dropdb', ['--maintenance-db', server.databaseUrl, target.pathname.slice(1)]);
    } finally {
      await restored?.stop();
      await server.stop();
    }
  });

  test('both commands refuse and name pg_dump', async () => {
    const server = await startServer({});
    try {
      for (const cmd of ['backup', 'restore']) {
        const res = await runCli([cmd, path.join(os.tmpdir(), `tb-none-${process.pid}.db`), '--database', server.databaseUrl]);
        assert.equal(res.code, 2, `${cmd}: ${res.stderr}`);
        assert.match(res.stderr, /pg_dump/);
      }
    } finally {
      await server.stop();
    }
  });
});
