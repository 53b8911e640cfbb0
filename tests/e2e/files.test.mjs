// Files (API.md §6, docs/api.md §14 "Files", issue #21): streamed uploads (raw and multipart),
// lists, metadata, ranged and conditional downloads, names, quotas that leave nothing
// behind, key scopes and roles, isolation, signed links, and a crash mid-upload.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BACKEND, expectEnvelopeError, openRaw, runCli, sleep, startServer } from './harness.mjs';
import {
  NO_THROTTLE_ENV, RANDOM_ID, adminLogin, as, createKey, describeRes, expectSuccess, makeTeam, newUser,
} from './tenancy_helpers.mjs';

const run = promisify(execFile);
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const EVERY_BYTE = Buffer.from(Array.from({ length: 256 * 4 }, (_, i) => i % 256));

async function upload(srv, headers, body, { name, type = 'application/octet-stream' } = {}) {
  const q = name === undefined ? '' : `?name=${encodeURIComponent(name)}`;
  return srv.post(`/v1/files${q}`, { headers: { ...headers, 'Content-Type': type }, body });
}

/** The files of the tenant `headers` act in (all pages). */
async function listAll(srv, headers, query = '') {
  const res = await srv.get(`/v1/files?per_page=100${query ? `&${query}` : ''}`, { headers });
  return expectSuccess(res, 200);
}

/** Regular files under a directory, recursively. */
async function filesUnder(dir) {
  const out = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...await filesUnder(p));
    else out.push(p);
  }
  return out;
}

// Every test runs on both content stores (files.backend), on the suite's database.
for (const store of ['local', 'database']) describe(`files on the ${store} store`, () => {
  let server;
  let team; // owner, adm, mem, vie in team.tid
  let owner; // headers of the owner in the team's tenant
  let outsider; // another user with a tenant of their own
  const env = { ...NO_THROTTLE_ENV, TB_FILES_BACKEND: store };

  before(async () => {
    server = await startServer({ env });
    team = await makeTeam(server, 'files');
    owner = as(team.owner, team.tid);
    outsider = await newUser(server, 'files-out');
  });
  after(async () => { await server?.stop(); });

  describe('uploads', () => {
    test('a raw body: 201 with the file object; every byte value round-trips', async () => {
      const res = await upload(server, owner, EVERY_BYTE, { name: 'bytes.bin' });
      const f = expectSuccess(res, 201);
      assert.deepEqual(Object.keys(f).sort(),
        ['content_type', 'created_at', 'created_by', 'id', 'name', 'sha256', 'size', 'url']);
      assert.equal(f.name, 'bytes.bin');
      assert.equal(f.size, EVERY_BYTE.length);
      assert.equal(f.sha256, sha256(EVERY_BYTE));
      assert.equal(f.content_type, 'application/octet-stream');
      assert.equal(f.created_by, team.owner.user.id);
      assert.equal(f.url, `/v1/files/${f.id}/content`);
      assert.equal(res.headers.location, `/v1/files/${f.id}`);
      const got = await server.get(f.url, { headers: owner });
      assert.equal(got.status, 200);
      assert.ok(got.bytes.equals(EVERY_BYTE), 'the content comes back byte for byte');
      assert.equal(got.headers['content-length'], String(EVERY_BYTE.length));
      const meta = expectSuccess(await server.get(`/v1/files/${f.id}`, { headers: owner }), 200);
      assert.deepEqual(meta, f);
    });

    test('multipart (fetch FormData): one file per `file` part, in order; other fields ignored', async () => {
      const form = new FormData();
      form.append('file', new Blob([EVERY_BYTE], { type: 'image/png' }), 'one.png');
      form.append('note', 'ignored');
      form.append('file', new Blob(['second\r\n--boundary-lookalike\r\n']), 'two.txt');
      const res = await server.post('/v1/files', { headers: owner, body: form });
      const files = expectSuccess(res, 201);
      assert.ok(Array.isArray(files));
      assert.deepEqual(files.map((f) => f.name), ['one.png', 'two.txt']);
      assert.equal(files[0].content_type, 'image/png');
      assert.equal(files[0].sha256, sha256(EVERY_BYTE));
      const second = await server.get(files[1].url, { headers: owner });
      assert.equal(second.body, 'second\r\n--boundary-lookalike\r\n');
      // One part: still an array.
      const single = new FormData();
      single.append('file', new Blob(['x']), 'x.txt');
      const one = expectSuccess(await server.post('/v1/files', { headers: owner, body: single }), 201);
      assert.equal(one.length, 1);
    });

    test('multipart from curl, with Expect: 100-continue answered', async () => {
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-files-'));
      const big = path.join(dir, 'big.bin');
      await fsp.writeFile(big, crypto.randomBytes(2 * 1024 * 1024));
      const { stdout, stderr } = await run('curl', ['-sv', '-H', `Authorization: ${owner.Authorization}`,
        '-H', `X-Tenant-ID: ${team.tid}`, '-H', 'Expect: 100-continue', '-F', `file=@${big}`,
        `${server.url}/v1/files`]);
      const body = JSON.parse(stdout);
      assert.equal(body.data[0].size, 2 * 1024 * 1024);
      assert.equal(body.data[0].sha256, sha256(await fsp.readFile(big)));
      assert.match(stderr, /HTTP\/1\.1 100 Continue/);
      await fsp.rm(dir, { recursive: true });
    });

    test('keep-alive: an upload and the request pipelined after it are both answered; chunked too', async () => {
      const c = await openRaw(server.port);
      const head = `Host: x\r\nAuthorization: ${owner.Authorization}\r\nX-Tenant-ID: ${team.tid}\r\n`;
      await c.write(`POST /v1/files?name=p1 HTTP/1.1\r\n${head}Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello` +
        `POST /v1/files?name=p2 HTTP/1.1\r\n${head}Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n` +
        `GET /v1/files?name=p1 HTTP/1.1\r\n${head}\r\n`);
      const a = await c.nextResponse();
      const b = await c.nextResponse();
      const list = await c.nextResponse({ method: 'GET' });
      c.destroy();
      assert.equal(a.status, 201, a.body);
      assert.equal(a.json.data.size, 5);
      assert.equal(b.status, 201, b.body);
      assert.equal(b.json.data.size, 5);
      assert.equal(b.json.data.sha256, sha256(Buffer.from('abcde')));
      assert.equal(list.status, 200);
      assert.equal(list.json.data.length, 1);
    });

    test('a request refused before its handler is held to the server\'s body limit, not the upload\'s', async () => {
      // Content-Encoding on a body is refused (415) before the handler runs: its body must not
      // be read whole under the upload route's limit (50 MiB declared here, none of it sent).
      const c = await openRaw(server.port);
      await c.write(`POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: ${owner.Authorization}\r\n` +
        `Content-Encoding: gzip\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n`);
      const res = await c.nextResponse({ timeoutMs: 3000 });
      c.destroy();
      assert.ok(res, 'answered at once, before any body byte');
      assert.equal(res.status, 413, res.body);
    });

    test('names: separators, controls, leading dots, 300 bytes and non-ASCII are sanitised', async () => {
      const cases = [
        ['../../etc/passwd', '_.._etc_passwd'],
        ['..\\..\\boot.ini', '_.._boot.ini'],
        ['a\r\nSet-Cookie: x=1', 'aSet-Cookie: x=1'],
        ['.htaccess', 'htaccess'],
        ['', 'file'],
        ['été €.txt', 'été €.txt'],
        ['é'.repeat(150), 'é'.repeat(127)], // 300 bytes cut to 254 at a character boundary
      ];
      for (const [sent, stored] of cases) {
        const f = expectSuccess(await upload(server, owner, 'x', { name: sent }), 201);
        assert.equal(f.name, stored, JSON.stringify(sent));
        assert.ok(Buffer.byteLength(f.name) <= 255);
      }
      // NUL cannot travel in a query string (400), and a multipart header with controls is refused.
      expectEnvelopeError(await server.post('/v1/files?name=a%00b', { headers: owner, body: 'x' }), 400, 'BAD_REQUEST');
    });

    test('malformed bodies and parameters answer 400 and store nothing', async () => {
      const before = (await listAll(server, owner)).length;
      const mp = (boundary, body) => server.post('/v1/files', {
        headers: { ...owner, 'Content-Type': `multipart/form-data${boundary === null ? '' : `; boundary=${boundary}`}` }, body,
      });
      const part = (name, content) => `--XB\r\nContent-Disposition: form-data; ${name}\r\n\r\n${content}\r\n`;
      const bad = [
        await mp(null, 'whatever'), // no boundary
        await mp('XB', part('name="file"; filename="a"', 'x')), // no closing delimiter
        await mp('XB', `${part('name="file"; filename="a"', 'x')}--XB\r\nContent-Disposition: form-data; filename="b"\r\n\r\ny\r\n--XB--`), // a part without a name
        await mp('XB', '--XB\r\nContent-Disposition: form-data;\r\n name="file"\r\n\r\nx\r\n--XB--'), // folding
        await mp('XB', `--XB\r\nContent-Disposition: form-data; name="file"\r\nX-Pad: ${'p'.repeat(9000)}\r\n\r\nx\r\n--XB--`),
        await mp('XB', `${part('name="other"', 'x')}--XB--`), // no file part
        await server.post('/v1/files?nmae=typo', { headers: owner, body: 'x' }),
      ];
      for (const res of bad) expectEnvelopeError(res, 400, 'BAD_REQUEST');
      assert.equal((await listAll(server, owner)).length, before);
    });
  });

  describe('lists and metadata', () => {
    test('filters on name, content_type, size, created_by; sort; cursors', async () => {
      const t = await makeTeam(server, 'files-list');
      const h = as(t.owner, t.tid);
      for (const [name, type, body] of [['a.txt', 'text/plain', 'aaaa'], ['b.png', 'image/png', 'bb'], ['c.txt', 'text/plain', 'c']]) {
        expectSuccess(await upload(server, h, body, { name, type }), 201);
      }
      assert.deepEqual((await listAll(server, h, 'content_type=text/plain&sort=name')).map((f) => f.name), ['a.txt', 'c.txt']);
      assert.deepEqual((await listAll(server, h, 'size[gte]=2&sort=-size')).map((f) => f.name), ['a.txt', 'b.png']);
      assert.deepEqual((await listAll(server, h, 'name[startswith]=b')).map((f) => f.name), ['b.png']);
      assert.equal((await listAll(server, h, `created_by=${t.owner.user.id}`)).length, 3);
      const first = await server.get('/v1/files?per_page=2&sort=name&after=', { headers: h });
      const page1 = expectSuccess(first, 200);
      assert.deepEqual(page1.map((f) => f.name), ['a.txt', 'b.png']);
      assert.ok(first.json.meta.next_cursor, 'a cursor to the next page');
      const rest = expectSuccess(await server.get(`/v1/files?per_page=2&sort=name&after=${encodeURIComponent(first.json.meta.next_cursor)}`, { headers: h }), 200);
      assert.deepEqual(rest.map((f) => f.name), ['c.txt']);
      expectEnvelopeError(await server.get('/v1/files?sort=owner', { headers: h }), 400, 'BAD_REQUEST');
      expectEnvelopeError(await server.get('/v1/files?size=big', { headers: h }), 400, 'BAD_REQUEST');
    });

    test('an unknown or malformed id is 404', async () => {
      expectEnvelopeError(await server.get(`/v1/files/${RANDOM_ID}`, { headers: owner }), 404, 'NOT_FOUND');
      expectEnvelopeError(await server.get('/v1/files/not-an-id', { headers: owner }), 404, 'NOT_FOUND');
      expectEnvelopeError(await server.get(`/v1/files/${RANDOM_ID}/content`, { headers: owner }), 404, 'NOT_FOUND');
    });
  });

  describe('downloads', () => {
    let f;
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));
    before(async () => { f = expectSuccess(await upload(server, owner, body, { name: 'range.bin' }), 201); });

    test('validators and headers', async () => {
      const res = await server.get(f.url, { headers: owner });
      assert.equal(res.headers.etag, `"${f.sha256}"`);
      assert.equal(res.headers['accept-ranges'], 'bytes');
      assert.equal(res.headers['content-type'], 'application/octet-stream');
      // application/octet-stream is not on the list of types shown in place: a download.
      assert.equal(res.headers['content-disposition'], 'attachment; filename="range.bin"');
      assert.match(res.headers['content-security-policy'], /sandbox/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(new Date(res.headers['last-modified']).getTime(), Math.floor(Date.parse(f.created_at) / 1000) * 1000);
      const head = await server.request('HEAD', f.url, { headers: owner });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '1000');
      assert.equal(head.body, '');
    });

    test('ranges: first, last byte, open, suffix, oversize suffix, past the end, several', async () => {
      const range = async (r) => server.get(f.url, { headers: { ...owner, Range: r } });
      const expect206 = async (r, from, to) => {
        const res = await range(r);
        assert.equal(res.status, 206, `${r}: ${res.status}`);
        assert.equal(res.headers['content-range'], `bytes ${from}-${to}/1000`);
        assert.ok(res.bytes.equals(body.subarray(from, to + 1)), r);
      };
      await expect206('bytes=0-0', 0, 0);
      await expect206('bytes=999-999', 999, 999);
      await expect206('bytes=990-', 990, 999);
      await expect206('bytes=-10', 990, 999);
      await expect206('bytes=-5000', 0, 999);
      await expect206('bytes=100-99999', 100, 999);
      const past = await range('bytes=1000-');
      expectEnvelopeError(past, 416, 'RANGE_NOT_SATISFIABLE');
      assert.equal(past.headers['content-range'], 'bytes */1000');
      const several = await range('bytes=0-1,5-6');
      assert.equal(several.status, 200, 'several ranges: the whole file');
      assert.equal(several.bytes.length, 1000);
      const stale = await server.get(f.url, { headers: { ...owner, Range: 'bytes=0-1', 'If-Range': '"other"' } });
      assert.equal(stale.status, 200, 'If-Range that does not match: the whole file');
    });

    test('304 on If-None-Match and If-Modified-Since', async () => {
      const a = await server.get(f.url, { headers: { ...owner, 'If-None-Match': `"${f.sha256}"` } });
      assert.equal(a.status, 304);
      assert.equal(a.body, '');
      assert.equal(a.headers.etag, `"${f.sha256}"`);
      const later = new Date(Date.now() + 60_000).toUTCString();
      assert.equal((await server.get(f.url, { headers: { ...owner, 'If-Modified-Since': later } })).status, 304);
      const earlier = new Date(Date.parse(f.created_at) - 60_000).toUTCString();
      assert.equal((await server.get(f.url, { headers: { ...owner, 'If-Modified-Since': earlier } })).status, 200);
      assert.equal((await server.get(f.url, { headers: { ...owner, 'If-None-Match': '"x"', 'If-Modified-Since': later } })).status, 200);
    });

    test('only safe types are shown in place; active content is an anonymous download in a sandbox; filename*', async () => {
      for (const type of ['text/html', 'image/svg+xml', 'application/javascript', 'text/xml']) {
        const h = expectSuccess(await upload(server, owner, '<script>alert(1)</script>', { name: 'x', type }), 201);
        const res = await server.get(h.url, { headers: owner });
        assert.equal(res.headers['content-type'], 'application/octet-stream', type);
        assert.match(res.headers['content-disposition'], /^attachment; /, type);
        assert.match(res.headers['content-security-policy'], /sandbox/, type);
      }
      // A list of types (browsers read the last) is stored as application/octet-stream.
    const list = expectSuccess(await upload(server, owner, '<script>alert(1)</script>', { type: 'text/plain, text/html' }), 201);
    assert.equal(list.content_type, 'application/octet-stream');
    const listed = await server.get(list.url, { headers: owner });
    assert.equal(listed.headers['content-type'], 'application/octet-stream');
    assert.match(listed.headers['content-disposition'], /^attachment; /);
    const png = expectSuccess(await upload(server, owner, 'x', { name: 'p.png', type: 'image/png' }), 201);
    const shown = await server.get(png.url, { headers: owner });
    assert.equal(shown.headers['content-disposition'], 'inline; filename="p.png"');
    assert.equal(shown.headers['content-security-policy'], undefined);
    const n = expectSuccess(await upload(server, owner, 'x', { name: 'été 1.txt', type: 'text/plain' }), 201);
      const res = await server.get(n.url, { headers: owner });
      assert.equal(res.headers['content-disposition'], 'inline; filename="_t_ 1.txt"; filename*=UTF-8\'\'%C3%A9t%C3%A9%201.txt');
    });

    test('curl -OJ saves under the sanitised name', async () => {
      const g = expectSuccess(await upload(server, owner, 'hello', { name: '../../evil.txt', type: 'text/plain' }), 201);
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-curl-'));
      await run('curl', ['-sOJ', '-H', `Authorization: ${owner.Authorization}`, '-H', `X-Tenant-ID: ${team.tid}`,
        `${server.url}${g.url}`], { cwd: dir });
      assert.deepEqual(await fsp.readdir(dir), ['_.._evil.txt']);
      assert.equal(await fsp.readFile(path.join(dir, '_.._evil.txt'), 'utf8'), 'hello');
      await fsp.rm(dir, { recursive: true });
    });
  });

  describe('metering', () => {
    test('uploads count in bytes_in, downloads in bytes_out, stored files in storage_bytes', async () => {
      const t = await newUser(server, 'files-meter');
      const h = as(t, t.tid);
      const stored = async () => expectSuccess(await server.get('/v1/billing', { headers: h }), 200).usage.storage_bytes;
      const before = await stored();
      const body = Buffer.alloc(50_000, 7);
      const f = expectSuccess(await upload(server, h, body), 201);
      assert.equal((await server.get(f.url, { headers: h })).bytes.length, body.length);
      assert.equal(await stored(), before + body.length);
      let totals;
      for (let i = 0; i < 60; i++) {
        totals = expectSuccess(await server.get('/v1/usage?granularity=hour', { headers: h }), 200).totals;
        if (totals.bytes_in >= body.length && totals.bytes_out >= body.length) break;
        await sleep(100);
      }
      assert.ok(totals.bytes_in >= body.length, `bytes_in ${totals.bytes_in}`);
      assert.ok(totals.bytes_out >= body.length, `bytes_out ${totals.bytes_out}`);
    });
  });

  describe('roles, scopes and isolation', () => {
    test('viewers and read keys download but cannot upload; write keys upload', async () => {
      const f = expectSuccess(await upload(server, owner, 'shared', { name: 's.txt' }), 201);
      const vie = as(team.vie, team.tid);
      assert.equal((await server.get(f.url, { headers: vie })).body, 'shared');
      expectEnvelopeError(await upload(server, vie, 'x'), 403, 'FORBIDDEN');
      const read = await createKey(server, owner, { name: 'r', scopes: ['read'] });
      const write = await createKey(server, owner, { name: 'w', scopes: ['write'] });
      assert.equal((await server.get(f.url, { headers: { 'X-API-Key': read.key } })).body, 'shared');
      expectEnvelopeError(await upload(server, { 'X-API-Key': read.key }, 'x'), 403, 'FORBIDDEN');
      expectSuccess(await upload(server, { 'X-API-Key': write.key }, 'x'), 201);
      expectEnvelopeError(await server.get(f.url, { headers: { 'X-API-Key': write.key } }), 403, 'FORBIDDEN');
      // A key limited to collections still reaches files.
      const limited = await createKey(server, owner, { name: 'c', scopes: ['read', 'write'], collections: ['notes'] });
      expectSuccess(await upload(server, { 'X-API-Key': limited.key }, 'x'), 201);
    });

    test('a revoked key is refused on every file route', async () => {
      const key = await createKey(server, owner, { name: 'revoked', scopes: ['read', 'write'] });
      const f = expectSuccess(await upload(server, { 'X-API-Key': key.key }, 'before'), 201);
      assert.equal((await server.request('DELETE', `/v1/api-keys/${key.id}`, { headers: owner })).status, 204);
      const k = { 'X-API-Key': key.key };
      expectEnvelopeError(await upload(server, k, 'after'), 401, 'UNAUTHORIZED');
      for (const [method, p] of [['GET', '/v1/files'], ['GET', `/v1/files/${f.id}`], ['GET', f.url],
        ['POST', `/v1/files/${f.id}/link`], ['DELETE', `/v1/files/${f.id}`]]) {
        expectEnvelopeError(await server.request(method, p, { headers: k }), 401, 'UNAUTHORIZED');
      }
      assert.equal((await server.get(f.url, { headers: owner })).body, 'before', 'nothing changed');
    });

    test('a member deletes their own files, not others\'; admins delete any; 204 gives bytes back', async () => {
      const mem = as(team.mem, team.tid);
      const adm = as(team.adm, team.tid);
      const mine = expectSuccess(await upload(server, mem, 'mine'), 201);
      const theirs = expectSuccess(await upload(server, owner, 'theirs'), 201);
      expectEnvelopeError(await server.request('DELETE', `/v1/files/${theirs.id}`, { headers: mem }), 403, 'FORBIDDEN');
      const del = await server.request('DELETE', `/v1/files/${mine.id}`, { headers: mem });
      assert.equal(del.status, 204);
      assert.equal(del.body, '');
      assert.equal((await server.request('DELETE', `/v1/files/${theirs.id}`, { headers: adm })).status, 204);
      expectEnvelopeError(await server.get(`/v1/files/${mine.id}`, { headers: owner }), 404, 'NOT_FOUND');
      expectEnvelopeError(await server.request('DELETE', `/v1/files/${mine.id}`, { headers: owner }), 404, 'NOT_FOUND');
      const events = async (action) => expectSuccess(await server.get(`/v1/audit-logs?per_page=100&action=${action}`, { headers: owner }), 200);
      assert.ok((await events('file.deleted')).some((e) => e.target === mine.id && e.actor === team.mem.user.id));
      assert.ok((await events('file.uploaded')).some((e) => e.target === theirs.id && e.details.size === 6));
    });

    test('another tenant\'s file is 404 on every route, and its link is refused here', async () => {
      const f = expectSuccess(await upload(server, owner, 'private', { name: 'p.txt' }), 201);
      const them = as(outsider, outsider.tid);
      for (const [method, p] of [['GET', `/v1/files/${f.id}`], ['GET', f.url], ['DELETE', `/v1/files/${f.id}`],
        ['POST', `/v1/files/${f.id}/link`]]) {
        expectEnvelopeError(await server.request(method, p, { headers: them }), 404, 'NOT_FOUND');
      }
      assert.ok(!(await listAll(server, them)).some((x) => x.id === f.id));
      // Their own file's link, pointed at our tenant (or our file), fails its signature.
      const theirs = expectSuccess(await upload(server, them, 'theirs'), 201);
      const link = expectSuccess(await server.post(`/v1/files/${theirs.id}/link`, { headers: them }), 200);
      const ours = link.url.replace(outsider.tid, team.tid);
      expectEnvelopeError(await server.get(ours), 403, 'FORBIDDEN');
      const swapped = link.url.replace(theirs.id, f.id);
      expectEnvelopeError(await server.get(swapped), 403, 'FORBIDDEN');
      assert.equal((await server.get(link.url)).body, 'theirs');
      // The owner's file is still there.
      assert.equal((await server.get(f.url, { headers: owner })).body, 'private');
    });

    test('no credentials: 401 (only a signed link opens a file)', async () => {
      const f = expectSuccess(await upload(server, owner, 'x'), 201);
      expectEnvelopeError(await server.get(f.url), 401, 'UNAUTHORIZED');
      expectEnvelopeError(await server.get(f.url, { headers: { 'X-Tenant-ID': team.tid } }), 401, 'UNAUTHORIZED');
      expectEnvelopeError(await upload(server, {}, 'x'), 401, 'UNAUTHORIZED');
    });
  });

  describe('signed links', () => {
    test('work without credentials until they expire; any change is refused', async () => {
      const f = expectSuccess(await upload(server, owner, 'linked', { name: 'l.txt', type: 'text/plain' }), 201);
      const link = expectSuccess(await server.post(`/v1/files/${f.id}/link`, { headers: owner, json: { expires_in: 600 } }), 200);
      const expires = Date.parse(link.expires_at);
      assert.ok(Math.abs(expires - (Date.now() + 600_000)) < 5_000, link.expires_at);
      const res = await server.get(link.url);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'linked');
      assert.equal(res.headers['cache-control'], 'private, no-cache');
      const ranged = await server.get(link.url, { headers: { Range: 'bytes=1-2' } });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.body, 'in');
      const u = new URL(link.url, server.url);
      const tamper = (k, v) => { const c = new URL(u); c.searchParams.set(k, v); return `${c.pathname}${c.search}`; };
      const sig = u.searchParams.get('signature');
      for (const bad of [
        tamper('expires', String(Number(u.searchParams.get('expires')) + 1)),
        tamper('signature', `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`),
        tamper('tenant', RANDOM_ID),
        tamper('expires', 'soon'),
      ]) {
        expectEnvelopeError(await server.get(bad), 403, 'FORBIDDEN');
      }
      expectEnvelopeError(await server.get(`${u.pathname}${u.search}&extra=1`), 400, 'BAD_REQUEST');
      const short = expectSuccess(await server.post(`/v1/files/${f.id}/link`, { headers: owner, json: { expires_in: 1 } }), 200);
      await sleep(2100);
      expectEnvelopeError(await server.get(short.url), 403, 'FORBIDDEN');
      for (const bad of [0, 604801, 'x', 1.5]) {
        expectEnvelopeError(await server.post(`/v1/files/${f.id}/link`, { headers: owner, json: { expires_in: bad } }), 422, 'VALIDATION_ERROR');
      }
      expectEnvelopeError(await server.post(`/v1/files/${f.id}/link`, { headers: owner, json: { expires: 5 } }), 422, 'VALIDATION_ERROR');
      const dflt = expectSuccess(await server.post(`/v1/files/${f.id}/link`, { headers: owner }), 200);
      assert.ok(Math.abs(Date.parse(dflt.expires_at) - (Date.now() + 3_600_000)) < 5_000);
      // A deleted file's link answers 404.
      assert.equal((await server.request('DELETE', `/v1/files/${f.id}`, { headers: owner })).status, 204);
      expectEnvelopeError(await server.get(link.url), 404, 'NOT_FOUND');
    });

    test('keys rotate: a link outlives one rotation, not two', { timeout: 60_000 }, async () => {
      const f = expectSuccess(await upload(server, owner, 'rot'), 201);
      const link = async () => expectSuccess(await server.post(`/v1/files/${f.id}/link`, { headers: owner }), 200).url;
      const rotate = async () => {
        const args = ['keys', 'rotate', '--data', server.dataDir];
        if (server.databaseUrl) args.push('--database', server.databaseUrl);
        const cli = await runCli(args);
        assert.equal(cli.code, 0, cli.stderr);
        assert.match(cli.stdout, /file link secret/);
        await sleep(6_000); // running nodes reload the secrets every 5 s
      };
      const first = await link();
      await rotate();
      const second = await link();
      assert.notEqual(second, first);
      assert.equal((await server.get(first)).body, 'rot', 'signed before the rotation: still good');
      assert.equal((await server.get(second)).body, 'rot');
      await rotate();
      expectEnvelopeError(await server.get(first), 403, 'FORBIDDEN');
      assert.equal((await server.get(second)).body, 'rot', 'one rotation old: still good');
      assert.equal((await server.get(await link())).body, 'rot');
    });
  });

  describe('limits', () => {
    let small;
    before(async () => {
      small = await startServer({ env: { ...env, TB_PLANS_FREE_MAX_FILE_BYTES: '1000', TB_PLANS_FREE_MAX_STORAGE_BYTES: '5000' } });
    });
    after(async () => { await small?.stop(); });

    async function storedBytes(h) {
      return expectSuccess(await small.get('/v1/billing', { headers: h }), 200).usage.storage_bytes;
    }

    test('past max_file_bytes: 413 by Content-Length, by the streamed count, and in multipart; nothing stays', async () => {
      const u = await newUser(small, 'lim');
      const h = as(u, u.tid);
      const stored = await storedBytes(h);
      const byLength = await upload(small, h, Buffer.alloc(1001));
      const e = expectEnvelopeError(byLength, 413, 'PAYLOAD_TOO_LARGE');
      assert.deepEqual(e.details, { limit: 'max_file_bytes', value: 1000 });
      // No Content-Length: chunked; stopped once the count passes the limit.
      const stream = new ReadableStream({
        start(c) { c.enqueue(new Uint8Array(600)); c.enqueue(new Uint8Array(600)); c.close(); },
      });
      const chunked = await small.post('/v1/files', { headers: { ...h, 'Content-Type': 'application/octet-stream' }, body: stream, duplex: 'half' });
      expectEnvelopeError(chunked, 413, 'PAYLOAD_TOO_LARGE');
      const form = new FormData();
      form.append('file', new Blob(['ok']), 'first.txt');
      form.append('file', new Blob([Buffer.alloc(1001)]), 'second.bin');
      expectEnvelopeError(await small.post('/v1/files', { headers: h, body: form }), 413, 'PAYLOAD_TOO_LARGE');
      assert.deepEqual(await listAll(small, h), [], 'the first part was taken back');
      assert.equal(await storedBytes(h), stored);
      expectSuccess(await upload(small, h, Buffer.alloc(1000)), 201);
    });

    test('past the storage quota: 402; deleting gives the bytes back; nothing on disk is left', async () => {
      const u = await newUser(small, 'quota');
      const h = as(u, u.tid);
      const start = await storedBytes(h);
      const made = [];
      while ((await storedBytes(h)) + 1000 <= 5000) made.push(expectSuccess(await upload(small, h, Buffer.alloc(1000)), 201));
      const full = await upload(small, h, Buffer.alloc(1000));
      const e = expectEnvelopeError(full, 402, 'QUOTA_EXCEEDED');
      assert.equal(e.details.limit, 'max_storage_bytes');
      assert.equal(await storedBytes(h), start + made.length * 1000);
      assert.equal((await small.request('DELETE', `/v1/files/${made[0].id}`, { headers: h })).status, 204);
      assert.equal(await storedBytes(h), start + (made.length - 1) * 1000);
      expectSuccess(await upload(small, h, Buffer.alloc(1000)), 201);
      if (store !== 'local') return;
      // On disk: exactly the contents of the rows (no .part, nothing refused).
      const all = await listAll(small, h);
      const onDisk = (await filesUnder(path.join(small.dataDir, 'files', u.tid))).map((p) => path.basename(p)).sort();
      assert.deepEqual(onDisk, all.map((f) => f.id).sort());
      assert.deepEqual(await filesUnder(path.join(small.dataDir, 'files', 'tmp')), []);
    });
  });

  describe('crash safety', () => {
    test('SIGKILL mid-upload, restart: no row, no content, no temp file left', { timeout: 60_000 }, async () => {
      const srv = await startServer({ env });
      let dataDir = srv.dataDir;
      let databaseUrl = srv.databaseUrl;
      try {
        const u = await newUser(srv, 'crash');
        const h = as(u, u.tid);
        let pushed = 0;
        const stream = new ReadableStream({
          async pull(c) {
            if (pushed >= 4) { await new Promise((r) => { setTimeout(r, 60_000).unref(); }); return; }
            pushed += 1;
            c.enqueue(new Uint8Array(256 * 1024));
          },
        });
        const pending = fetch(`${srv.url}/v1/files?name=half.bin`, {
          method: 'POST', headers: { ...h, 'Content-Type': 'application/octet-stream' }, body: stream, duplex: 'half',
        }).catch((err) => err);
        for (let i = 0; i < 100 && pushed < 4; i++) await sleep(50);
        await sleep(300);
        if (store === 'local') {
          assert.equal((await filesUnder(path.join(dataDir, 'files', 'tmp'))).length, 1, 'the upload is under way');
        }
        await srv.stop('SIGKILL');
        await pending;
        const again = await startServer({ env, dataDir, databaseUrl });
        try {
          assert.deepEqual(await listAll(again, h), [], 'no row');
          if (store === 'local') {
            assert.deepEqual(await filesUnder(path.join(dataDir, 'files', 'tmp')), [], 'the .part file is gone');
            assert.deepEqual(await filesUnder(path.join(dataDir, 'files', u.tid)), []);
          } else if (BACKEND === 'sqlite') {
            // One node owns the SQLite file: the start-up sweep drops the stopped upload.
            await again.waitForOutput(/removed file contents without a row/);
          }
          // (On PostgreSQL another node may be uploading: stopped uploads go after an hour.)
          expectSuccess(await upload(again, h, 'after the crash'), 201);
        } finally {
          await again.stop();
        }
      } finally {
        dataDir = null;
        databaseUrl = null;
      }
    });
  });
});
