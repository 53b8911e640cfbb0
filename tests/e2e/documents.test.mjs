// Documents of the REST database (API.md §5.2, §1.2, §13 "System fields in a body",
// "details.field", "Content types", "Precedence of errors", "Order", "Cursors"; docs/api.md
// §14 "Documents", "Schema subset", "Document lists"): create with system fields, numbers and
// NUL checks, batches (all or nothing), schema enforcement on every write, GET with ETag and
// If-None-Match, PUT replace, JSON Merge Patch, If-Match, DELETE, document_count, error
// precedence, limits, and lists (order, pages, cursors, sort and filters on system fields,
// projection).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RFC3339_MS_Z, expectEnvelopeError, startServer } from './harness.mjs';
import { UUID_V7, expectRecentTimestamp, expectUnauthorized } from './auth_helpers.mjs';
import {
  NO_THROTTLE_ENV, RANDOM_ID, as, describeRes, expectBadRequest, expectNotFound, expectSuccess,
  expectValidation, list, makeTeam,
} from './tenancy_helpers.mjs';

let server;
let t; // {owner, adm, mem, vie, tid}
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  t = await makeTeam(server, 'doc');
});
after(async () => { await server?.stop(); });

const SYSTEM = ['_id', '_created', '_changed', '_createdby', '_changedby', '_version', '_org'];
const H = (who = t.owner) => as(who, t.tid);
let n = 0;
const uname = (tag = 'd') => `${tag}-${process.pid}-${++n}`;
const docsPath = (c) => `/v1/collections/${c}/documents`;
const docPath = (c, id) => `/v1/collections/${c}/documents/${id}`;

const createCol = async (json, who = t.owner) =>
  expectSuccess(await server.post('/v1/collections', { headers: H(who), json }), 201);
const post = (c, json, who = t.owner, headers = {}) =>
  server.post(docsPath(c), { headers: { ...H(who), ...headers }, json });
const get = (c, id, who = t.owner, headers = {}) => server.get(docPath(c, id), { headers: { ...H(who), ...headers } });
const put = (c, id, json, who = t.owner, headers = {}) =>
  server.request('PUT', docPath(c, id), { headers: { ...H(who), ...headers }, json });
const patch = (c, id, json, who = t.owner, headers = {}) =>
  server.request('PATCH', docPath(c, id), { headers: { ...H(who), ...headers }, json });
const del = (c, id, who = t.owner, headers = {}) =>
  server.request('DELETE', docPath(c, id), { headers: { ...H(who), ...headers } });
const enc = (q) => q.replace(/\[/g, '%5B').replace(/\]/g, '%5D');
const listDocs = (c, q = '', who = t.owner) => list(server, `${docsPath(c)}${enc(q)}`, H(who));
const docCount = async (c) =>
  expectSuccess(await server.get(`/v1/collections/${c}`, { headers: H() }), 200).document_count;

/** Client fields of a document (everything but the system fields). */
const clientFields = (d) => Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('_')));

/** Asserts a stored document's system fields; returns the document. */
function expectDoc(d, { by, changedBy, version, org, fields } = {}) {
  assert.ok(d && typeof d === 'object' && !Array.isArray(d), `document: ${JSON.stringify(d)}`);
  assert.match(d._id, UUID_V7, `_id is a UUIDv7: ${JSON.stringify(d)}`);
  assert.match(d._created, RFC3339_MS_Z);
  assert.match(d._changed, RFC3339_MS_Z);
  assert.ok(d._changed >= d._created, `_changed ${d._changed} < _created ${d._created}`);
  if (by !== undefined) assert.equal(d._createdby, by);
  if (changedBy !== undefined || by !== undefined) assert.equal(d._changedby, changedBy ?? by);
  assert.ok(Number.isInteger(d._version) && d._version >= 1, `_version: ${d._version}`);
  if (version !== undefined) assert.equal(d._version, version);
  if (org !== undefined) assert.equal(d._org, org);
  else assert.ok(d._org === null || typeof d._org === 'string', `_org: ${d._org}`);
  for (const k of Object.keys(d)) {
    if (k.startsWith('_')) assert.ok(SYSTEM.includes(k), `only known system fields: ${k}`);
  }
  for (const k of SYSTEM) assert.ok(k in d, `system field ${k} present: ${JSON.stringify(d)}`);
  if (fields !== undefined) assert.deepEqual(clientFields(d), fields);
  return d;
}

/** 201/200 with ETag "<_version>"; returns the document. */
function expectDocRes(res, status, opts) {
  const d = expectDoc(expectSuccess(res, status), opts);
  assert.equal(res.headers.etag, `"${d._version}"`, `ETag: ${describeRes(res)}`);
  return d;
}

async function newDoc(c, json, who = t.owner) {
  return expectDocRes(await post(c, json, who), 201, { by: who.user.id, version: 1, org: json._org ?? null });
}

// ---------------------------------------------------------------------------------------

describe('POST one document', () => {
  let c;
  before(async () => { c = (await createCol({ name: uname('create') })).name; });

  test('201 with the client\'s fields and the system fields; ETag "1"; GET answers the same', async () => {
    const body = { title: 'Hello', n: 3, tags: ['a', 'b'], address: { city: 'Oslo', zip: '0150' }, ok: true, none: null };
    const res = await post(c, body);
    const d = expectDocRes(res, 201, { by: t.owner.user.id, version: 1, org: null, fields: body });
    expectRecentTimestamp(d._created, '_created');
    assert.equal(d._created, d._changed);
    // Stored order: _id, the client's fields in the order sent, then the other system fields.
    assert.deepEqual(Object.keys(d), ['_id', ...Object.keys(body), '_created', '_changed', '_createdby', '_changedby',
      '_version', '_org']);
    const got = await get(c, d._id);
    assert.deepEqual(expectDocRes(got, 200, { by: t.owner.user.id, version: 1 }), d);
    // A member and an admin create too; _createdby is the caller.
    expectDoc(await newDoc(c, { by: 'member' }, t.mem), { by: t.mem.user.id });
    expectDoc(await newDoc(c, { by: 'admin' }, t.adm), { by: t.adm.user.id });
  });

  test('ids are distinct UUIDv7 that grow with creation; an empty object is a document', async () => {
    const a = await newDoc(c, {});
    const b = await newDoc(c, {});
    assert.deepEqual(clientFields(a), {});
    assert.ok(b._id > a._id, `${b._id} > ${a._id}`);
  });

  test('system fields sent by the client are ignored; _org null is taken', async () => {
    const body = {
      _id: RANDOM_ID, _created: '2000-01-01T00:00:00.000Z', _changed: '2000-01-01T00:00:00.000Z',
      _createdby: RANDOM_ID, _changedby: RANDOM_ID, _version: 42, _org: null, title: 'sys',
    };
    const d = await newDoc(c, body);
    assert.notEqual(d._id, RANDOM_ID);
    assert.notEqual(d._created, '2000-01-01T00:00:00.000Z');
    assert.deepEqual(clientFields(d), { title: 'sys' });
    expectNotFound(await get(c, RANDOM_ID));
  });

  test('any other name starting with _ → 422 naming it (nested ones too are client data)', async () => {
    const before_ = await docCount(c);
    expectValidation(await post(c, { _foo: 1 }), '_foo');
    expectValidation(await post(c, { title: 'x', _secret: 'y' }), '_secret');
    expectValidation(await post(c, { _: 1 }), '_');
    expectValidation(await post(c, { _ID: 'x' }), '_ID');
    assert.equal(await docCount(c), before_);
  });

  test('an _org that is no organization of this tenant → 422 on _org', async () => {
    expectValidation(await post(c, { _org: RANDOM_ID }), '_org');
    expectValidation(await post(c, { _org: 'not-an-id' }), '_org');
    expectValidation(await post(c, { _org: 5 }), '_org');
    const org = expectSuccess(await server.post('/v1/organizations', { headers: H(), json: { name: uname('Org') } }), 201);
    const d = await newDoc(c, { _org: org.id, title: 'org doc' });
    assert.equal(d._org, org.id);
  });

  test('numbers round-trip as written (1.5 stays 1.5, 1.0 comes back as 1)', async () => {
    const raw = '{"a": 1.5, "b": 1.0, "c": -0.25, "d": 0.1, "e": 12345678901234, "f": 0, "g": -7, "h": 1e2, '
      + '"i": 2.50, "j": [1.0, 3.75], "k": {"l": 100.0}}';
    const res = await server.post(docsPath(c), {
      headers: { ...H(), 'Content-Type': 'application/json' }, body: raw,
    });
    const d = expectDocRes(res, 201, { version: 1 });
    assert.deepEqual(clientFields(d), { a: 1.5, b: 1, c: -0.25, d: 0.1, e: 12345678901234, f: 0, g: -7, h: 100, i: 2.5,
      j: [1, 3.75], k: { l: 100 } });
    assert.match(res.body, /"a":1\.5[,}]/);
    assert.match(res.body, /"b":1[,}]/);
    const got = await get(c, d._id);
    assert.match(got.body, /"a":1\.5[,}]/);
    assert.match(got.body, /"b":1[,}]/);
    assert.match(got.body, /"e":12345678901234[,}]/);
    assert.deepEqual(clientFields(got.json.data), clientFields(d));
  });

  test('strings and keys keep any Unicode; NUL in a string or key → 422 naming the path', async () => {
    const body = { 'ключ': 'значение', emoji: '😀 ok', esc: 'quote " backslash \\ tab \t', ctl: '\u0001' };
    const d = await newDoc(c, body);
    assert.deepEqual(clientFields(d), body);
    const before_ = await docCount(c);
    expectValidation(await post(c, { a: 'a\u0000b' }), 'a');
    expectValidation(await post(c, { x: { y: '\u0000' } }), 'x.y');
    expectValidation(await post(c, { arr: ['ok', 'b\u0000'] }), 'arr.1');
    expectValidation(await post(c, [{ ok: 1 }, { a: { b: [1, 'x\u0000'] } }]), '1.a.b.1');
    const keyNul = await post(c, { 'k\u0000': 1 });
    expectValidation(keyNul);
    assert.equal(await docCount(c), before_);
  });

  test('a body that is not an object or array → 422; malformed JSON → 400; no JSON content type → 415', async () => {
    const before_ = await docCount(c);
    for (const body of ['x', 5, null, true]) expectValidation(await post(c, body));
    for (const raw of ['{bad', '{"a":1', '[{"a":1},', '', '{"a":1} x']) {
      const res = await server.post(docsPath(c), { headers: { ...H(), 'Content-Type': 'application/json' }, body: raw });
      if (raw === '') {
        assert.ok([400, 422].includes(res.status), `empty body: ${describeRes(res)}`);
      } else {
        expectBadRequest(res);
      }
    }
    const noType = await server.post(docsPath(c), { headers: H(), body: new TextEncoder().encode('{"a":1}') });
    expectEnvelopeError(noType, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const textPlain = await server.post(docsPath(c), { headers: { ...H(), 'Content-Type': 'text/plain' }, body: '{"a":1}' });
    expectEnvelopeError(textPlain, 415, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal(await docCount(c), before_);
  });

  test('limits: a document over 1 MiB → 413; nesting past 64 levels → 400', async () => {
    const before_ = await docCount(c);
    const big = await post(c, { big: 'x'.repeat(1024 * 1024 + 10) });
    expectEnvelopeError(big, 413, 'PAYLOAD_TOO_LARGE');
    let deep = 1;
    for (let i = 0; i < 70; i++) deep = { a: deep };
    expectBadRequest(await post(c, deep));
    assert.equal(await docCount(c), before_);
    let ok = 1;
    for (let i = 0; i < 40; i++) ok = { a: ok };
    const d = await newDoc(c, { ok });
    assert.deepEqual(d.ok, ok);
  });

  test('no credentials → 401; an unknown collection as a member → 404', async () => {
    expectUnauthorized(await server.post(docsPath(c), { json: { a: 1 } }));
    expectNotFound(await post(uname('nocol'), { a: 1 }, t.mem));
  });
});

// ---------------------------------------------------------------------------------------

describe('POST a batch', () => {
  test('201 with the list in order; ids ascending; document_count follows', async () => {
    const c = (await createCol({ name: uname('batch') })).name;
    const items = Array.from({ length: 25 }, (_, i) => ({ i, label: `item ${i}` }));
    const res = await post(c, items);
    const data = expectSuccess(res, 201);
    assert.ok(Array.isArray(data), `data is a list: ${describeRes(res)}`);
    assert.equal(data.length, 25);
    data.forEach((d, i) => expectDoc(d, { by: t.owner.user.id, version: 1, org: null, fields: items[i] }));
    assert.deepEqual(data.map((d) => d._id), [...data.map((d) => d._id)].sort());
    assert.equal(new Set(data.map((d) => d._id)).size, 25);
    assert.equal(await docCount(c), 25);
    const { data: listed, meta } = await listDocs(c, '?per_page=100');
    assert.equal(meta.total, 25);
    assert.deepEqual(listed.map((d) => d._id), data.map((d) => d._id));
    const one = expectSuccess(await post(c, [{ solo: true }]), 201);
    assert.equal(one.length, 1);
    assert.equal(await docCount(c), 26);
  });

  test('1000 items are fine; 1001 → 413 and nothing written', async () => {
    const c = (await createCol({ name: uname('big') })).name;
    const res = await post(c, Array.from({ length: 1000 }, (_, i) => ({ i })));
    assert.equal(expectSuccess(res, 201).length, 1000);
    assert.equal(await docCount(c), 1000);
    const over = await post(c, Array.from({ length: 1001 }, (_, i) => ({ i })));
    expectEnvelopeError(over, 413, 'PAYLOAD_TOO_LARGE');
    assert.equal(await docCount(c), 1000);
  });

  test('an empty batch → 422; an item that is not an object → 422 on its position', async () => {
    const c = (await createCol({ name: uname('bad') })).name;
    expectValidation(await post(c, []));
    expectValidation(await post(c, [{ a: 1 }, 5]), '1');
    expectValidation(await post(c, [{ a: 1 }, { b: 2 }, [{ c: 3 }]]), '2');
    expectValidation(await post(c, [null]), '0');
    expectValidation(await post(c, [{ a: 1 }, { _bad: 1 }]), '1._bad');
    assert.equal(await docCount(c), 0);
    assert.equal((await listDocs(c)).meta.total, 0);
  });

  test('an item with an _org of no organization → 422 on <position>._org, nothing written', async () => {
    const c = (await createCol({ name: uname('badorg') })).name;
    const res = await post(c, [{ a: 1 }, { _org: RANDOM_ID }]);
    assert.equal(await docCount(c), 0);
    expectValidation(res, '1._org');
  });

  test('all or nothing: item 2 failing the schema → 422 on 2.<path>, nothing written', async () => {
    const schema = {
      type: 'object', required: ['title'],
      properties: { title: { type: 'string' }, address: { type: 'object', properties: { city: { type: 'string' } } } },
    };
    const c = (await createCol({ name: uname('atomic'), schema })).name;
    await newDoc(c, { title: 'existing' });
    const before_ = await listDocs(c, '?per_page=100');
    expectValidation(await post(c, [{ title: 'a' }, { title: 'b' }, { title: 3 }, { title: 'd' }]), '2.title');
    expectValidation(await post(c, [{ title: 'a' }, { title: 'b' }, { title: 'c', address: { city: 7 } }]),
      '2.address.city');
    expectValidation(await post(c, [{ title: 'a' }, { nope: 1 }]), /^1(\.title)?$/);
    assert.equal(await docCount(c), 1);
    const after_ = await listDocs(c, '?per_page=100');
    assert.deepEqual(after_.data, before_.data);
    assert.equal(after_.meta.total, 1);
  });
});

// ---------------------------------------------------------------------------------------

describe('schema enforcement', () => {
  let c;
  const schema = {
    type: 'object',
    required: ['title'],
    properties: {
      title: { type: 'string', minLength: 2, maxLength: 5 },
      n: { type: 'integer', minimum: 0, maximum: 10 },
      f: { type: 'number', minimum: -1.5, maximum: 1.5 },
      kind: { enum: ['a', 'b', null] },
      code: { type: 'string', pattern: '[0-9]{3}' },
      email: { type: 'string', format: 'email' },
      when: { type: 'string', format: 'date-time' },
      maybe: { type: ['string', 'null'] },
      items: { type: 'array', items: { type: 'string' } },
      address: {
        type: 'object', required: ['city'], additionalProperties: false,
        properties: { city: { type: 'string' }, zip: { type: 'string' } },
      },
      extras: { type: 'object', additionalProperties: { type: 'number' } },
    },
  };
  before(async () => { c = (await createCol({ name: uname('schema'), schema })).name; });

  test('a valid document passes; integer accepts 2.0; minLength counts code points', async () => {
    await newDoc(c, {
      title: 'ok', n: 10, f: -1.5, kind: null, code: 'ab123cd', email: 'ada@example.com',
      when: '2026-05-07T12:00:00.000Z', maybe: null, items: ['x', 'y'], address: { city: 'Oslo' }, extras: { a: 1, b: 2.5 },
      anything: { else: true },
    });
    const raw = await server.post(docsPath(c), {
      headers: { ...H(), 'Content-Type': 'application/json' }, body: '{"title": "two", "n": 2.0}',
    });
    expectDocRes(raw, 201, { version: 1 });
    await newDoc(c, { title: 'ééééé' }); // 5 code points, 10 bytes
    await newDoc(c, { title: '😀😀' }); // 2 code points
  });

  test('each broken rule → 422 with details.field the failing path; nothing written', async () => {
    const before_ = await docCount(c);
    const cases = [
      [{}, 'title'],
      [{ title: 5 }, 'title'],
      [{ title: 'x' }, 'title'],
      [{ title: 'toolong' }, 'title'],
      [{ title: 'éééééé' }, 'title'],
      [{ title: 'ok', n: 2.5 }, 'n'],
      [{ title: 'ok', n: -1 }, 'n'],
      [{ title: 'ok', n: 11 }, 'n'],
      [{ title: 'ok', n: '3' }, 'n'],
      [{ title: 'ok', f: 1.6 }, 'f'],
      [{ title: 'ok', kind: 'c' }, 'kind'],
      [{ title: 'ok', code: '12' }, 'code'],
      [{ title: 'ok', email: 'not-an-email' }, 'email'],
      [{ title: 'ok', when: 'yesterday' }, 'when'],
      [{ title: 'ok', maybe: 3 }, 'maybe'],
      [{ title: 'ok', items: ['a', 'b', 3] }, 'items.2'],
      [{ title: 'ok', items: 'a' }, 'items'],
      [{ title: 'ok', address: { zip: '1' } }, 'address.city'],
      [{ title: 'ok', address: { city: 7 } }, 'address.city'],
      [{ title: 'ok', address: { city: 'Oslo', street: 'x' } }, 'address.street'],
      [{ title: 'ok', address: 'Oslo' }, 'address'],
      [{ title: 'ok', extras: { a: 1, b: 'two' } }, 'extras.b'],
    ];
    for (const [body, field] of cases) {
      const res = await post(c, body);
      expectValidation(res, field);
    }
    assert.equal(await docCount(c), before_);
  });

  test('PUT and PATCH are checked too: 422, the document unchanged', async () => {
    const d = await newDoc(c, { title: 'base', address: { city: 'Oslo' }, items: ['a'] });
    expectValidation(await put(c, d._id, { title: 'x' }), 'title');
    expectValidation(await put(c, d._id, { n: 1 }), 'title');
    expectValidation(await put(c, d._id, { title: 'fine', address: { city: 1 } }), 'address.city');
    expectValidation(await patch(c, d._id, { title: null }), 'title');
    expectValidation(await patch(c, d._id, { address: { city: 5 } }), 'address.city');
    expectValidation(await patch(c, d._id, { address: { city: null } }), 'address.city');
    expectValidation(await patch(c, d._id, { items: ['a', 'b', 9] }), 'items.2');
    expectValidation(await patch(c, d._id, { address: { planet: 'Earth' } }), 'address.planet');
    const got = expectDocRes(await get(c, d._id), 200, { version: 1 });
    assert.deepEqual(got, d);
    // A valid patch still works, and a fetched document with its system fields passes as a PUT
    // (the schema sees the client's fields only).
    const p = expectDocRes(await patch(c, d._id, { address: { zip: '0150' } }), 200, { version: 2 });
    assert.deepEqual(p.address, { city: 'Oslo', zip: '0150' });
    expectDocRes(await put(c, d._id, p), 200, { version: 3 });
  });

  test('additionalProperties false at the top sees no system field', async () => {
    const strict = (await createCol({
      name: uname('strict'),
      schema: { type: 'object', additionalProperties: false, properties: { a: { type: 'number' } } },
    })).name;
    const d = await newDoc(strict, { a: 1, _id: RANDOM_ID, _version: 7 });
    expectValidation(await post(strict, { a: 1, b: 2 }), 'b');
    const again = expectDocRes(await put(strict, d._id, { ...d, a: 2 }), 200, { version: 2 });
    assert.equal(again.a, 2);
  });
});

// ---------------------------------------------------------------------------------------

describe('GET one document, ETag and If-None-Match', () => {
  let c;
  let d;
  before(async () => {
    c = (await createCol({ name: uname('etag') })).name;
    d = await newDoc(c, { title: 'etag' });
  });

  test('200 with ETag "<_version>"; a member and a viewer read it', async () => {
    for (const who of [t.owner, t.adm, t.mem, t.vie]) {
      assert.deepEqual(expectDocRes(await get(c, d._id, who), 200), d);
    }
  });

  test('If-None-Match with the current tag or * → 304 without a body; another tag → 200', async () => {
    for (const inm of ['"1"', '*', 'W/"1"', '"7", "1"']) {
      const res = await get(c, d._id, t.owner, { 'If-None-Match': inm });
      assert.equal(res.status, 304, `If-None-Match ${inm}: ${describeRes(res)}`);
      assert.equal(res.body, '');
      assert.equal(res.headers.etag, '"1"');
    }
    for (const inm of ['"2"', '"0"', '"1 "']) {
      const res = await get(c, d._id, t.owner, { 'If-None-Match': inm });
      assert.equal(res.status, 200, `If-None-Match ${inm}: ${describeRes(res)}`);
      assert.deepEqual(expectDocRes(res, 200), d, `If-None-Match ${inm}`);
    }
    // After a change the old tag no longer matches.
    const p = expectDocRes(await patch(c, d._id, { title: 'changed' }), 200, { version: 2 });
    const res = await get(c, d._id, t.owner, { 'If-None-Match': '"1"' });
    assert.deepEqual(expectDocRes(res, 200), p);
    const now = await get(c, d._id, t.owner, { 'If-None-Match': '"2"' });
    assert.equal(now.status, 304);
    d = p;
  });

  test('entity tags compare as strings (RFC 9110 §8.8.3.2): If-None-Match "01" or "+1" is not "<v>" → 200', async () => {
    const e = await newDoc(c, { title: 'strings' });
    for (const inm of ['"01"', '"+1"', 'W/"01"']) {
      const res = await get(c, e._id, t.owner, { 'If-None-Match': inm });
      assert.equal(res.status, 200, `If-None-Match ${inm}: ${describeRes(res)}`);
      assert.deepEqual(expectDocRes(res, 200), e);
    }
  });

  test('an unknown id, an id of another collection, a malformed id → 404; unknown collection → 404', async () => {
    expectNotFound(await get(c, RANDOM_ID));
    expectNotFound(await get(c, 'not-an-id'));
    const other = (await createCol({ name: uname('other') })).name;
    const o = await newDoc(other, { x: 1 });
    expectNotFound(await get(c, o._id));
    expectNotFound(await get(uname('nocol'), d._id));
    expectUnauthorized(await server.get(docPath(c, d._id)));
  });
});

// ---------------------------------------------------------------------------------------

describe('PUT replaces', () => {
  let c;
  before(async () => { c = (await createCol({ name: uname('put') })).name; });

  test('all client fields replaced, system fields kept, _version +1, _changed moves, _changedby is the writer', async () => {
    const d = await newDoc(c, { title: 'one', drop: true, nested: { a: 1, b: 2 } });
    await new Promise((r) => setTimeout(r, 5));
    const res = await put(c, d._id, { title: 'two', nested: { a: 3 } }, t.adm);
    const p = expectDocRes(res, 200, { by: t.owner.user.id, changedBy: t.adm.user.id, version: 2,
      fields: { title: 'two', nested: { a: 3 } } });
    assert.equal(p._id, d._id);
    assert.equal(p._created, d._created);
    assert.ok(p._changed > d._changed, `_changed moves: ${d._changed} → ${p._changed}`);
    assert.deepEqual(expectDocRes(await get(c, d._id), 200), p);
    // An empty object is a valid replacement.
    const e = expectDocRes(await put(c, d._id, {}, t.mem), 200, { version: 3, changedBy: t.mem.user.id, fields: {} });
    assert.equal(e._createdby, t.owner.user.id);
  });

  test('a fetched document can be sent back as is; system fields in the body are ignored', async () => {
    const d = await newDoc(c, { title: 'roundtrip', n: 1.5 });
    const fetched = (await get(c, d._id)).json.data;
    const back = expectDocRes(await put(c, d._id, fetched), 200, { version: 2, fields: { title: 'roundtrip', n: 1.5 } });
    assert.equal(back._created, d._created);
    const forged = expectDocRes(await put(c, d._id, {
      ...back, _id: RANDOM_ID, _version: 99, _created: '2000-01-01T00:00:00.000Z', _createdby: t.mem.user.id, title: 'f',
    }), 200, { version: 3, by: t.owner.user.id });
    assert.equal(forged._id, d._id);
    assert.equal(forged._created, d._created);
    assert.equal(forged.title, 'f');
    expectNotFound(await get(c, RANDOM_ID));
  });

  test('PUT keeps _org unless the body sends it; an unknown _org → 422', async () => {
    const org = expectSuccess(await server.post('/v1/organizations', { headers: H(), json: { name: uname('Org') } }), 201);
    const d = await newDoc(c, { title: 'o', _org: org.id });
    const kept = expectDocRes(await put(c, d._id, { title: 'o2' }), 200, { version: 2, org: org.id });
    assert.equal(kept.title, 'o2');
    expectValidation(await put(c, d._id, { _org: RANDOM_ID }), '_org');
    const cleared = expectDocRes(await put(c, d._id, { title: 'o3', _org: null }), 200, { version: 3, org: null });
    assert.equal(cleared.title, 'o3');
  });

  test('errors: _x → 422, NUL → 422, not an object → 422, nothing changed; unknown id → 404', async () => {
    const d = await newDoc(c, { title: 'keep' });
    expectValidation(await put(c, d._id, { _x: 1 }), '_x');
    expectValidation(await put(c, d._id, { a: { b: 'x\u0000' } }), 'a.b');
    expectValidation(await put(c, d._id, [{ title: 'array' }]));
    expectValidation(await put(c, d._id, 'str'));
    const mal = await server.request('PUT', docPath(c, d._id), {
      headers: { ...H(), 'Content-Type': 'application/json' }, body: '{"title":',
    });
    expectBadRequest(mal);
    const noType = await server.request('PUT', docPath(c, d._id), { headers: H(), body: new TextEncoder().encode('{}') });
    expectEnvelopeError(noType, 415, 'UNSUPPORTED_MEDIA_TYPE');
    assert.deepEqual(expectDocRes(await get(c, d._id), 200, { version: 1 }), d);
    expectNotFound(await put(c, RANDOM_ID, { title: 'x' }));
    expectNotFound(await put(uname('nocol'), d._id, { title: 'x' }));
  });

  test('precedence: a malformed body to a document or collection that does not exist → 404', async () => {
    for (const p of [docPath(c, RANDOM_ID), docPath(uname('nocol'), RANDOM_ID)]) {
      for (const method of ['PUT', 'PATCH']) {
        const res = await server.request(method, p, { headers: { ...H(), 'Content-Type': 'application/json' }, body: '{bad' });
        expectNotFound(res);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('PATCH is a JSON Merge Patch', () => {
  let c;
  before(async () => { c = (await createCol({ name: uname('patch') })).name; });

  test('nested objects merge, null removes, arrays and scalars replace, new fields are added', async () => {
    const d = await newDoc(c, {
      title: 'Goodbye!', author: { givenName: 'John', familyName: 'Doe' }, tags: ['example', 'sample'], content: 'x',
    });
    // The example of RFC 7396 §3.
    const res = await patch(c, d._id, { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null },
      tags: ['example'] });
    const p = expectDocRes(res, 200, { version: 2, by: t.owner.user.id });
    assert.deepEqual(clientFields(p), {
      title: 'Hello!', author: { givenName: 'John' }, tags: ['example'], content: 'x', phoneNumber: '+01-123-456-7890',
    });
    assert.equal(p._created, d._created);
    // A nested object into a field that was a scalar; null removes a whole subtree.
    const q = expectDocRes(await patch(c, d._id, { content: { a: { b: 1 } }, author: null }), 200, { version: 3 });
    assert.deepEqual(clientFields(q), { title: 'Hello!', tags: ['example'], content: { a: { b: 1 } }, phoneNumber: '+01-123-456-7890' });
    // Removing a missing field changes nothing but the version.
    const r = expectDocRes(await patch(c, d._id, { nothing: null }), 200, { version: 4 });
    assert.deepEqual(clientFields(r), clientFields(q));
    // An empty patch is a write too.
    const s = expectDocRes(await patch(c, d._id, {}, t.mem), 200, { version: 5, changedBy: t.mem.user.id });
    assert.deepEqual(clientFields(s), clientFields(q));
    assert.deepEqual(expectDocRes(await get(c, d._id), 200), s);
  });

  test('application/merge-patch+json is accepted; other content types → 415', async () => {
    const d = await newDoc(c, { a: { b: 1, c: 2 } });
    const res = await server.request('PATCH', docPath(c, d._id), {
      headers: { ...H(), 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ a: { c: null, d: 3 } }),
    });
    const p = expectDocRes(res, 200, { version: 2 });
    assert.deepEqual(clientFields(p), { a: { b: 1, d: 3 } });
    const bad = await server.request('PATCH', docPath(c, d._id), {
      headers: { ...H(), 'Content-Type': 'text/plain' }, body: JSON.stringify({ a: 1 }),
    });
    expectEnvelopeError(bad, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('a patch that is not an object → 422; _x → 422; system fields in a patch are ignored', async () => {
    const d = await newDoc(c, { keep: 1 });
    for (const body of [[1], 'x', 5, null]) expectValidation(await patch(c, d._id, body));
    expectValidation(await patch(c, d._id, { _x: 1 }), '_x');
    expectValidation(await patch(c, d._id, { a: 'x\u0000' }), 'a');
    assert.deepEqual(expectDocRes(await get(c, d._id), 200, { version: 1 }), d);
    const p = expectDocRes(await patch(c, d._id, { _version: 50, _id: RANDOM_ID, _createdby: null, _created: null, more: 2 }),
      200, { version: 2, by: t.owner.user.id });
    assert.equal(p._id, d._id);
    assert.equal(p._created, d._created);
    assert.deepEqual(clientFields(p), { keep: 1, more: 2 });
    expectNotFound(await patch(c, RANDOM_ID, { a: 1 }));
  });
});

// ---------------------------------------------------------------------------------------

describe('If-Match', () => {
  let c;
  before(async () => { c = (await createCol({ name: uname('ifmatch') })).name; });

  test('PUT and PATCH with a stale version → 412, nothing changes; with the current one → 200', async () => {
    const d = await newDoc(c, { v: 'one' });
    const p = expectDocRes(await patch(c, d._id, { v: 'two' }), 200, { version: 2 });
    for (const [fn, body] of [[put, { v: 'stale put' }], [patch, { v: 'stale patch' }]]) {
      const res = await fn(c, d._id, body, t.owner, { 'If-Match': '"1"' });
      expectEnvelopeError(res, 412, 'PRECONDITION_FAILED');
    }
    assert.deepEqual(expectDocRes(await get(c, d._id), 200, { version: 2 }), p);
    const q = expectDocRes(await put(c, d._id, { v: 'three' }, t.owner, { 'If-Match': '"2"' }), 200, { version: 3 });
    assert.equal(q.v, 'three');
    const r = expectDocRes(await patch(c, d._id, { w: 1 }, t.owner, { 'If-Match': 'W/"3"' }), 200, { version: 4 });
    assert.deepEqual(clientFields(r), { v: 'three', w: 1 });
    const s = expectDocRes(await patch(c, d._id, { x: 1 }, t.owner, { 'If-Match': '*' }), 200, { version: 5 });
    assert.equal(s.x, 1);
  });

  test('a list or an unparsable tag never matches (412)', async () => {
    const d = await newDoc(c, { v: 1 });
    for (const im of ['"1", "2"', 'garbage', '1', '""', '"1 "', '"v1"']) {
      const res = await patch(c, d._id, { v: 2 }, t.owner, { 'If-Match': im });
      assert.equal(res.status, 412, `If-Match ${im}: ${describeRes(res)}`);
      expectEnvelopeError(res, 412, 'PRECONDITION_FAILED');
    }
    assert.equal(expectDocRes(await get(c, d._id), 200).v, 1);
  });

  test('entity tags compare as strings (RFC 9110 §8.8.3.2): If-Match "01" or "+1" is not "1" → 412', async () => {
    const d = await newDoc(c, { v: 1 });
    for (const im of ['"01"', '"+1"', 'W/"01"']) {
      const res = await patch(c, d._id, { v: 2 }, t.owner, { 'If-Match': im });
      assert.equal(res.status, 412, `If-Match ${im}: ${describeRes(res)}`);
      expectEnvelopeError(res, 412, 'PRECONDITION_FAILED');
    }
    const res = await del(c, d._id, t.owner, { 'If-Match': '"01"' });
    assert.equal(res.status, 412, `DELETE If-Match "01": ${describeRes(res)}`);
  });

  test('DELETE with a stale version → 412 and the document stays; with the current one → 204', async () => {
    const d = await newDoc(c, { v: 1 });
    expectDocRes(await patch(c, d._id, { v: 2 }), 200, { version: 2 });
    expectEnvelopeError(await del(c, d._id, t.owner, { 'If-Match': '"1"' }), 412, 'PRECONDITION_FAILED');
    expectDocRes(await get(c, d._id), 200, { version: 2 });
    const res = await del(c, d._id, t.owner, { 'If-Match': '"2"' });
    assert.equal(res.status, 204, describeRes(res));
    expectNotFound(await get(c, d._id));
  });

  test('concurrent PATCHes with the same If-Match: exactly one wins', async () => {
    const d = await newDoc(c, { hits: 0 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      patch(c, d._id, { hits: i + 1 }, t.owner, { 'If-Match': '"1"' })));
    const ok = results.filter((r) => r.status === 200);
    const failed = results.filter((r) => r.status === 412);
    assert.equal(ok.length, 1, results.map((r) => r.status).join(','));
    assert.equal(failed.length, 7);
    const final = expectDocRes(await get(c, d._id), 200, { version: 2 });
    assert.equal(final.hits, ok[0].json.data.hits);
  });
});

// ---------------------------------------------------------------------------------------

describe('DELETE and document_count', () => {
  test('204 without a body; then 404 on every method; document_count follows creates and deletes', async () => {
    const c = (await createCol({ name: uname('del') })).name;
    assert.equal(await docCount(c), 0);
    const a = await newDoc(c, { a: 1 });
    const [b, cc] = expectSuccess(await post(c, [{ b: 1 }, { c: 1 }]), 201);
    assert.equal(await docCount(c), 3);
    const res = await del(c, a._id, t.mem);
    assert.equal(res.status, 204, describeRes(res));
    assert.equal(res.body, '');
    assert.equal(await docCount(c), 2);
    expectNotFound(await get(c, a._id));
    expectNotFound(await del(c, a._id));
    expectNotFound(await put(c, a._id, { a: 2 }));
    expectNotFound(await patch(c, a._id, { a: 2 }));
    assert.equal(await docCount(c), 2);
    const { data, meta } = await listDocs(c);
    assert.deepEqual(data.map((d) => d._id), [b._id, cc._id]);
    assert.equal(meta.total, 2);
    expectNotFound(await del(c, RANDOM_ID));
    expectNotFound(await del(uname('nocol'), b._id));
    expectUnauthorized(await server.request('DELETE', docPath(c, b._id)));
    assert.equal(await docCount(c), 2);
  });

  test('concurrent deletes of one document: one 204, the rest 404; count exact', async () => {
    const c = (await createCol({ name: uname('cdel') })).name;
    const docs = expectSuccess(await post(c, Array.from({ length: 10 }, (_, i) => ({ i }))), 201);
    const results = await Promise.all(Array.from({ length: 6 }, () => del(c, docs[0]._id)));
    assert.equal(results.filter((r) => r.status === 204).length, 1, results.map((r) => r.status).join(','));
    assert.equal(results.filter((r) => r.status === 404).length, 5);
    await Promise.all(docs.slice(1, 6).map((d) => del(c, d._id)));
    assert.equal(await docCount(c), 4);
    assert.equal((await listDocs(c)).meta.total, 4);
  });
});

// ---------------------------------------------------------------------------------------

describe('GET the list', () => {
  let c;
  let docs; // in creation order
  before(async () => {
    c = (await createCol({ name: uname('list') })).name;
    docs = [];
    // Owner, member and admin each create some, one after another (ids ascending).
    for (let i = 0; i < 12; i++) {
      const who = [t.owner, t.mem, t.adm][i % 3];
      docs.push(await newDoc(c, { i, title: `t${i}`, address: { city: `City ${i % 4}`, zip: `${1000 + i}` }, who: i % 3 }, who));
    }
    // Bump some versions: doc 3 to 3, doc 7 to 2.
    for (const [idx, times] of [[3, 2], [7, 1]]) {
      for (let k = 0; k < times; k++) docs[idx] = expectDocRes(await patch(c, docs[idx]._id, { bumped: k }), 200);
    }
  });
  const ids = (rows) => rows.map((d) => d._id);

  test('default order is _id ascending (creation order); defaults page 1, per_page 20', async () => {
    const { data, meta } = await listDocs(c);
    assert.deepEqual(ids(data), ids(docs));
    assert.deepEqual(meta, { page: 1, per_page: 20, total: 12, total_pages: 1 });
    data.forEach((d, i) => assert.deepEqual(d, docs[i]));
    // A viewer lists too.
    assert.deepEqual(ids((await listDocs(c, '', t.vie)).data), ids(docs));
  });

  test('page and per_page; a page past the end is empty', async () => {
    const p1 = await listDocs(c, '?per_page=5');
    const p2 = await listDocs(c, '?per_page=5&page=2');
    const p3 = await listDocs(c, '?per_page=5&page=3');
    assert.deepEqual([...ids(p1.data), ...ids(p2.data), ...ids(p3.data)], ids(docs));
    assert.deepEqual(p2.meta, { page: 2, per_page: 5, total: 12, total_pages: 3 });
    assert.equal(p3.data.length, 2);
    const past = await listDocs(c, '?per_page=5&page=4');
    assert.deepEqual(past.data, []);
    assert.equal(past.meta.total, 12);
  });

  test('count=false leaves out total and total_pages', async () => {
    const { data, meta } = await listDocs(c, '?per_page=4&count=false');
    assert.equal(data.length, 4);
    assert.equal(meta.total, undefined);
    assert.equal(meta.total_pages, undefined);
  });

  test('after= cursors walk every document once, in order; count=true adds total; a bad cursor → 400', async () => {
    const seen = [];
    let cursor = '';
    let pages = 0;
    for (;;) {
      const { data, meta } = await listDocs(c, `?per_page=5&after=${encodeURIComponent(cursor)}`);
      pages++;
      assert.equal(meta.page, undefined);
      assert.equal(meta.per_page, 5);
      assert.ok('next_cursor' in meta);
      seen.push(...ids(data));
      if (meta.next_cursor === null) break;
      cursor = meta.next_cursor;
      assert.ok(pages < 10);
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, ids(docs));
    const counted = await listDocs(c, '?per_page=5&after=&count=true');
    assert.equal(counted.meta.total, 12);
    // Descending by version through cursors too.
    const desc = [];
    cursor = '';
    for (;;) {
      const { data, meta } = await listDocs(c, `?per_page=4&sort=-_version&after=${encodeURIComponent(cursor)}`);
      desc.push(...ids(data));
      if (meta.next_cursor === null) break;
      cursor = meta.next_cursor;
    }
    const expected = [...docs].sort((a, b) => (b._version - a._version) || (a._id < b._id ? -1 : 1));
    assert.deepEqual(desc, ids(expected));
    expectBadRequest(await server.get(`${docsPath(c)}?after=garbage`, { headers: H() }), 'after');
    const first = await listDocs(c, '?per_page=2&after=');
    // A cursor is tied to its sort.
    expectBadRequest(await server.get(`${docsPath(c)}?per_page=2&sort=-_id&after=${encodeURIComponent(first.meta.next_cursor)}`,
      { headers: H() }));
    expectBadRequest(await server.get(`${docsPath(c)}?page=2&after=`, { headers: H() }));
  });

  test('sort on system fields; ties broken by _id ascending', async () => {
    assert.deepEqual(ids((await listDocs(c, '?sort=-_id')).data), ids(docs).reverse());
    const byVersion = (await listDocs(c, '?sort=-_version')).data;
    assert.deepEqual(ids(byVersion), ids([...docs].sort((a, b) => (b._version - a._version) || (a._id < b._id ? -1 : 1))));
    assert.equal(byVersion[0]._id, docs[3]._id);
    assert.equal(byVersion[1]._id, docs[7]._id);
    const byChanged = (await listDocs(c, '?sort=-_changed,_id')).data;
    assert.equal(byChanged[0]._id, docs[7]._id, 'the last changed first');
    assert.equal(byChanged[1]._id, docs[3]._id);
    const byCreator = (await listDocs(c, '?sort=_createdby')).data;
    const expected = [...docs].sort((a, b) => (a._createdby < b._createdby ? -1 : a._createdby > b._createdby ? 1 : 0)
      || (a._id < b._id ? -1 : 1));
    assert.deepEqual(ids(byCreator), ids(expected));
    assert.deepEqual(ids((await listDocs(c, '?sort=_created')).data), ids(docs));
  });

  test('filters on system fields', async () => {
    const mine = await listDocs(c, `?_createdby=${t.mem.user.id}`);
    assert.deepEqual(ids(mine.data), ids(docs.filter((d) => d._createdby === t.mem.user.id)));
    assert.equal(mine.meta.total, 4);
    const bumped = await listDocs(c, '?_version[gt]=1');
    assert.deepEqual(ids(bumped.data), [docs[3]._id, docs[7]._id]);
    assert.equal(bumped.meta.total, 2);
    assert.deepEqual(ids((await listDocs(c, '?_version=3')).data), [docs[3]._id]);
    assert.deepEqual(ids((await listDocs(c, `?_id=${docs[5]._id}`)).data), [docs[5]._id]);
    assert.deepEqual(ids((await listDocs(c, `?_id[in]=${docs[1]._id},${docs[9]._id}`)).data), [docs[1]._id, docs[9]._id]);
    assert.deepEqual(ids((await listDocs(c, `?_id[gt]=${docs[9]._id}`)).data), ids(docs.slice(10)));
    assert.deepEqual(ids((await listDocs(c, `?_changedby=${t.adm.user.id}&_version=1`)).data),
      ids(docs.filter((d) => d._changedby === t.adm.user.id && d._version === 1)));
    assert.equal((await listDocs(c, '?_org=null')).meta.total, 12);
    assert.equal((await listDocs(c, `?_createdby=${RANDOM_ID}`)).meta.total, 0);
    assert.equal((await listDocs(c, `?_created[gte]=${encodeURIComponent(docs[0]._created)}`)).meta.total, 12);
  });

  test('a filter and a sort on client fields select and order (query_differential covers the semantics); bad values and paths, per_page over 100 → 400', async () => {
    const bad = (q) => server.get(`${docsPath(c)}${enc(q)}`, { headers: H() });
    const byTitle = await listDocs(c, `?title=${encodeURIComponent(docs[1].title)}`);
    assert.deepEqual(byTitle.data.map((d) => d._id), docs.filter((d) => d.title === docs[1].title).map((d) => d._id));
    expectBadRequest(await bad('?i[gtx]=3'), 'i[gtx]');
    const byI = await listDocs(c, '?sort=-i&per_page=3');
    assert.deepEqual(byI.data.map((d) => d.i), [11, 10, 9]);
    const byCity = await listDocs(c, '?sort=address.city&per_page=100');
    assert.deepEqual(byCity.data.map((d) => d._id), docs.slice().sort((x, y) => (x.address.city < y.address.city ? -1 : 1)).map((d) => d._id));
    expectBadRequest(await bad('?sort=title..x'), 'sort');
    expectBadRequest(await bad('?per_page=101'), 'per_page');
    expectBadRequest(await bad('?per_page=0'), 'per_page');
    expectBadRequest(await bad('?page=0'), 'page');
    expectBadRequest(await bad('?_version=abc'));
    expectBadRequest(await bad('?_version[bogus]=1'));
    expectBadRequest(await bad('?per_page=2&per_page=3'));
  });

  test('fields= projects (dotted paths nest) and always keeps _id; an invalid path → 400', async () => {
    const { data } = await listDocs(c, '?fields=title,address.city');
    assert.equal(data.length, 12);
    data.forEach((d, i) => assert.deepEqual(d, { _id: docs[i]._id, title: docs[i].title, address: { city: docs[i].address.city } }));
    assert.deepEqual(Object.keys(data[0]), ['_id', 'title', 'address']);
    const sys = (await listDocs(c, '?fields=_version,who&sort=-_version&per_page=1')).data;
    assert.deepEqual(sys, [{ _id: docs[3]._id, _version: 3, who: docs[3].who }]);
    const missing = (await listDocs(c, '?fields=nothing.here&per_page=2')).data;
    assert.deepEqual(missing, [{ _id: docs[0]._id }, { _id: docs[1]._id }]);
    const idOnly = (await listDocs(c, '?fields=_id&per_page=1')).data;
    assert.deepEqual(idOnly, [{ _id: docs[0]._id }]);
    for (const f of ['a..b', '1x', 'a-b', 'a.', '.a', 'a b', 'title,(select 1)', 'a.b.c.d.e.f.g.h.i']) {
      const res = await server.get(`${docsPath(c)}?fields=${encodeURIComponent(f)}`, { headers: H() });
      expectBadRequest(res, 'fields');
    }
  });

  test('no credentials → 401; an unknown collection → 404', async () => {
    expectUnauthorized(await server.get(docsPath(c)));
    expectNotFound(await server.get(docsPath(uname('nocol')), { headers: H() }));
  });
});

// Filtered totals are counted once and then served from a per-node cache while the collection
// has no new write (storage/count_cache.h): every kind of write must show in the next total.
describe('filtered totals follow every write', () => {
  test('create, batch, PATCH, PUT, DELETE and bulk delete each change the next total', async () => {
    const c = (await createCol({ name: uname('totals') })).name;
    const total = async (q) => (await listDocs(c, q)).meta.total;
    const red = '?colour=red';
    const made = [];
    for (let i = 0; i < 3; i++) made.push(expectDocRes(await post(c, { colour: 'red', i }), 201));
    assert.equal(await total(red), 3);
    assert.equal(await total(red), 3); // from the cache, still exact
    assert.equal(await total('?colour=blue'), 0);
    expectSuccess(await post(c, [{ colour: 'red' }, { colour: 'blue' }]), 201);
    assert.equal(await total(red), 4);
    assert.equal(await total('?colour=blue'), 1);
    expectDocRes(await patch(c, made[0]._id, { colour: 'blue' }), 200);
    assert.equal(await total(red), 3);
    expectDocRes(await put(c, made[0]._id, { colour: 'red', back: true }), 200);
    assert.equal(await total(red), 4);
    assert.equal(await total('?colour=blue'), 1);
    assert.equal((await del(c, made[1]._id)).status, 204);
    assert.equal(await total(red), 3);
    const bulk = await server.post(`${docsPath(c)}:delete`, { headers: H(), json: { q: { colour: 'red' } } });
    assert.equal(expectSuccess(bulk, 200).deleted, 3);
    assert.equal(await total(red), 0);
    assert.equal(await total('?colour=blue'), 1);
    // Another tenant's identical filter on a collection of the same name counts its own rows.
    const other = await makeTeam(server, 'doc-totals');
    const oh = as(other.owner, other.tid);
    expectSuccess(await server.post('/v1/collections', { headers: oh, json: { name: c } }), 201);
    expectSuccess(await server.post(docsPath(c), { headers: oh, json: { colour: 'blue' } }), 201);
    assert.equal((await list(server, `${docsPath(c)}?colour=blue`, oh)).meta.total, 1);
    assert.equal((await list(server, `${docsPath(c)}?colour=red`, oh)).meta.total, 0);
  });
});
