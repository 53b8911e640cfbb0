// Input that tools nobody here wrote sent, and that broke stored data or answered 500 (issue
// #20): numbers past the double range, invalid UTF-8 and NUL anywhere in a request, HTTP
// framing leniencies (Host, Content-Encoding), numbers written in exponent form, If-Match
// lists with `*`, the 403/404 precedence of a read-only key, the `active` alias and
// `details.value`. Each case on the backend the suite runs on (SQLite and PostgreSQL).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectEnvelopeError, httpRequest, rawRequest, startServer } from './harness.mjs';
import {
  NO_THROTTLE_ENV, as, createKey, createTenant, expectBadRequest, expectSuccess, expectValidation, list,
  makeTeam, newUser,
} from './tenancy_helpers.mjs';
import { adminLogin } from './tenancy_helpers.mjs';

let server;
let team;
let admin;
before(async () => {
  server = await startServer({ env: { ...NO_THROTTLE_ENV } });
  team = await makeTeam(server, 'integrity');
  admin = await adminLogin(server);
});
after(async () => { await server?.stop(); });

const owner = () => as(team.owner, team.tid);
const raw = (text) => new TextEncoder().encode(text); // bytes as sent, not re-serialised by JSON.stringify
const jsonHeaders = (h) => ({ ...h, 'Content-Type': 'application/json' });

/** Every stored thing of a collection still reads as valid JSON. */
async function expectCollectionReadable(name) {
  const docs = await server.get(`/v1/collections/${name}/documents`, { headers: owner() });
  assert.equal(docs.status, 200, docs.body);
  assert.ok(docs.json, `the list is valid JSON: ${docs.body.slice(0, 300)}`);
  const meta = await server.get('/v1/meta', { headers: owner() });
  assert.equal(meta.status, 200, meta.body);
  const all = await server.get('/v1/collections', { headers: owner() });
  assert.equal(all.status, 200, all.body);
}

describe('numbers outside the finite double range (item 1)', () => {
  const huge = ['1e400', '-1e400', '2e308', '1E999'];

  test('a document holding one -> 422 naming the path; nothing stored', async () => {
    for (const n of huge) {
      const res = await server.post('/v1/collections/finite/documents',
        { headers: jsonHeaders(owner()), body: raw(`{"ok":1,"deep":{"list":[0,${n}]}}`) });
      expectValidation(res, 'deep.list.1');
    }
    const batch = await server.post('/v1/collections/finite/documents',
      { headers: jsonHeaders(owner()), body: raw('[{"a":1},{"b":1e400}]') });
    expectValidation(batch, '1.b');
    // Not even the collection was made (auto-create happens with the first stored write).
    const res = await server.get('/v1/collections/finite/documents', { headers: owner() });
    expectEnvelopeError(res, 404, 'NOT_FOUND');
  });

  test('an anonymous visitor of a public collection cannot poison it', async () => {
    const res = await server.post('/v1/collections', {
      headers: owner(),
      json: { name: 'guestbook', rules: { create: 'public', list: 'public', read: 'public' } },
    });
    expectSuccess(res, 201);
    const bad = await server.post('/v1/collections/guestbook/documents',
      { headers: jsonHeaders({ 'X-Tenant-ID': team.tid }), body: raw('{"x":1e400}') });
    expectValidation(bad, 'x');
    const ok = await server.post('/v1/collections/guestbook/documents',
      { headers: jsonHeaders({ 'X-Tenant-ID': team.tid }), body: raw('{"x":1e308,"y":-1.5e-300}') });
    const doc = expectSuccess(ok, 201);
    assert.equal(doc.x, 1e308);
    await expectCollectionReadable('guestbook');
  });

  test('PUT and PATCH of a document -> 422; the document is unchanged', async () => {
    const doc = expectSuccess(await server.post('/v1/collections/finite2/documents',
      { headers: owner(), json: { n: 1 } }), 201);
    for (const method of ['PUT', 'PATCH']) {
      const res = await server.request(method, `/v1/collections/finite2/documents/${doc._id}`, {
        headers: { ...owner(), 'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
        body: raw('{"n":-1e400}'),
      });
      expectValidation(res, 'n');
    }
    const now = expectSuccess(await server.get(`/v1/collections/finite2/documents/${doc._id}`, { headers: owner() }), 200);
    assert.equal(now.n, 1);
    assert.equal(now._version, 1);
  });

  test('a schema with "maximum": 1e400 -> 422; the collection stays usable and deletable', async () => {
    const create = await server.post('/v1/collections', {
      headers: jsonHeaders(owner()),
      body: raw('{"name":"schemad","schema":{"type":"object","properties":{"n":{"type":"number","maximum":1e400}}}}'),
    });
    expectValidation(create, 'schema.properties.n.maximum');
    expectSuccess(await server.post('/v1/collections', {
      headers: owner(), json: { name: 'schemad', schema: { type: 'object', properties: { n: { type: 'number', maximum: 10 } } } },
    }), 201);
    const update = await server.request('PUT', '/v1/collections/schemad', {
      headers: jsonHeaders(owner()),
      body: raw('{"schema":{"type":"object","properties":{"n":{"type":"number","minimum":-1e400}}}}'),
    });
    expectValidation(update, 'schema.properties.n.minimum');
    const got = expectSuccess(await server.get('/v1/collections/schemad', { headers: owner() }), 200);
    assert.equal(got.schema.properties.n.maximum, 10);
    await expectCollectionReadable('schemad');
    const del = await server.request('DELETE', '/v1/collections/schemad', { headers: owner() });
    assert.equal(del.status, 204, del.body);
  });

  test('tenant settings holding 1e400 -> 422; the settings (cors_origins too) are kept', async () => {
    const t = await createTenant(server, team.owner.auth, { name: 'Settings Kept' });
    const put = await server.request('PATCH', `/v1/tenants/${t.id}`, {
      headers: jsonHeaders(team.owner.auth), body: raw('{"settings":{"cors_origins":["https://kept.example"]}}'),
    });
    expectSuccess(put, 200);
    const bad = await server.request('PATCH', `/v1/tenants/${t.id}`, {
      headers: jsonHeaders(team.owner.auth),
      body: raw('{"settings":{"cors_origins":["https://other.example"],"limit":1e400}}'),
    });
    expectValidation(bad, 'settings.limit');
    const now = expectSuccess(await server.get(`/v1/tenants/${t.id}`, { headers: team.owner.auth }), 200);
    assert.deepEqual(now.settings.cors_origins, ['https://kept.example']);
  });

  test('every JSON body on every route: 422 (auth, keys, users, organizations, mail)', async () => {
    const cases = [
      ['POST', '/v1/auth/login', {}, '{"email":"a@b.c","password":"x","n":1e400}', 'n'],
      ['POST', '/v1/auth/register', {}, '{"email":"a@b.c","password":"correct horse","n":-1e400}', 'n'],
      ['POST', '/v1/api-keys', owner(), '{"name":"k","n":1e400}', 'n'],
      ['POST', '/v1/organizations', owner(), '{"name":"o","n":[1e400]}', 'n.0'],
      ['POST', '/v1/mail', owner(), '{"to":"a@b.c","subject":"s","text":"t","n":1e400}', 'n'],
      ['PATCH', '/v1/auth/me', team.mem.auth, '{"name":"x","n":1e400}', 'n'],
    ];
    for (const [method, path, headers, body, field] of cases) {
      const res = await server.request(method, path, { headers: jsonHeaders(headers), body: raw(body) });
      expectValidation(res, field);
    }
  });

  test('in query parameters: 400 naming the parameter, never 500', async () => {
    await server.post('/v1/collections/finite3/documents', { headers: owner(), json: { n: 5 } });
    for (const query of ['n=1e400', 'n[gt]=-1e400', 'n[in]=1,2e308', 'q={"n":{"$gt":1e400}}',
      'q={"$or":[{"n":1e400}]}']) {
      const res = await server.get(`/v1/collections/finite3/documents?${encodeURI(query)}`, { headers: owner() });
      const error = expectBadRequest(res);
      assert.match(error.details.field, /^(n|n\[gt\]|n\[in\]|q)$/, JSON.stringify(error));
    }
    const bulk = await server.post('/v1/collections/finite3/documents:delete',
      { headers: jsonHeaders(owner()), body: raw('{"q":{"n":{"$lt":1e400}}}') });
    expectValidation(bulk, 'q.n.$lt');
    const { data } = await list(server, '/v1/collections/finite3/documents', owner());
    assert.equal(data.length, 1, 'nothing deleted');
  });
});

describe('invalid UTF-8 and NUL (item 2)', () => {
  /** A raw request with the team owner's credentials; returns the parsed response. */
  async function send(line, extra = [], body = '') {
    const headers = [line, `Host: 127.0.0.1:${server.port}`, `Authorization: ${team.owner.auth.Authorization}`,
      `X-Tenant-ID: ${team.tid}`, ...extra];
    if (body) headers.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
    const r = await rawRequest(server.port, Buffer.from(httpRequest([...headers, 'Connection: close'], body), 'latin1'));
    assert.ok(r.response, `a response to ${line}: ${r.text.slice(0, 200)}`);
    return r.response;
  }
  const validUtf8 = (res) => {
    assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(res.body, 'latin1')),
      `the body is UTF-8: ${res.body}`);
  };

  test('in query keys and values: 400, and the byte is not echoed', async () => {
    for (const target of ['/v1/collections/c/documents?%ff=1', '/v1/collections/c/documents?s=%ff',
      '/v1/collections/c/documents?a=%00', '/v1/users?name=%c3', '/v1/usage?%ff=1', '/v1/tenants?x%fe=1',
      '/v1/audit-logs?action=%ff']) {
      const res = await send(`GET ${target} HTTP/1.1`);
      assert.equal(res.status, 400, `${target}: ${res.body}`);
      assert.equal(res.json?.error?.code, 'BAD_REQUEST');
      validUtf8(res);
    }
  });

  test('in path segments: 400 (a %00 never cuts a name short)', async () => {
    expectSuccess(await server.post('/v1/collections/c/documents', { headers: owner(), json: { a: 1 } }), 201);
    for (const target of ['/v1/collections/c%00zzz/documents', '/v1/collections/c/documents/%ff',
      '/v1/collections/%ff/documents', '/v1/users/%c3%28', '/v1/tenants/%ed%a0%80']) {
      const res = await send(`GET ${target} HTTP/1.1`);
      assert.equal(res.status, 400, `${target}: ${res.body}`);
      validUtf8(res);
    }
  });

  test('X-Tenant-ID that is not UTF-8: 401 for a visitor, 404 for a user, 403 for a key; never 500', async () => {
    const visitor = await rawRequest(server.port, Buffer.from(httpRequest([
      'GET /v1/collections/c/documents HTTP/1.1', 'Host: x', 'X-Tenant-ID: \xff\xfe', 'Connection: close']), 'latin1'));
    assert.equal(visitor.status, 401, visitor.text);
    const user = await rawRequest(server.port, Buffer.from(httpRequest([
      'GET /v1/collections HTTP/1.1', 'Host: x', `Authorization: ${team.owner.auth.Authorization}`,
      'X-Tenant-ID: \xff', 'Connection: close']), 'latin1'));
    assert.equal(user.status, 404, user.text);
    const key = await createKey(server, owner(), { name: 'utf8 key' });
    const viaKey = await rawRequest(server.port, Buffer.from(httpRequest([
      'GET /v1/collections HTTP/1.1', 'Host: x', `X-API-Key: ${key.key}`, 'X-Tenant-ID: \xff', 'Connection: close']), 'latin1'));
    assert.equal(viaKey.status, 403, viaKey.text);
  });

  test('a User-Agent that is not UTF-8 is recorded with U+FFFD; login, register and reset answer as usual', async () => {
    const ua = 'agent-\xff\xfe-end';
    const login = await rawRequest(server.port, Buffer.from(httpRequest([
      'POST /v1/auth/login HTTP/1.1', 'Host: x', `User-Agent: ${ua}`, 'Content-Type: application/json',
      `Content-Length: ${JSON.stringify({ email: team.mem.email, password: 'wrong password!' }).length}`, 'Connection: close'],
    JSON.stringify({ email: team.mem.email, password: 'wrong password!' })), 'latin1'));
    assert.equal(login.status, 401, login.text);
    const reg = JSON.stringify({ email: `ua-${process.pid}@example.com`, password: 'correct horse battery' });
    const register = await rawRequest(server.port, Buffer.from(httpRequest([
      'POST /v1/auth/register HTTP/1.1', 'Host: x', `User-Agent: ${ua}`, 'Content-Type: application/json',
      `Content-Length: ${reg.length}`, 'Connection: close'], reg), 'latin1'));
    assert.equal(register.status, 201, register.text);
    const reset = JSON.stringify({ email: team.mem.email });
    const r = await rawRequest(server.port, Buffer.from(httpRequest([
      'POST /v1/auth/password-reset/request HTTP/1.1', 'Host: x', `User-Agent: ${ua}`, 'Content-Type: application/json',
      `Content-Length: ${reset.length}`, 'Connection: close'], reset), 'latin1'));
    assert.equal(r.status, 202, r.text);
    // The failed login is in the audit log, readable, with the bytes replaced.
    const logs = await server.get('/v1/audit-logs?action=login.failed', { headers: admin.auth });
    assert.equal(logs.status, 200, logs.body);
    const mine = logs.json.data.filter((e) => e.target === team.mem.email);
    assert.ok(mine.length >= 1, logs.body);
    assert.ok(mine.some((e) => e.user_agent === 'agent-\ufffd\ufffd-end'), JSON.stringify(mine.map((e) => e.user_agent)));
  });
});

describe('HTTP framing (item 4)', () => {
  test('no Host in HTTP/1.1, or two Host headers -> 400 (RFC 9112 §3.2)', async () => {
    for (const lines of [['GET /v1/health HTTP/1.1'], ['GET /v1/health HTTP/1.1', 'Host: a', 'Host: b'],
      ['GET /v1/health HTTP/1.0', 'Host: a', 'Host: a']]) {
      const r = await rawRequest(server.port, httpRequest(lines));
      assert.equal(r.status, 400, `${lines.join(' | ')}: ${r.text.slice(0, 200)}`);
      assert.equal(r.response?.json?.error?.code, 'BAD_REQUEST');
    }
    const http10 = await rawRequest(server.port, httpRequest(['GET /v1/health HTTP/1.0']));
    assert.equal(http10.status, 200, 'HTTP/1.0 may leave Host out');
  });

  test('Content-Encoding on a request body -> 415; nothing is read as plain', async () => {
    for (const coding of ['gzip', 'deflate', 'br', 'x-custom']) {
      const res = await server.post('/v1/collections/enc/documents', {
        headers: { ...owner(), 'Content-Type': 'application/json', 'Content-Encoding': coding }, body: '{"a":1}',
      });
      expectEnvelopeError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    const identity = await server.post('/v1/collections/enc/documents', {
      headers: { ...owner(), 'Content-Type': 'application/json', 'Content-Encoding': 'identity' }, body: '{"a":1}',
    });
    expectSuccess(identity, 201);
    const { data } = await list(server, '/v1/collections/enc/documents', owner());
    assert.equal(data.length, 1);
  });
});

describe('numbers in plain decimal (item 9)', () => {
  test('plans, billing and usage_percent never use exponent notation', async () => {
    for (const [path, headers] of [['/v1/plans', {}], ['/v1/billing', owner()]]) {
      const res = await server.get(path, { headers });
      assert.equal(res.status, 200, res.body);
      assert.doesNotMatch(res.body, /\d[eE][+-]?\d/, `${path}: ${res.body.slice(0, 400)}`);
    }
    const billing = await server.get('/v1/billing', { headers: owner() });
    assert.match(billing.body, /"usage_percent":\{[^}]*"members":\d+(\.\d+)?[,}]/);
  });

  test('a document keeps 25.5 and 0.05 as written', async () => {
    const doc = expectSuccess(await server.post('/v1/collections/money/documents',
      { headers: jsonHeaders(owner()), body: raw('{"price":25.5,"rate":0.05,"whole":2.5E1}') }), 201);
    const got = await server.get(`/v1/collections/money/documents/${doc._id}`, { headers: owner() });
    assert.match(got.body, /"price":25\.5,"rate":0\.05,"whole":25[,}]/);
  });
});

describe('If-Match lists and the precedence of 404 over 403 (item 10)', () => {
  test('If-Match: "N", * never matches -> 412; * alone matches', async () => {
    const doc = expectSuccess(await server.post('/v1/collections/etags/documents', { headers: owner(), json: { v: 1 } }), 201);
    for (const header of ['"1", *', '*, "1"', '*, *', '"1", "1"']) {
      const res = await server.request('PATCH', `/v1/collections/etags/documents/${doc._id}`,
        { headers: { ...owner(), 'If-Match': header }, json: { v: 2 } });
      expectEnvelopeError(res, 412, 'PRECONDITION_FAILED');
    }
    const star = await server.request('PATCH', `/v1/collections/etags/documents/${doc._id}`,
      { headers: { ...owner(), 'If-Match': '*' }, json: { v: 3 } });
    assert.equal(expectSuccess(star, 200).v, 3);
  });

  test("a read-only key (or a viewer) writing another tenant's document id -> 404, its own -> 403", async () => {
    const other = await newUser(server, 'integrity-other');
    const foreign = expectSuccess(await server.post('/v1/collections/prec/documents',
      { headers: as(other, other.tid), json: { a: 1 } }), 201);
    const mine = expectSuccess(await server.post('/v1/collections/prec/documents', { headers: owner(), json: { a: 1 } }), 201);
    const key = await createKey(server, owner(), { name: 'read only', scopes: ['read'] });
    for (const headers of [{ 'X-API-Key': key.key }, as(team.vie, team.tid)]) {
      for (const [method, json] of [['PUT', { a: 2 }], ['PATCH', { a: 2 }], ['DELETE', undefined]]) {
        const theirs = await server.request(method, `/v1/collections/prec/documents/${foreign._id}`, { headers, json });
        expectEnvelopeError(theirs, 404, 'NOT_FOUND');
        const ours = await server.request(method, `/v1/collections/prec/documents/${mine._id}`, { headers, json });
        expectEnvelopeError(ours, 403, 'FORBIDDEN');
      }
    }
  });
});

describe('the seed\'s own examples (item 11)', () => {
  test('GET /v1/users?role=admin&active=true filters; active sorts and projects as is_active', async () => {
    const { data } = await list(server, '/v1/users?role=admin&active=true', owner());
    assert.deepEqual(data.map((u) => u.email), [team.adm.email]);
    const sorted = await list(server, '/v1/users?sort=-active,email&fields=email,active', owner());
    assert.ok(sorted.data.every((u) => Object.keys(u).sort().join() === 'email,is_active'), JSON.stringify(sorted.data));
    const keys = await list(server, '/v1/api-keys?active=true', owner());
    assert.ok(keys.data.every((k) => k.is_active === true));
    const none = await list(server, '/v1/api-keys?active=false', owner());
    assert.ok(none.data.every((k) => k.is_active === false));
  });

  test('validation errors echo details.value, but never a password, token or key', async () => {
    const email = await server.post('/v1/auth/register', { json: { email: 'invalid-email', password: 'correct horse battery' } });
    const error = expectValidation(email, 'email');
    assert.equal(error.details.value, 'invalid-email');
    const weak = await server.post('/v1/auth/register', { json: { email: 'weak@example.com', password: 'short' } });
    const weakError = expectValidation(weak, 'password');
    assert.equal(weakError.details.value, undefined, 'a password is never echoed');
    assert.doesNotMatch(weak.body, /short/);
    const reset = await server.post('/v1/auth/password-reset/confirm', { json: { token: 'tok', new_password: 'x' } });
    assert.doesNotMatch(reset.body, /"value"/);
    const nested = await server.post('/v1/collections', {
      headers: owner(), json: { name: 'echo', schema: { type: 'object', properties: { n: { type: 'number', minimum: 3 } } } },
    });
    expectSuccess(nested, 201);
    const below = await server.post('/v1/collections/echo/documents', { headers: owner(), json: [{ n: 5 }, { n: 1 }] });
    assert.equal(expectValidation(below, '1.n').details.value, 1);
  });
});
