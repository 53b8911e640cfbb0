// Crash safety on every change (issue #24): 32 clients write documents (creates and
// conditional updates), upload files and send invitations (mail) while the server is killed
// with SIGKILL at a random moment, TB_CRASH_ROUNDS times (default 10), and restarted on the
// same data each time. Afterwards every acknowledged write is there and intact: documents by
// id, version and body, files by SHA-256; the database passes its integrity check (SQLite's
// integrity_check; amcheck's B-tree checks on PostgreSQL); every acknowledged invitation's
// mail reaches the SMTP server (aiosmtpd). Mail is delivered at least once: a kill between
// the SMTP server's acceptance and the outbox's record of it sends that mail again after the
// restart, with the same Message-ID, so receivers can drop the copy. The test counts such
// copies and bounds them by the kills.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { sleep, startServer } from './harness.mjs';
import { startSmtp } from './mail_helpers.mjs';
import { NO_THROTTLE_ENV, as, describeRes, newUser } from './tenancy_helpers.mjs';

const ROUNDS = Number(process.env.TB_CRASH_ROUNDS || 10);
const CLIENTS = 32;
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// One client's writes until `state.stop`: its own documents (create, then PATCH with
// If-Match), a file now and then, an invitation now and then. Only 2xx answers are recorded;
// a request cut by the kill is not acknowledged and may or may not have landed.
async function client(state, k) {
  const mine = [];
  for (let j = 0; !state.stop; ++j) {
    const srv = state.server;
    const h = state.headers;
    try {
      if (j % 7 === 3) {
        const bytes = crypto.randomBytes(1 + ((k * 977 + j * 131) % 65536));
        const res = await srv.post(`/v1/files?name=c${k}-${j}.bin`, {
          headers: { ...h, 'Content-Type': 'application/octet-stream' }, body: bytes });
        if (res.status === 201) state.files.set(res.json.data.id, sha256(bytes));
      } else if (j % 11 === 5) {
        const email = `crash-${state.round}-${k}-${j}@example.com`;
        const res = await srv.post(`/v1/tenants/${state.tenant}/members`, { headers: h, json: { email, role: 'member' } });
        if (res.status === 202 || res.status === 201) state.invited.add(email);
      } else if (mine.length === 0 || j % 3 === 0) {
        const body = { k, j, n: 0, note: 'x'.repeat(j % 200) };
        const res = await srv.post('/v1/collections/ledger/documents', { headers: h, json: body });
        if (res.status === 201) {
          const d = res.json.data;
          state.docs.set(d._id, { version: d._version, n: 0, k, j });
          mine.push(d._id);
        }
      } else {
        const id = mine[j % mine.length];
        const known = state.docs.get(id);
        const res = await srv.request('PATCH', `/v1/collections/ledger/documents/${id}`, {
          headers: { ...h, 'If-Match': `"${known.version}"` }, json: { n: known.n + 1 } });
        if (res.status === 200) state.docs.set(id, { ...known, version: res.json.data._version, n: known.n + 1 });
        // 412: an update cut by an earlier kill landed; learn the version it left.
        if (res.status === 412) {
          const now = await srv.get(`/v1/collections/ledger/documents/${id}`, { headers: h });
          if (now.status === 200) state.docs.set(id, { ...known, version: now.json.data._version, n: now.json.data.n });
        }
      }
    } catch {
      // The connection died with the server: not acknowledged.
      await sleep(5);
    }
  }
}

function integrityCheck(server) {
  if (server.backend === 'postgres') {
    const out = execFileSync('psql', [server.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-Atc',
      "CREATE EXTENSION IF NOT EXISTS amcheck; SELECT count(bt_index_check(c.oid, true)) FROM pg_index i " +
      "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam " +
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND n.nspname = 'public'"],
    { encoding: 'utf8' });
    assert.match(out.trim().split('\n').pop(), /^\d+$/, out);
    return;
  }
  const db = path.join(server.dataDir, 'tenantbase.db');
  const out = execFileSync('python3', ['-c', `import sqlite3,sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
print(c.execute('PRAGMA integrity_check').fetchone()[0])`, db], { encoding: 'utf8' });
  assert.equal(out.trim(), 'ok');
}

test(`${ROUNDS} kills under ${CLIENTS} writers lose no acknowledged document, file or mail`, { timeout: 600_000 }, async () => {
  const smtp = await startSmtp();
  const env = { ...NO_THROTTLE_ENV, TB_SMTP_URL: smtp.url, TB_MAIL_POLL_SECONDS: '0.2',
    TB_MAIL_RETRY_BASE_SECONDS: '0.2', TB_MAIL_LEASE_SECONDS: '2', TB_SMTP_TIMEOUT_SECONDS: '1',
    TB_PLANS_FREE_MAX_MEMBERS: '100000' };
  let server = await startServer({ env });
  const { dataDir, databaseUrl } = server;
  try {
    const owner = await newUser(server, 'crash');
    const headers = as(owner, owner.tid);
    const made = await server.post('/v1/collections', { headers, json: { name: 'ledger' } });
    assert.equal(made.status, 201, describeRes(made));
    const state = { server, headers, tenant: owner.tid, docs: new Map(), files: new Map(),
      invited: new Set(), stop: false, round: 0 };
    for (let round = 0; round < ROUNDS; ++round) {
      state.round = round;
      state.stop = false;
      const clients = Array.from({ length: CLIENTS }, (_, k) => client(state, k));
      await sleep(300 + Math.floor(Math.random() * 900));
      await server.stop('SIGKILL');
      state.stop = true;
      await Promise.all(clients);
      server = await startServer({ env, dataDir, databaseUrl });
      state.server = server;
    }
    assert.ok(state.docs.size > ROUNDS * 10, `documents acknowledged: ${state.docs.size}`);
    assert.ok(state.files.size > 0 && state.invited.size > 0, `${state.files.size} files, ${state.invited.size} invitations`);

    for (const [id, want] of state.docs) {
      const res = await server.get(`/v1/collections/ledger/documents/${id}`, { headers });
      assert.equal(res.status, 200, `document ${id}: ${describeRes(res)}`);
      const d = res.json.data;
      // One more update may have landed unacknowledged (cut by the last kill it ran into).
      assert.ok(d._version === want.version || d._version === want.version + 1,
        `document ${id}: version ${d._version}, acknowledged ${want.version}`);
      if (d._version === want.version) assert.equal(d.n, want.n, `document ${id}: n`);
      assert.equal(d.k, want.k);
      assert.equal(d.j, want.j);
    }
    for (const [id, digest] of state.files) {
      const res = await fetch(`${server.url}/v1/files/${id}/content`, { headers });
      assert.equal(res.status, 200, `file ${id}`);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), digest, `file ${id}: content`);
    }

    // Every acknowledged invitation's mail arrives; copies only from sends a kill cut short.
    const want = [...state.invited];
    const deadline = Date.now() + 60_000;
    let mails;
    for (;;) {
      mails = smtp.box.list();
      const got = new Set(mails.map((m) => (m.to || '').toLowerCase()));
      const missing = want.filter((e) => ![...got].some((t) => t.includes(e)));
      if (missing.length === 0) break;
      assert.ok(Date.now() < deadline, `${missing.length} of ${want.length} invitations never mailed: ${missing.slice(0, 5)}`);
      await sleep(200);
    }
    const byId = new Map();
    for (const m of mails) byId.set(m.headers['message-id'], (byId.get(m.headers['message-id']) || 0) + 1);
    const copies = [...byId.values()].reduce((a, n) => a + (n - 1), 0);
    console.log(`crash safety (${server.backend}): ${state.docs.size} documents, ${state.files.size} files, ` +
      `${want.length} invitations acknowledged over ${ROUNDS} kills; ${mails.length} mails, ${copies} sent twice`);
    assert.ok(copies <= ROUNDS * 4, `${copies} mails sent more than once`);

    await server.stop();
    integrityCheck(server);
  } finally {
    await server.stop('SIGKILL').catch(() => {});
    await smtp.stop();
  }
});
