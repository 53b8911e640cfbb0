// Organizations, groups inside a tenant (API.md §3.2; docs/api.md §14 "Organizations",
// "Members"): CRUD, members, the org admin's rights, slugs, and tenant scoping.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RFC3339_MS_Z, startServer } from './harness.mjs';
import { UUID_V7, expectUnauthorized } from './auth_helpers.mjs';
import {
  MEMBER_MEMBERS, NO_THROTTLE_ENV, ORG_MEMBERS, RANDOM_ID, addMember, adminLogin, as, describeRes,
  expectConflict, expectForbidden, expectNotFound, expectSuccess, expectValidation, list, newUser,
} from './tenancy_helpers.mjs';

let server;
let admin;
let t; // {owner, adm, mem, mem2, vie, tid}
let other; // another tenant's owner

before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  admin = await adminLogin(server);
  const owner = await newUser(server, 'org-own');
  const adm = await newUser(server, 'org-adm');
  const mem = await newUser(server, 'org-mem');
  const mem2 = await newUser(server, 'org-mem2');
  const vie = await newUser(server, 'org-vie');
  other = await newUser(server, 'org-other');
  t = { owner, adm, mem, mem2, vie, tid: owner.tid };
  await addMember(server, owner.auth, t.tid, adm.email, 'admin');
  await addMember(server, owner.auth, t.tid, mem.email, 'member');
  await addMember(server, owner.auth, t.tid, mem2.email, 'member');
  await addMember(server, owner.auth, t.tid, vie.email, 'viewer');
});
after(async () => { await server?.stop(); });

const H = (who) => as(who, t.tid);
const SLUG_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
let n = 0;
const uniq = (s) => `${s} ${process.pid} ${++n}`;

function expectOrg(o, { name, tenantId } = {}) {
  assert.deepEqual(Object.keys(o).sort(), ORG_MEMBERS, `organization: ${JSON.stringify(o)}`);
  assert.match(o.id, UUID_V7);
  if (name !== undefined) assert.equal(o.name, name);
  if (tenantId !== undefined) assert.equal(o.tenant_id, tenantId);
  assert.match(o.slug, SLUG_RE, `slug ${o.slug}`);
  assert.equal(typeof o.description, 'string');
  assert.equal(typeof o.member_count, 'number');
  assert.match(o.created_at, RFC3339_MS_Z);
  assert.match(o.updated_at, RFC3339_MS_Z);
}

function expectOrgMember(m, { userId, role } = {}) {
  assert.deepEqual(Object.keys(m).sort(), MEMBER_MEMBERS, `org member: ${JSON.stringify(m)}`);
  if (userId !== undefined) assert.equal(m.user_id, userId);
  if (role !== undefined) assert.equal(m.role, role);
  assert.match(m.joined_at, RFC3339_MS_Z);
}

const createOrg = (who, json) => server.post('/v1/organizations', { headers: H(who), json });
async function newOrg(who = t.owner, json = {}) {
  return expectSuccess(await createOrg(who, { name: uniq('Org'), ...json }), 201);
}
const addOrgMember = (who, orgId, json) => server.post(`/v1/organizations/${orgId}/members`, { headers: H(who), json });
const removeOrgMember = (who, orgId, userId) =>
  server.request('DELETE', `/v1/organizations/${orgId}/members/${userId}`, { headers: H(who) });
const updateOrg = (who, orgId, json, method = 'PUT') => server.request(method, `/v1/organizations/${orgId}`, { headers: H(who), json });
const getOrg = (who, orgId) => server.get(`/v1/organizations/${orgId}`, { headers: H(who) });

// ---------------------------------------------------------------------------------------

describe('create and read', () => {
  test('admin+ creates: 201 with {id, tenant_id, name, slug, description, member_count, created_at, updated_at}', async () => {
    const res = await createOrg(t.owner, { name: 'Engineering Team', description: 'Builds things' });
    const o = expectSuccess(res, 201);
    expectOrg(o, { name: 'Engineering Team', tenantId: t.tid });
    assert.equal(o.slug, 'engineering-team');
    assert.equal(o.description, 'Builds things');
    const byAdmin = expectSuccess(await createOrg(t.adm, { name: uniq('By admin'), slug: `adm-${process.pid}` }), 201);
    expectOrg(byAdmin, { tenantId: t.tid });
    assert.equal(byAdmin.slug, `adm-${process.pid}`);
    assert.equal(byAdmin.description, '', 'description defaults to empty');
    const got = expectSuccess(await getOrg(t.vie, o.id), 200);
    assert.deepEqual(got, o, 'any tenant member reads it');
  });

  test('a member or viewer cannot create (403); a non-member of the tenant → 404; no credentials → 401', async () => {
    expectForbidden(await createOrg(t.mem, { name: 'Nope' }));
    expectForbidden(await createOrg(t.vie, { name: 'Nope' }));
    expectNotFound(await server.post('/v1/organizations', { headers: as(other, t.tid), json: { name: 'Nope' } }));
    expectUnauthorized(await server.post('/v1/organizations', { json: { name: 'Nope' } }));
  });

  test('validation: name 1–100, description ≤ 1000, slug format → 422; duplicate slug in the tenant → 409', async () => {
    expectValidation(await createOrg(t.owner, {}), 'name');
    expectValidation(await createOrg(t.owner, { name: '' }), 'name');
    expectValidation(await createOrg(t.owner, { name: 'x'.repeat(101) }), 'name');
    expectValidation(await createOrg(t.owner, { name: 'ok', description: 'd'.repeat(1001) }), 'description');
    expectValidation(await createOrg(t.owner, { name: 'ok', slug: 'Bad Slug' }), 'slug');
    expectValidation(await createOrg(t.owner, { name: 'ok', slug: 'x-' }), 'slug');
    const okLong = expectSuccess(await createOrg(t.owner, { name: 'y'.repeat(100), description: 'd'.repeat(1000) }), 201);
    assert.equal(okLong.description.length, 1000);
    const slug = `dup-${process.pid}`;
    await newOrg(t.owner, { slug });
    const err = expectConflict(await createOrg(t.adm, { name: 'Another', slug }));
    assert.equal(err.details?.field, 'slug');
    // The same slug in another tenant is fine.
    const res = await server.post('/v1/organizations', { headers: other.auth, json: { name: 'Theirs', slug } });
    expectOrg(expectSuccess(res, 201), { tenantId: other.tid });
  });

  test('a slug made from a taken name gets a suffix', async () => {
    const name = uniq('Same Name');
    const a = await newOrg(t.owner, { name });
    const b = await newOrg(t.owner, { name });
    assert.notEqual(a.slug, b.slug);
    assert.ok(b.slug.startsWith(a.slug.slice(0, 8)), `${b.slug} vs ${a.slug}`);
  });

  test('lists: every tenant member lists the tenant\'s organizations only', async () => {
    const mine = await newOrg(t.owner, { name: uniq('Listed') });
    const theirs = expectSuccess(await server.post('/v1/organizations', { headers: other.auth, json: { name: uniq('Hidden') } }), 201);
    const { data, meta } = await list(server, '/v1/organizations?per_page=100', H(t.vie));
    for (const o of data) expectOrg(o, { tenantId: t.tid });
    assert.ok(data.some((o) => o.id === mine.id));
    assert.ok(!data.some((o) => o.id === theirs.id));
    assert.equal(meta.total, data.length);
    const byName = await list(server, `/v1/organizations?name=${encodeURIComponent(mine.name)}`, H(t.mem));
    assert.deepEqual(byName.data.map((o) => o.id), [mine.id]);
  });

  test('another tenant\'s organization is 404 for every verb', async () => {
    const theirs = expectSuccess(await server.post('/v1/organizations', { headers: other.auth, json: { name: uniq('Foreign') } }), 201);
    expectNotFound(await getOrg(t.owner, theirs.id));
    expectNotFound(await updateOrg(t.owner, theirs.id, { name: 'Hijack' }));
    expectNotFound(await server.request('DELETE', `/v1/organizations/${theirs.id}`, { headers: H(t.owner) }));
    expectNotFound(await server.get(`/v1/organizations/${theirs.id}/members`, { headers: H(t.owner) }));
    expectNotFound(await addOrgMember(t.owner, theirs.id, { user_id: t.owner.user.id }));
    expectNotFound(await getOrg(t.owner, RANDOM_ID));
    expectSuccess(await server.get(`/v1/organizations/${theirs.id}`, { headers: other.auth }), 200);
  });
});

// ---------------------------------------------------------------------------------------

describe('members and the org admin', () => {
  let org;
  before(async () => { org = await newOrg(t.owner, { name: uniq('Team') }); });

  test('admin+ adds members: 201 {user_id, email, name, role, joined_at}; role defaults to member; member_count follows', async () => {
    const count0 = expectSuccess(await getOrg(t.owner, org.id), 200).member_count;
    let res = await addOrgMember(t.owner, org.id, { user_id: t.mem.user.id, role: 'admin' });
    const m = expectSuccess(res, 201);
    expectOrgMember(m, { userId: t.mem.user.id, role: 'admin' });
    assert.equal(m.email, t.mem.email);
    assert.equal(m.name, t.mem.user.name);
    res = await addOrgMember(t.adm, org.id, { user_id: t.mem2.user.id });
    expectOrgMember(expectSuccess(res, 201), { userId: t.mem2.user.id, role: 'member' });
    assert.equal(expectSuccess(await getOrg(t.owner, org.id), 200).member_count, count0 + 2);
    const { data } = await list(server, `/v1/organizations/${org.id}/members`, H(t.vie));
    for (const x of data) expectOrgMember(x);
    assert.ok(data.some((x) => x.user_id === t.mem.user.id && x.role === 'admin'));
    assert.ok(data.some((x) => x.user_id === t.mem2.user.id && x.role === 'member'));
  });

  test('not a member of the tenant → 422 on user_id; twice → 409; bad role → 422', async () => {
    expectValidation(await addOrgMember(t.owner, org.id, { user_id: other.user.id }), 'user_id');
    expectValidation(await addOrgMember(t.owner, org.id, { user_id: RANDOM_ID }), 'user_id');
    expectConflict(await addOrgMember(t.owner, org.id, { user_id: t.mem2.user.id }));
    expectValidation(await addOrgMember(t.owner, org.id, { user_id: t.vie.user.id, role: 'owner' }), 'role');
    expectValidation(await addOrgMember(t.owner, org.id, {}), 'user_id');
  });

  test('an org admin (a tenant member) updates the org and manages its members; cannot create orgs', async () => {
    let res = await updateOrg(t.mem, org.id, { description: 'Run by an org admin' });
    let o = expectSuccess(res, 200);
    expectOrg(o, { name: org.name, tenantId: t.tid });
    assert.equal(o.description, 'Run by an org admin');
    res = await updateOrg(t.mem, org.id, { name: uniq('Renamed team') }, 'PATCH');
    o = expectSuccess(res, 200);
    assert.equal(o.description, 'Run by an org admin', 'only the fields sent change');
    res = await addOrgMember(t.mem, org.id, { user_id: t.vie.user.id });
    expectOrgMember(expectSuccess(res, 201), { userId: t.vie.user.id, role: 'member' });
    res = await removeOrgMember(t.mem, org.id, t.vie.user.id);
    assert.equal(res.status, 204, describeRes(res));
    expectForbidden(await createOrg(t.mem, { name: 'Org admin cannot create' }));
    // Org admin of this org only.
    const elsewhere = await newOrg(t.owner);
    expectForbidden(await updateOrg(t.mem, elsewhere.id, { name: 'Not mine' }));
    expectForbidden(await addOrgMember(t.mem, elsewhere.id, { user_id: t.mem.user.id }));
  });

  test('a plain org member or a viewer cannot update or manage members (403); anyone may leave', async () => {
    expectForbidden(await updateOrg(t.mem2, org.id, { name: 'By member' }));
    expectForbidden(await addOrgMember(t.mem2, org.id, { user_id: t.vie.user.id }));
    expectForbidden(await removeOrgMember(t.mem2, org.id, t.mem.user.id));
    expectForbidden(await updateOrg(t.vie, org.id, { name: 'By viewer' }));
    const before_ = expectSuccess(await getOrg(t.owner, org.id), 200).member_count;
    const res = await removeOrgMember(t.mem2, org.id, t.mem2.user.id);
    assert.equal(res.status, 204, `removing oneself: ${describeRes(res)}`);
    assert.equal(expectSuccess(await getOrg(t.owner, org.id), 200).member_count, before_ - 1);
    expectNotFound(await removeOrgMember(t.owner, org.id, t.mem2.user.id));
  });

  test('update validation: slug taken in the tenant → 409, bad values → 422', async () => {
    const a = await newOrg(t.owner);
    const b = await newOrg(t.owner);
    const err = expectConflict(await updateOrg(t.owner, b.id, { slug: a.slug }));
    assert.equal(err.details?.field, 'slug');
    expectValidation(await updateOrg(t.owner, b.id, { name: '' }), 'name');
    expectValidation(await updateOrg(t.owner, b.id, { description: 'z'.repeat(1001) }), 'description');
  });

  test('leaving the tenant removes one\'s organization memberships', async () => {
    const u = await newUser(server, 'org-leaver');
    await addMember(server, t.owner.auth, t.tid, u.email, 'member');
    const o = await newOrg(t.owner);
    expectSuccess(await addOrgMember(t.owner, o.id, { user_id: u.user.id }), 201);
    const before_ = expectSuccess(await getOrg(t.owner, o.id), 200).member_count;
    const res = await server.request('DELETE', `/v1/tenants/${t.tid}/members/${u.user.id}`, { headers: t.owner.auth });
    assert.equal(res.status, 204, describeRes(res));
    const { data } = await list(server, `/v1/organizations/${o.id}/members`, H(t.owner));
    assert.ok(!data.some((x) => x.user_id === u.user.id));
    assert.equal(expectSuccess(await getOrg(t.owner, o.id), 200).member_count, before_ - 1);
  });
});

// ---------------------------------------------------------------------------------------

describe('DELETE /v1/organizations/{id}', () => {
  test('a member → 403; an org admin → 204; then 404', async () => {
    const o = await newOrg(t.owner);
    expectSuccess(await addOrgMember(t.owner, o.id, { user_id: t.mem2.user.id, role: 'admin' }), 201);
    expectSuccess(await addOrgMember(t.owner, o.id, { user_id: t.mem.user.id }), 201);
    expectForbidden(await server.request('DELETE', `/v1/organizations/${o.id}`, { headers: H(t.mem) }));
    const res = await server.request('DELETE', `/v1/organizations/${o.id}`, { headers: H(t.mem2) });
    assert.equal(res.status, 204, describeRes(res));
    assert.equal(res.body, '');
    expectNotFound(await getOrg(t.owner, o.id));
    expectNotFound(await server.get(`/v1/organizations/${o.id}/members`, { headers: H(t.owner) }));
    expectNotFound(await server.request('DELETE', `/v1/organizations/${o.id}`, { headers: H(t.owner) }));
  });

  test('tenant admin+ and platform admins delete', async () => {
    for (const who of [t.adm, t.owner, admin]) {
      const o = await newOrg(t.owner);
      const res = await server.request('DELETE', `/v1/organizations/${o.id}`, { headers: H(who) });
      assert.equal(res.status, 204, describeRes(res));
    }
  });

  test('organization events are audited', async () => {
    for (const a of ['org.created', 'org.updated', 'org.deleted', 'org.member_added', 'org.member_removed']) {
      const { data } = await list(server, `/v1/audit-logs?action=${a}&per_page=1`, H(t.owner));
      assert.equal(data.length, 1, `missing ${a}`);
      assert.equal(data[0].action, a);
    }
    const { data } = await list(server, '/v1/audit-logs?action%5Bstartswith%5D=org.&per_page=100', H(t.owner));
    assert.ok(data.length > 0 && data.every((e) => e.action.startsWith('org.')));
  });
});
