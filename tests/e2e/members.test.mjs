// Members of a tenant (API.md §3 /v1/tenants/{id}/members, §9; docs/api.md §14 "Members",
// "Audit log"): listing, adding by email, role changes, removal, the owner and last-owner
// rules, immediate effect of a removal, member_count and the audit events.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RFC3339_MS_Z, startServer } from './harness.mjs';
import { expectUnauthorized } from './auth_helpers.mjs';
import {
  MEMBER_MEMBERS, NO_THROTTLE_ENV, PASSWORD, RANDOM_ID, addMember, adminLogin, as, bearer, createKey, describeRes,
  expectConflict, expectForbidden, expectNotFound, expectSuccess, expectValidation, getTenant, list, newUser,
  uniqueEmail,
  makeTeam,
} from './tenancy_helpers.mjs';

let server;
let admin;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  admin = await adminLogin(server);
});
after(async () => { await server?.stop(); });

const membersPath = (tid) => `/v1/tenants/${tid}/members`;
const patchRole = (headers, tid, uid, role) =>
  server.request('PATCH', `${membersPath(tid)}/${uid}`, { headers, json: { role } });
const removeMember = (headers, tid, uid) => server.request('DELETE', `${membersPath(tid)}/${uid}`, { headers });

function expectMember(m, { userId, email, role } = {}) {
  assert.deepEqual(Object.keys(m).sort(), MEMBER_MEMBERS, `member object: ${JSON.stringify(m)}`);
  if (userId !== undefined) assert.equal(m.user_id, userId);
  if (email !== undefined) assert.equal(m.email, email);
  if (role !== undefined) assert.equal(m.role, role);
  assert.equal(typeof m.name, 'string');
  assert.match(m.joined_at, RFC3339_MS_Z);
}

const team = (tag) => makeTeam(server, tag);

// ---------------------------------------------------------------------------------------

describe('GET /v1/tenants/{id}/members', () => {
  let t;
  before(async () => { t = await team('list'); });

  test('any member (a viewer too) lists the members with their roles', async () => {
    for (const who of [t.owner, t.vie]) {
      const { data, meta } = await list(server, `${membersPath(t.tid)}?per_page=100`, as(who, t.tid));
      for (const m of data) expectMember(m);
      const roles = Object.fromEntries(data.map((m) => [m.user_id, m.role]));
      assert.deepEqual(roles, {
        [t.owner.user.id]: 'owner', [t.adm.user.id]: 'admin', [t.mem.user.id]: 'member', [t.vie.user.id]: 'viewer',
      });
      assert.equal(meta.total, 4);
      assert.equal(data.find((m) => m.user_id === t.mem.user.id).email, t.mem.email);
      assert.equal(data.find((m) => m.user_id === t.mem.user.id).name, t.mem.user.name);
    }
    const admins = await list(server, `${membersPath(t.tid)}?role=admin`, as(t.mem, t.tid));
    assert.deepEqual(admins.data.map((m) => m.user_id), [t.adm.user.id]);
  });

  test('a non-member → 404; no credentials → 401', async () => {
    const outsider = await newUser(server, 'list-out');
    expectNotFound(await server.get(membersPath(t.tid), { headers: outsider.auth }));
    expectNotFound(await server.get(membersPath(RANDOM_ID), { headers: outsider.auth }));
    expectUnauthorized(await server.get(membersPath(t.tid)));
  });
});

// ---------------------------------------------------------------------------------------

describe('POST /v1/tenants/{id}/members', () => {
  let t;
  before(async () => { t = await team('add'); });

  test('201 with the member object; role defaults to member; member_count follows', async () => {
    const before_ = (await getTenant(server, t.owner.auth, t.tid)).member_count;
    assert.equal(before_, 4);
    const u = await newUser(server, 'add-new');
    const res = await server.post(membersPath(t.tid), { headers: t.owner.auth, json: { email: u.email } });
    const m = expectSuccess(res, 201);
    expectMember(m, { userId: u.user.id, email: u.email, role: 'member' });
    assert.equal(m.name, u.user.name);
    assert.equal((await getTenant(server, t.owner.auth, t.tid)).member_count, 5);
    // The new member sees the tenant in /me and may use it.
    const me = expectSuccess(await server.get('/v1/auth/me', { headers: u.auth }), 200);
    assert.ok(me.tenants.some((x) => x.id === t.tid && x.role === 'member'));
    assert.equal((await server.get('/v1/users', { headers: as(u, t.tid) })).status, 200);
  });

  test('member_count stays exact under concurrent adds and removals', async () => {
    const owner = await newUser(server, 'add-conc');
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) => server.post('/v1/users', {
      headers: owner.auth, json: { email: uniqueEmail(`conc${i}`) },
    })));
    const ids = made.map((r) => expectSuccess(r, 201).id);
    const dup = await Promise.all([0, 1, 2].map(() => server.post(membersPath(owner.tid), {
      headers: owner.auth, json: { email: made[0].json.data.email },
    })));
    for (const r of dup) expectConflict(r);
    const gone = await Promise.all(ids.slice(0, 5).map((id) => removeMember(owner.auth, owner.tid, id)));
    for (const r of gone) assert.equal(r.status, 204, describeRes(r));
    const { meta } = await list(server, membersPath(owner.tid), owner.auth);
    assert.equal(meta.total, 8);
    assert.equal((await getTenant(server, owner.auth, owner.tid)).member_count, 8);
  });

  test('an admin adds members and admins', async () => {
    const u1 = await newUser(server, 'add-a1');
    const u2 = await newUser(server, 'add-a2');
    expectMember(await addMember(server, as(t.adm, t.tid), t.tid, u1.email, 'admin'), { role: 'admin' });
    expectMember(await addMember(server, as(t.adm, t.tid), t.tid, u2.email, 'viewer'), { role: 'viewer' });
  });

  test('unknown email → 202 invitation; already a member → 409; bad role → 422; bad email → 422', async () => {
    const email = uniqueEmail('nobody');
    const res = await server.post(membersPath(t.tid), {
      headers: t.owner.auth, json: { email, role: 'member' },
    });
    assert.equal(res.status, 202);
    assert.equal(res.json.data.invitation.email, email);
    assert.equal(res.json.data.invitation.role, 'member');
    expectConflict(await server.post(membersPath(t.tid), { headers: t.owner.auth, json: { email: t.mem.email, role: 'admin' } }));
    const u = await newUser(server, 'add-bad');
    for (const role of ['superuser', 'OWNER', '', 3]) {
      expectValidation(await server.post(membersPath(t.tid), { headers: t.owner.auth, json: { email: u.email, role } }), 'role');
    }
    expectValidation(await server.post(membersPath(t.tid), { headers: t.owner.auth, json: { email: 'not-an-email' } }), 'email');
    expectValidation(await server.post(membersPath(t.tid), { headers: t.owner.auth, json: { role: 'member' } }), 'email');
    assert.equal((await getTenant(server, t.owner.auth, t.tid)).member_count >= 4, true);
  });

  test('nobody grants a role above their own: an admin cannot add an owner (403)', async () => {
    const u = await newUser(server, 'add-own');
    expectForbidden(await server.post(membersPath(t.tid), { headers: as(t.adm, t.tid), json: { email: u.email, role: 'owner' } }));
    expectMember(await addMember(server, t.owner.auth, t.tid, u.email, 'owner'), { role: 'owner' });
  });

  test('a member or a viewer cannot add (403); a non-member gets 404', async () => {
    const u = await newUser(server, 'add-no');
    expectForbidden(await server.post(membersPath(t.tid), { headers: as(t.mem, t.tid), json: { email: u.email, role: 'viewer' } }));
    expectForbidden(await server.post(membersPath(t.tid), { headers: as(t.vie, t.tid), json: { email: u.email, role: 'viewer' } }));
    expectNotFound(await server.post(membersPath(t.tid), { headers: u.auth, json: { email: u.email, role: 'viewer' } }));
  });
});

// ---------------------------------------------------------------------------------------

describe('PATCH /v1/tenants/{id}/members/{user_id}', () => {
  let t;
  before(async () => { t = await team('patch'); });

  test('the owner changes a role (200, member object)', async () => {
    const res = await patchRole(t.owner.auth, t.tid, t.mem.user.id, 'viewer');
    expectMember(expectSuccess(res, 200), { userId: t.mem.user.id, role: 'viewer' });
    const back = await patchRole(t.owner.auth, t.tid, t.mem.user.id, 'member');
    assert.equal(expectSuccess(back, 200).role, 'member');
  });

  test('an admin cannot make owners, nor change an owner (403)', async () => {
    expectForbidden(await patchRole(as(t.adm, t.tid), t.tid, t.mem.user.id, 'owner'));
    expectForbidden(await patchRole(as(t.adm, t.tid), t.tid, t.owner.user.id, 'admin'));
    expectForbidden(await patchRole(as(t.adm, t.tid), t.tid, t.owner.user.id, 'member'));
    const res = await patchRole(as(t.adm, t.tid), t.tid, t.vie.user.id, 'member');
    assert.equal(expectSuccess(res, 200).role, 'member', 'an admin changes lower roles');
    assert.equal(expectSuccess(await patchRole(as(t.adm, t.tid), t.tid, t.vie.user.id, 'viewer'), 200).role, 'viewer');
  });

  test('a member or viewer cannot change roles, not even their own (403)', async () => {
    expectForbidden(await patchRole(as(t.mem, t.tid), t.tid, t.vie.user.id, 'member'));
    expectForbidden(await patchRole(as(t.mem, t.tid), t.tid, t.mem.user.id, 'admin'));
    expectForbidden(await patchRole(as(t.vie, t.tid), t.tid, t.vie.user.id, 'member'));
  });

  test('the last owner cannot be demoted, not even by themselves (409); with two owners one may step down', async () => {
    expectConflict(await patchRole(t.owner.auth, t.tid, t.owner.user.id, 'admin'));
    const second = await newUser(server, 'patch-own2');
    await addMember(server, t.owner.auth, t.tid, second.email, 'owner');
    const res = await patchRole(as(second, t.tid), t.tid, t.owner.user.id, 'admin');
    assert.equal(expectSuccess(res, 200).role, 'admin', 'an owner demotes another owner');
    expectConflict(await patchRole(as(second, t.tid), t.tid, second.user.id, 'member'));
    // Restore: the second owner promotes the first back, and steps down.
    assert.equal(expectSuccess(await patchRole(as(second, t.tid), t.tid, t.owner.user.id, 'owner'), 200).role, 'owner');
    assert.equal(expectSuccess(await patchRole(as(second, t.tid), t.tid, second.user.id, 'member'), 200).role, 'member');
  });

  test('two owners demoting each other (or leaving) at the same time leave exactly one owner', async () => {
    for (let i = 0; i < 4; i++) {
      const a = await newUser(server, `race-a${i}`);
      const b = await newUser(server, `race-b${i}`);
      await addMember(server, a.auth, a.tid, b.email, 'owner');
      const ops = i % 2 === 0
        ? [patchRole(a.auth, a.tid, b.user.id, 'member'), patchRole(as(b, a.tid), a.tid, a.user.id, 'member')]
        : [removeMember(a.auth, a.tid, a.user.id), removeMember(as(b, a.tid), a.tid, b.user.id)];
      const results = await Promise.all(ops);
      for (const r of results) assert.notEqual(r.status, 500, describeRes(r));
      const { data } = await list(server, membersPath(a.tid), as(admin, a.tid));
      const owners = data.filter((m) => m.role === 'owner');
      assert.equal(owners.length, 1, `round ${i}: statuses ${results.map((r) => r.status)}, members ${JSON.stringify(data)}`);
    }
  });

  test('bad role → 422; unknown user → 404', async () => {
    expectValidation(await patchRole(t.owner.auth, t.tid, t.mem.user.id, 'boss'), 'role');
    expectNotFound(await patchRole(t.owner.auth, t.tid, RANDOM_ID, 'member'));
    const outsider = await newUser(server, 'patch-out');
    expectNotFound(await patchRole(t.owner.auth, t.tid, outsider.user.id, 'member'));
  });
});

// ---------------------------------------------------------------------------------------

describe('DELETE /v1/tenants/{id}/members/{user_id}', () => {
  test('an admin cannot remove an owner (403); a member cannot remove others (403)', async () => {
    const t = await team('del-rules');
    expectForbidden(await removeMember(as(t.adm, t.tid), t.tid, t.owner.user.id));
    expectForbidden(await removeMember(as(t.mem, t.tid), t.tid, t.vie.user.id));
    expectForbidden(await removeMember(as(t.vie, t.tid), t.tid, t.mem.user.id));
    const res = await removeMember(as(t.adm, t.tid), t.tid, t.vie.user.id);
    assert.equal(res.status, 204, describeRes(res));
    expectNotFound(await removeMember(as(t.adm, t.tid), t.tid, t.vie.user.id));
  });

  test('the last owner cannot remove themselves (409); a non-last owner and a member may leave', async () => {
    const t = await team('del-self');
    expectConflict(await removeMember(t.owner.auth, t.tid, t.owner.user.id));
    let res = await removeMember(as(t.mem, t.tid), t.tid, t.mem.user.id);
    assert.equal(res.status, 204, `a member leaves: ${describeRes(res)}`);
    res = await removeMember(as(t.vie, t.tid), t.tid, t.vie.user.id);
    assert.equal(res.status, 204, `a viewer leaves: ${describeRes(res)}`);
    const second = await newUser(server, 'del-own2');
    await addMember(server, t.owner.auth, t.tid, second.email, 'owner');
    res = await removeMember(as(second, t.tid), t.tid, second.user.id);
    assert.equal(res.status, 204, `a non-last owner leaves: ${describeRes(res)}`);
    expectConflict(await removeMember(t.owner.auth, t.tid, t.owner.user.id));
    const { data } = await list(server, membersPath(t.tid), t.owner.auth);
    assert.deepEqual(data.map((m) => m.user_id).sort(), [t.owner.user.id, t.adm.user.id].sort());
  });

  test('a removal takes effect at once: token → 404, their key in the tenant → 401, login there → 404', async () => {
    const t = await team('del-now');
    const key = await createKey(server, as(t.mem, t.tid), { scopes: ['read'] });
    assert.equal(key.tenant_id, t.tid);
    const l = await server.post('/v1/auth/login', { json: { email: t.mem.email, password: PASSWORD, tenant_id: t.tid } });
    const tidToken = expectSuccess(l, 200).tokens.access_token;
    // Warm whatever caches exist, on several connections.
    for (const r of await Promise.all([0, 1, 2, 3].map(() => server.get('/v1/users', { headers: as(t.mem, t.tid) })))) {
      assert.equal(r.status, 200);
    }
    assert.equal((await server.get('/v1/users', { headers: bearer(tidToken) })).status, 200);
    assert.equal((await server.get('/v1/users', { headers: { 'X-API-Key': key.key } })).status, 200);
    assert.equal((await getTenant(server, t.owner.auth, t.tid)).member_count, 4);

    const res = await removeMember(t.owner.auth, t.tid, t.mem.user.id);
    assert.equal(res.status, 204, describeRes(res));

    for (const r of await Promise.all([0, 1, 2, 3].map(() => server.get('/v1/users', { headers: as(t.mem, t.tid) })))) {
      expectNotFound(r);
    }
    expectNotFound(await server.get('/v1/users', { headers: bearer(tidToken) }));
    expectUnauthorized(await server.get('/v1/users', { headers: { 'X-API-Key': key.key } }));
    expectNotFound(await server.post('/v1/auth/login', { json: { email: t.mem.email, password: PASSWORD, tenant_id: t.tid } }));
    assert.equal((await getTenant(server, t.owner.auth, t.tid)).member_count, 3);
    // Their own tenant is untouched.
    assert.equal((await server.get('/v1/users', { headers: t.mem.auth })).status, 200);
  });
});

// ---------------------------------------------------------------------------------------

describe('audit events of memberships', () => {
  test('member.added, member.role_changed, member.removed reach the tenant\'s admins; 403 for a member', async () => {
    const t = await team('audit');
    assert.equal(expectSuccess(await patchRole(t.owner.auth, t.tid, t.vie.user.id, 'member'), 200).role, 'member');
    assert.equal((await removeMember(t.owner.auth, t.tid, t.vie.user.id)).status, 204);
    for (const who of [t.owner, t.adm]) {
      const { data } = await list(server, '/v1/audit-logs?per_page=100', as(who, t.tid));
      const find = (action, target) => data.find((e) => e.action === action && e.target === target);
      for (const u of [t.adm, t.mem, t.vie]) assert.ok(find('member.added', u.user.id), `member.added for ${u.email}`);
      const changed = find('member.role_changed', t.vie.user.id);
      assert.ok(changed, 'member.role_changed');
      assert.equal(changed.actor, t.owner.user.id);
      const removed = find('member.removed', t.vie.user.id);
      assert.ok(removed, 'member.removed');
      assert.equal(removed.actor, t.owner.user.id);
      assert.equal(removed.ip, '127.0.0.1');
      const filtered = await list(server, '/v1/audit-logs?action=member.added', as(who, t.tid));
      for (const u of [t.adm, t.mem, t.vie]) assert.ok(filtered.data.some((e) => e.target === u.user.id));
      assert.ok(filtered.data.every((e) => e.action === 'member.added'));
    }
    // Another tenant's events are not there.
    const other = await team('audit-other');
    const { data } = await list(server, '/v1/audit-logs?per_page=100', other.owner.auth);
    assert.ok(!data.some((e) => e.target === t.vie.user.id), 'events of another tenant leak');
    expectForbidden(await server.get('/v1/audit-logs', { headers: as(t.mem, t.tid) }));
  });
});
