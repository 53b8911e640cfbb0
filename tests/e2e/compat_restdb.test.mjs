// The RestDB dialect (docs/api.md §11, seed 002_a49d1998250bfe28.txt, issue #22): /rest with
// RestDB's credentials and query parameters, /rest/_meta, the media archive and the mail API;
// bare bodies and RestDB's errors; the same data as /v1, metered and isolated as /v1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { RFC3339_MS_Z, UUID, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, bearer } from './auth_helpers.mjs';
import { as, createKey, describeRes, expectSuccess, makeTeam, newUser } from './tenancy_helpers.mjs';
import { expectRestDbError } from './compat_helpers.mjs';

const run = promisify(execFile);
const q = (obj) => encodeURIComponent(JSON.stringify(obj));
const META = ['_changed', '_changedby', '_created', '_createdby', '_version'];
const PEOPLE = [
  { name: 'Joe Smith', age: 30, tags: ['Alpha', 'beta'] },
  { name: 'ann', age: 25, address: { city: 'Oslo' } },
  { name: 'Bob', age: 40, note: 'likes OSLO in winter' },
  { name: 'Cy', age: 35 },
];

describe('the RestDB dialect', () => {
  let server; let team; let owner; let key; let keyHeaders; let outsider; let outsiderKey;

  before(async () => {
    server = await startServer({ env: NO_THROTTLE_ENV });
    team = await makeTeam(server, 'rdb');
    owner = as(team.owner, team.tid);
    key = await createKey(server, owner, { name: 'restdb', scopes: ['read', 'write', 'admin'] });
    keyHeaders = { 'x-apikey': key.key };
    outsider = await newUser(server, 'rdb-out');
    outsiderKey = (await createKey(server, as(outsider, outsider.tid), { scopes: ['read', 'write', 'admin'] })).key;
    const res = await server.post('/rest/people', { headers: keyHeaders, json: PEOPLE });
    assert.equal(res.status, 201, describeRes(res));
  });
  after(async () => { await server?.stop(); });

  describe('credentials', () => {
    test('x-apikey, the key itself as Authorization (the seed\'s form), X-API-Key and a user\'s Bearer token', async () => {
      for (const headers of [{ 'x-apikey': key.key }, { Authorization: key.key }, { 'X-API-Key': key.key },
        { Authorization: `Bearer ${key.key}` }, { ...team.owner.auth, 'X-Tenant-ID': team.tid }]) {
        const res = await server.get('/rest/people', { headers });
        assert.equal(res.status, 200, `${JSON.stringify(Object.keys(headers))}: ${describeRes(res)}`);
        assert.equal(res.json.length, PEOPLE.length);
      }
    });

    test('none, a wrong key, or ?apikey= (off by default) answer 401 in RestDB\'s shape', async () => {
      expectRestDbError(await server.get('/rest/people'), 401, 'UnauthorizedError');
      expectRestDbError(await server.get('/rest/people', { headers: { 'x-apikey': 'tbk_nope' } }), 401);
      expectRestDbError(await server.get('/rest/people', { headers: { Authorization: 'not-a-key' } }), 401);
      const res = await server.get(`/rest/people?apikey=${key.key}`);
      expectRestDbError(res, 401);
      assert.match(res.json.message, /allow_query_key/);
    });

    test('the seed\'s curl command, as written', async () => {
      const { stdout } = await run('curl', ['-s', `${server.url}/rest/people`, '-H', `Authorization: ${key.key}`]);
      assert.equal(JSON.parse(stdout).length, PEOPLE.length);
    });

    test('a preflight allows x-apikey; a CORS key works from its origin with x-apikey', async () => {
      const origin = 'https://app.rdb.example';
      const cors = await createKey(server, owner, { name: 'browser', scopes: ['read'], allowed_origins: [origin] });
      const pre = await server.request('OPTIONS', '/rest/people',
        { headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-apikey' } });
      assert.equal(pre.status, 204);
      assert.ok(pre.headers['access-control-allow-headers'].split(/,\s*/).includes('x-apikey'));
      const res = await server.get('/rest/people', { headers: { Origin: origin, 'x-apikey': cors.key } });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(res.headers['access-control-allow-origin'], origin);
      expectRestDbError(await server.get('/rest/people', { headers: { 'x-apikey': cors.key } }), 401);
    });
  });

  describe('GET /rest/{collection}', () => {
    test('a bare array; documents show _id and their fields, the system fields with metafields=true', async () => {
      const res = await server.get('/rest/people', { headers: keyHeaders });
      assert.ok(Array.isArray(res.json));
      assert.deepEqual(res.json.map((d) => d.name), PEOPLE.map((p) => p.name));
      for (const d of res.json) {
        assert.match(d._id, UUID);
        for (const m of META) assert.equal(d[m], undefined, m);
        assert.equal(d._org, undefined);
      }
      const full = await server.get('/rest/people?metafields=true', { headers: keyHeaders });
      for (const d of full.json) {
        for (const m of META) assert.ok(m in d, m);
        assert.match(d._created, RFC3339_MS_Z);
      }
    });

    test('q and h: a query, $orderby, $fields, $max and $skip', async () => {
      let res = await server.get(`/rest/people?q=${q({ age: { $gt: 26 } })}`, { headers: keyHeaders });
      assert.deepEqual(res.json.map((d) => d.name), ['Joe Smith', 'Bob', 'Cy']);
      res = await server.get(`/rest/people?q=${q({})}&h=${q({ $orderby: { age: -1 }, $fields: { name: 1 }, $max: 2, $skip: 1 })}`,
        { headers: keyHeaders });
      assert.deepEqual(res.json, [{ _id: res.json[0]._id, name: 'Cy' }, { _id: res.json[1]._id, name: 'Joe Smith' }]);
      // A hint wins over the plain parameter (on /v1 both together answer 400).
      res = await server.get(`/rest/people?sort=name&max=1&h=${q({ $orderby: { age: 1 }, $max: 3 })}`, { headers: keyHeaders });
      assert.deepEqual(res.json.map((d) => d.age), [25, 30, 35]);
    });

    test('sort (repeatable) with dir, max, skip', async () => {
      let res = await server.get('/rest/people?sort=age&dir=-1', { headers: keyHeaders });
      assert.deepEqual(res.json.map((d) => d.age), [40, 35, 30, 25]);
      res = await server.get('/rest/people?sort=name&sort=age&dir=1&dir=-1&max=2&skip=1', { headers: keyHeaders });
      assert.deepEqual(res.json.map((d) => d.name), ['Cy', 'Joe Smith']); // code-point order: B, C, J, a
      res = await server.get('/rest/people?max=0', { headers: keyHeaders });
      assert.deepEqual(res.json, []);
    });

    test('filter: a case-insensitive text match over every string of the document', async () => {
      let res = await server.get('/rest/people?filter=oslo', { headers: keyHeaders });
      assert.deepEqual(res.json.map((d) => d.name).sort(), ['Bob', 'ann']);
      res = await server.get('/rest/people?filter=ALPHA', { headers: keyHeaders });
      assert.deepEqual(res.json.map((d) => d.name), ['Joe Smith'], 'array elements too');
      res = await server.get(`/rest/people?filter=smith&q=${q({ age: 30 })}`, { headers: keyHeaders });
      assert.equal(res.json.length, 1);
      res = await server.get('/rest/people?filter=%25', { headers: keyHeaders });
      assert.deepEqual(res.json, [], 'no LIKE wildcards');
      res = await server.get('/rest/people?filter=nobody-has-this', { headers: keyHeaders });
      assert.deepEqual(res.json, []);
      // Not the system fields the answer does not show (ids, times, who wrote it).
      for (const hidden of [String(new Date().getUTCFullYear()), 'f', '-', team.owner.user.id.slice(0, 8)]) {
        res = await server.get(`/rest/people?filter=${encodeURIComponent(hidden)}`, { headers: keyHeaders });
        assert.deepEqual(res.json, [], `filter=${hidden}`);
      }
    });

    test('totals=true: {data, totals: {total, count, skip, max}}', async () => {
      const res = await server.get('/rest/people?totals=true&max=2&skip=1&sort=age', { headers: keyHeaders });
      assert.deepEqual(Object.keys(res.json).sort(), ['data', 'totals']);
      assert.deepEqual(res.json.totals, { total: 4, count: 2, skip: 1, max: 2 });
      assert.deepEqual(res.json.data.map((d) => d.age), [30, 35]);
      const counted = await server.get('/rest/people?totals=true&max=0&filter=oslo', { headers: keyHeaders });
      assert.deepEqual(counted.json.totals, { total: 2, count: 0, skip: 0, max: 0 });
    });

    test('max defaults to 1000: past /v1\'s 100 per page', async () => {
      const many = Array.from({ length: 150 }, (_, i) => ({ i }));
      assert.equal((await server.post('/rest/many', { headers: keyHeaders, json: many })).status, 201);
      const res = await server.get('/rest/many', { headers: keyHeaders });
      assert.equal(res.json.length, 150);
      assert.deepEqual(res.json.map((d) => d.i), many.map((d) => d.i));
    });

    test('bad parameters answer 400 in RestDB\'s shape; an unknown collection 404', async () => {
      for (const query of ['bogus=1', 'max=1001', 'max=-1', 'skip=x', 'dir=1', 'sort=a&dir=2', `q=${q({ a: { $bad: 1 } })}`,
        'q=%7B', 'h=[1]', `h=${q({ $groupby: ['a'] })}`, 'filter=', 'totals=maybe', 'q=1&q=2', 'skip=20000']) {
        expectRestDbError(await server.get(`/rest/people?${query}`, { headers: keyHeaders }), 400, 'BadRequestError');
      }
      expectRestDbError(await server.get('/rest/nosuch', { headers: keyHeaders }), 404, 'NotFoundError');
    });
  });

  describe('one document', () => {
    let id;
    before(async () => {
      const res = await server.post('/rest/people', { headers: keyHeaders, json: { name: 'Dee', age: 50, city: 'Rome' } });
      assert.equal(res.status, 201, describeRes(res));
      assert.match(res.json._id, UUID);
      assert.equal(res.json._created, undefined);
      id = res.json._id;
    });

    test('GET, with metafields=true; 404 for a missing id', async () => {
      const res = await server.get(`/rest/people/${id}`, { headers: keyHeaders });
      assert.deepEqual(res.json, { _id: id, name: 'Dee', age: 50, city: 'Rome' });
      const meta = await server.get(`/rest/people/${id}?metafields=true`, { headers: keyHeaders });
      assert.equal(meta.json._version, 1);
      expectRestDbError(await server.get('/rest/people/018b6216-27a1-7e2b-aa83-67d7ba500982', { headers: keyHeaders }), 404);
      expectRestDbError(await server.get(`/rest/people/${id}`), 401);
      // The one parameter of a document's routes, checked like every other.
      for (const query of ['metafields=maybe', 'metafields=true&metafields=false', 'max=5']) {
        expectRestDbError(await server.get(`/rest/people/${id}?${query}`, { headers: keyHeaders }), 400, 'BadRequestError');
      }
    });

    test('PUT and PATCH update the fields sent; X-HTTP-Method-Override tunnels them', async () => {
      let res = await server.request('PUT', `/rest/people/${id}`, { headers: keyHeaders, json: { age: 51 } });
      assert.equal(res.status, 200, describeRes(res));
      assert.deepEqual(res.json, { _id: id, name: 'Dee', age: 51, city: 'Rome' });
      res = await server.request('PATCH', `/rest/people/${id}`, { headers: keyHeaders, json: { city: null, zip: '00100' } });
      assert.deepEqual(res.json, { _id: id, name: 'Dee', age: 51, zip: '00100' });
      res = await server.post(`/rest/people/${id}`, { headers: { ...keyHeaders, 'X-HTTP-Method-Override': 'PUT' }, json: { age: 52 } });
      assert.equal(res.json.age, 52);
      // The same document through /v1.
      const v1 = expectSuccess(await server.get(`/v1/collections/people/documents/${id}`, { headers: owner }), 200);
      assert.equal(v1.age, 52);
      assert.equal(v1._version, 4);
    });

    test('a validation error is 400 {name: "ValidationError", list: [{field, message}]}', async () => {
      for (const method of ['PUT', 'PATCH']) {
        const res = await server.request(method, `/rest/people/${id}`, { headers: keyHeaders, json: { _secret: 1 } });
        const body = expectRestDbError(res, 400, 'ValidationError');
        assert.deepEqual(body.list, [{ field: '_secret', message: [body.message] }]);
        expectRestDbError(await server.request(method, `/rest/people/${id}`), 401);
        expectRestDbError(await server.request(method, '/rest/people/018b6216-27a1-7e2b-aa83-67d7ba500982',
          { headers: keyHeaders, json: { a: 1 } }), 404);
      }
      expectRestDbError(await server.post('/rest/people', { headers: keyHeaders, json: [{ ok: 1 }, 'x'] }), 400, 'ValidationError');
      expectRestDbError(await server.post('/rest/people', { headers: { ...keyHeaders, 'Content-Type': 'application/json' }, body: '{' }),
        400, 'BadRequestError');
      expectRestDbError(await server.post('/rest/people', { headers: { ...keyHeaders, 'Content-Type': 'text/plain' }, body: '{}' }), 415);
      expectRestDbError(await server.post('/rest/people', { json: { a: 1 } }), 401);
    });

    test('DELETE answers {result: [id]}; then 404', async () => {
      const made = await server.post('/rest/people', { headers: keyHeaders, json: { name: 'Gone' } });
      const res = await server.request('DELETE', `/rest/people/${made.json._id}`, { headers: keyHeaders });
      assert.equal(res.status, 200, describeRes(res));
      assert.deepEqual(res.json, { result: [made.json._id] });
      expectRestDbError(await server.request('DELETE', `/rest/people/${made.json._id}`, { headers: keyHeaders }), 404);
      expectRestDbError(await server.request('DELETE', `/rest/people/${made.json._id}`), 401);
    });

    test('a unique index answers 409; a read-only key 403', async () => {
      expectSuccess(await server.post('/v1/collections', { headers: owner, json: { name: 'codes', indexes: [{ fields: ['code'], unique: true }] } }), 201);
      assert.equal((await server.post('/rest/codes', { headers: keyHeaders, json: { code: 'A' } })).status, 201);
      expectRestDbError(await server.post('/rest/codes', { headers: keyHeaders, json: { code: 'A' } }), 409, 'DuplicateError');
      const reader = await createKey(server, owner, { name: 'reader', scopes: ['read'] });
      expectRestDbError(await server.post('/rest/codes', { headers: { 'x-apikey': reader.key }, json: { code: 'B' } }), 403, 'ForbiddenError');
    });
  });

  test('GET /rest/_meta: the collections and their fields', async () => {
    const res = await server.get('/rest/_meta', { headers: keyHeaders });
    assert.equal(res.status, 200, describeRes(res));
    const people = res.json.collections.find((c) => c.name === 'people');
    assert.ok(people.fields.some((f) => f.path === 'address.city'));
    expectRestDbError(await server.get('/rest/_meta'), 401);
  });

  test('another tenant\'s documents stay invisible: 404 on the collection and on an id', async () => {
    const theirs = { 'x-apikey': outsiderKey };
    const mine = (await server.get('/rest/people', { headers: keyHeaders })).json[0]._id;
    expectRestDbError(await server.get('/rest/people', { headers: theirs }), 404);
    assert.equal((await server.post('/rest/people', { headers: theirs, json: { name: 'theirs' } })).status, 201);
    const list = await server.get('/rest/people', { headers: theirs });
    assert.deepEqual(list.json.map((d) => d.name), ['theirs']);
    expectRestDbError(await server.get(`/rest/people/${mine}`, { headers: theirs }), 404);
    expectRestDbError(await server.request('PUT', `/rest/people/${mine}`, { headers: theirs, json: { x: 1 } }), 404);
    expectRestDbError(await server.request('DELETE', `/rest/people/${mine}`, { headers: theirs }), 404);
    const filtered = await server.get('/rest/people?filter=oslo&totals=true', { headers: theirs });
    assert.equal(filtered.json.totals.total, 0, 'no count leaks across tenants');
    const meta = await server.get('/rest/_meta', { headers: theirs });
    assert.ok(!meta.json.collections.some((c) => c.name === 'codes'));
  });

  describe('/media', () => {
    let fileId;
    test('a multipart upload (any field name) answers {msg, uploadid, ids}; list, meta, download', async () => {
      const form = new FormData();
      form.append('myfile', new Blob(['hello media'], { type: 'text/plain' }), 'hello.txt');
      form.append('note', 'not a file');
      const res = await server.post('/media', { headers: keyHeaders, body: form });
      assert.equal(res.status, 201, describeRes(res));
      assert.equal(res.json.msg, 'OK');
      assert.equal(res.json.ids.length, 1);
      assert.equal(res.json.uploadid, res.json.ids[0]);
      fileId = res.json.ids[0];
      const list = await server.get('/media', { headers: keyHeaders });
      assert.ok(Array.isArray(list.json));
      assert.ok(list.json.some((f) => f.id === fileId && f.name === 'hello.txt'));
      const meta = await server.get(`/media/${fileId}/meta`, { headers: keyHeaders });
      assert.equal(meta.json.size, 11);
      const body = await server.get(`/media/${fileId}`, { headers: keyHeaders });
      assert.equal(body.status, 200);
      assert.equal(body.body, 'hello media');
      assert.ok(body.headers.etag);
      const part = await server.get(`/media/${fileId}`, { headers: { ...keyHeaders, Range: 'bytes=0-4' } });
      assert.equal(part.status, 206);
      assert.equal(part.body, 'hello');
      // The same file through /v1.
      const v1 = expectSuccess(await server.get(`/v1/files/${fileId}`, { headers: owner }), 200);
      assert.equal(v1.sha256.length, 64);
    });

    test('errors: no file part 400, no key 401, another tenant 404', async () => {
      const form = new FormData();
      form.append('note', 'no file here');
      expectRestDbError(await server.post('/media', { headers: keyHeaders, body: form }), 400);
      expectRestDbError(await server.post('/media', { body: form }), 401);
      expectRestDbError(await server.get('/media?per_page=1000', { headers: keyHeaders }), 400);
      expectRestDbError(await server.get('/media'), 401);
      const theirs = { 'x-apikey': outsiderKey };
      for (const path of [`/media/${fileId}`, `/media/${fileId}/meta`]) {
        expectRestDbError(await server.get(path, { headers: theirs }), 404, 'NotFoundError');
        expectRestDbError(await server.get(path), 401);
      }
      expectRestDbError(await server.request('DELETE', `/media/${fileId}`, { headers: theirs }), 404);
      expectRestDbError(await server.request('DELETE', `/media/${fileId}`), 401);
      assert.deepEqual((await server.get('/media', { headers: theirs })).json, []);
    });

    test('DELETE answers {result: [id]}; the file is gone', async () => {
      const res = await server.request('DELETE', `/media/${fileId}`, { headers: keyHeaders });
      assert.equal(res.status, 200, describeRes(res));
      assert.deepEqual(res.json, { result: [fileId] });
      expectRestDbError(await server.get(`/media/${fileId}`, { headers: keyHeaders }), 404);
    });
  });

  describe('/mail', () => {
    test('send (RestDB\'s sender fields accepted) and read its status', async () => {
      const res = await server.post('/mail', { headers: keyHeaders,
        json: { to: 'someone@example.com', subject: 'Hello', html: '<p>Hi</p>', sendername: 'Shop', company: 'Acme' } });
      assert.equal(res.status, 202, describeRes(res));
      assert.equal(res.json.status, 'queued');
      let status;
      for (let i = 0; i < 40; i++) {
        status = await server.get(`/mail/${res.json.id}`, { headers: keyHeaders });
        if (status.json.status === 'sent') break;
        await sleep(250);
      }
      assert.equal(status.json.status, 'sent');
      assert.equal(status.json.subject, 'Hello');
    });

    test('errors: 400 validation, 401, 403 for a key without admin, 404 another tenant\'s mail', async () => {
      expectRestDbError(await server.post('/mail', { headers: keyHeaders, json: { to: 'x@example.com', subject: 'S', bogus: 1 } }),
        400, 'ValidationError');
      expectRestDbError(await server.post('/mail', { json: { to: 'x@example.com', subject: 'S' } }), 401);
      const writer = await createKey(server, owner, { name: 'writer', scopes: ['read', 'write'] });
      expectRestDbError(await server.post('/mail', { headers: { 'x-apikey': writer.key }, json: { to: 'x@example.com', subject: 'S' } }), 403);
      const sent = await server.post('/mail', { headers: keyHeaders, json: { to: 'y@example.com', subject: 'Mine', text: 't' } });
      expectRestDbError(await server.get(`/mail/${sent.json.id}`, { headers: { 'x-apikey': outsiderKey } }), 404);
      expectRestDbError(await server.get(`/mail/${sent.json.id}`), 401);
    });
  });

  test('router errors under /rest, /media and /mail are RestDB\'s', async () => {
    expectRestDbError(await server.get('/rest', { headers: keyHeaders }), 404);
    expectRestDbError(await server.get('/rest/people/a/b', { headers: keyHeaders }), 404);
    expectRestDbError(await server.request('PUT', '/rest/people', { headers: keyHeaders, json: {} }), 405);
    expectRestDbError(await server.request('PUT', '/media', { headers: keyHeaders }), 405);
    expectRestDbError(await server.get('/mail', { headers: keyHeaders }), 405);
  });

  test('dialect traffic is metered in the tenant like /v1 (requests, documents written)', async () => {
    await sleep(2500);
    const before = expectSuccess(await server.get('/v1/usage', { headers: owner }), 200).totals;
    assert.equal((await server.post('/rest/metered', { headers: keyHeaders, json: [{ a: 1 }, { a: 2 }] })).status, 201);
    assert.equal((await server.get('/rest/metered', { headers: keyHeaders })).status, 200);
    await sleep(2500);
    const now = expectSuccess(await server.get('/v1/usage', { headers: owner }), 200).totals;
    // The first usage read counts too.
    assert.equal(now.requests - before.requests, 3);
    assert.equal(now.documents_written - before.documents_written, 2);
  });
});

describe('RestDB ?apikey= with compat.restdb.allow_query_key on', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_COMPAT_RESTDB_ALLOW_QUERY_KEY: 'true', TB_LOG_ACCESS: 'true',
      TB_PLANS_FREE_MAX_FILE_BYTES: '1000' } });
  });
  after(async () => { await server?.stop(); });

  test('the key in the URL works, and no log line holds it', async () => {
    const u = await newUser(server, 'rdb-q');
    const k = await createKey(server, as(u, u.tid), { scopes: ['read', 'write', 'admin'] });
    assert.equal((await server.post(`/rest/notes?apikey=${k.key}`, { json: { t: 1 } })).status, 201);
    const res = await server.get(`/rest/notes?apikey=${encodeURIComponent(k.key)}&max=5`);
    assert.equal(res.status, 200, describeRes(res));
    assert.equal(res.json.length, 1);
    expectRestDbError(await server.get('/rest/notes?apikey=tbk_wrong'), 401);
    // A malformed query is refused before any key is read from it; a revoked key in the URL is 401.
    expectRestDbError(await server.get(`/rest/notes?apikey=${k.key}%ZZ`), 400);
    const gone = await createKey(server, as(u, u.tid), { scopes: ['read'] });
    assert.equal((await server.request('DELETE', `/v1/api-keys/${gone.id}`, { headers: as(u, u.tid) })).status, 204);
    expectRestDbError(await server.get(`/rest/notes?apikey=${gone.key}`), 401);
    await sleep(300);
    assert.ok(!server.output().includes(k.key), 'the key is redacted from every log line');
    assert.match(server.output(), /apikey=\[REDACTED\]/);
    assert.equal((await server.get('/rest/notes', { headers: bearer(k.key) })).status, 200);
    // A file over the plan's size (1000 bytes here): 413 in RestDB's shape, nothing stored.
    const big = await server.post(`/media?apikey=${k.key}&name=big.bin`,
      { headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.alloc(1001) });
    expectRestDbError(big, 413);
    assert.deepEqual((await server.get(`/media?apikey=${k.key}`)).json, []);
  });
});

describe('RestDB requests spend the budgets of their /v1 counterparts', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_LIMITS_KEY_PER_HOUR: '3', TB_LIMITS_ANONYMOUS_PER_HOUR: '2' } });
  });
  after(async () => { await server?.stop(); });

  test('a key past its hourly budget gets 429 with Retry-After in RestDB\'s shape; so does an IP', async () => {
    const u = await newUser(server, 'rdb-429');
    const k = await createKey(server, as(u, u.tid), { scopes: ['read', 'write', 'admin'] });
    const headers = { 'x-apikey': k.key };
    assert.equal((await server.post('/rest/notes', { headers, json: { a: 1 } })).status, 201);
    for (let i = 0; i < 2; i++) {
      const res = await server.get('/rest/notes', { headers });
      assert.equal(res.status, 200, describeRes(res));
      assert.equal(res.headers['x-ratelimit-limit'], '3');
    }
    const res = await server.get('/rest/notes', { headers });
    expectRestDbError(res, 429, 'RateLimitError');
    assert.ok(Number(res.headers['retry-after']) > 0);
    // Without credentials the client IP's budget is spent (2 an hour here; the sign-up above
    // took one of them).
    const anon = [];
    for (let i = 0; i < 2; i++) anon.push(await server.get('/rest/notes'));
    assert.deepEqual(anon.map((r) => r.status), [401, 429]);
    expectRestDbError(anon[1], 429);
    assert.ok(Number(anon[1].headers['retry-after']) > 0);
  });
});
