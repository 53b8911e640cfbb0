// Who may do what to documents (API.md §4 scopes, §5.1 rules, §5.4, §13 "Who columns";
// docs/api.md §14 "Rules", "API keys"): the tenant roles (a viewer reads only), the
// collection rules `member`/`public`, `admin`, `owner` (the creator) and `org` (members of the
// document's organization) on each operation — as a filter on lists and totals, 404 for a
// document the caller may not see, 403 for an operation the role may not do — and API keys
// (scopes, collection limits, the owner's role).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './harness.mjs';
import { expectUnauthorized } from './auth_helpers.mjs';
import {
  NO_THROTTLE_ENV, RANDOM_ID, addMember, adminLogin, as, createKey, describeRes, expectForbidden, expectNotFound, expectSuccess,
  expectValidation, list, makeTeam, newUser,
} from './tenancy_helpers.mjs';

let server;
let t; // {owner, adm, mem, mem2, vie, tid}
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  t = await makeTeam(server, 'rul');
  t.mem2 = await newUser(server, 'rul-mem2');
  await addMember(server, t.owner.auth, t.tid, t.mem2.email, 'member');
});
after(async () => { await server?.stop(); });

const H = (who) => as(who, t.tid);
let n = 0;
const uname = (tag = 'r') => `${tag}-${process.pid}-${++n}`;
const docsPath = (c) => `/v1/collections/${c}/documents`;
const docPath = (c, id) => `/v1/collections/${c}/documents/${id}`;
const xkey = (key) => ({ 'X-API-Key': key });

async function createCol(rules, name = uname()) {
  return expectSuccess(await server.post('/v1/collections', { headers: H(t.owner), json: { name, rules } }), 201).name;
}
// Requests with arbitrary headers (a user's or a key's).
const postH = (h, c, json) => server.post(docsPath(c), { headers: h, json });
const getH = (h, c, id) => server.get(docPath(c, id), { headers: h });
const putH = (h, c, id, json) => server.request('PUT', docPath(c, id), { headers: h, json });
const patchH = (h, c, id, json) => server.request('PATCH', docPath(c, id), { headers: h, json });
const delH = (h, c, id) => server.request('DELETE', docPath(c, id), { headers: h });
const listH = (h, c, q = '') => server.get(`${docsPath(c)}${q}`, { headers: h });
async function listed(h, c, q = '?per_page=100') {
  const { data, meta } = await list(server, `${docsPath(c)}${q}`, h);
  return { ids: data.map((d) => d._id), meta, data };
}

async function create(who, c, json = {}) {
  const d = expectSuccess(await postH(H(who), c, json), 201);
  assert.equal(d._createdby, who.user.id);
  return d;
}
/** The document as the tenant owner sees it (admins pass every rule). */
async function peek(c, id) {
  const res = await getH(H(t.owner), c, id);
  if (res.status === 404) return null;
  return expectSuccess(res, 200);
}
const count = async (c) => expectSuccess(await server.get(`/v1/collections/${c}`, { headers: H(t.owner) }), 200).document_count;

/** Every write a caller with headers `h` might try on document `d` of `c`: all must give `check`. */
async function everyWrite(h, c, d, check) {
  check(await postH(h, c, { by: 'intruder' }), 'POST');
  check(await postH(h, c, [{ by: 'intruder' }, { by: 'intruder' }]), 'POST batch');
  check(await putH(h, c, d._id, { replaced: true }), 'PUT');
  check(await patchH(h, c, d._id, { patched: true }), 'PATCH');
  check(await delH(h, c, d._id), 'DELETE');
}

// ---------------------------------------------------------------------------------------

describe('the default rule (member) and the roles', () => {
  let c;
  before(async () => { c = await createCol(undefined); });

  test('every member creates, reads, lists, replaces, patches and deletes anyone\'s documents', async () => {
    const byOwner = await create(t.owner, c, { n: 1 });
    const byMem = await create(t.mem, c, { n: 2 });
    const byAdm = await create(t.adm, c, { n: 3 });
    for (const who of [t.mem, t.mem2]) {
      const { ids, meta } = await listed(H(who), c);
      for (const d of [byOwner, byMem, byAdm]) assert.ok(ids.includes(d._id));
      assert.equal(meta.total, ids.length);
      assert.equal(expectSuccess(await getH(H(who), c, byOwner._id), 200).n, 1);
    }
    const p = expectSuccess(await putH(H(t.mem2), c, byOwner._id, { n: 10 }), 200);
    assert.equal(p._changedby, t.mem2.user.id);
    assert.equal(p._createdby, t.owner.user.id);
    assert.equal(expectSuccess(await patchH(H(t.mem), c, byAdm._id, { m: 1 }), 200)._version, 2);
    assert.equal((await delH(H(t.mem2), c, byMem._id)).status, 204);
    assert.equal(await peek(c, byMem._id), null);
  });

  test('a viewer lists and reads, and every write → 403 with nothing changed', async () => {
    const d = await create(t.mem, c, { keep: 'me' });
    const before_ = await count(c);
    const { ids } = await listed(H(t.vie), c);
    assert.ok(ids.includes(d._id));
    assert.equal(expectSuccess(await getH(H(t.vie), c, d._id), 200).keep, 'me');
    await everyWrite(H(t.vie), c, d, (res, what) => {
      assert.equal(res.status, 403, `viewer ${what}: ${describeRes(res)}`);
      expectForbidden(res);
    });
    assert.equal(await count(c), before_);
    assert.deepEqual(await peek(c, d._id), d);
  });

  test('precedence: the permission (403) comes before the body (400, 415, 422)', async () => {
    const d = await create(t.mem, c, { v: 1 });
    const json = { ...H(t.vie), 'Content-Type': 'application/json' };
    expectForbidden(await server.post(docsPath(c), { headers: json, body: '{bad' }));
    expectForbidden(await server.request('PUT', docPath(c, d._id), { headers: json, body: '{bad' }));
    expectForbidden(await server.request('PATCH', docPath(c, d._id), { headers: json, body: '{bad' }));
    expectForbidden(await server.post(docsPath(c), { headers: H(t.vie), body: new TextEncoder().encode('{}') }));
    expectForbidden(await postH(H(t.vie), c, { _bad: 1 }));
    const adminOnly = await createCol({ create: 'admin' });
    expectForbidden(await server.post(docsPath(adminOnly), { headers: { ...H(t.mem), 'Content-Type': 'application/json' }, body: '[{' }));
    assert.deepEqual(await peek(c, d._id), d);
  });

  test('public acts as member for now: members write, viewers read only', async () => {
    const pc = await createCol({ list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' });
    const d = await create(t.mem, pc, { p: 1 });
    assert.equal(expectSuccess(await patchH(H(t.mem2), pc, d._id, { p: 2 }), 200).p, 2);
    assert.ok((await listed(H(t.vie), pc)).ids.includes(d._id));
    await everyWrite(H(t.vie), pc, d, (res, what) => assert.equal(res.status, 403, `viewer ${what}: ${describeRes(res)}`));
    assert.equal((await delH(H(t.mem), pc, d._id)).status, 204);
  });

  test('no credentials → 401 on every route; a user of another tenant → 404', async () => {
    const d = await create(t.owner, c, { x: 1 });
    expectUnauthorized(await server.get(docsPath(c)));
    expectUnauthorized(await server.get(docPath(c, d._id)));
    expectUnauthorized(await server.post(docsPath(c), { json: { a: 1 } }));
    expectUnauthorized(await server.request('PUT', docPath(c, d._id), { json: { a: 1 } }));
    expectUnauthorized(await server.request('PATCH', docPath(c, d._id), { json: { a: 1 } }));
    expectUnauthorized(await server.request('DELETE', docPath(c, d._id)));
    const outsider = await newUser(server, 'rul-out');
    expectNotFound(await getH(as(outsider, t.tid), c, d._id));
    expectNotFound(await listH(as(outsider, t.tid), c));
    expectNotFound(await postH(as(outsider, t.tid), c, { a: 1 }));
    assert.deepEqual(await peek(c, d._id), d);
  });
});

// ---------------------------------------------------------------------------------------

describe('the admin rule', () => {
  test('create: admin → a member gets 403 (one or a batch), admin and owner create', async () => {
    const c = await createCol({ create: 'admin' });
    expectForbidden(await postH(H(t.mem), c, { a: 1 }));
    expectForbidden(await postH(H(t.mem), c, [{ a: 1 }, { a: 2 }]));
    expectForbidden(await postH(H(t.vie), c, { a: 1 }));
    assert.equal(await count(c), 0);
    const d = await create(t.adm, c, { a: 1 });
    await create(t.owner, c, { a: 2 });
    assert.equal(await count(c), 2);
    // The other operations stay member: a member reads, changes and deletes.
    assert.equal(expectSuccess(await getH(H(t.mem), c, d._id), 200).a, 1);
    assert.equal(expectSuccess(await patchH(H(t.mem), c, d._id, { a: 5 }), 200).a, 5);
    assert.equal((await delH(H(t.mem), c, d._id)).status, 204);
  });

  test('read: admin → a member gets 403 on GET by id; admins read', async () => {
    const c = await createCol({ read: 'admin' });
    const d = await create(t.mem, c, { secret: 1 });
    expectForbidden(await getH(H(t.mem), c, d._id));
    expectForbidden(await getH(H(t.vie), c, d._id));
    assert.equal(expectSuccess(await getH(H(t.adm), c, d._id), 200).secret, 1);
    assert.equal(expectSuccess(await getH(H(t.owner), c, d._id), 200).secret, 1);
  });

  test('list: admin → a member gets 403 on the list; admins list; a member still reads by id', async () => {
    const c = await createCol({ list: 'admin' });
    const d = await create(t.mem, c, { x: 1 });
    expectForbidden(await listH(H(t.mem), c));
    expectForbidden(await listH(H(t.vie), c, '?after='));
    assert.deepEqual((await listed(H(t.adm), c)).ids, [d._id]);
    assert.equal(expectSuccess(await getH(H(t.mem), c, d._id), 200).x, 1);
  });

  test('update: admin → a member gets 403 on PUT and PATCH, nothing changed; admins update', async () => {
    const c = await createCol({ update: 'admin' });
    const d = await create(t.mem, c, { v: 1 });
    expectForbidden(await putH(H(t.mem), c, d._id, { v: 2 }));
    expectForbidden(await patchH(H(t.mem), c, d._id, { v: 2 }));
    assert.deepEqual(await peek(c, d._id), d);
    assert.equal(expectSuccess(await patchH(H(t.adm), c, d._id, { v: 3 }), 200).v, 3);
    assert.equal(expectSuccess(await putH(H(t.owner), c, d._id, { v: 4 }), 200)._version, 3);
  });

  test('delete: admin → a member gets 403, the document stays; an admin deletes', async () => {
    const c = await createCol({ delete: 'admin' });
    const d = await create(t.mem, c, { v: 1 });
    expectForbidden(await delH(H(t.mem), c, d._id));
    assert.deepEqual(await peek(c, d._id), d);
    assert.equal(await count(c), 1);
    assert.equal((await delH(H(t.adm), c, d._id)).status, 204);
    assert.equal(await count(c), 0);
  });

  test('the platform admin passes every rule', async () => {
    const admin = await adminLogin(server);
    const c = await createCol({ list: 'admin', read: 'owner', create: 'admin', update: 'org', delete: 'owner' });
    const h = { ...admin.auth, 'X-Tenant-ID': t.tid };
    const mine = expectSuccess(await postH(h, c, { by: 'platform' }), 201);
    const byAdm = await create(t.adm, c, { by: 'adm' });
    assert.deepEqual((await listed(h, c)).ids, [mine._id, byAdm._id]);
    assert.equal(expectSuccess(await getH(h, c, byAdm._id), 200).by, 'adm');
    assert.equal(expectSuccess(await patchH(h, c, byAdm._id, { x: 1 }), 200).x, 1);
    assert.equal((await delH(h, c, byAdm._id)).status, 204);
  });
});

// ---------------------------------------------------------------------------------------

describe('the owner rule (the document\'s creator)', () => {
  let c;
  let docs; // {own: owner's, adm, mem: [2], mem2: [2]}
  before(async () => {
    c = await createCol({ list: 'owner', read: 'owner', update: 'owner', delete: 'owner' });
    docs = {
      own: await create(t.owner, c, { who: 'owner' }),
      adm: await create(t.adm, c, { who: 'adm' }),
      mem: [await create(t.mem, c, { who: 'mem', i: 1 }), await create(t.mem, c, { who: 'mem', i: 2 })],
      mem2: [await create(t.mem2, c, { who: 'mem2', i: 1 }), await create(t.mem2, c, { who: 'mem2', i: 2 })],
    };
  });

  test('a member lists and counts only their own documents, in every list mode', async () => {
    const mine = await listed(H(t.mem), c);
    assert.deepEqual(mine.ids, docs.mem.map((d) => d._id));
    assert.equal(mine.meta.total, 2);
    const p = await listed(H(t.mem), c, '?per_page=1&page=2');
    assert.deepEqual(p.ids, [docs.mem[1]._id]);
    assert.deepEqual(p.meta, { page: 2, per_page: 1, total: 2, total_pages: 2 });
    const cur = await listed(H(t.mem), c, '?after=&count=true');
    assert.deepEqual(cur.ids, docs.mem.map((d) => d._id));
    assert.equal(cur.meta.total, 2);
    assert.deepEqual((await listed(H(t.mem), c, '?sort=-_id&fields=who')).ids, docs.mem.map((d) => d._id).reverse());
    // A filter cannot widen it.
    const theirs = await listed(H(t.mem), c, `?_createdby=${t.mem2.user.id}`);
    assert.deepEqual(theirs.ids, []);
    assert.equal(theirs.meta.total, 0);
    const other = await listed(H(t.mem2), c);
    assert.deepEqual(other.ids, docs.mem2.map((d) => d._id));
    // A viewer has created nothing: an empty list.
    const v = await listed(H(t.vie), c);
    assert.deepEqual(v.ids, []);
    assert.equal(v.meta.total, 0);
  });

  test('others\' documents are 404 on GET, PUT, PATCH and DELETE, and stay unchanged', async () => {
    for (const d of [docs.own, docs.adm, docs.mem2[0]]) {
      expectNotFound(await getH(H(t.mem), c, d._id));
      expectNotFound(await putH(H(t.mem), c, d._id, { who: 'hijack' }));
      expectNotFound(await patchH(H(t.mem), c, d._id, { who: 'hijack' }));
      expectNotFound(await delH(H(t.mem), c, d._id));
      assert.deepEqual(await peek(c, d._id), d);
    }
    // The same message as a document that does not exist.
    const missing = await getH(H(t.mem), c, RANDOM_ID);
    const hidden = await getH(H(t.mem), c, docs.own._id);
    assert.equal(hidden.json.error.message, missing.json.error.message);
  });

  test('one\'s own documents: read, replace, patch, delete', async () => {
    const d = await create(t.mem, c, { who: 'mem', tmp: true });
    assert.equal(expectSuccess(await getH(H(t.mem), c, d._id), 200).tmp, true);
    assert.equal(expectSuccess(await putH(H(t.mem), c, d._id, { who: 'mem', tmp: 1 }), 200).tmp, 1);
    assert.equal(expectSuccess(await patchH(H(t.mem), c, d._id, { tmp: 2 }), 200).tmp, 2);
    assert.equal((await delH(H(t.mem), c, d._id)).status, 204);
    assert.equal(await peek(c, d._id), null);
  });

  test('admins see and change everyone\'s; the creator keeps the document after an admin\'s change', async () => {
    const all = await listed(H(t.adm), c);
    for (const d of [docs.own, docs.adm, ...docs.mem, ...docs.mem2]) assert.ok(all.ids.includes(d._id));
    assert.equal(all.meta.total, all.ids.length);
    const p = expectSuccess(await patchH(H(t.adm), c, docs.mem[0]._id, { touched: 'by admin' }), 200);
    assert.equal(p._changedby, t.adm.user.id);
    assert.equal(p._createdby, t.mem.user.id);
    assert.equal(expectSuccess(await getH(H(t.mem), c, docs.mem[0]._id), 200).touched, 'by admin');
    docs.mem[0] = p;
  });

  test('the rule applies per operation: read owner with list member lists all but hides others\' by id', async () => {
    const mixed = await createCol({ read: 'owner' });
    const a = await create(t.mem, mixed, { a: 1 });
    const b = await create(t.mem2, mixed, { b: 1 });
    assert.deepEqual((await listed(H(t.mem), mixed)).ids, [a._id, b._id]);
    expectNotFound(await getH(H(t.mem), mixed, b._id));
    assert.equal(expectSuccess(await getH(H(t.mem), mixed, a._id), 200).a, 1);
    // update/delete owner with read member: others' documents are readable but not changeable.
    const upd = await createCol({ update: 'owner', delete: 'owner' });
    const x = await create(t.mem2, upd, { x: 1 });
    assert.equal(expectSuccess(await getH(H(t.mem), upd, x._id), 200).x, 1);
    expectNotFound(await putH(H(t.mem), upd, x._id, { x: 2 }));
    expectNotFound(await patchH(H(t.mem), upd, x._id, { x: 2 }));
    expectNotFound(await delH(H(t.mem), upd, x._id));
    assert.deepEqual(await peek(upd, x._id), x);
    assert.equal(expectSuccess(await patchH(H(t.mem2), upd, x._id, { x: 3 }), 200).x, 3);
  });
});

// ---------------------------------------------------------------------------------------

describe('the org rule (members of the document\'s organization)', () => {
  let c;
  let o1; let o2; let o3; // o1: mem; o2: mem2; o3: mem and mem2
  let docs;
  const orgPost = async (json) => expectSuccess(await server.post('/v1/organizations', { headers: H(t.owner), json }), 201);
  const join = async (org, who) => expectSuccess(await server.post(`/v1/organizations/${org.id}/members`,
    { headers: H(t.owner), json: { user_id: who.user.id } }), 201);
  before(async () => {
    o1 = await orgPost({ name: uname('One') });
    o2 = await orgPost({ name: uname('Two') });
    o3 = await orgPost({ name: uname('Three') });
    await join(o1, t.mem);
    await join(o2, t.mem2);
    await join(o3, t.mem);
    await join(o3, t.mem2);
    c = await createCol({ list: 'org', read: 'org', create: 'org', update: 'org', delete: 'org' });
    docs = {
      o1: await create(t.mem, c, { in: 'o1', _org: o1.id }),
      o2: await create(t.mem2, c, { in: 'o2', _org: o2.id }),
      o3: await create(t.mem2, c, { in: 'o3', _org: o3.id }),
      none: await create(t.owner, c, { in: 'none' }), // admins pass every rule, even create
    };
    assert.equal(docs.o1._org, o1.id);
    assert.equal(docs.none._org, null);
  });

  test('create needs _org (422 without), of one of the caller\'s organizations (403 otherwise)', async () => {
    const before_ = await count(c);
    expectValidation(await postH(H(t.mem), c, { x: 1 }), '_org');
    expectValidation(await postH(H(t.mem), c, { x: 1, _org: null }), '_org');
    expectForbidden(await postH(H(t.mem), c, { x: 1, _org: o2.id }));
    expectForbidden(await postH(H(t.mem), c, [{ x: 1, _org: o1.id }, { x: 2, _org: o2.id }]));
    expectValidation(await postH(H(t.mem), c, { x: 1, _org: RANDOM_ID }), '_org');
    expectForbidden(await postH(H(t.vie), c, { x: 1, _org: o1.id }));
    assert.equal(await count(c), before_);
    const ok = expectSuccess(await postH(H(t.mem), c, [{ x: 1, _org: o1.id }, { x: 2, _org: o3.id }]), 201);
    assert.deepEqual(ok.map((d) => d._org), [o1.id, o3.id]);
    for (const d of ok) assert.equal((await delH(H(t.mem), c, d._id)).status, 204);
  });

  test('a member lists, counts and reads only documents of their organizations', async () => {
    const m = await listed(H(t.mem), c);
    assert.deepEqual(m.ids, [docs.o1._id, docs.o3._id]);
    assert.equal(m.meta.total, 2);
    const m2 = await listed(H(t.mem2), c);
    assert.deepEqual(m2.ids, [docs.o2._id, docs.o3._id]);
    assert.equal(m2.meta.total, 2);
    const narrowed = await listed(H(t.mem), c, `?_org=${o2.id}`);
    assert.deepEqual(narrowed.ids, []);
    assert.equal(narrowed.meta.total, 0);
    assert.equal((await listed(H(t.vie), c)).meta.total, 0, 'a viewer in no organization sees nothing');
    for (const d of [docs.o2, docs.none]) {
      expectNotFound(await getH(H(t.mem), c, d._id));
      expectNotFound(await putH(H(t.mem), c, d._id, { in: 'hijack', _org: o1.id }));
      expectNotFound(await patchH(H(t.mem), c, d._id, { in: 'hijack' }));
      expectNotFound(await delH(H(t.mem), c, d._id));
      assert.deepEqual(await peek(c, d._id), d);
    }
    assert.equal(expectSuccess(await getH(H(t.mem), c, docs.o3._id), 200).in, 'o3');
  });

  test('admins see everything', async () => {
    const a = await listed(H(t.adm), c);
    assert.deepEqual(a.ids, [docs.o1._id, docs.o2._id, docs.o3._id, docs.none._id]);
    assert.equal(a.meta.total, 4);
  });

  test('moving a document needs an _org the caller belongs to (403 otherwise, unchanged)', async () => {
    const d = await create(t.mem, c, { moving: true, _org: o1.id });
    expectForbidden(await patchH(H(t.mem), c, d._id, { _org: o2.id }));
    expectForbidden(await putH(H(t.mem), c, d._id, { moving: true, _org: o2.id }));
    assert.deepEqual(await peek(c, d._id), d);
    expectNotFound(await getH(H(t.mem2), c, d._id));
    const moved = expectSuccess(await patchH(H(t.mem), c, d._id, { _org: o3.id }), 200);
    assert.equal(moved._org, o3.id);
    // Now mem2 (in o3) sees and changes it.
    assert.equal(expectSuccess(await getH(H(t.mem2), c, d._id), 200)._org, o3.id);
    const kept = expectSuccess(await putH(H(t.mem2), c, d._id, { moving: 'kept' }), 200);
    assert.equal(kept._org, o3.id, 'PUT keeps _org unless the body sends it');
    assert.equal((await delH(H(t.mem2), c, d._id)).status, 204);
  });

  test('leaving an organization ends the access at once', async () => {
    const o4 = await orgPost({ name: uname('Four') });
    await join(o4, t.mem);
    const d = await create(t.mem, c, { temp: 1, _org: o4.id });
    assert.equal(expectSuccess(await getH(H(t.mem), c, d._id), 200).temp, 1);
    const res = await server.request('DELETE', `/v1/organizations/${o4.id}/members/${t.mem.user.id}`, { headers: H(t.owner) });
    assert.equal(res.status, 204, describeRes(res));
    expectNotFound(await getH(H(t.mem), c, d._id));
    assert.ok(!(await listed(H(t.mem), c)).ids.includes(d._id));
    expectForbidden(await postH(H(t.mem), c, { again: 1, _org: o4.id }));
  });

  test('under the member rule any organization of the tenant may be set as _org', async () => {
    const plain = await createCol(undefined);
    const d = await create(t.mem, plain, { x: 1, _org: o2.id });
    assert.equal(d._org, o2.id);
    assert.equal(expectSuccess(await getH(H(t.mem2), plain, d._id), 200)._org, o2.id);
    assert.equal(expectSuccess(await getH(H(t.vie), plain, d._id), 200)._org, o2.id);
  });
});

// ---------------------------------------------------------------------------------------

describe('API keys', () => {
  let c;
  let other;
  let d;
  before(async () => {
    c = await createCol(undefined);
    other = await createCol(undefined);
    d = await create(t.owner, c, { v: 1 });
  });

  test('a key with only read lists and gets; every write → 403, nothing changed', async () => {
    const k = await createKey(server, H(t.owner), { name: 'reader', scopes: ['read'] });
    const h = xkey(k.key);
    assert.ok((await listed(h, c)).ids.includes(d._id));
    assert.deepEqual(expectSuccess(await getH(h, c, d._id), 200), await peek(c, d._id));
    const before_ = await count(c);
    await everyWrite(h, c, d, (res, what) => {
      assert.equal(res.status, 403, `read key ${what}: ${describeRes(res)}`);
      expectForbidden(res);
    });
    assert.equal(await count(c), before_);
    assert.equal((await peek(c, d._id))._version, d._version);
    // Also through Authorization: Bearer tbk_….
    expectForbidden(await postH({ Authorization: `Bearer ${k.key}` }, c, { a: 1 }));
  });

  test('a key with read and write does everything a member may; the document is the key owner\'s', async () => {
    const k = await createKey(server, H(t.mem), { name: 'rw', scopes: ['read', 'write'] });
    const h = xkey(k.key);
    const mine = expectSuccess(await postH(h, c, { via: 'key' }), 201);
    assert.equal(mine._createdby, t.mem.user.id);
    assert.equal(expectSuccess(await patchH(h, c, mine._id, { more: 1 }), 200)._changedby, t.mem.user.id);
    assert.equal(expectSuccess(await putH(h, c, d._id, { v: 2 }), 200).v, 2);
    assert.equal((await delH(h, c, mine._id)).status, 204);
    d = await peek(c, d._id);
  });

  test('a write-only key creates, replaces, patches and deletes, but cannot list or get (403)', async () => {
    const k = await createKey(server, H(t.owner), { name: 'writer', scopes: ['write'] });
    const h = xkey(k.key);
    expectForbidden(await listH(h, c));
    expectForbidden(await getH(h, c, d._id));
    const made = await postH(h, c, { via: 'write-only key' });
    assert.equal(made.status, 201, `write scope creates documents (API.md §4): ${describeRes(made)}`);
    const id = made.json.data._id;
    assert.equal(expectSuccess(await patchH(h, c, id, { x: 1 }), 200).x, 1);
    assert.equal(expectSuccess(await putH(h, c, id, { y: 1 }), 200).y, 1);
    assert.equal((await delH(h, c, id)).status, 204);
  });

  test('a key limited to collections ["a"]: collection a works, any other → 403 on every operation', async () => {
    const a = await createCol(undefined, uname('a'));
    const k = await createKey(server, H(t.owner), { name: 'limited', collections: [a] });
    const h = xkey(k.key);
    const inA = expectSuccess(await postH(h, a, { ok: 1 }), 201);
    assert.deepEqual((await listed(h, a)).ids, [inA._id]);
    assert.equal(expectSuccess(await getH(h, a, inA._id), 200).ok, 1);
    assert.equal(expectSuccess(await patchH(h, a, inA._id, { ok: 2 }), 200).ok, 2);
    const before_ = await count(c);
    expectForbidden(await listH(h, c));
    expectForbidden(await getH(h, c, d._id));
    await everyWrite(h, c, d, (res, what) => {
      assert.equal(res.status, 403, `limited key ${what} on another collection: ${describeRes(res)}`);
      expectForbidden(res);
    });
    expectForbidden(await listH(h, other));
    // A collection that does not exist is out of reach as well.
    expectForbidden(await postH(h, uname('zz'), { a: 1 }));
    assert.equal(await count(c), before_);
    assert.deepEqual(await peek(c, d._id), d);
    assert.equal((await delH(h, a, inA._id)).status, 204);
  });

  test('a key limited to collections ["a"] cannot read collection b\'s definition (403)', async () => {
    const a = await createCol(undefined, uname('a'));
    const k = await createKey(server, H(t.owner), { name: 'limited-def', collections: [a] });
    expectSuccess(await server.get(`/v1/collections/${a}`, { headers: xkey(k.key) }), 200);
    expectForbidden(await server.get(`/v1/collections/${c}`, { headers: xkey(k.key) }));
  });

  test('a key acts with its owner\'s role and the collection rules', async () => {
    const ownerRule = await createCol({ list: 'owner', read: 'owner', update: 'owner', delete: 'owner' });
    const adminCreate = await createCol({ create: 'admin' });
    const x = await create(t.owner, ownerRule, { who: 'owner' });
    const y = await create(t.mem, ownerRule, { who: 'mem' });
    const mk = await createKey(server, H(t.mem), { name: 'member key' });
    assert.deepEqual(mk.scopes, ['read', 'write']);
    const h = xkey(mk.key);
    assert.deepEqual((await listed(h, ownerRule)).ids, [y._id]);
    expectNotFound(await getH(h, ownerRule, x._id));
    expectNotFound(await patchH(h, ownerRule, x._id, { who: 'key' }));
    expectForbidden(await postH(h, adminCreate, { a: 1 }));
    // The owner's key passes every rule.
    const ok = await createKey(server, H(t.owner), { name: 'owner key' });
    assert.deepEqual((await listed(xkey(ok.key), ownerRule)).ids, [x._id, y._id]);
    expectSuccess(await postH(xkey(ok.key), adminCreate, { a: 1 }), 201);
    // A viewer's key holds read only: it reads, never writes.
    const vk = await createKey(server, H(t.vie), { name: 'viewer key' });
    assert.deepEqual(vk.scopes, ['read']);
    assert.ok((await listed(xkey(vk.key), c)).ids.includes(d._id));
    await everyWrite(xkey(vk.key), c, d, (res, what) => assert.equal(res.status, 403, `viewer key ${what}: ${describeRes(res)}`));
  });

  test('a revoked key → 401', async () => {
    const k = await createKey(server, H(t.owner), { name: 'revoked' });
    assert.equal((await listH(xkey(k.key), c)).status, 200);
    const res = await server.request('DELETE', `/v1/api-keys/${k.id}`, { headers: H(t.owner) });
    assert.equal(res.status, 204, describeRes(res));
    expectUnauthorized(await listH(xkey(k.key), c));
    expectUnauthorized(await postH(xkey(k.key), c, { a: 1 }));
  });
});

// ---------------------------------------------------------------------------------------

describe('the public rule and anonymous visitors (API.md §13 "Anonymous tenant")', () => {
  const visitor = () => ({ 'X-Tenant-ID': t.tid });

  test('public list and read open the collection to visitors naming the tenant; nothing else does', async () => {
    const c = await createCol({ list: 'public', read: 'public' });
    const d = await create(t.mem, c, { title: 'hello' });
    const listedByVisitor = expectSuccess(await listH(visitor(), c), 200);
    assert.deepEqual(listedByVisitor.map((x) => x._id), [d._id]);
    assert.equal(expectSuccess(await getH(visitor(), c, d._id), 200).title, 'hello');
    // Writes stay member: a visitor gets 401 (credentials needed), nothing changes.
    await everyWrite(visitor(), c, d, (res, what) => expectUnauthorized(res, what));
    assert.equal(await count(c), 1);
  });

  test('a visitor learns nothing: no header, an unknown tenant, an unknown or closed collection → 401 alike', async () => {
    const open = await createCol({ list: 'public', read: 'public' });
    const closed = await createCol({});
    const d = await create(t.mem, closed, { secret: true });
    expectUnauthorized(await listH({}, open));
    expectUnauthorized(await listH({ 'X-Tenant-ID': '018b6216-27a1-7e2b-aa83-67d7ba500982' }, open));
    expectUnauthorized(await listH(visitor(), closed));
    expectUnauthorized(await getH(visitor(), closed, d._id));
    expectUnauthorized(await listH(visitor(), 'no-such-collection'));
    expectUnauthorized(await server.get('/v1/collections', { headers: visitor() }));
  });

  test('public create: a visitor creates documents with no author; members still see them', async () => {
    const c = await createCol({ create: 'public', list: 'public', read: 'public' });
    const d = expectSuccess(await postH(visitor(), c, { note: 'from a visitor' }), 201);
    assert.equal(d._createdby, null);
    assert.equal(d._changedby, null);
    const byNull = await listed(H(t.owner), c, '?_createdby=null');
    assert.deepEqual(byNull.ids, [d._id]);
    // Update and delete are not public: 401, unchanged.
    expectUnauthorized(await patchH(visitor(), c, d._id, { note: 'changed' }));
    expectUnauthorized(await delH(visitor(), c, d._id));
    assert.equal((await peek(c, d._id)).note, 'from a visitor');
  });
});
