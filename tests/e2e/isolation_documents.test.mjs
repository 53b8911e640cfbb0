// Tenant isolation of collections and documents (API.md §1.1 "another tenant's resource is
// always 404, never 403", §5, §13 "API key and X-Tenant-ID"; docs/api.md §14 "Tenant context").
//
// Two tenants, A and B, each with an owner, an admin, a member and a viewer, a collection of
// the same name ("shared") with documents, API keys, and A with one more collection ("aonly")
// and an organization. Then B's credentials try every way into A's data — by id in B's own
// collection of the same name, through X-Tenant-ID naming A, with malformed bodies, with
// filters and cursors, through /v1/collections and /v1/meta — and A's keys name B. Afterwards
// A's documents and collections are unchanged. Positive controls (A's credentials, the
// platform admin) show that each 404 is about isolation, not a missing route or document.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './harness.mjs';
import {
  NO_THROTTLE_ENV, RANDOM_ID, adminLogin, as, createKey, describeRes, expectForbidden, expectNotFound, expectSuccess,
  expectValidation, list, makeTeam,
} from './tenancy_helpers.mjs';

let server;
let admin;
let A; let B; // makeTeam() plus docs, keys, orgs
const SHARED = 'shared';
const AONLY = 'aonly';
const docsPath = (c) => `/v1/collections/${c}/documents`;
const docPath = (c, id) => `/v1/collections/${c}/documents/${id}`;
const xkey = (key, tid) => (tid ? { 'X-API-Key': key, 'X-Tenant-ID': tid } : { 'X-API-Key': key });
const JSON_CT = { 'Content-Type': 'application/json' };

before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  admin = await adminLogin(server);
  A = await makeTeam(server, 'isoA');
  B = await makeTeam(server, 'isoB');
  for (const T of [A, B]) {
    T.H = (who = T.owner) => as(who, T.tid);
    expectSuccess(await server.post('/v1/collections', { headers: T.H(), json: { name: SHARED } }), 201);
  }
  expectSuccess(await server.post('/v1/collections', {
    headers: A.H(), json: { name: AONLY, schema: { type: 'object', properties: { a_secret: { type: 'string' } } } },
  }), 201);
  A.org = expectSuccess(await server.post('/v1/organizations', { headers: A.H(), json: { name: 'A org' } }), 201);
  A.docs = expectSuccess(await server.post(docsPath(SHARED), {
    headers: A.H(), json: [
      { a_secret: 'alpha', a_nested: { inner: 1 }, n: 1 },
      { a_secret: 'beta', n: 2, _org: A.org.id },
      { a_secret: 'gamma', n: 3 },
    ],
  }), 201);
  A.docs.push(expectSuccess(await server.post(docsPath(SHARED), { headers: A.H(A.mem), json: { a_secret: 'delta', n: 4 } }), 201));
  A.only = expectSuccess(await server.post(docsPath(AONLY), { headers: A.H(), json: { a_secret: 'only', a_deep: { x: true } } }), 201);
  B.docs = expectSuccess(await server.post(docsPath(SHARED), {
    headers: B.H(), json: [{ b_field: 'one', n: 10 }, { b_field: 'two', n: 20 }],
  }), 201);
  A.key = await createKey(server, A.H(), { name: 'A all', scopes: ['read', 'write', 'admin'] });
  B.key = await createKey(server, B.H(), { name: 'B all', scopes: ['read', 'write', 'admin'] });
  B.memKey = await createKey(server, B.H(B.mem), { name: 'B member' });
});
after(async () => { await server?.stop(); });

/** A's documents exactly as A's owner sees them now. */
async function snapshotA() {
  const shared = await list(server, `${docsPath(SHARED)}?per_page=100`, A.H());
  const only = await list(server, `${docsPath(AONLY)}?per_page=100`, A.H());
  const cols = await list(server, '/v1/collections?per_page=100&sort=name', A.H());
  return { shared: shared.data, sharedTotal: shared.meta.total, only: only.data, cols: cols.data };
}

/** Every header set of B (users and keys) in B's own tenant context. */
const bCallers = () => [
  ['B owner', B.H(B.owner)], ['B admin', B.H(B.adm)], ['B member', B.H(B.mem)], ['B viewer', B.H(B.vie)],
  ['B admin key', xkey(B.key.key)], ['B member key', xkey(B.memKey.key)],
];

// ---------------------------------------------------------------------------------------

describe('positive controls', () => {
  test('A reaches its documents; the platform admin reaches A\'s with X-Tenant-ID', async () => {
    for (const d of A.docs) {
      assert.deepEqual(expectSuccess(await server.get(docPath(SHARED, d._id), { headers: A.H(A.vie) }), 200), d);
      const viaAdmin = await server.get(docPath(SHARED, d._id), { headers: { ...admin.auth, 'X-Tenant-ID': A.tid } });
      assert.deepEqual(expectSuccess(viaAdmin, 200), d);
    }
    assert.deepEqual(expectSuccess(await server.get(docPath(AONLY, A.only._id), { headers: xkey(A.key.key) }), 200), A.only);
    const { meta } = await list(server, docsPath(SHARED), A.H());
    assert.equal(meta.total, 4);
    const bl = await list(server, docsPath(SHARED), B.H());
    assert.equal(bl.meta.total, 2);
  });
});

// ---------------------------------------------------------------------------------------

describe('B in its own tenant, with A\'s ids', () => {
  test('GET, PUT, PATCH, DELETE of A\'s documents through B\'s collection of the same name → 404', async () => {
    const before_ = await snapshotA();
    for (const [who, h] of bCallers()) {
      for (const d of [...A.docs, A.only]) {
        for (const c of [SHARED, AONLY]) {
          const g = await server.get(docPath(c, d._id), { headers: h });
          assert.equal(g.status, 404, `${who} GET ${c}/${d._id}: ${describeRes(g)}`);
          expectNotFound(g);
        }
        const w = [
          ['PUT', await server.request('PUT', docPath(SHARED, d._id), { headers: h, json: { hijacked: who } })],
          ['PATCH', await server.request('PATCH', docPath(SHARED, d._id), { headers: h, json: { hijacked: who } })],
          ['DELETE', await server.request('DELETE', docPath(SHARED, d._id), { headers: h })],
          ['PUT If-Match', await server.request('PUT', docPath(SHARED, d._id), { headers: { ...h, 'If-Match': '"1"' }, json: {} })],
          ['DELETE If-Match *', await server.request('DELETE', docPath(SHARED, d._id), { headers: { ...h, 'If-Match': '*' } })],
        ];
        for (const [what, res] of w) {
          // A viewer (or a viewer's key) may be stopped by the role first (403); nobody gets through.
          if (who === 'B viewer') {
            assert.ok(res.status === 404 || res.status === 403, `${who} ${what}: ${describeRes(res)}`);
          } else {
            assert.equal(res.status, 404, `${who} ${what} ${d._id}: ${describeRes(res)}`);
            expectNotFound(res);
          }
        }
      }
    }
    assert.deepEqual(await snapshotA(), before_);
    // Nothing was created in B either (a PUT is no upsert).
    assert.equal((await list(server, docsPath(SHARED), B.H())).meta.total, 2);
  });

  test('a malformed body to A\'s document id → 404 (visibility before the body)', async () => {
    for (const method of ['PUT', 'PATCH']) {
      const res = await server.request(method, docPath(SHARED, A.docs[0]._id),
        { headers: { ...B.H(), ...JSON_CT }, body: '{bad' });
      expectNotFound(res);
    }
  });

  test('the same message for A\'s document as for an id that never existed', async () => {
    const missing = await server.get(docPath(SHARED, RANDOM_ID), { headers: B.H() });
    const hidden = await server.get(docPath(SHARED, A.docs[0]._id), { headers: B.H() });
    expectNotFound(missing);
    expectNotFound(hidden);
    assert.equal(hidden.json.error.message, missing.json.error.message);
  });

  test('B\'s lists never show or count A\'s documents, whatever the filter, sort or page mode', async () => {
    const bIds = B.docs.map((d) => d._id);
    for (const [who, h] of bCallers()) {
      const queries = ['?per_page=100', '?sort=-_id', '?sort=-_version&per_page=1&page=2', '?count=true&after=',
        `?_createdby=${A.owner.user.id}`, `?_createdby=${A.mem.user.id}`, `?_id=${A.docs[0]._id}`,
        `?_id[in]=${A.docs.map((d) => d._id).join(',')}`, `?_org=${A.org.id}`, '?fields=a_secret,a_nested.inner',
        '?_version[gte]=1',
        // Document paths, the query language's string and array operators, sorts and hints:
        // none may reach, count or order by A's documents.
        '?sort=a_secret', '?sort=-n,a_nested.inner&after=', '?a_secret=alpha', '?n[lte]=4',
        `?q=${encodeURIComponent(JSON.stringify({ a_secret: { $regex: '^(alpha|beta|gamma|delta)$' } }))}`,
        `?q=${encodeURIComponent(JSON.stringify({ $or: [{ a_secret: { $exists: true } }, { n: { $lt: 5 } }] }))}`,
        `?q=${encodeURIComponent(JSON.stringify({ a_nested: { $exists: true } }))}`,
        `?q=${encodeURIComponent(JSON.stringify({ tags: { $elemMatch: { $exists: true } } }))}`,
        `?h=${encodeURIComponent(JSON.stringify({ $orderby: { a_secret: -1 }, $max: 100, $skip: 0 }))}`];
      for (const q of queries) {
        const res = await server.get(`${docsPath(SHARED)}${q.replace(/\[/g, '%5B').replace(/\]/g, '%5D')}`, { headers: h });
        assert.equal(res.status, 200, `${who} ${q}: ${describeRes(res)}`);
        for (const d of res.json.data) {
          assert.ok(bIds.includes(d._id), `${who} ${q} shows ${d._id}, not one of B's`);
          assert.ok(!('a_secret' in d), `${who} ${q}: A's field leaked`);
        }
        if (res.json.meta.total !== undefined) {
          assert.ok(res.json.meta.total <= 2, `${who} ${q}: total ${res.json.meta.total} counts A's documents`);
        }
      }
      const all = await list(server, `${docsPath(SHARED)}?per_page=100`, h);
      assert.deepEqual(all.data.map((d) => d._id), bIds);
      assert.equal(all.meta.total, 2);
      const aFilter = await list(server, `${docsPath(SHARED)}?_createdby=${A.owner.user.id}`, h);
      assert.deepEqual(aFilter.data, []);
      assert.equal(aFilter.meta.total, 0);
      // Walking every cursor page shows B's documents only.
      const seen = [];
      let cursor = '';
      for (let i = 0; i < 10; i++) {
        const page = await list(server, `${docsPath(SHARED)}?per_page=1&after=${encodeURIComponent(cursor)}`, h);
        seen.push(...page.data.map((d) => d._id));
        cursor = page.meta.next_cursor;
        if (cursor === null) break;
      }
      assert.deepEqual(seen, bIds);
    }
  });

  test('B\'s collection definitions: A\'s only collection → 404; the shared name counts B\'s documents', async () => {
    for (const [who, h] of bCallers()) {
      const res = await server.get(`/v1/collections/${AONLY}`, { headers: h });
      assert.equal(res.status, 404, `${who}: ${describeRes(res)}`);
      expectNotFound(res);
      expectNotFound(await server.get(docsPath(AONLY), { headers: h }));
      const shared = expectSuccess(await server.get(`/v1/collections/${SHARED}`, { headers: h }), 200);
      assert.equal(shared.document_count, 2, `${who}: document_count of B's ${SHARED}`);
      const cols = await list(server, '/v1/collections?per_page=100', h);
      assert.deepEqual(cols.data.map((c) => c.name), [SHARED], `${who} lists B's collections only`);
      assert.equal(cols.meta.total, 1);
      assert.equal(cols.data[0].document_count, 2);
      assert.deepEqual((await list(server, `/v1/collections?name=${AONLY}`, h)).data, []);
    }
    // Changing or deleting A's only collection from B → 404.
    expectNotFound(await server.request('PUT', `/v1/collections/${AONLY}`, { headers: B.H(), json: { rules: { read: 'public' } } }));
    expectNotFound(await server.request('PATCH', `/v1/collections/${AONLY}`, { headers: B.H(), json: { schema: null } }));
    expectNotFound(await server.request('DELETE', `/v1/collections/${AONLY}`, { headers: B.H() }));
    expectNotFound(await server.request('DELETE', `/v1/collections/${AONLY}`, { headers: xkey(B.key.key) }));
  });

  test('B\'s /v1/meta shows neither A\'s collections nor A\'s fields', async () => {
    for (const [who, h] of bCallers()) {
      const res = await server.get('/v1/meta', { headers: h });
      const data = expectSuccess(res, 200);
      assert.deepEqual(data.collections.map((c) => c.name), [SHARED], `${who}: ${res.body}`);
      const shared = data.collections[0];
      assert.equal(shared.document_count, 2);
      const paths = shared.fields.map((f) => f.path).sort();
      assert.deepEqual(paths, ['b_field', 'n'], `${who}: B's fields only`);
      assert.ok(!res.body.includes('a_secret') && !res.body.includes('a_nested') && !res.body.includes('a_deep'),
        `${who}: A's field names leaked into B's meta`);
    }
    // And A's meta has A's fields (the control), without B's.
    const a = expectSuccess(await server.get('/v1/meta', { headers: A.H(A.vie) }), 200);
    const aShared = a.collections.find((c) => c.name === SHARED);
    assert.ok(aShared.fields.some((f) => f.path === 'a_secret'));
    assert.ok(!aShared.fields.some((f) => f.path === 'b_field'));
    assert.equal(aShared.document_count, 4);
  });

  test('an _org of A\'s organization is no organization of B (422)', async () => {
    expectValidation(await server.post(docsPath(SHARED), { headers: B.H(), json: { x: 1, _org: A.org.id } }), '_org');
    expectValidation(await server.request('PATCH', docPath(SHARED, B.docs[0]._id),
      { headers: B.H(), json: { _org: A.org.id } }), '_org');
    assert.equal((await list(server, docsPath(SHARED), B.H())).meta.total, 2);
    assert.equal(expectSuccess(await server.get(docPath(SHARED, B.docs[0]._id), { headers: B.H() }), 200)._version, 1);
  });
});

// ---------------------------------------------------------------------------------------

describe('B naming A with X-Tenant-ID', () => {
  test('B\'s users naming A → 404 on every route, like a tenant that does not exist', async () => {
    const before_ = await snapshotA();
    const d = A.docs[0];
    const routes = [
      ['GET', '/v1/collections'], ['GET', `/v1/collections/${AONLY}`], ['GET', '/v1/meta'],
      ['POST', '/v1/collections', { name: 'intruder' }], ['PUT', `/v1/collections/${AONLY}`, { rules: { read: 'public' } }],
      ['DELETE', `/v1/collections/${AONLY}`],
      ['GET', docsPath(SHARED)], ['GET', `${docsPath(SHARED)}?count=true&after=`], ['GET', docPath(SHARED, d._id)],
      ['POST', docsPath(SHARED), { x: 1 }], ['POST', docsPath(SHARED), [{ x: 1 }]], ['POST', docsPath('brandnew'), { x: 1 }],
      ['PUT', docPath(SHARED, d._id), { hijacked: true }], ['PATCH', docPath(SHARED, d._id), { hijacked: true }],
      ['DELETE', docPath(SHARED, d._id)],
    ];
    for (const who of [B.owner, B.adm, B.mem, B.vie]) {
      for (const [method, p, json] of routes) {
        const opts = { headers: as(who, A.tid) };
        if (json !== undefined) opts.json = json;
        const res = await server.request(method, p, opts);
        assert.equal(res.status, 404, `${who.email} ${method} ${p} in A: ${describeRes(res)}`);
        expectNotFound(res);
        const ghost = await server.request(method, p, { ...opts, headers: as(who, RANDOM_ID) });
        expectNotFound(ghost);
        assert.equal(res.json.error.message, ghost.json.error.message, `${method} ${p}: same answer as an unknown tenant`);
      }
      const mal = await server.request('PUT', docPath(SHARED, d._id), { headers: { ...as(who, A.tid), ...JSON_CT }, body: '{bad' });
      expectNotFound(mal);
    }
    assert.deepEqual(await snapshotA(), before_);
    expectNotFound(await server.get('/v1/collections/intruder', { headers: A.H() }));
    expectNotFound(await server.get('/v1/collections/brandnew', { headers: A.H() }));
  });

  test('B\'s key naming A, and A\'s key naming B → 403, the same as any other tenant id', async () => {
    const before_ = await snapshotA();
    const d = A.docs[0];
    for (const [key, target, own] of [[B.key.key, A.tid, B.tid], [B.memKey.key, A.tid, B.tid], [A.key.key, B.tid, A.tid]]) {
      for (const [method, p, json] of [
        ['GET', docsPath(SHARED)], ['GET', docPath(SHARED, d._id)], ['GET', docPath(SHARED, B.docs[0]._id)],
        ['GET', '/v1/collections'], ['GET', `/v1/collections/${SHARED}`], ['GET', '/v1/meta'],
        ['POST', docsPath(SHARED), { x: 1 }], ['PUT', docPath(SHARED, d._id), { x: 1 }],
        ['PATCH', docPath(SHARED, B.docs[0]._id), { x: 1 }], ['DELETE', docPath(SHARED, d._id)],
        ['POST', '/v1/collections', { name: 'bykey' }],
      ]) {
        const opts = { headers: xkey(key, target) };
        if (json !== undefined) opts.json = json;
        const res = await server.request(method, p, opts);
        assert.equal(res.status, 403, `key of ${own} naming ${target}: ${method} ${p}: ${describeRes(res)}`);
        expectForbidden(res);
        const ghost = await server.request(method, p, { ...opts, headers: xkey(key, RANDOM_ID) });
        expectForbidden(ghost);
        assert.equal(res.json.error.message, ghost.json.error.message);
      }
      // Naming its own tenant is fine.
      assert.equal((await server.get(docsPath(SHARED), { headers: xkey(key, own) })).status, 200);
    }
    assert.deepEqual(await snapshotA(), before_);
    assert.equal((await list(server, docsPath(SHARED), B.H())).meta.total, 2);
    assert.equal(expectSuccess(await server.get(docPath(SHARED, B.docs[0]._id), { headers: B.H() }), 200)._version, 1);
  });

  test('A\'s key reaches A\'s documents only: B\'s ids → 404', async () => {
    for (const b of B.docs) {
      expectNotFound(await server.get(docPath(SHARED, b._id), { headers: xkey(A.key.key) }));
      expectNotFound(await server.request('PATCH', docPath(SHARED, b._id), { headers: xkey(A.key.key), json: { x: 1 } }));
      expectNotFound(await server.request('DELETE', docPath(SHARED, b._id), { headers: xkey(A.key.key) }));
    }
    const { data } = await list(server, `${docsPath(SHARED)}?per_page=100`, xkey(A.key.key));
    assert.deepEqual(data.map((d) => d._id), A.docs.map((d) => d._id));
  });
});

// ---------------------------------------------------------------------------------------

describe('same names, separate data', () => {
  test('B auto-creating a collection named like A\'s makes B\'s own; A\'s is untouched', async () => {
    const before_ = await snapshotA();
    const made = expectSuccess(await server.post(docsPath(AONLY), { headers: B.H(), json: { b_own: 1 } }), 201);
    const bCol = expectSuccess(await server.get(`/v1/collections/${AONLY}`, { headers: B.H() }), 200);
    assert.equal(bCol.document_count, 1);
    assert.equal(bCol.schema, null, 'B\'s collection does not inherit A\'s schema');
    const bList = await list(server, docsPath(AONLY), B.H());
    assert.deepEqual(bList.data.map((d) => d._id), [made._id]);
    expectNotFound(await server.get(docPath(AONLY, A.only._id), { headers: B.H() }));
    expectNotFound(await server.get(docPath(AONLY, made._id), { headers: A.H() }));
    // Deleting B's collection leaves A's and its documents.
    assert.equal((await server.request('DELETE', `/v1/collections/${AONLY}`, { headers: B.H() })).status, 204);
    assert.deepEqual(await snapshotA(), before_);
    assert.deepEqual(expectSuccess(await server.get(docPath(AONLY, A.only._id), { headers: A.H() }), 200), A.only);
    // Deleting B's "shared" leaves A's "shared" whole.
    assert.equal((await server.request('DELETE', `/v1/collections/${SHARED}`, { headers: B.H() })).status, 204);
    const after_ = await snapshotA();
    assert.deepEqual(after_, before_);
    assert.equal(after_.sharedTotal, 4);
    for (const d of A.docs) {
      assert.deepEqual(expectSuccess(await server.get(docPath(SHARED, d._id), { headers: A.H() }), 200), d);
    }
  });
});
