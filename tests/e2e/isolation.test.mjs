// Tenant isolation, end to end (API.md §1.1 "another tenant's resource is always 404, never
// 403", §2 "Tenant context", §3, §3.1, §3.2, §4, §9, §13 "API key and X-Tenant-ID",
// "Precedence of errors"; docs/api.md §14 "Tenant context", "API keys and tenancy routes").
//
// Two tenants, A and B, each with an owner (registered: a personal tenant), an admin, a
// member and a viewer who can sign in, two more users without a password, API keys and two
// organizations with members. Then:
//   - positive controls: A's credentials reach A's resources, and the platform admin reaches
//     B's — so every 404 below is about isolation, not about a missing route or resource;
//   - lists: every credential of A lists users, organizations, organization members, API keys,
//     tenants, tenant members and audit logs with many filters, sorts and both pagination
//     modes, and never sees or counts a row of B (ids, `meta.total`);
//   - the attack: every credential of A tries every resource id of B with every method
//     (valid JSON bodies, so that visibility decides) — all 404 NOT_FOUND, with the same
//     message as a random id on the same route; a user naming B in X-Tenant-ID gets 404 like a
//     random id; A's key naming B (or a random id) in X-Tenant-ID gets the same 403;
//   - afterwards B is unchanged (users, members, organizations and their members, keys,
//     tenant, audit log) and B's credentials still work.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_ADMIN, UUID, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, PASSWORD, bearer, login, register } from './auth_helpers.mjs';

// ---------------------------------------------------------------------------------------
// Fixture.

const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}${Math.random().toString(36).slice(2, 6)}`;
/** Markers that appear in every email and name of one tenant only (targeted filters). */
const MARK = { A: `amark${RUN}`, B: `bmark${RUN}` };
const RANDOM_ID = '018b6216-27a1-7e2b-aa83-67d7ba500982';
const RANDOM_ID_2 = '019a0000-0000-7000-8000-000000000abc';
const CONCURRENCY = 24;

let server;
let admin; // {tokens, auth}
/** T.A / T.B: {id, mark, owner, admin, member, viewer, extra1, extra2, users, keys, orgs} */
const T = {};

const json = (res) => res.json;
const show = (res) => `${res.status} ${String(res.body).slice(0, 300)}`;
const enc = encodeURIComponent;

/**
 * Requests with the filter brackets percent-encoded (`email%5Bcontains%5D=`): fetch sends `[`
 * and `]` raw, and whether raw brackets are accepted is a separate question (tested on its
 * own below), not the isolation one.
 */
const encBrackets = (p) => p.replace(/\[/g, '%5B').replace(/\]/g, '%5D');
const apiRequest = (method, p, opts) => server.request(method, encBrackets(p), opts);
const apiGet = (p, opts) => apiRequest('GET', p, opts);

/** Runs async thunks with at most `n` in flight; resolves to their results in order. */
async function pool(thunks, n = CONCURRENCY) {
  const out = new Array(thunks.length);
  let next = 0;
  async function worker() {
    while (next < thunks.length) {
      const i = next++;
      out[i] = await thunks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, thunks.length) }, worker));
  return out;
}

function ok(res, status, what) {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${show(res)}`);
  assert.equal(res.json?.success, true, `${what}: ${show(res)}`);
  return res.json.data;
}

async function buildTenant(label) {
  const mark = MARK[label];
  const domain = `${mark}.example.com`;
  const email = (who) => `${who}-${mark}@${domain}`;
  const name = (who) => `Iso ${mark} ${who}`;

  const reg = await register(server, {
    email: email('owner'), name: name('owner'), tenant_name: `Iso ${mark} tenant`,
  });
  assert.equal(reg.tenants?.length, 1, `the owner of ${label} gets a personal tenant: ${JSON.stringify(reg.tenants)}`);
  const t = { label, mark, id: reg.tenants[0].id, tenant: reg.tenants[0], email, name };
  t.owner = { id: reg.user.id, email: reg.user.email, name: name('owner'), role: 'owner', tokens: reg.tokens };
  const ownerAuth = bearer(reg.tokens.access_token);

  // Users through POST /v1/users: four who sign in, two who never do.
  const specs = [
    ['admin', 'admin', true], ['member', 'member', true], ['viewer', 'viewer', true],
    ['extra1', 'member', false], ['extra2', 'viewer', false],
  ];
  const created = await Promise.all(specs.map(async ([who, role, withPassword]) => {
    const body = { email: email(who), name: name(who), role };
    if (withPassword) body.password = PASSWORD;
    const data = ok(await server.post('/v1/users', { headers: ownerAuth, json: body }), 201, `POST /v1/users ${who} in ${label}`);
    assert.match(data.id, UUID);
    return { who, id: data.id, email: body.email, name: body.name, role, withPassword };
  }));
  for (const u of created) t[u.who] = u;
  await Promise.all(created.filter((u) => u.withPassword).map(async (u) => {
    u.tokens = (await login(server, u.email)).tokens;
  }));
  t.owner.tokens = (await login(server, t.owner.email)).tokens;
  t.users = [t.owner, ...created];
  for (const u of t.users) if (u.tokens) u.auth = bearer(u.tokens.access_token);

  // API keys: the owner's (read, write, admin), the member's (read, write), the viewer's (read).
  const mkKey = async (user, who, scopes) => {
    const data = ok(await server.post('/v1/api-keys', {
      headers: user.auth, json: { name: `Iso ${mark} key ${who}`, scopes },
    }), 201, `POST /v1/api-keys ${who} in ${label}`);
    assert.equal(data.tenant_id, t.id, `a key is bound to the tenant it was created in (${label})`);
    return { id: data.id, key: data.key, owner: user.id, name: data.name };
  };
  const [ownerKey, memberKey, viewerKey] = await Promise.all([
    mkKey(t.owner, 'owner', ['read', 'write', 'admin']),
    mkKey(t.member, 'member', ['read', 'write']),
    mkKey(t.viewer, 'viewer', ['read']),
  ]);
  t.keys = [ownerKey, memberKey, viewerKey];
  t.ownerKey = ownerKey;

  // Organizations with members.
  const mkOrg = async (n, members) => {
    const org = ok(await server.post('/v1/organizations', {
      headers: t.owner.auth,
      json: { name: `Iso ${mark} org ${n}`, slug: `${mark}-org-${n}`, description: `Organization ${n} of ${mark}` },
    }), 201, `POST /v1/organizations ${n} in ${label}`);
    for (const [user, role] of members) {
      ok(await server.post(`/v1/organizations/${org.id}/members`, {
        headers: t.owner.auth, json: { user_id: user.id, role },
      }), 201, `POST /v1/organizations/{id}/members in ${label}`);
    }
    return { id: org.id, name: org.name, members: members.map(([u, role]) => ({ user_id: u.id, role })) };
  };
  t.orgs = [
    await mkOrg(1, [[t.admin, 'admin'], [t.member, 'member']]),
    await mkOrg(2, [[t.viewer, 'member'], [t.extra1, 'member']]),
  ];
  return t;
}

/** GET every page of a list (page mode, per_page=100). */
async function listAll(headers, path) {
  const rows = [];
  for (let page = 1; ; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await apiGet(`${path}${sep}per_page=100&page=${page}`, { headers });
    const data = ok(res, 200, `GET ${path} page ${page}`);
    rows.push(...data);
    if (data.length < 100) return rows;
  }
}

/** Everything B's owner can see of B: compared before and after the attack. */
async function snapshotB() {
  const h = T.B.owner.auth;
  const one = async (p) => ok(await apiGet(p, { headers: h }), 200, `B owner GET ${p}`);
  const [tenant, users, members, orgs, keys, audit] = await Promise.all([
    one(`/v1/tenants/${T.B.id}`),
    listAll(h, '/v1/users'),
    listAll(h, `/v1/tenants/${T.B.id}/members`),
    listAll(h, '/v1/organizations'),
    listAll(h, '/v1/api-keys'),
    listAll(h, '/v1/audit-logs'),
  ]);
  const orgDetails = await Promise.all(T.B.orgs.map((o) => one(`/v1/organizations/${o.id}`)));
  const orgMembers = await Promise.all(T.B.orgs.map((o) => listAll(h, `/v1/organizations/${o.id}/members`)));
  const keyDetails = await Promise.all(T.B.keys.map((k) => one(`/v1/api-keys/${k.id}`)));
  const userDetails = await Promise.all(T.B.users.map((u) => one(`/v1/users/${u.id}`)));
  // last_used_at is a usage stamp (written in batches), not data an attacker could change.
  const stamp = (k) => ({ ...k, last_used_at: undefined });
  // A's refused attempts are recorded in B's log as access.denied (issue #29): that is B's
  // evidence, not a change A made to B's data.
  const fromA = new Set(T.A.users.map((u) => u.id));
  const deniedToA = (e) => e.action === 'access.denied' && fromA.has(e.actor);
  return {
    tenant, users, members, orgs, keys: keys.map(stamp), orgDetails, orgMembers,
    keyDetails: keyDetails.map(stamp), userDetails,
    auditIds: audit.filter((e) => !deniedToA(e)).map((e) => e.id).sort(),
    deniedToA: audit.filter(deniedToA),
  };
}

let snapshotBefore;

before(async () => {
  // Rate limits off too: one user sends well over a thousand requests here (quotas stay).
  server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_LIMITS_ENABLED: 'false' } });
  const a = await login(server, TEST_ADMIN.email, TEST_ADMIN.password);
  admin = { tokens: a.tokens, auth: bearer(a.tokens.access_token) };
  T.A = await buildTenant('A');
  T.B = await buildTenant('B');
});

after(async () => { await server?.stop(); });

// ---------------------------------------------------------------------------------------
// Credentials of A.

/** Labels of credentialsOfA() (known before setup, for the test names). */
const A_CRED_LABELS = [
  'A owner token', 'A admin token', 'A member token', 'A viewer token', 'A key (X-API-Key)',
  'A key (Authorization: Bearer tbk_…)', 'A owner token + X-Tenant-ID: A',
  'A viewer token + X-Tenant-ID: A', 'A key (X-API-Key) + X-Tenant-ID: A',
];
const B_HEADER_LABELS = [
  'A owner token + X-Tenant-ID: B', 'A admin token + X-Tenant-ID: B', 'A viewer token + X-Tenant-ID: B',
  'A owner token + X-Tenant-ID: B (upper case)',
];

/** Every way A's people and key can call: {label, headers, kind, role, user}. */
function credentialsOfA({ withTenantHeaders = true } = {}) {
  const A = T.A;
  const key = A.ownerKey.key;
  const creds = [
    { label: 'A owner token', headers: A.owner.auth, kind: 'user', role: 'owner', user: A.owner },
    { label: 'A admin token', headers: A.admin.auth, kind: 'user', role: 'admin', user: A.admin },
    { label: 'A member token', headers: A.member.auth, kind: 'user', role: 'member', user: A.member },
    { label: 'A viewer token', headers: A.viewer.auth, kind: 'user', role: 'viewer', user: A.viewer },
    { label: 'A key (X-API-Key)', headers: { 'X-API-Key': key }, kind: 'key', role: 'owner', user: A.owner },
    { label: 'A key (Authorization: Bearer tbk_…)', headers: { Authorization: `Bearer ${key}` }, kind: 'key', role: 'owner', user: A.owner },
  ];
  if (withTenantHeaders) {
    creds.push(
      { label: 'A owner token + X-Tenant-ID: A', headers: { ...A.owner.auth, 'X-Tenant-ID': A.id }, kind: 'user', role: 'owner', user: A.owner },
      { label: 'A viewer token + X-Tenant-ID: A', headers: { ...A.viewer.auth, 'X-Tenant-ID': A.id }, kind: 'user', role: 'viewer', user: A.viewer },
      { label: 'A key (X-API-Key) + X-Tenant-ID: A', headers: { 'X-API-Key': key, 'X-Tenant-ID': A.id }, kind: 'key', role: 'owner', user: A.owner },
    );
  }
  return creds;
}

// ---------------------------------------------------------------------------------------
// Positive controls.

describe('positive controls', () => {
  before(async () => { snapshotBefore = await snapshotB(); });

  test('setup: the two tenants are distinct and fully populated', () => {
    assert.notEqual(T.A.id, T.B.id);
    assert.equal(snapshotBefore.users.length, 6, 'B has six users');
    assert.equal(snapshotBefore.members.length, 6, 'B has six members');
    assert.equal(snapshotBefore.orgs.length, 2, 'B has two organizations');
    assert.equal(snapshotBefore.keys.length, 3, 'B\'s owner sees B\'s three keys');
    assert.equal(snapshotBefore.tenant.id, T.B.id);
    assert.ok(snapshotBefore.auditIds.length > 0, 'B has audit events');
  });

  test('every credential of A reaches A\'s own resources (so the routes exist)', async () => {
    const A = T.A;
    const failures = [];
    const checks = [];
    for (const c of credentialsOfA()) {
      const paths = [
        '/v1/users', `/v1/users/${A.member.id}`, `/v1/tenants/${A.id}`, `/v1/tenants/${A.id}/members`,
        '/v1/tenants', '/v1/organizations', `/v1/organizations/${A.orgs[0].id}`,
        `/v1/organizations/${A.orgs[0].id}/members`, '/v1/api-keys',
      ];
      if (c.kind === 'key' || c.role === 'owner' || c.role === 'admin') paths.push(`/v1/api-keys/${A.ownerKey.id}`);
      if (c.kind === 'user' && (c.role === 'owner' || c.role === 'admin')) paths.push('/v1/audit-logs');
      for (const p of paths) {
        checks.push(async () => {
          const res = await apiGet(p, { headers: c.headers });
          if (res.status !== 200 || res.json?.success !== true) failures.push(`${c.label}: GET ${p} -> ${show(res)}`);
        });
      }
    }
    await pool(checks);
    assert.deepEqual(failures, [], `A's credentials must reach A's resources:\n${failures.join('\n')}`);
  });

  test('the same requests by B\'s owner reach B\'s resources (B\'s ids are real)', async () => {
    const B = T.B;
    const h = B.owner.auth;
    for (const p of [`/v1/users/${B.member.id}`, `/v1/tenants/${B.id}`, `/v1/organizations/${B.orgs[0].id}`,
      `/v1/api-keys/${B.ownerKey.id}`, `/v1/api-keys/${B.keys[1].id}`]) {
      ok(await apiGet(p, { headers: h }), 200, `B owner GET ${p}`);
    }
    const me = ok(await apiGet('/v1/users', { headers: { 'X-API-Key': B.ownerKey.key } }), 200, 'B key GET /v1/users');
    assert.equal(me.length, 6);
  });

  test('the platform admin sees both tenants and enters B with X-Tenant-ID', async () => {
    const tenants = await listAll(admin.auth, '/v1/tenants');
    const ids = tenants.map((t) => t.id);
    assert.ok(ids.includes(T.A.id) && ids.includes(T.B.id), `admin's GET /v1/tenants lists A and B: ${JSON.stringify(ids)}`);
    const B = T.B;
    const inB = { ...admin.auth, 'X-Tenant-ID': B.id };
    ok(await apiGet(`/v1/tenants/${B.id}`, { headers: admin.auth }), 200, 'admin GET /v1/tenants/{B}');
    const users = await listAll(inB, '/v1/users');
    assert.deepEqual(users.map((u) => u.id).sort(), B.users.map((u) => u.id).sort(), 'admin lists B\'s users in B');
    for (const p of [`/v1/users/${B.member.id}`, `/v1/organizations/${B.orgs[0].id}`, `/v1/organizations/${B.orgs[0].id}/members`,
      `/v1/api-keys/${B.ownerKey.id}`, `/v1/tenants/${B.id}/members`, '/v1/organizations', '/v1/api-keys']) {
      ok(await apiGet(p, { headers: inB }), 200, `admin + X-Tenant-ID: B GET ${p}`);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Lists: A never sees or counts B's rows.

/** Every id, email, name and marker of B: none may appear anywhere in an answer to A. */
function bNeedles() {
  const B = T.B;
  return [
    B.mark, B.id, ...B.users.map((u) => u.id), ...B.users.map((u) => u.email),
    ...B.orgs.map((o) => o.id), ...B.keys.map((k) => k.id), ...B.keys.map((k) => k.key),
  ];
}

function leaksOfB(text) {
  return bNeedles().filter((n) => text.includes(n));
}

/**
 * One list request: checks the envelope, that no B row (or id, email, marker) appears, that
 * every row is in `universe` (ids), that the ids equal `expected` when given, and that
 * `meta.total` counts exactly the expected rows. Returns a failure string or null.
 */
function checkList(res, { what, idKey = 'id', universe, expected, total = true, cursor = false }) {
  if (res.status !== 200 || res.json?.success !== true || !Array.isArray(res.json.data)) return `${what}: ${show(res)}`;
  const leaks = leaksOfB(res.body);
  if (leaks.length) return `${what}: the answer mentions B (${leaks.join(', ')}): ${res.body.slice(0, 400)}`;
  const ids = res.json.data.map((r) => r[idKey]);
  if (universe) {
    const outside = ids.filter((id) => !universe.has(id));
    if (outside.length) return `${what}: rows outside A's own set: ${JSON.stringify(outside)}`;
  }
  const meta = res.json.meta || {};
  if (expected) {
    const got = [...ids].sort();
    const want = [...expected].sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) return `${what}: ids ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
  }
  if (total && expected && meta.total !== expected.length) {
    return `${what}: meta.total ${meta.total}, expected ${expected.length} (meta ${JSON.stringify(meta)})`;
  }
  if (total && !expected && typeof meta.total === 'number' && universe && meta.total > universe.size) {
    return `${what}: meta.total ${meta.total} exceeds A's ${universe.size} rows (meta ${JSON.stringify(meta)})`;
  }
  if (cursor && !('next_cursor' in meta)) return `${what}: cursor mode without next_cursor: ${JSON.stringify(meta)}`;
  return null;
}

/** Follows `after=` cursors (per_page=2) through every page; returns failures and ids. */
async function walkCursor(headers, path, query, { what, idKey = 'id', universe }) {
  const failures = [];
  const ids = [];
  let cursor = '';
  for (let i = 0; i < 50; i++) {
    const res = await apiGet(`${path}?${query ? `${query}&` : ''}per_page=2&after=${enc(cursor)}`, { headers });
    const f = checkList(res, { what: `${what} (cursor page ${i + 1})`, idKey, universe, total: false, cursor: true });
    if (f) { failures.push(f); break; }
    ids.push(...res.json.data.map((r) => r[idKey]));
    cursor = res.json.meta.next_cursor;
    if (cursor === null || cursor === undefined) break;
  }
  return { failures, ids };
}

/**
 * Filter cases for one list: [query, predicate over A's rows] — the predicate says which of
 * A's rows the query must return (null: no exact expectation, only "nothing of B").
 */
function userFilterCases(idKey) {
  const A = T.A;
  const B = T.B;
  const bIds = B.users.map((u) => u.id);
  return [
    ['', () => true],
    [`email[contains]=${enc(B.mark)}`, () => false],
    [`email[contains]=${enc(B.mark.toUpperCase())}`, () => false],
    [`email=${enc(B.owner.email)}`, () => false],
    [`email[in]=${enc(B.users.map((u) => u.email).join(','))}`, () => false],
    [`email[startswith]=${enc('member-')}`, (r) => r.email === A.member.email],
    [`${idKey}=${B.owner.id}`, () => false],
    [`${idKey}[in]=${bIds.join(',')}`, () => false],
    [`${idKey}[in]=${[A.owner.id, ...bIds].join(',')}`, (r) => r[idKey] === A.owner.id],
    [`${idKey}[ne]=${B.owner.id}`, () => true],
    [`${idKey}[nin]=${bIds.join(',')}`, () => true],
    [`name[startswith]=${enc(`Iso ${B.mark}`)}`, () => false],
    [`name[contains]=${enc(B.mark)}`, () => false],
    [`name[startswith]=${enc('Iso ')}`, () => true],
    [`email[contains]=${enc('example.com')}`, () => true],
    ['sort=-created_at', () => true],
    ['sort=email', () => true],
    ['sort=-email,name', () => true],
    [`sort=-email&email[contains]=${enc(B.mark)}`, () => false],
    ['role=owner', (r) => r.role === 'owner'],
    [`role=owner&email[contains]=${enc(B.mark)}`, () => false],
    ['role[in]=admin,viewer&sort=-name', (r) => r.role === 'admin' || r.role === 'viewer'],
    [`email[nin]=${enc(A.owner.email)}`, (r) => r.email !== A.owner.email],
    ['count=false', () => true],
    ['count=true&per_page=100', () => true],
    ['joined_at[gte]=2000-01-01T00:00:00.000Z', () => true],
    [`fields=${idKey},email`, () => true],
  ];
}

/** A's rows of each list, as A's owner sees them (checked to be exactly what setup made). */
const A_ROWS = {};

describe('lists of A never include or count B\'s rows', () => {
  before(async () => {
    const A = T.A;
    const h = A.owner.auth;
    A_ROWS.users = await listAll(h, '/v1/users');
    A_ROWS.members = await listAll(h, `/v1/tenants/${A.id}/members`);
    A_ROWS.orgs = await listAll(h, '/v1/organizations');
    A_ROWS.orgMembers = await listAll(h, `/v1/organizations/${A.orgs[0].id}/members`);
    A_ROWS.keys = await listAll(h, '/v1/api-keys');
    A_ROWS.tenants = await listAll(h, '/v1/tenants');
    A_ROWS.audit = await listAll(h, '/v1/audit-logs');
    A_ROWS.bAudit = new Set((await listAll(T.B.owner.auth, '/v1/audit-logs')).map((e) => e.id));
  });

  test('A\'s owner sees exactly A\'s rows', () => {
    const A = T.A;
    const sortIds = (xs, k = 'id') => xs.map((x) => x[k]).sort();
    assert.deepEqual(sortIds(A_ROWS.users), A.users.map((u) => u.id).sort(), 'users');
    assert.deepEqual(sortIds(A_ROWS.members, 'user_id'), A.users.map((u) => u.id).sort(), 'members');
    assert.deepEqual(sortIds(A_ROWS.orgs), A.orgs.map((o) => o.id).sort(), 'organizations');
    assert.deepEqual(sortIds(A_ROWS.orgMembers, 'user_id'), A.orgs[0].members.map((m) => m.user_id).sort(), 'organization members');
    assert.deepEqual(sortIds(A_ROWS.keys), A.keys.map((k) => k.id).sort(), 'api keys');
    assert.deepEqual(sortIds(A_ROWS.tenants), [A.id], 'tenants');
    for (const e of A_ROWS.audit) {
      assert.ok(!A_ROWS.bAudit.has(e.id), `B's event ${e.id} in A's audit log`);
      if ('tenant_id' in e) assert.equal(e.tenant_id, A.id, `A's audit log holds an event of another tenant: ${JSON.stringify(e)}`);
    }
    assert.ok(A_ROWS.audit.length > 0, 'A has audit events');
    for (const [name, rows] of Object.entries(A_ROWS)) {
      if (name === 'bAudit') continue;
      const leaks = leaksOfB(JSON.stringify(rows));
      assert.deepEqual(leaks, [], `${name} of A mention B`);
    }
  });

  test('raw brackets filter like percent-encoded ones (docs/api.md §14 "Lists")', async () => {
    const A = T.A;
    const B = T.B;
    for (const q of [`email[contains]=${B.mark}`, `name[startswith]=Iso%20${B.mark}`, `id[in]=${B.owner.id},${A.owner.id}`]) {
      const raw = await server.get(`/v1/users?${q}`, { headers: A.owner.auth });
      const encoded = await apiGet(`/v1/users?${q}`, { headers: A.owner.auth });
      assert.equal(encoded.status, 200, `encoded ${q}: ${show(encoded)}`);
      assert.equal(raw.status, 200, `GET /v1/users?${q} with raw brackets: ${show(raw)}`);
      assert.deepEqual(raw.json.data, encoded.json.data);
      assert.deepEqual(raw.json.meta, encoded.json.meta);
    }
  });

  for (let cred = 0; cred < A_CRED_LABELS.length; cred++) {
    test(`${A_CRED_LABELS[cred]}: filters, sorts and cursors`, async () => {
      const c = credentialsOfA()[cred];
      assert.equal(c.label, A_CRED_LABELS[cred]);
      const A = T.A;
      const B = T.B;
      const failures = [];
      const jobs = [];

      const run = (path, cases, { idKey = 'id', rows, universe, time = 'created_at' }) => {
        for (const [query, pred] of cases) {
          jobs.push(async () => {
            const what = `${c.label}: GET ${path}?${query}`;
            const res = await apiGet(`${path}${query ? `?${query}` : ''}`, { headers: c.headers });
            const expected = pred ? rows.filter(pred).map((r) => r[idKey]) : undefined;
            const noTotal = /count=false/.test(query);
            const f = checkList(res, { what, idKey, universe, expected, total: !noTotal });
            if (f) failures.push(f);
            else if (noTotal && typeof res.json.meta?.total === 'number') failures.push(`${what}: count=false still answers total`);
          });
        }
        // Page mode, per_page=2, page 2; cursor mode with count; full cursor walk.
        jobs.push(async () => {
          const res = await apiGet(`${path}?per_page=2&page=2&sort=-${time}`, { headers: c.headers });
          const f = checkList(res, { what: `${c.label}: GET ${path}?per_page=2&page=2`, idKey, universe });
          if (f) failures.push(f);
          else if (res.json.meta.total !== rows.length) failures.push(`${c.label}: GET ${path}?per_page=2&page=2: total ${res.json.meta.total}, expected ${rows.length}`);
        });
        jobs.push(async () => {
          const res = await apiGet(`${path}?after=&count=true&per_page=100`, { headers: c.headers });
          const f = checkList(res, { what: `${c.label}: GET ${path}?after=&count=true`, idKey, universe, expected: rows.map((r) => r[idKey]), cursor: true });
          if (f) failures.push(f);
        });
        jobs.push(async () => {
          const res = await apiGet(`${path}?after=&count=true&per_page=100&name[contains]=${enc(B.mark)}`, { headers: c.headers });
          if (res.status === 400) return; // lists without a name field
          const f = checkList(res, { what: `${c.label}: GET ${path}?after=&count=true&name[contains]=<B mark>`, idKey, universe, expected: [], cursor: true });
          if (f) failures.push(f);
        });
        jobs.push(async () => {
          const { failures: fs, ids } = await walkCursor(c.headers, path, '', { what: `${c.label}: GET ${path} cursor walk`, idKey, universe });
          failures.push(...fs);
          const want = rows.map((r) => r[idKey]).sort();
          if (!fs.length && JSON.stringify([...ids].sort()) !== JSON.stringify(want)) {
            failures.push(`${c.label}: GET ${path} cursor walk: ids ${JSON.stringify(ids)}, expected ${JSON.stringify(want)}`);
          }
        });
        jobs.push(async () => {
          const { failures: fs, ids } = await walkCursor(c.headers, path, `sort=-${time},name`, { what: `${c.label}: GET ${path}?sort=-${time},name cursor walk`, idKey, universe });
          failures.push(...fs);
          const want = rows.map((r) => r[idKey]).sort();
          if (!fs.length && JSON.stringify([...ids].sort()) !== JSON.stringify(want)) {
            failures.push(`${c.label}: GET ${path}?sort=-${time},name cursor walk: ids ${JSON.stringify(ids)}, expected ${JSON.stringify(want)}`);
          }
        });
      };

      // Users and tenant members.
      const users = A_ROWS.users;
      run('/v1/users', userFilterCases('id'), { rows: users, universe: new Set(users.map((u) => u.id)) });
      const members = A_ROWS.members;
      run(`/v1/tenants/${A.id}/members`, userFilterCases('user_id').filter(([q]) => !/created_at|fields=/.test(q) || /joined_at/.test(q))
        .concat([['sort=-joined_at', () => true], ['fields=user_id,email', () => true]]),
      { idKey: 'user_id', rows: members, universe: new Set(members.map((m) => m.user_id)), time: 'joined_at' });

      // Organizations and the members of A's first organization.
      const orgs = A_ROWS.orgs;
      const bOrgIds = B.orgs.map((o) => o.id);
      run('/v1/organizations', [
        ['', () => true],
        [`name[contains]=${enc(B.mark)}`, () => false],
        [`name[startswith]=${enc(`Iso ${B.mark}`)}`, () => false],
        [`slug[startswith]=${enc(B.mark)}`, () => false],
        [`slug=${enc(`${B.mark}-org-1`)}`, () => false],
        [`description[contains]=${enc(B.mark)}`, () => false],
        [`id=${bOrgIds[0]}`, () => false],
        [`id[in]=${bOrgIds.join(',')}`, () => false],
        [`id[in]=${[A.orgs[0].id, ...bOrgIds].join(',')}`, (r) => r.id === A.orgs[0].id],
        [`id[nin]=${bOrgIds.join(',')}`, () => true],
        [`name[startswith]=${enc('Iso ')}`, () => true],
        ['sort=-created_at', () => true],
        ['sort=name', () => true],
        ['sort=-slug,name', () => true],
        ['member_count[gte]=0', () => true],
        ['member_count=2&sort=-name', (r) => r.member_count === 2],
        ['count=false', () => true],
        ['fields=id,name', () => true],
      ], { rows: orgs, universe: new Set(orgs.map((o) => o.id)) });
      const om = A_ROWS.orgMembers;
      const bUserIds = B.users.map((u) => u.id);
      run(`/v1/organizations/${A.orgs[0].id}/members`, [
        ['', () => true],
        [`email[contains]=${enc(B.mark)}`, () => false],
        [`user_id[in]=${bUserIds.join(',')}`, () => false],
        [`user_id=${B.admin.id}`, () => false],
        [`name[startswith]=${enc(`Iso ${B.mark}`)}`, () => false],
        ['sort=-joined_at', () => true],
        ['sort=email', () => true],
        ['role=admin', (r) => r.role === 'admin'],
      ], { idKey: 'user_id', rows: om, universe: new Set(om.map((m) => m.user_id)), time: 'joined_at' });

      // API keys: admin+ (and the owner's key) see all of A's keys, others their own.
      const seesAll = c.kind === 'key' || c.role === 'owner' || c.role === 'admin';
      const keys = A_ROWS.keys.filter((k) => seesAll || k.owner_user_id === c.user.id);
      const bKeyIds = B.keys.map((k) => k.id);
      run('/v1/api-keys', [
        ['', () => true],
        [`id=${bKeyIds[0]}`, () => false],
        [`id[in]=${bKeyIds.join(',')}`, () => false],
        [`owner_user_id=${B.owner.id}`, () => false],
        [`owner_user_id[in]=${bUserIds.join(',')}`, () => false],
        [`name[contains]=${enc(B.mark)}`, () => false],
        [`name[startswith]=${enc('Iso ')}`, () => true],
        ['is_active=true', () => true],
        ['sort=-created_at', () => true],
        ['sort=name', () => true],
        ['count=false', () => true],
      ], { rows: keys, universe: new Set(keys.map((k) => k.id)) });

      // Tenants: only A.
      const tenants = A_ROWS.tenants;
      run('/v1/tenants', [
        ['', () => true],
        [`id=${B.id}`, () => false],
        [`id[in]=${[A.id, B.id].join(',')}`, (r) => r.id === A.id],
        [`name[contains]=${enc(B.mark)}`, () => false],
        [`slug[contains]=${enc(B.mark)}`, () => false],
        [`name[startswith]=${enc('Iso ')}`, () => true],
        ['sort=-created_at', () => true],
        ['sort=name', () => true],
        ['status=active', () => true],
        ['plan=free', (r) => r.plan === 'free'],
        ['member_count[gte]=1', () => true],
        ['count=false', () => true],
      ], { rows: tenants, universe: new Set([A.id]) });

      // Audit log: admin+ users; A's key may or may not be let in (not in the admin scope's
      // list) — when it is, the same rules hold. Rows are checked against B's own log.
      if (c.kind === 'user' && (c.role === 'member' || c.role === 'viewer')) {
        jobs.push(async () => {
          const res = await apiGet('/v1/audit-logs', { headers: c.headers });
          if (res.status !== 403 || res.json?.error?.code !== 'FORBIDDEN') failures.push(`${c.label}: GET /v1/audit-logs -> ${show(res)}, expected 403`);
        });
      } else {
        const auditCases = [
          '', `actor=${B.owner.id}`, `actor[in]=${bUserIds.join(',')}`, `target=${B.member.id}`,
          `target[contains]=${enc(B.mark)}`, 'action=user.created', 'action[startswith]=org.', 'sort=-ts',
          'sort=action,-ts', 'ts[gte]=2000-01-01T00:00:00.000Z', 'count=false', 'after=&count=true',
        ];
        const targeted = (q) => q.includes(B.owner.id) || q.includes(B.member.id) || q.includes(enc(B.mark)) || q.startsWith('actor[in]');
        for (const query of auditCases) {
          jobs.push(async () => {
            const what = `${c.label}: GET /v1/audit-logs?${query}`;
            const res = await apiGet(`/v1/audit-logs?per_page=100${query ? `&${query}` : ''}`, { headers: c.headers });
            if (c.kind === 'key' && res.status === 403) return;
            const f = checkList(res, { what, expected: targeted(query) ? [] : undefined, total: query !== 'count=false' });
            if (f) { failures.push(f); return; }
            for (const e of res.json.data) {
              if (A_ROWS.bAudit.has(e.id)) failures.push(`${what}: B's event ${e.id}`);
              if ('tenant_id' in e && e.tenant_id !== A.id) failures.push(`${what}: event of tenant ${e.tenant_id}: ${JSON.stringify(e)}`);
            }
          });
        }
      }

      // A cursor made by B's owner, replayed by A: 400, or A's rows only.
      for (const path of ['/v1/users', '/v1/organizations', '/v1/api-keys']) {
        jobs.push(async () => {
          const bRes = await apiGet(`${path}?after=&per_page=1`, { headers: B.owner.auth });
          const cur = bRes.json?.meta?.next_cursor;
          if (!cur) { failures.push(`B owner GET ${path}?after=&per_page=1 gave no next_cursor: ${show(bRes)}`); return; }
          const res = await apiGet(`${path}?after=${enc(cur)}&per_page=100`, { headers: c.headers });
          if (res.status === 400) return;
          const f = checkList(res, { what: `${c.label}: GET ${path} with B's cursor`, total: false, cursor: true });
          if (f) failures.push(f);
        });
      }

      await pool(jobs);
      assert.deepEqual(failures, [], `${failures.length} list answers leak or miscount:\n${failures.join('\n')}`);
    });
  }
});

// ---------------------------------------------------------------------------------------
// The attack: every credential of A against every resource of B.

/**
 * Requests on B's resources: {method, path, body, headers?, tpl} where `tpl` is the path with
 * B's ids replaced by a random id (the "does not exist" twin). Bodies are valid JSON so that
 * only visibility can decide (API.md §13 "Precedence of errors").
 */
function attackRequests() {
  const A = T.A;
  const B = T.B;
  const reqs = [];
  const add = (method, path, body, extra = {}) => {
    let twin = path;
    for (const id of [B.id, ...B.users.map((u) => u.id), ...B.orgs.map((o) => o.id), ...B.keys.map((k) => k.id)]) {
      twin = twin.split(id).join(RANDOM_ID);
    }
    reqs.push({ method, path, body, twin, ...extra });
  };
  const name = { name: `hijacked ${RUN}` };

  // The tenant.
  add('GET', `/v1/tenants/${B.id}`);
  add('PUT', `/v1/tenants/${B.id}`, name);
  add('PATCH', `/v1/tenants/${B.id}`, { settings: { cors_origins: ['https://evil.example'] } });
  add('DELETE', `/v1/tenants/${B.id}`);
  add('GET', `/v1/tenants/${B.id}/members`);
  add('GET', `/v1/tenants/${B.id}/members?email[contains]=${enc(B.mark)}`);
  add('POST', `/v1/tenants/${B.id}/members`, { email: A.extra2.email, role: 'viewer' });
  add('POST', `/v1/tenants/${B.id}/members`, { email: A.member.email, role: 'owner' });
  add('POST', `/v1/tenants/${B.id}`, undefined, { headers: { 'X-HTTP-Method-Override': 'DELETE' } });
  for (const u of B.users) {
    add('PATCH', `/v1/tenants/${B.id}/members/${u.id}`, { role: 'viewer' });
    add('DELETE', `/v1/tenants/${B.id}/members/${u.id}`);
  }
  // A's own members' ids inside B's tenant path.
  add('PATCH', `/v1/tenants/${B.id}/members/${A.member.id}`, { role: 'admin' });
  add('DELETE', `/v1/tenants/${B.id}/members/${A.owner.id}`);

  // B's users.
  for (const u of B.users) {
    add('GET', `/v1/users/${u.id}`);
    add('PUT', `/v1/users/${u.id}`, name);
    add('PATCH', `/v1/users/${u.id}`, { role: 'viewer' });
    add('DELETE', `/v1/users/${u.id}`);
  }
  add('DELETE', `/v1/users/${B.member.id}?purge=true`);
  add('POST', `/v1/users/${B.viewer.id}`, undefined, { headers: { 'X-HTTP-Method-Override': 'DELETE' } });

  // B's organizations.
  for (const o of B.orgs) {
    add('GET', `/v1/organizations/${o.id}`);
    add('PUT', `/v1/organizations/${o.id}`, { ...name, description: 'hijacked' });
    add('PATCH', `/v1/organizations/${o.id}`, name);
    add('DELETE', `/v1/organizations/${o.id}`);
    add('GET', `/v1/organizations/${o.id}/members`);
    add('POST', `/v1/organizations/${o.id}/members`, { user_id: A.member.id, role: 'admin' });
    add('POST', `/v1/organizations/${o.id}/members`, { user_id: B.extra2.id, role: 'member' });
    for (const m of o.members) add('DELETE', `/v1/organizations/${o.id}/members/${m.user_id}`);
  }
  add('POST', `/v1/organizations/${B.orgs[0].id}`, undefined, { headers: { 'X-HTTP-Method-Override': 'DELETE' } });

  // B's API keys.
  for (const k of B.keys) {
    add('GET', `/v1/api-keys/${k.id}`);
    add('PUT', `/v1/api-keys/${k.id}`, { name: `hijacked ${RUN}` });
    add('PATCH', `/v1/api-keys/${k.id}`, { is_active: false });
    add('POST', `/v1/api-keys/${k.id}/rotate`);
    add('DELETE', `/v1/api-keys/${k.id}`);
  }
  add('POST', `/v1/api-keys/${B.ownerKey.id}`, undefined, { headers: { 'X-HTTP-Method-Override': 'DELETE' } });
  add('POST', `/v1/api-keys/${B.keys[1].id}`, { is_active: false }, { headers: { 'X-HTTP-Method-Override': 'PATCH' } });
  return reqs;
}

/**
 * B's ids inside A's own containers: PATCH/DELETE /v1/tenants/{A}/members/{b user},
 * DELETE /v1/organizations/{A org}/members/{b user}, POST /v1/organizations/{A org}/members
 * with a B user. The answer must be the one a random id gets (admin+: 404).
 */
function crossRequests() {
  const A = T.A;
  const B = T.B;
  const reqs = [];
  const add = (method, path, body, bId) => {
    const twinPath = path.split(bId).join(RANDOM_ID);
    const twinBody = body && JSON.parse(JSON.stringify(body).split(bId).join(RANDOM_ID));
    reqs.push({ method, path, body, twin: twinPath, twinBody });
  };
  for (const u of [B.owner, B.admin, B.member, B.extra1]) {
    add('PATCH', `/v1/tenants/${A.id}/members/${u.id}`, { role: 'viewer' }, u.id);
    add('DELETE', `/v1/tenants/${A.id}/members/${u.id}`, undefined, u.id);
    add('DELETE', `/v1/organizations/${A.orgs[0].id}/members/${u.id}`, undefined, u.id);
    add('POST', `/v1/organizations/${A.orgs[0].id}/members`, { user_id: u.id, role: 'member' }, u.id);
  }
  return reqs;
}

/** Sends one attack request with a credential. */
function send(c, r, { twin = false } = {}) {
  const body = twin && r.twinBody !== undefined ? r.twinBody : r.body;
  const opts = { headers: { ...c.headers, ...(r.headers || {}) } };
  if (body !== undefined) opts.json = body;
  return apiRequest(r.method, twin ? r.twin : r.path, opts);
}

/** The error envelope's problems, or null. */
function envelopeProblem(res, status, code) {
  if (res.status !== status) return `status ${res.status}`;
  const j = res.json;
  if (!j || j.success !== false || !j.error) return 'not the error envelope';
  if (code && j.error.code !== code) return `code ${j.error.code}`;
  if (typeof j.error.message !== 'string' || !j.error.message) return 'no message';
  if (/no route/i.test(j.error.message)) return `the route does not exist ("${j.error.message}")`;
  if (j.request_id !== res.headers['x-request-id']) return 'request_id differs from X-Request-ID';
  return null;
}

describe('every credential of A against every resource of B: 404', () => {
  const userHeaderCreds = () => {
    const A = T.A;
    const B = T.B;
    return [
      { label: 'A owner token + X-Tenant-ID: B', headers: { ...A.owner.auth, 'X-Tenant-ID': B.id } },
      { label: 'A admin token + X-Tenant-ID: B', headers: { ...A.admin.auth, 'X-Tenant-ID': B.id } },
      { label: 'A viewer token + X-Tenant-ID: B', headers: { ...A.viewer.auth, 'X-Tenant-ID': B.id } },
      { label: 'A owner token + X-Tenant-ID: B (upper case)', headers: { ...A.owner.auth, 'X-Tenant-ID': B.id.toUpperCase() } },
    ];
  };

  const labels = [...A_CRED_LABELS, ...B_HEADER_LABELS];
  for (let i = 0; i < labels.length; i++) {
    test(labels[i], async () => {
      const all = [...credentialsOfA(), ...userHeaderCreds()];
      const c = all[i];
      assert.equal(c.label, labels[i]);
      const failures = [];
      const reqs = attackRequests();
      const twins = new Map(); // "METHOD twin-path body" -> response
      const twinKey = (r) => `${r.method} ${r.twin} ${JSON.stringify(r.twinBody ?? r.body ?? null)} ${JSON.stringify(r.headers || {})}`;
      // Non-destructive methods first, then the rest: a wrongly accepted DELETE must not
      // turn later probes into vacuous 404s.
      const order = (r) => (r.method === 'DELETE' || r.headers?.['X-HTTP-Method-Override'] === 'DELETE' ? 1 : 0);
      const sorted = [...reqs].sort((x, y) => order(x) - order(y));
      for (const phase of [0, 1]) {
        await pool(sorted.filter((r) => order(r) === phase).map((r) => async () => {
          const res = await send(c, r);
          const what = `${c.label}: ${r.method} ${r.path}${r.headers ? ` ${JSON.stringify(r.headers)}` : ''}${r.body ? ` ${JSON.stringify(r.body)}` : ''}`;
          const p = envelopeProblem(res, 404, 'NOT_FOUND');
          if (p) {
            const tw = await send(c, r, { twin: true });
            failures.push(`${what} -> ${p}: ${show(res)} (a random id instead: ${tw.status} ${tw.json?.error?.message})`);
            return;
          }
          const k = twinKey(r);
          if (!twins.has(k)) twins.set(k, send(c, r, { twin: true }));
          const tw = await twins.get(k);
          if (tw.status !== 404 || tw.json?.error?.message !== res.json.error.message) {
            failures.push(`${what} -> 404 "${res.json.error.message}", but the random-id twin ${r.method} ${r.twin} -> ${show(tw)}`);
          }
        }));
      }

      // B's ids inside A's containers answer what a random id answers: 404 — visibility comes
      // before permission (§13), so even a viewer gets 404 for a member that is not there.
      // POST …/members names B's user in the body: 422 (admin+) or 403, like a random id.
      await pool(crossRequests().map((r) => async () => {
        const [res, tw] = await Promise.all([send(c, r), send(c, r, { twin: true })]);
        const what = `${c.label}: ${r.method} ${r.path}${r.body ? ` ${JSON.stringify(r.body)}` : ''}`;
        if (res.status !== tw.status || res.json?.error?.code !== tw.json?.error?.code || res.json?.error?.message !== tw.json?.error?.message) {
          failures.push(`${what} -> ${show(res)}; with a random id instead -> ${show(tw)}`);
          return;
        }
        if (res.status < 400) { failures.push(`${what} -> ${show(res)}`); return; }
        const expectStatus = r.method === 'POST' ? null : 404;
        if (expectStatus && res.status !== expectStatus) failures.push(`${what} -> ${show(res)}, expected ${expectStatus}`);
        const sent = r.path + JSON.stringify(r.body || {});
        const leaks = leaksOfB(res.body).filter((n) => !sent.includes(n));
        if (leaks.length) failures.push(`${what}: the answer mentions B: ${res.body}`);
      }));

      assert.deepEqual(failures, [], `${failures.length} requests on B's resources did not answer like a missing resource:\n${failures.join('\n')}`);
    });
  }
});

describe('X-Tenant-ID naming B', () => {
  const endpoints = () => {
    const A = T.A;
    const B = T.B;
    return [
      ['GET', '/v1/users'], ['GET', '/v1/organizations'], ['GET', '/v1/api-keys'], ['GET', '/v1/audit-logs'],
      ['GET', `/v1/users/${B.member.id}`], ['GET', `/v1/organizations/${B.orgs[0].id}`],
      ['GET', `/v1/api-keys/${B.ownerKey.id}`], ['GET', `/v1/tenants/${B.id}/members`],
      ['GET', `/v1/users/${A.member.id}`],
      ['POST', '/v1/users', { email: `intruder-${RUN}@${A.mark}.example.com`, name: 'intruder', role: 'member' }],
      ['POST', '/v1/organizations', { name: `Intruder org ${RUN}` }],
      ['POST', '/v1/api-keys', { name: `intruder key ${RUN}`, scopes: ['read'] }],
      ['PUT', `/v1/users/${B.member.id}`, { name: 'hijacked' }],
      ['DELETE', `/v1/users/${B.viewer.id}`],
    ];
  };
  const go = (headers, [method, path, body, extra]) => apiRequest(method, path, { headers: { ...headers, ...(extra || {}) }, ...(body ? { json: body } : {}) });

  test('a user of A: 404 exactly like a random tenant id', async () => {
    const A = T.A;
    const B = T.B;
    const failures = [];
    const jobs = [];
    for (const u of [A.owner, A.admin, A.member, A.viewer]) {
      for (const ep of endpoints()) {
        jobs.push(async () => {
          const [res, rnd] = await Promise.all([
            go({ ...u.auth, 'X-Tenant-ID': B.id }, ep), go({ ...u.auth, 'X-Tenant-ID': RANDOM_ID_2 }, ep),
          ]);
          const what = `A ${u.role} + X-Tenant-ID: B: ${ep[0]} ${ep[1]}`;
          const p = envelopeProblem(res, 404, 'NOT_FOUND');
          if (p) { failures.push(`${what} -> ${p}: ${show(res)}`); return; }
          if (rnd.status !== 404 || rnd.json?.error?.message !== res.json.error.message) {
            failures.push(`${what} -> "${res.json.error.message}"; with a random tenant id -> ${show(rnd)}`);
          }
        });
      }
    }
    await pool(jobs);
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  test('GET /v1/tenants with X-Tenant-ID: B answers like a random id and never lists B', async () => {
    const A = T.A;
    const B = T.B;
    for (const u of [A.owner, A.viewer]) {
      const res = await apiGet('/v1/tenants', { headers: { ...u.auth, 'X-Tenant-ID': B.id } });
      const rnd = await apiGet('/v1/tenants', { headers: { ...u.auth, 'X-Tenant-ID': RANDOM_ID_2 } });
      assert.equal(res.status, rnd.status, `${show(res)} vs random ${show(rnd)}`);
      assert.equal(res.json?.error?.message, rnd.json?.error?.message);
      assert.deepEqual(leaksOfB(res.body), [], `GET /v1/tenants with X-Tenant-ID: B mentions B: ${res.body}`);
    }
  });

  test('A\'s key: 403 FORBIDDEN, the same for B and for a random tenant id; its own tenant works', async () => {
    const A = T.A;
    const B = T.B;
    const failures = [];
    const jobs = [];
    const routes = [
      ...endpoints(),
      ...attackRequests().map((r) => [r.method, r.path, r.body, r.headers]).filter(([m, p]) => !p.includes('?') || m === 'GET'),
    ];
    for (const form of [{ 'X-API-Key': A.ownerKey.key }, { Authorization: `Bearer ${A.ownerKey.key}` },
      { 'X-API-Key': A.keys[2].key }]) {
      for (const ep of routes) {
        jobs.push(async () => {
          const [res, rnd] = await Promise.all([
            go({ ...form, 'X-Tenant-ID': B.id }, ep), go({ ...form, 'X-Tenant-ID': RANDOM_ID_2 }, ep),
          ]);
          const what = `A key ${Object.keys(form)[0]} + X-Tenant-ID: B: ${ep[0]} ${ep[1]}`;
          const p = envelopeProblem(res, 403, 'FORBIDDEN');
          if (p) { failures.push(`${what} -> ${p}: ${show(res)}`); return; }
          const pr = envelopeProblem(rnd, 403, 'FORBIDDEN');
          if (pr || rnd.json.error.message !== res.json.error.message) {
            failures.push(`${what} -> 403 "${res.json.error.message}"; with a random tenant id -> ${show(rnd)}`);
          }
        });
      }
    }
    await pool(jobs);
    assert.deepEqual(failures, [], `${failures.length} failures:\n${failures.join('\n')}`);
    // Positive control: the key naming its own tenant.
    const own = ok(await apiGet('/v1/users', { headers: { 'X-API-Key': A.ownerKey.key, 'X-Tenant-ID': A.id } }), 200, 'A key + X-Tenant-ID: A');
    assert.deepEqual(own.map((u) => u.id).sort(), A.users.map((u) => u.id).sort());
  });

  test('login and refresh with tenant_id B: 404 like a random id', async () => {
    const A = T.A;
    const B = T.B;
    const [l1, l2] = await Promise.all([
      server.post('/v1/auth/login', { json: { email: A.member.email, password: PASSWORD, tenant_id: B.id } }),
      server.post('/v1/auth/login', { json: { email: A.member.email, password: PASSWORD, tenant_id: RANDOM_ID_2 } }),
    ]);
    const e1 = envelopeProblem(l1, 404, 'NOT_FOUND');
    assert.equal(e1, null, `login with tenant_id B: ${show(l1)}`);
    assert.equal(envelopeProblem(l2, 404, 'NOT_FOUND'), null, `login with a random tenant_id: ${show(l2)}`);
    assert.equal(l1.json.error.message, l2.json.error.message);

    const [s1, s2] = await Promise.all([login(server, A.viewer.email), login(server, A.viewer.email)]);
    const [r1, r2] = await Promise.all([
      server.post('/v1/auth/refresh', { json: { refresh_token: s1.tokens.refresh_token, tenant_id: B.id } }),
      server.post('/v1/auth/refresh', { json: { refresh_token: s2.tokens.refresh_token, tenant_id: RANDOM_ID_2 } }),
    ]);
    assert.equal(envelopeProblem(r1, 404, 'NOT_FOUND'), null, `refresh with tenant_id B: ${show(r1)}`);
    assert.equal(envelopeProblem(r2, 404, 'NOT_FOUND'), null, `refresh with a random tenant_id: ${show(r2)}`);
    assert.equal(r1.json.error.message, r2.json.error.message);
  });
});

// ---------------------------------------------------------------------------------------
// Afterwards: B is untouched.

describe('B after the attack', () => {
  test('B\'s users, members, organizations, keys, tenant and audit log are unchanged', async () => {
    const now = await snapshotB();
    for (const k of Object.keys(snapshotBefore)) {
      if (k === 'deniedToA') continue;
      assert.deepEqual(now[k], snapshotBefore[k], `B's ${k} changed`);
    }
    // ...and B's admins can see that A tried (the events reach the log within a second).
    let denied = now.deniedToA;
    for (let i = 0; i < 30 && denied.length === 0; i++) {
      await sleep(100);
      denied = (await snapshotB()).deniedToA;
    }
    assert.ok(denied.length > 0, 'A\'s refused attempts are in B\'s audit log');
    for (const e of denied) {
      assert.equal(e.tenant_id, T.B.id);
      assert.ok([403, 404].includes(e.details.status), JSON.stringify(e));
      assert.match(e.details.route, /^(GET|POST|PUT|PATCH|DELETE|HEAD) \//);
    }
  });

  test('B\'s credentials still work, and A\'s attempts created nothing in B', async () => {
    const B = T.B;
    for (const k of B.keys) {
      const res = await apiGet('/v1/auth/me', { headers: { 'X-API-Key': k.key } });
      assert.equal(res.status, 200, `B's key ${k.name} still works: ${show(res)}`);
    }
    const users = ok(await apiGet('/v1/users', { headers: { 'X-API-Key': B.ownerKey.key } }), 200, 'B key GET /v1/users');
    assert.deepEqual(users.map((u) => u.id).sort(), B.users.map((u) => u.id).sort());
    for (const u of B.users.filter((x) => x.auth)) {
      const res = await apiGet(`/v1/tenants/${B.id}`, { headers: u.auth });
      assert.equal(res.status, 200, `${u.email} still reaches B: ${show(res)}`);
      assert.equal(res.json.data.role, u.role, `${u.email} keeps the role ${u.role}`);
      assert.equal(res.json.data.name, `Iso ${B.mark} tenant`);
    }
    // Nothing named by A's attempts with X-Tenant-ID: B exists anywhere the admin can see.
    const inB = { ...admin.auth, 'X-Tenant-ID': B.id };
    const orgs = await listAll(inB, '/v1/organizations');
    assert.ok(!orgs.some((o) => o.name.startsWith('Intruder')), 'an intruder organization in B');
    const keys = await listAll(inB, '/v1/api-keys');
    assert.deepEqual(keys.map((k) => k.id).sort(), B.keys.map((k) => k.id).sort(), 'B\'s keys');
  });

  test('A\'s lists are still exactly A\'s rows', async () => {
    const A = T.A;
    const users = await listAll(A.owner.auth, '/v1/users');
    assert.deepEqual(users.map((u) => u.id).sort(), A.users.map((u) => u.id).sort());
    const tenants = await listAll(A.owner.auth, '/v1/tenants');
    assert.deepEqual(tenants.map((t) => t.id), [A.id]);
  });
});
