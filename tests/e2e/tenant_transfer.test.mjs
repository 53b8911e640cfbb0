// Moving a tenant (issue #24): `tenantbase tenant export ID FILE` on one instance and
// `tenantbase tenant import FILE` on another, across the two databases and the two file
// stores: SQLite with local files → PostgreSQL with files in the database → a new SQLite
// instance. After each move the owner and a member sign in with their passwords, see the same
// collections (rules, unique index enforced), documents (bodies and versions) and files (by
// SHA-256), organizations and roles; a member whose email already had an account on the
// target becomes that account. A second import is refused (409 → exit 2), and so is a cut
// file, creating nothing. Runs where a PostgreSQL cluster is at hand (TB_TEST_PG_URL), once,
// on the PostgreSQL leg.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BACKEND, PG_ADMIN_URL, createPgDatabase, runCli, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, PASSWORD, as, describeRes, login, newUser, register, uniqueEmail } from './tenancy_helpers.mjs';

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const cliArgs = (server) => (server.databaseUrl ? ['--database', server.databaseUrl] : ['--data', server.dataDir]);

describe('moving a tenant between instances', { skip: (BACKEND !== 'postgres' || !PG_ADMIN_URL) && 'the PostgreSQL leg' }, () => {
  let dir; const servers = [];
  before(async () => { dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-transfer-')); });
  after(async () => {
    for (const s of servers) await s.stop().catch(() => {});
    await fsp.rm(dir, { recursive: true, force: true });
  });
  const start = async (opts) => {
    const s = await startServer({ ...opts, env: { ...NO_THROTTLE_ENV, ...(opts.env || {}) } });
    servers.push(s);
    return s;
  };

  // What a client of the tenant sees, in a form to compare across instances.
  async function snapshot(server, headers) {
    const cols = (await server.get('/v1/collections', { headers })).json.data
      .map((c) => ({ name: c.name, rules: c.rules, indexes: c.indexes, document_count: c.document_count }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const docs = [];
    for (const c of cols) {
      let cursor = '&after=';
      for (;;) {
        const res = await server.get(`/v1/collections/${c.name}/documents?per_page=100&sort=_id${cursor}`, { headers });
        assert.equal(res.status, 200, describeRes(res));
        docs.push(...res.json.data.map((d) => ({ c: c.name, ...d })));
        if (!res.json.meta?.next_cursor) break;
        cursor = `&after=${encodeURIComponent(res.json.meta.next_cursor)}`;
      }
    }
    const files = [];
    for (const f of (await server.get('/v1/files?per_page=100', { headers })).json.data) {
      const content = await server.get(`/v1/files/${f.id}/content`, { headers });
      assert.equal(content.status, 200, describeRes(content));
      files.push({ id: f.id, name: f.name, size: f.size, sha256: sha256(content.bytes) });
    }
    files.sort((a, b) => a.id.localeCompare(b.id));
    const orgs = (await server.get('/v1/organizations', { headers })).json.data.map((o) => ({ id: o.id, slug: o.slug, member_count: o.member_count }));
    const users = (await server.get('/v1/users?per_page=100', { headers })).json.data.map((u) => ({ email: u.email, role: u.role }))
      .sort((a, b) => a.email.localeCompare(b.email));
    return { cols, docs, files, orgs, users };
  }
  // Documents name their writer by id; a member matched to another account has another.
  const withoutWriters = (snap) => ({ ...snap, docs: snap.docs.map(({ _createdby, _changedby, ...d }) => d) });

  test('SQLite → PostgreSQL → SQLite, with the files, members and indexes', async (t) => {
    // The source: SQLite, files on disk.
    const a = await start({ backend: 'sqlite' });
    const owner = await newUser(a, 'mv-owner');
    const tid = owner.tid;
    const h = as(owner, tid);
    const memberEmail = uniqueEmail('mv-member');
    const member = await register(a, { email: memberEmail, name: 'Member' });
    let res = await a.post(`/v1/tenants/${tid}/members`, { headers: h, json: { email: memberEmail, role: 'member' } });
    assert.ok([200, 201].includes(res.status), describeRes(res));
    res = await a.post('/v1/organizations', { headers: h, json: { name: 'Team', slug: 'team' } });
    assert.equal(res.status, 201, describeRes(res));
    const org = res.json.data.id;
    res = await a.post(`/v1/organizations/${org}/members`, { headers: h, json: { user_id: member.user.id, role: 'member' } });
    assert.equal(res.status, 201, describeRes(res));
    res = await a.post('/v1/collections', { headers: h, json: { name: 'books', indexes: [{ fields: ['isbn'], unique: true }],
      rules: { list: 'member', read: 'member', create: 'member', update: 'owner', delete: 'admin' } } });
    assert.equal(res.status, 201, describeRes(res));
    const mh = as({ auth: { Authorization: `Bearer ${member.tokens.access_token}` } }, tid);
    let memberDoc;
    for (let i = 0; i < 150; ++i) {
      res = await a.post('/v1/collections/books/documents', { headers: i % 3 ? h : mh,
        json: { isbn: `isbn-${i}`, title: `Book ${i} \u00e9`, n: i * 1.5, tags: ['a', i], _org: i % 5 ? null : org } });
      assert.equal(res.status, 201, describeRes(res));
      if (i === 3) memberDoc = res.json.data._id;
    }
    res = await a.request('PATCH', `/v1/collections/books/documents/${memberDoc}`, { headers: mh, json: { title: 'changed' } });
    assert.equal(res.status, 200, describeRes(res));
    await a.post('/v1/collections/notes/documents', { headers: h, json: { text: 'auto-created' } });
    for (const size of [0, 1, 200_000, 450_000]) {
      res = await a.post(`/v1/files?name=f${size}.bin`, { headers: { ...h, 'Content-Type': 'application/octet-stream' }, body: crypto.randomBytes(size) });
      assert.equal(res.status, 201, describeRes(res));
    }
    // Another tenant on the same instance stays behind.
    const other = await newUser(a, 'mv-other');
    await a.post('/v1/collections/secret/documents', { headers: as(other, other.tid), json: { x: 1 } });
    const before = await snapshot(a, h);

    const file1 = path.join(dir, 'one.jsonl');
    let cli = await runCli(['tenant', 'export', tid, file1, ...cliArgs(a)], { timeoutMs: 60_000 });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /exported \d+ rows \(151 documents, 4 files\)/);
    assert.doesNotMatch(fs.readFileSync(file1, 'utf8'), new RegExp(other.tid));

    // The target: PostgreSQL, files in the database; the member already has an account there.
    const p = await start({ backend: 'postgres', databaseUrl: await createPgDatabase(), env: { TB_FILES_BACKEND: 'database' } });
    const existing = await register(p, { email: memberEmail, name: 'Member on P' });
    cli = await runCli(['tenant', 'import', file1, ...cliArgs(p)], { env: { TB_FILES_BACKEND: 'database' }, timeoutMs: 60_000 });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /1 members matched existing accounts/);
    const ownerOnP = await login(p, owner.email, PASSWORD);
    assert.ok(ownerOnP.tenants.some((x) => x.id === tid && x.role === 'owner'));
    const hp = as({ auth: { Authorization: `Bearer ${ownerOnP.tokens.access_token}` } }, tid);
    const onP = await snapshot(p, hp);
    assert.deepEqual(withoutWriters(onP), withoutWriters(before));
    // The matched member is the account that was there, with the tenant, org and documents.
    const memberOnP = await login(p, memberEmail, PASSWORD);
    assert.equal(memberOnP.user.id, existing.user.id);
    assert.ok(memberOnP.tenants.some((x) => x.id === tid && x.role === 'member'));
    const byMember = onP.docs.filter((d) => d._createdby === existing.user.id).length;
    assert.equal(byMember, before.docs.filter((d) => d._createdby === member.user.id).length);
    // The unique index came along.
    res = await p.post('/v1/collections/books/documents', { headers: hp, json: { isbn: 'isbn-7' } });
    assert.equal(res.status, 409, describeRes(res));
    // A second import is refused and changes nothing.
    cli = await runCli(['tenant', 'import', file1, ...cliArgs(p)], { env: { TB_FILES_BACKEND: 'database' } });
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /exists/);

    // And back to a new SQLite instance, from PostgreSQL.
    const file2 = path.join(dir, 'two.jsonl');
    cli = await runCli(['tenant', 'export', tid, file2, ...cliArgs(p)], { env: { TB_FILES_BACKEND: 'database' }, timeoutMs: 60_000 });
    assert.equal(cli.code, 0, cli.stderr);
    const c = await start({ backend: 'sqlite' });
    // A cut file creates nothing.
    const cut = path.join(dir, 'cut.jsonl');
    const lines = fs.readFileSync(file2, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(cut, `${lines.slice(0, -3).join('\n')}\n`);
    cli = await runCli(['tenant', 'import', cut, ...cliArgs(c)]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /cut short|does not match/);
    // So does a row of another tenant slipped into the file.
    const tampered = path.join(dir, 'tampered.jsonl');
    const at = lines.findIndex((l) => l.startsWith('{"table":"documents"'));
    fs.writeFileSync(tampered, `${lines.map((l, i) => (i === at ? l.replace(tid, other.tid) : l)).join('\n')}\n`);
    cli = await runCli(['tenant', 'import', tampered, ...cliArgs(c)]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /another tenant's/);
    cli = await runCli(['tenant', 'import', file2, ...cliArgs(c)], { timeoutMs: 60_000 });
    assert.equal(cli.code, 0, cli.stderr);
    const ownerOnC = await login(c, owner.email, PASSWORD);
    const hc = as({ auth: { Authorization: `Bearer ${ownerOnC.tokens.access_token}` } }, tid);
    const onC = await snapshot(c, hc);
    assert.deepEqual(onC, onP);
    t.diagnostic(`${before.docs.length} documents, ${before.files.length} files, ${before.users.length} members moved twice`);
  });
});
