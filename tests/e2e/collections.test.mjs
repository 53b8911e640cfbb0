// Collections of the REST database (API.md §5.1, §13 "Who columns"; docs/api.md §14
// "Collections", "Schema subset", "Audit log") and GET /v1/meta: creating with name, schema,
// indexes and rules (and every way to get them wrong), reading, listing with the list
// mechanism, PUT/PATCH replacing the fields sent, deleting with the documents, auto-creation
// by a write, roles and key scopes, the audit events, and the fields /v1/meta reports.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RFC3339_MS_Z, startServer } from './harness.mjs';
import { expectRecentTimestamp, expectUnauthorized } from './auth_helpers.mjs';
import {
  NO_THROTTLE_ENV, as, createKey, describeRes, expectBadRequest, expectConflict, expectForbidden, expectNotFound,
  expectSuccess, expectValidation, list, makeTeam, newUser,
} from './tenancy_helpers.mjs';

let server;
let t; // {owner, adm, mem, vie, tid}
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  t = await makeTeam(server, 'col');
});
after(async () => { await server?.stop(); });

const COLLECTION_MEMBERS = ['created_at', 'document_count', 'indexes', 'name', 'rules', 'schema', 'updated_at'];
const DEFAULT_RULES = Object.freeze({ list: 'member', read: 'member', create: 'member', update: 'member', delete: 'member' });
const OPS = ['list', 'read', 'create', 'update', 'delete'];
const RULE_VALUES = ['public', 'member', 'owner', 'org', 'admin'];

const H = (who) => as(who, t.tid);
let n = 0;
/** A fresh valid collection name. */
const uname = (tag = 'c') => `${tag}-${process.pid}-${++n}`;

const createCol = (who, json) => server.post('/v1/collections', { headers: H(who), json });
const getCol = (who, name) => server.get(`/v1/collections/${name}`, { headers: H(who) });
const updateCol = (who, name, json, method = 'PUT') =>
  server.request(method, `/v1/collections/${name}`, { headers: H(who), json });
const deleteCol = (who, name) => server.request('DELETE', `/v1/collections/${name}`, { headers: H(who) });
const postDocs = (who, name, json) => server.post(`/v1/collections/${name}/documents`, { headers: H(who), json });

/** Asserts the collection object; returns it. */
function expectCollection(c, { name, schema, indexes, rules, count } = {}) {
  assert.ok(c && typeof c === 'object', `collection: ${JSON.stringify(c)}`);
  assert.deepEqual(Object.keys(c).sort(), COLLECTION_MEMBERS, `collection members: ${JSON.stringify(c)}`);
  if (name !== undefined) assert.equal(c.name, name);
  if (schema !== undefined) assert.deepEqual(c.schema, schema);
  if (indexes !== undefined) assert.deepEqual(c.indexes, indexes);
  assert.ok(Array.isArray(c.indexes), `indexes: ${JSON.stringify(c.indexes)}`);
  assert.deepEqual(Object.keys(c.rules).sort(), [...OPS].sort(), `rules always show all five: ${JSON.stringify(c.rules)}`);
  if (rules !== undefined) assert.deepEqual(c.rules, { ...DEFAULT_RULES, ...rules });
  if (count !== undefined) assert.equal(c.document_count, count);
  assert.equal(typeof c.document_count, 'number');
  assert.match(c.created_at, RFC3339_MS_Z);
  assert.match(c.updated_at, RFC3339_MS_Z);
  assert.ok(c.updated_at >= c.created_at, `updated_at ${c.updated_at} < created_at ${c.created_at}`);
  return c;
}

async function newCol(who = t.owner, json = {}) {
  const name = json.name ?? uname();
  return expectCollection(expectSuccess(await createCol(who, { name, ...json }), 201), { name });
}

// ---------------------------------------------------------------------------------------

describe('POST /v1/collections', () => {
  test('201 with {name, schema, indexes, rules, document_count, created_at, updated_at}; defaults', async () => {
    const name = uname('posts');
    const c = expectSuccess(await createCol(t.owner, { name }), 201);
    expectCollection(c, { name, schema: null, indexes: [], rules: DEFAULT_RULES, count: 0 });
    assert.deepEqual(c.rules, DEFAULT_RULES);
    expectRecentTimestamp(c.created_at, 'created_at');
    assert.equal(c.created_at, c.updated_at);
    // GET answers the same object.
    assert.deepEqual(expectSuccess(await getCol(t.owner, name), 200), c);
  });

  test('all fields are stored and echoed; an admin creates too', async () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string', minLength: 1 }, n: { type: 'integer' } },
      required: ['title'],
    };
    const indexes = [{ fields: ['tag', '-n'], unique: true }, { fields: ['address.city'], unique: false }];
    const rules = { read: 'owner', delete: 'admin' };
    const name = uname('full');
    const c = expectSuccess(await createCol(t.adm, { name, schema, indexes, rules }), 201);
    expectCollection(c, { name, schema, rules, count: 0 });
    assert.deepEqual(c.rules, { list: 'member', read: 'owner', create: 'member', update: 'member', delete: 'admin' });
    assert.equal(c.indexes.length, 2);
    assert.deepEqual(c.indexes[0].fields, ['tag', '-n']);
    assert.equal(c.indexes[0].unique, true);
    assert.deepEqual(c.indexes[1].fields, ['address.city']);
    assert.notEqual(c.indexes[1].unique, true);
    const got = expectSuccess(await getCol(t.mem, name), 200);
    assert.deepEqual(got, c);
  });

  test('null schema, indexes and rules mean "not given"', async () => {
    const name = uname('nulls');
    const c = expectSuccess(await createCol(t.owner, { name, schema: null, indexes: null, rules: null }), 201);
    expectCollection(c, { name, schema: null, indexes: [], rules: DEFAULT_RULES });
  });

  test('every rule value is accepted for every operation', async () => {
    for (const v of RULE_VALUES) {
      const rules = Object.fromEntries(OPS.map((op) => [op, v]));
      const c = await newCol(t.owner, { rules });
      assert.deepEqual(c.rules, rules);
    }
  });

  test('name must match [a-z][a-z0-9_-]{0,62}: 422 on name, nothing created', async () => {
    const good = ['a', `a${'b'.repeat(62)}`, 'a_b-c9', 'z0'];
    for (const name of good) {
      const c = expectSuccess(await createCol(t.owner, { name: `${name}` }), 201);
      assert.equal(c.name, name);
      assert.equal((await deleteCol(t.owner, name)).status, 204);
    }
    const bad = ['Posts', '1posts', '_posts', '-posts', '', `a${'b'.repeat(63)}`, 'my posts', 'a.b', 'a/b', 'ÿx',
      'posts!', 7, null, true, ['posts'], { name: 'x' }];
    for (const name of bad) {
      const res = await createCol(t.owner, { name });
      expectValidation(res, 'name');
    }
    expectValidation(await createCol(t.owner, {}), 'name');
    expectValidation(await createCol(t.owner, { schema: null }), 'name');
    const { data } = await list(server, '/v1/collections?per_page=100', H(t.owner));
    for (const c of data) assert.match(c.name, /^[a-z][a-z0-9_-]{0,62}$/, `stored name ${c.name}`);
    assert.ok(!data.some((c) => c.name === 'Posts' || c.name === '1posts' || c.name === 'posts!'));
  });

  test('a duplicate name → 409, the first collection unchanged', async () => {
    const first = await newCol(t.owner, { rules: { read: 'admin' } });
    expectConflict(await createCol(t.owner, { name: first.name }));
    expectConflict(await createCol(t.adm, { name: first.name, rules: { read: 'public' } }));
    assert.deepEqual(expectSuccess(await getCol(t.owner, first.name), 200), first);
  });

  test('an unknown body field → 422 naming it; a body that is not an object → 422', async () => {
    const name = uname('unk');
    expectValidation(await createCol(t.owner, { name, foo: 1 }), 'foo');
    expectValidation(await createCol(t.owner, { name, document_count: 5 }), 'document_count');
    for (const body of [[{ name }], name, 5, null]) {
      const res = await createCol(t.owner, body);
      expectValidation(res);
    }
    expectNotFound(await getCol(t.owner, name));
  });

  test('malformed JSON → 400; no Content-Type → 415', async () => {
    const res = await server.post('/v1/collections', {
      headers: { ...H(t.owner), 'Content-Type': 'application/json' }, body: '{"name": "x",',
    });
    expectBadRequest(res);
    const raw = await server.post('/v1/collections', {
      headers: H(t.owner), body: new TextEncoder().encode(JSON.stringify({ name: uname('ct') })),
    });
    assert.equal(raw.status, 415, describeRes(raw));
    assert.equal(raw.json?.error?.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('rules: a bad key or value → 422 on rules.<key>; not an object → 422 on rules', async () => {
    const name = uname('rules');
    expectValidation(await createCol(t.owner, { name, rules: { foo: 'member' } }), 'rules.foo');
    expectValidation(await createCol(t.owner, { name, rules: { read: 'member', write: 'member' } }), 'rules.write');
    for (const v of ['nobody', 'Member', 'ADMIN', '', 1, null, true, ['member'], { r: 1 }]) {
      expectValidation(await createCol(t.owner, { name, rules: { read: v } }), 'rules.read');
    }
    expectValidation(await createCol(t.owner, { name, rules: { list: 'member', delete: 'everyone' } }), 'rules.delete');
    for (const rules of ['member', ['member'], 5]) {
      expectValidation(await createCol(t.owner, { name, rules }), 'rules');
    }
    expectNotFound(await getCol(t.owner, name));
  });

  test('indexes: bad paths → 422 on indexes.I.fields.N; unknown key → indexes.I.<key>', async () => {
    const name = uname('idx');
    expectValidation(await createCol(t.owner, { name, indexes: [{ fields: ['a..b'] }] }), 'indexes.0.fields.0');
    expectValidation(await createCol(t.owner, { name, indexes: [{ fields: ['ok', '1x'] }] }), 'indexes.0.fields.1');
    expectValidation(await createCol(t.owner, { name, indexes: [{ fields: ['a-b'] }] }), 'indexes.0.fields.0');
    expectValidation(await createCol(t.owner, { name, indexes: [{ fields: ['a', 'b', ''] }] }), 'indexes.0.fields.2');
    expectValidation(await createCol(t.owner, { name, indexes: [{ fields: ['a'] }, { fields: ['b.'] }] }),
      'indexes.1.fields.0');
    expectValidation(await createCol(t.owner, { name, indexes: [{ fields: ['a'], foo: 1 }] }), 'indexes.0.foo');
    expectValidation(await createCol(t.owner, { name, indexes: [{ fields: ['a'] }, { fields: ['b'], sparse: true }] }),
      'indexes.1.sparse');
    expectValidation(await createCol(t.owner, { name, indexes: 'tag' }), 'indexes');
    expectValidation(await createCol(t.owner, { name, indexes: [{ fields: [] }] }), /^indexes\.0\.fields/);
    expectValidation(await createCol(t.owner, { name, indexes: [{ unique: true }] }), /^indexes\.0/);
    expectNotFound(await getCol(t.owner, name));
    // Dotted paths, '-' for descending and underscores are fine.
    const c = await newCol(t.owner, { indexes: [{ fields: ['address.city', '-created_on', '_x1'] }] });
    assert.deepEqual(c.indexes[0].fields, ['address.city', '-created_on', '_x1']);
  });

  test('schema: the whole subset and its annotations are accepted and echoed as sent', async () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $comment: 'a comment',
      title: 'Things',
      description: 'All the keywords',
      type: 'object',
      properties: {
        a: { type: ['string', 'null'], default: 'x', examples: ['y'], enum: ['x', 'y', null] },
        n: { type: 'integer', minimum: 0, maximum: 10 },
        f: { type: 'number', minimum: -1.5, maximum: 1.5 },
        e: { type: 'string', format: 'email' },
        d: { type: 'string', format: 'date-time' },
        s: { type: 'string', minLength: 2, maxLength: 3, pattern: '^[a-zé]+$' },
        l: { type: 'array', items: { type: 'string' } },
        o: { type: 'object', additionalProperties: false, properties: { k: { type: 'boolean' } } },
        m: { type: 'object', additionalProperties: { type: 'number' } },
      },
      required: ['a'],
      additionalProperties: true,
    };
    const c = await newCol(t.owner, { schema });
    assert.deepEqual(c.schema, schema);
    assert.deepEqual(expectSuccess(await getCol(t.owner, c.name), 200).schema, schema);
  });

  test('schema: an unknown keyword → 422 on schema.<path>; a bad pattern, type or format → 422', async () => {
    const name = uname('sch');
    const cases = [
      [{ foo: 1 }, 'schema.foo'],
      [{ type: 'object', properties: { a: { foo: 1 } } }, 'schema.properties.a.foo'],
      [{ type: 'object', properties: { a: { type: 'object', properties: { b: { oneOf: [] } } } } },
        'schema.properties.a.properties.b.oneOf'],
      [{ type: 'array', items: { bar: 1 } }, 'schema.items.bar'],
      [{ type: 'object', additionalProperties: { baz: 1 } }, 'schema.additionalProperties.baz'],
      [{ $ref: '#/x' }, 'schema.$ref'],
      [{ type: 'object', properties: { a: { type: 'string', pattern: '(' } } }, 'schema.properties.a.pattern'],
    ];
    for (const [schema, field] of cases) {
      expectValidation(await createCol(t.owner, { name, schema }), field);
    }
    // A backreference is not RE2.
    expectValidation(await createCol(t.owner, { name, schema: { type: 'string', pattern: '(a)\\1' } }), /^schema/);
    expectValidation(await createCol(t.owner, { name, schema: { type: 'strin' } }), /^schema/);
    expectValidation(await createCol(t.owner, { name, schema: { type: 'string', format: 'uri' } }), /^schema/);
    expectValidation(await createCol(t.owner, { name, schema: 5 }), 'schema');
    expectValidation(await createCol(t.owner, { name, schema: 'object' }), 'schema');
    expectNotFound(await getCol(t.owner, name));
  });

  test('a member or a viewer → 403 and nothing is created; no credentials → 401', async () => {
    const name = uname('deny');
    expectForbidden(await createCol(t.mem, { name }));
    expectForbidden(await createCol(t.vie, { name }));
    expectUnauthorized(await server.post('/v1/collections', { json: { name } }));
    expectNotFound(await getCol(t.owner, name));
  });
});

// ---------------------------------------------------------------------------------------

describe('GET /v1/collections/{name}', () => {
  test('every member reads it (a viewer too); an unknown name → 404; no credentials → 401', async () => {
    const c = await newCol(t.owner, { rules: { list: 'admin' } });
    for (const who of [t.owner, t.adm, t.mem, t.vie]) {
      assert.deepEqual(expectSuccess(await getCol(who, c.name), 200), c);
    }
    expectNotFound(await getCol(t.owner, uname('missing')));
    expectNotFound(await getCol(t.owner, 'Not-A-Name'));
    expectUnauthorized(await server.get(`/v1/collections/${c.name}`));
  });

  test('a user of another tenant → 404', async () => {
    const c = await newCol(t.owner);
    const outsider = await newUser(server, 'col-out');
    expectNotFound(await server.get(`/v1/collections/${c.name}`, { headers: outsider.auth }));
    expectNotFound(await server.get(`/v1/collections/${c.name}`, { headers: as(outsider, t.tid) }));
  });
});

// ---------------------------------------------------------------------------------------

describe('GET /v1/collections', () => {
  let team;
  let made; // [{name, document_count}] in creation order
  before(async () => {
    team = await makeTeam(server, 'coll');
    made = [];
    const hdr = as(team.owner, team.tid);
    for (const [name, docs] of [['delta', 3], ['alpha', 0], ['charlie', 5], ['bravo', 1], ['echo', 2]]) {
      expectSuccess(await server.post('/v1/collections', { headers: hdr, json: { name } }), 201);
      if (docs > 0) {
        const res = await server.post(`/v1/collections/${name}/documents`, {
          headers: hdr, json: Array.from({ length: docs }, (_, i) => ({ i })),
        });
        expectSuccess(res, 201);
      }
      made.push({ name, document_count: docs });
    }
  });
  const L = (q, who) => list(server, `/v1/collections${q.replace(/\[/g, '%5B').replace(/\]/g, '%5D')}`,
    as(who ?? team.owner, team.tid));

  test('every member (a viewer too) lists the tenant\'s collections with their document_count', async () => {
    for (const who of [team.owner, team.adm, team.mem, team.vie]) {
      const { data, meta } = await L('?per_page=100', who);
      for (const c of data) expectCollection(c);
      assert.equal(meta.total, 5);
      assert.equal(meta.page, 1);
      assert.equal(meta.per_page, 100);
      assert.equal(meta.total_pages, 1);
      const counts = Object.fromEntries(data.map((c) => [c.name, c.document_count]));
      assert.deepEqual(counts, Object.fromEntries(made.map((m) => [m.name, m.document_count])));
    }
  });

  test('sort on name, document_count, created_at; pages', async () => {
    const byName = [...made].map((m) => m.name).sort();
    assert.deepEqual((await L('?sort=name')).data.map((c) => c.name), byName);
    assert.deepEqual((await L('?sort=-name')).data.map((c) => c.name), [...byName].reverse());
    assert.deepEqual((await L('?sort=-document_count')).data.map((c) => c.name),
      ['charlie', 'delta', 'echo', 'bravo', 'alpha']);
    assert.deepEqual((await L('?sort=document_count')).data.map((c) => c.name),
      ['alpha', 'bravo', 'echo', 'delta', 'charlie']);
    assert.deepEqual((await L('?sort=created_at')).data.map((c) => c.name), made.map((m) => m.name));
    const p2 = await L('?sort=name&per_page=2&page=2');
    assert.deepEqual(p2.data.map((c) => c.name), ['charlie', 'delta']);
    assert.deepEqual(p2.meta, { page: 2, per_page: 2, total: 5, total_pages: 3 });
    const past = await L('?per_page=2&page=9');
    assert.deepEqual(past.data, []);
    assert.equal(past.meta.total, 5);
  });

  test('filters on name and document_count; cursor mode walks every collection once', async () => {
    assert.deepEqual((await L('?name=charlie')).data.map((c) => c.name), ['charlie']);
    assert.deepEqual((await L('?name[in]=alpha,echo&sort=name')).data.map((c) => c.name), ['alpha', 'echo']);
    assert.deepEqual((await L('?document_count[gte]=2&sort=name')).data.map((c) => c.name),
      ['charlie', 'delta', 'echo']);
    const { data, meta } = await L('?document_count=0');
    assert.deepEqual(data.map((c) => c.name), ['alpha']);
    assert.equal(meta.total, 1);
    const seen = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const page = await L(`?sort=name&per_page=2&after=${encodeURIComponent(cursor)}`);
      seen.push(...page.data.map((c) => c.name));
      assert.equal(page.meta.total, undefined, 'cursor mode has no total');
      cursor = page.meta.next_cursor;
      if (cursor === null) break;
    }
    assert.deepEqual(seen, [...made.map((m) => m.name)].sort());
  });

  test('an unknown filter or sort field → 400; per_page over 100 → 400', async () => {
    const hdr = as(team.owner, team.tid);
    expectBadRequest(await server.get('/v1/collections?schema=1', { headers: hdr }));
    expectBadRequest(await server.get('/v1/collections?sort=rules', { headers: hdr }));
    expectBadRequest(await server.get('/v1/collections?per_page=101', { headers: hdr }), 'per_page');
    expectBadRequest(await server.get('/v1/collections?document_count=many', { headers: hdr }));
  });

  test('sort and filter on updated_at and created_at follow an update', async () => {
    const echo = (await L('?name=echo')).data[0];
    await new Promise((r) => setTimeout(r, 5));
    const bravo = expectSuccess(await server.request('PATCH', '/v1/collections/bravo',
      { headers: as(team.owner, team.tid), json: { rules: { read: 'member' } } }), 200);
    assert.ok(bravo.updated_at > echo.updated_at);
    assert.equal((await L('?sort=-updated_at')).data[0].name, 'bravo');
    assert.deepEqual((await L(`?updated_at[gt]=${encodeURIComponent(echo.updated_at)}`)).data.map((c) => c.name), ['bravo']);
    assert.deepEqual((await L(`?created_at[gt]=${encodeURIComponent(echo.created_at)}`)).data, []);
    assert.equal((await L('?sort=-created_at')).data[0].name, 'echo');
  });

  test('no credentials → 401', async () => {
    expectUnauthorized(await server.get('/v1/collections'));
  });
});

// ---------------------------------------------------------------------------------------

describe('PUT and PATCH /v1/collections/{name}', () => {
  test('each field sent replaces the current one; the others stay; updated_at moves', async () => {
    for (const method of ['PUT', 'PATCH']) {
      const schema = { type: 'object', properties: { title: { type: 'string' } } };
      const indexes = [{ fields: ['title'], unique: false }];
      const c = await newCol(t.owner, { schema, indexes, rules: { list: 'admin', read: 'admin' } });
      await new Promise((r) => setTimeout(r, 5));
      // rules only: replaced as a whole (missing operations back to member); schema and indexes stay.
      const r1 = expectSuccess(await updateCol(t.owner, c.name, { rules: { read: 'owner' } }, method), 200);
      expectCollection(r1, { name: c.name, schema, rules: { read: 'owner' } });
      assert.deepEqual(r1.rules, { ...DEFAULT_RULES, read: 'owner' });
      assert.deepEqual(r1.indexes, c.indexes);
      assert.equal(r1.created_at, c.created_at);
      assert.ok(r1.updated_at > c.updated_at, `updated_at moves: ${c.updated_at} → ${r1.updated_at}`);
      // schema only.
      const schema2 = { type: 'object', required: ['x'] };
      const r2 = expectSuccess(await updateCol(t.adm, c.name, { schema: schema2 }, method), 200);
      expectCollection(r2, { schema: schema2, rules: { read: 'owner' }, indexes: c.indexes });
      // indexes only.
      const r3 = expectSuccess(await updateCol(t.owner, c.name, { indexes: [{ fields: ['-x'], unique: true }] }, method), 200);
      expectCollection(r3, { schema: schema2, rules: { read: 'owner' } });
      assert.deepEqual(r3.indexes.map((i) => i.fields), [['-x']]);
      assert.equal(r3.indexes[0].unique, true);
      // schema: null clears the schema; an empty body changes nothing.
      const r4 = expectSuccess(await updateCol(t.owner, c.name, { schema: null }, method), 200);
      expectCollection(r4, { schema: null, rules: { read: 'owner' } });
      assert.deepEqual(r4.indexes, r3.indexes);
      const r5 = expectSuccess(await updateCol(t.owner, c.name, {}, method), 200);
      expectCollection(r5, { schema: null, rules: { read: 'owner' }, indexes: r3.indexes });
      // GET sees the last state.
      const got = expectSuccess(await getCol(t.mem, c.name), 200);
      assert.deepEqual({ ...got, updated_at: null }, { ...r5, updated_at: null });
    }
  });

  test('rules: null and indexes: null restore the defaults', async () => {
    const c = await newCol(t.owner, { indexes: [{ fields: ['a'] }], rules: { create: 'admin' } });
    const r = expectSuccess(await updateCol(t.owner, c.name, { rules: null, indexes: null }), 200);
    expectCollection(r, { rules: DEFAULT_RULES, indexes: [] });
  });

  test('name equal to the current is fine; a different name → 422 on name, nothing renamed', async () => {
    const c = await newCol(t.owner);
    const same = expectSuccess(await updateCol(t.owner, c.name, { name: c.name, rules: { read: 'admin' } }), 200);
    assert.equal(same.name, c.name);
    assert.equal(same.rules.read, 'admin');
    const other = uname('renamed');
    expectValidation(await updateCol(t.owner, c.name, { name: other, rules: { read: 'owner' } }), 'name');
    expectValidation(await updateCol(t.owner, c.name, { name: other }, 'PATCH'), 'name');
    expectNotFound(await getCol(t.owner, other));
    assert.equal(expectSuccess(await getCol(t.owner, c.name), 200).rules.read, 'admin', 'the failed update wrote nothing');
  });

  test('bad fields → 422 as on create, nothing changed; unknown field → 422', async () => {
    const c = await newCol(t.owner, { rules: { read: 'owner' } });
    expectValidation(await updateCol(t.owner, c.name, { rules: { bogus: 'member' } }), 'rules.bogus');
    expectValidation(await updateCol(t.owner, c.name, { rules: { read: 'nobody' } }, 'PATCH'), 'rules.read');
    expectValidation(await updateCol(t.owner, c.name, { indexes: [{ fields: ['a..b'] }] }), 'indexes.0.fields.0');
    expectValidation(await updateCol(t.owner, c.name, { schema: { properties: { a: { foo: 1 } } } }),
      'schema.properties.a.foo');
    expectValidation(await updateCol(t.owner, c.name, { foo: 1 }), 'foo');
    expectValidation(await updateCol(t.owner, c.name, { document_count: 3 }, 'PATCH'), 'document_count');
    const got = expectSuccess(await getCol(t.owner, c.name), 200);
    assert.deepEqual(got, c);
  });

  test('a member or a viewer → 403; an unknown collection → 404; no credentials → 401', async () => {
    const c = await newCol(t.owner);
    for (const method of ['PUT', 'PATCH']) {
      expectForbidden(await updateCol(t.mem, c.name, { rules: { read: 'public' } }, method));
      expectForbidden(await updateCol(t.vie, c.name, { rules: { read: 'public' } }, method));
      expectNotFound(await updateCol(t.owner, uname('nope'), { rules: { read: 'public' } }, method));
      expectUnauthorized(await server.request(method, `/v1/collections/${c.name}`, { json: {} }));
    }
    assert.deepEqual(expectSuccess(await getCol(t.owner, c.name), 200), c);
  });

  test('a new schema applies to later writes; stored documents are not re-checked', async () => {
    const c = await newCol(t.owner);
    const d = expectSuccess(await postDocs(t.owner, c.name, { title: 5 }), 201);
    expectSuccess(await updateCol(t.owner, c.name, { schema: { type: 'object', properties: { title: { type: 'string' } } } }), 200);
    expectValidation(await postDocs(t.owner, c.name, { title: 6 }), 'title');
    const still = expectSuccess(await server.get(`/v1/collections/${c.name}/documents/${d._id}`, { headers: H(t.owner) }), 200);
    assert.equal(still.title, 5);
    expectSuccess(await updateCol(t.owner, c.name, { schema: null }), 200);
    expectSuccess(await postDocs(t.owner, c.name, { title: 6 }), 201);
  });
});

// ---------------------------------------------------------------------------------------

describe('DELETE /v1/collections/{name}', () => {
  test('admin+ → 204; the documents go with it; then 404; a new one of the same name starts empty', async () => {
    for (const who of [t.owner, t.adm]) {
      const c = await newCol(t.owner);
      const docs = expectSuccess(await postDocs(t.owner, c.name, [{ a: 1 }, { a: 2 }, { a: 3 }]), 201);
      assert.equal(expectSuccess(await getCol(t.owner, c.name), 200).document_count, 3);
      const res = await deleteCol(who, c.name);
      assert.equal(res.status, 204, describeRes(res));
      assert.equal(res.body, '');
      expectNotFound(await getCol(t.owner, c.name));
      expectNotFound(await deleteCol(t.owner, c.name));
      expectNotFound(await server.get(`/v1/collections/${c.name}/documents`, { headers: H(t.owner) }));
      expectNotFound(await server.get(`/v1/collections/${c.name}/documents/${docs[0]._id}`, { headers: H(t.owner) }));
      const { data } = await list(server, '/v1/collections?per_page=100', H(t.owner));
      assert.ok(!data.some((x) => x.name === c.name), 'gone from the list');
      // Same name again: no document of the old one comes back.
      const again = await newCol(t.owner, { name: c.name });
      assert.equal(again.document_count, 0);
      const l = await list(server, `/v1/collections/${c.name}/documents`, H(t.owner));
      assert.deepEqual(l.data, []);
      assert.equal(l.meta.total, 0);
      expectNotFound(await server.get(`/v1/collections/${c.name}/documents/${docs[1]._id}`, { headers: H(t.owner) }));
    }
  });

  test('a member or a viewer → 403, nothing deleted; unknown → 404; no credentials → 401', async () => {
    const c = await newCol(t.owner);
    expectSuccess(await postDocs(t.owner, c.name, { a: 1 }), 201);
    expectForbidden(await deleteCol(t.mem, c.name));
    expectForbidden(await deleteCol(t.vie, c.name));
    expectUnauthorized(await server.request('DELETE', `/v1/collections/${c.name}`));
    expectNotFound(await deleteCol(t.owner, uname('nope')));
    assert.equal(expectSuccess(await getCol(t.owner, c.name), 200).document_count, 1);
  });

  test('the audit log shows collection.created and collection.deleted', async () => {
    const c = await newCol(t.adm);
    expectSuccess(await postDocs(t.owner, c.name, [{ a: 1 }, { a: 2 }]), 201);
    assert.equal((await deleteCol(t.owner, c.name)).status, 204);
    const { data } = await list(server, '/v1/audit-logs?per_page=100&sort=-ts', H(t.owner));
    const created = data.filter((e) => e.action === 'collection.created' && e.target === c.name);
    const deleted = data.filter((e) => e.action === 'collection.deleted' && e.target === c.name);
    assert.equal(created.length, 1, `collection.created for ${c.name}: ${JSON.stringify(data.slice(0, 5))}`);
    assert.equal(deleted.length, 1, `collection.deleted for ${c.name}`);
    assert.equal(created[0].actor, t.adm.user.id);
    assert.equal(deleted[0].actor, t.owner.user.id);
    assert.equal(created[0].tenant_id, t.tid);
    assert.equal(deleted[0].tenant_id, t.tid);
    assert.equal(deleted[0].details?.documents, 2, `deleted with its number of documents: ${JSON.stringify(deleted[0])}`);
    assert.ok(deleted[0].ts >= created[0].ts);
  });
});

// ---------------------------------------------------------------------------------------

describe('auto-creation by a write', () => {
  test('admin and owner writing to an unknown collection create it (201; then it is listed)', async () => {
    for (const who of [t.owner, t.adm]) {
      const name = uname('auto');
      const d = expectSuccess(await postDocs(who, name, { hello: 'world' }), 201);
      assert.equal(d.hello, 'world');
      const c = expectSuccess(await getCol(t.mem, name), 200);
      expectCollection(c, { name, schema: null, indexes: [], rules: DEFAULT_RULES, count: 1 });
      const { data } = await list(server, `/v1/collections?name=${name}`, H(t.owner));
      assert.equal(data.length, 1);
      assert.equal(data[0].document_count, 1);
    }
    const name = uname('autob');
    expectSuccess(await postDocs(t.owner, name, [{ a: 1 }, { a: 2 }]), 201);
    assert.equal(expectSuccess(await getCol(t.owner, name), 200).document_count, 2);
  });

  test('a member writing to an unknown collection → 404 and nothing is created; a viewer → 403 or 404', async () => {
    const name = uname('noauto');
    expectNotFound(await postDocs(t.mem, name, { a: 1 }));
    expectNotFound(await postDocs(t.mem, name, [{ a: 1 }]));
    const v = await postDocs(t.vie, name, { a: 1 });
    assert.ok(v.status === 403 || v.status === 404, describeRes(v));
    expectNotFound(await getCol(t.owner, name));
  });
});

// ---------------------------------------------------------------------------------------

describe('API keys on collections', () => {
  const xkey = (key) => ({ 'X-API-Key': key });

  test('a key with read lists and reads; creating, updating and deleting need admin', async () => {
    const c = await newCol(t.owner);
    const reader = await createKey(server, H(t.owner), { name: 'reader', scopes: ['read'] });
    const writer = await createKey(server, H(t.owner), { name: 'writer', scopes: ['read', 'write'] });
    const { data } = await list(server, '/v1/collections?per_page=100', xkey(reader.key));
    assert.ok(data.some((x) => x.name === c.name));
    assert.deepEqual(expectSuccess(await server.get(`/v1/collections/${c.name}`, { headers: xkey(reader.key) }), 200), c);
    for (const k of [reader, writer]) {
      expectForbidden(await server.post('/v1/collections', { headers: xkey(k.key), json: { name: uname('k') } }));
      expectForbidden(await server.request('PUT', `/v1/collections/${c.name}`, { headers: xkey(k.key), json: { rules: { read: 'admin' } } }));
      expectForbidden(await server.request('DELETE', `/v1/collections/${c.name}`, { headers: xkey(k.key) }));
    }
    assert.deepEqual(expectSuccess(await getCol(t.owner, c.name), 200), c);
  });

  test('a key with admin (of an owner) creates, updates and deletes collections', async () => {
    const k = await createKey(server, H(t.owner), { name: 'adminkey', scopes: ['read', 'write', 'admin'] });
    const name = uname('bykey');
    expectCollection(expectSuccess(await server.post('/v1/collections', { headers: xkey(k.key), json: { name } }), 201), { name });
    const up = expectSuccess(await server.request('PATCH', `/v1/collections/${name}`,
      { headers: xkey(k.key), json: { rules: { delete: 'admin' } } }), 200);
    assert.equal(up.rules.delete, 'admin');
    assert.equal((await server.request('DELETE', `/v1/collections/${name}`, { headers: xkey(k.key) })).status, 204);
    expectNotFound(await getCol(t.owner, name));
  });

  test('auto-creation through a key needs admin: a read/write key of the owner gets 404', async () => {
    const rw = await createKey(server, H(t.owner), { name: 'rw', scopes: ['read', 'write'] });
    const adm = await createKey(server, H(t.owner), { name: 'adm', scopes: ['read', 'write', 'admin'] });
    const name = uname('keyauto');
    expectNotFound(await server.post(`/v1/collections/${name}/documents`, { headers: xkey(rw.key), json: { a: 1 } }));
    expectNotFound(await getCol(t.owner, name));
    expectSuccess(await server.post(`/v1/collections/${name}/documents`, { headers: xkey(adm.key), json: { a: 1 } }), 201);
    assert.equal(expectSuccess(await getCol(t.owner, name), 200).document_count, 1);
  });
});

// ---------------------------------------------------------------------------------------

describe('GET /v1/meta', () => {
  let team;
  let hdr;
  before(async () => {
    team = await makeTeam(server, 'meta');
    hdr = as(team.owner, team.tid);
  });
  const meta = async (who) => {
    const data = expectSuccess(await server.get('/v1/meta', { headers: as(who ?? team.owner, team.tid) }), 200);
    assert.deepEqual(Object.keys(data), ['collections']);
    assert.ok(Array.isArray(data.collections));
    for (const c of data.collections) {
      assert.deepEqual(Object.keys(c).sort(), ['document_count', 'fields', 'name', 'schema']);
      for (const f of c.fields) {
        assert.deepEqual(Object.keys(f).sort(), ['path', 'types']);
        for (const ty of f.types) assert.ok(['object', 'array', 'string', 'number', 'boolean', 'null'].includes(ty), ty);
      }
    }
    return data.collections;
  };
  const entry = (cols, name) => {
    const c = cols.find((x) => x.name === name);
    assert.ok(c, `meta has ${name}: ${JSON.stringify(cols.map((x) => x.name))}`);
    return c;
  };
  const fieldMap = (c) => Object.fromEntries(c.fields.map((f) => [f.path, [...f.types].sort()]));

  test('an empty tenant has no collections; a new collection has no fields', async () => {
    assert.deepEqual(await meta(), []);
    const schema = { type: 'object', properties: { title: { type: 'string' } } };
    expectSuccess(await server.post('/v1/collections', { headers: hdr, json: { name: 'empty', schema } }), 201);
    const c = entry(await meta(), 'empty');
    assert.deepEqual(c, { name: 'empty', schema, document_count: 0, fields: [] });
  });

  test('fields seen in documents with their JSON types; two levels into objects; no system fields', async () => {
    const docs = [
      { a: 1, s: 'x', b: true, z: null, arr: [1, 'two'], o: { p: 'x', q: { r: { s: 1 } } } },
      { a: 'one', v: 2.5 },
      { a: null, o: { p: 5 }, _org: null },
      { a: false, arr: { not: 'an array' } },
    ];
    expectSuccess(await server.post('/v1/collections/things/documents', { headers: hdr, json: docs }), 201);
    const c = entry(await meta(), 'things');
    assert.equal(c.schema, null);
    assert.equal(c.document_count, 4);
    const got = fieldMap(c);
    assert.deepEqual(got, {
      a: ['boolean', 'null', 'number', 'string'],
      s: ['string'],
      b: ['boolean'],
      z: ['null'],
      arr: ['array', 'object'],
      'arr.not': ['string'],
      o: ['object'],
      'o.p': ['number', 'string'],
      'o.q': ['object'],
      'o.q.r': ['object'],
      v: ['number'],
    });
    for (const f of c.fields) {
      assert.ok(!f.path.split('.').some((seg) => seg.startsWith('_')), `no system field: ${f.path}`);
      assert.equal(new Set(f.types).size, f.types.length, `types listed once: ${JSON.stringify(f)}`);
    }
    assert.equal(new Set(c.fields.map((f) => f.path)).size, c.fields.length, 'each path once');
  });

  test('meta follows updates and deletions; every member (a viewer too) reads it', async () => {
    const d = expectSuccess(await server.post('/v1/collections/evolving/documents', { headers: hdr, json: { old: 1 } }), 201);
    assert.deepEqual(fieldMap(entry(await meta(), 'evolving')), { old: ['number'] });
    expectSuccess(await server.request('PUT', `/v1/collections/evolving/documents/${d._id}`,
      { headers: hdr, json: { fresh: 'x', nest: { deep: [] } } }), 200);
    const after1 = entry(await meta(team.vie), 'evolving');
    assert.deepEqual(fieldMap(after1), { fresh: ['string'], nest: ['object'], 'nest.deep': ['array'] });
    assert.equal(after1.document_count, 1);
    assert.equal((await server.request('DELETE', `/v1/collections/evolving/documents/${d._id}`, { headers: hdr })).status, 204);
    const after2 = entry(await meta(team.mem), 'evolving');
    assert.deepEqual(after2.fields, []);
    assert.equal(after2.document_count, 0);
    assert.equal((await server.request('DELETE', '/v1/collections/evolving', { headers: hdr })).status, 204);
    assert.ok(!(await meta(team.adm)).some((c) => c.name === 'evolving'));
  });

  test('no credentials → 401; a key with read reads it', async () => {
    expectUnauthorized(await server.get('/v1/meta'));
    const k = await createKey(server, hdr, { name: 'meta reader', scopes: ['read'] });
    const data = expectSuccess(await server.get('/v1/meta', { headers: { 'X-API-Key': k.key } }), 200);
    assert.ok(data.collections.some((c) => c.name === 'things'));
  });
});
