// Invitations by mail (docs/api.md §7, §13 "Mail defaults", "Single-use tokens", §14
// "Members", "Invitations", "Account-mail links"): POST /v1/tenants/{id}/members with an email
// that has no account answers 202 with the invitation and mails "You're invited to <tenant
// name>" with `<link_base>/accept-invitation?token=<token>`; POST /v1/invitations/accept
// creates the account (or joins an existing one) with the invited role and signs in to the
// tenant. Role rules as for members, replacement of a pending invitation, single use, the
// audit events, and a deleted tenant's invitation.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RFC3339_MS_Z, sleep, startServer } from './harness.mjs';
import { UUID_V7, expectTokens, expectUnauthorized } from './auth_helpers.mjs';
import {
  MEMBER_MEMBERS, NO_THROTTLE_ENV, PASSWORD, USER_MEMBERS, addMember, adminLogin, as, bearer, createKey, createTenant,
  describeRes, expectBadRequest, expectConflict, expectForbidden, expectNotFound, expectSuccess, expectValidation,
  getTenant, jwtPayload, list, login, newUser, register, uniqueEmail,
} from './tenancy_helpers.mjs';
import { DEFAULT_FROM, FAST_MAIL_ENV, fileBox, idOfFile, mailTo, tokenFrom, waitForStatus } from './mail_helpers.mjs';

let server;
let box;
before(async () => {
  server = await startServer({ env: { ...NO_THROTTLE_ENV, ...FAST_MAIL_ENV } });
  box = fileBox(server);
});
after(async () => { await server?.stop(); });

const NEW_PASSWORD = 'invited member passphrase 42';
const membersPath = (tid) => `/v1/tenants/${tid}/members`;
const invite = (headers, tid, email, role) =>
  server.post(membersPath(tid), { headers, json: role === undefined ? { email } : { email, role } });
const accept = (json) => server.post('/v1/invitations/accept', { json });
const subjectFor = (tenantName) => `You're invited to ${tenantName}`;

/** Invites expecting 202; checks the invitation object; returns it. */
async function inviteOk(headers, tid, email, role) {
  const res = await invite(headers, tid, email, role);
  const data = expectSuccess(res, 202);
  assert.deepEqual(Object.keys(data), ['invitation'], `202 body: ${res.body}`);
  const inv = data.invitation;
  assert.deepEqual(Object.keys(inv).sort(), ['email', 'expires_at', 'id', 'role']);
  assert.match(inv.id, UUID_V7);
  assert.equal(inv.email, email.trim().toLowerCase());
  assert.equal(inv.role, role ?? 'member');
  assert.match(inv.expires_at, RFC3339_MS_Z);
  const ttl = Date.parse(inv.expires_at) - Date.now();
  assert.ok(Math.abs(ttl - 7 * 24 * 3600 * 1000) < 120_000, `expires in 7 days by default: ${inv.expires_at}`);
  return inv;
}

/** Waits for the `n`-th invitation mail to `email` (1-based); returns {mail, token}. */
async function invitationMail(email, tenantName, n = 1) {
  const mails = await box.waitForMails(mailTo(email, subjectFor(tenantName)), n);
  const mail = mails[n - 1];
  return { mail, token: tokenFrom(mail.text, 'accept-invitation') };
}

/** A tenant "name" owned by a fresh owner, with an admin, a member and a viewer. */
async function makeTenant(tag, name) {
  const owner = await newUser(server, `${tag}-own`);
  const adm = await newUser(server, `${tag}-adm`);
  const mem = await newUser(server, `${tag}-mem`);
  const vie = await newUser(server, `${tag}-vie`);
  const tenant = await createTenant(server, owner.auth, { name });
  const tid = tenant.id;
  await addMember(server, as(owner, tid), tid, adm.email, 'admin');
  await addMember(server, as(owner, tid), tid, mem.email, 'member');
  await addMember(server, as(owner, tid), tid, vie.email, 'viewer');
  return { owner, adm, mem, vie, tid, name };
}

async function memberRoles(headers, tid) {
  const { data } = await list(server, `${membersPath(tid)}?per_page=100`, headers);
  return Object.fromEntries(data.map((m) => [m.email, m.role]));
}

async function auditActions(headers) {
  const res = await server.get('/v1/audit-logs?per_page=100', { headers });
  assert.equal(res.status, 200, describeRes(res));
  return res.json.data;
}

/** Waits until the box holds a mail to `sentinel`, then a little more: any earlier queued mail is out. */
async function flushWith(headers, tid, sentinelTag) {
  const sentinel = uniqueEmail(sentinelTag);
  await inviteOk(headers, tid, sentinel, 'viewer');
  await box.waitForMail(mailTo(sentinel));
  await sleep(400);
}

// ---------------------------------------------------------------------------------------

describe('inviting an email without an account', () => {
  let t;
  before(async () => { t = await makeTenant('inv', 'Ünïcode Invite Co'); });

  test('an admin invites: 202 {invitation}; a mail "You\'re invited to <name>" carries the accept link', async () => {
    const email = uniqueEmail('invitee');
    const inv = await inviteOk(as(t.adm, t.tid), t.tid, email.toUpperCase(), 'member');
    assert.equal(inv.email, email);
    const { mail, token } = await invitationMail(email, t.name);
    assert.equal(mail.from, DEFAULT_FROM);
    assert.equal(mail.to, email);
    assert.equal(mail.subject, `You're invited to ${t.name}`);
    assert.match(mail.headers.subject, /^=\?UTF-8\?B\?/i, 'a non-ASCII tenant name makes an encoded subject');
    assert.ok(mail.text.includes(`http://localhost:8080/accept-invitation?token=${token}`));
    assert.ok(token.length >= 40, `a 256-bit token: ${token}`);
    // The invitee is not a member yet.
    const roles = await memberRoles(as(t.owner, t.tid), t.tid);
    assert.equal(roles[email], undefined);
    assert.equal((await getTenant(server, as(t.owner, t.tid), t.tid)).member_count, 4);
  });

  test('the invitation mail shows in GET /v1/mail/{id} to the tenant\'s admins, not to other tenants', async () => {
    const email = uniqueEmail('inv-mail');
    await inviteOk(as(t.owner, t.tid), t.tid, email, 'viewer');
    const { mail } = await invitationMail(email, t.name);
    const id = idOfFile(mail.file);
    // The file is written before the row is marked sent: wait for the status, not the file.
    const got = await waitForStatus(server, as(t.adm, t.tid), id, (m) => m.status === 'sent');
    assert.equal(got.id, id);
    assert.equal(got.to, email);
    assert.equal(got.subject, subjectFor(t.name));
    assert.equal(got.status, 'sent');
    assert.equal(got.attempts, 1);
    expectForbidden(await server.get(`/v1/mail/${id}`, { headers: as(t.mem, t.tid) }));
    expectNotFound(await server.get(`/v1/mail/${id}`, { headers: t.adm.auth })); // the admin's personal tenant
    const outsider = await newUser(server, 'inv-mail-out');
    expectNotFound(await server.get(`/v1/mail/${id}`, { headers: outsider.auth }));
  });

  test('accept: validation and unknown tokens do not consume the invitation; then 200 {user, tokens, tenants}', async () => {
    const email = uniqueEmail('acc');
    await inviteOk(as(t.adm, t.tid), t.tid, email, 'admin');
    const { token } = await invitationMail(email, t.name);

    expectValidation(await accept({}), 'token');
    expectValidation(await accept({ password: NEW_PASSWORD }), 'token');
    expectValidation(await accept({ token: 42, password: NEW_PASSWORD }), 'token');
    let err = expectBadRequest(await accept({ token: 'x'.repeat(43), password: NEW_PASSWORD }));
    assert.equal(err.message, 'Invalid or expired token');
    err = expectBadRequest(await accept({ token: `${token}x`, password: NEW_PASSWORD }));
    assert.equal(err.message, 'Invalid or expired token');
    expectValidation(await accept({ token, password: NEW_PASSWORD, role: 'owner' }), 'role');
    expectBadRequest(await server.post('/v1/invitations/accept', {
      headers: { 'Content-Type': 'application/json' }, body: `{"token":"${token}",` }));
    // A new account needs a password, and a good one.
    expectValidation(await accept({ token }), 'password');
    expectValidation(await accept({ token, name: 'No Password' }), 'password');
    expectValidation(await accept({ token, password: null }), 'password');
    expectValidation(await accept({ token, password: 'password' }), 'password');
    expectValidation(await accept({ token, password: 'short' }), 'password');
    expectValidation(await accept({ token, password: NEW_PASSWORD, name: 'n'.repeat(201) }), 'name');
    // Nobody of that email exists yet: the failed attempts created no account.
    const noAcct = await server.post('/v1/auth/login', { json: { email, password: NEW_PASSWORD } });
    expectUnauthorized(noAcct);

    const countBefore = (await getTenant(server, as(t.owner, t.tid), t.tid)).member_count;
    const res = await accept({ token, password: NEW_PASSWORD, name: 'Ada Invited' });
    const data = expectSuccess(res, 200);
    assert.deepEqual(Object.keys(data).sort(), ['tenants', 'tokens', 'user']);
    const { user, tokens, tenants } = data;
    assert.deepEqual(Object.keys(user).sort(), USER_MEMBERS);
    assert.match(user.id, UUID_V7);
    assert.equal(user.email, email);
    assert.equal(user.name, 'Ada Invited');
    assert.equal(user.email_verified, true, 'the invitation proved the mailbox');
    assert.equal(user.is_active, true);
    assert.equal(user.is_admin, false);
    expectTokens(tokens);
    assert.equal(tenants.length, 1, `no personal tenant is made: ${JSON.stringify(tenants)}`);
    assert.equal(tenants[0].id, t.tid);
    assert.equal(tenants[0].role, 'admin');
    assert.equal(jwtPayload(tokens.access_token).tid, t.tid, 'signed in to the invited tenant');
    assert.equal(jwtPayload(tokens.access_token).sub, user.id);

    // The session works, in the tenant, with the invited role.
    const me = expectSuccess(await server.get('/v1/auth/me', { headers: bearer(tokens.access_token) }), 200);
    assert.equal(me.user.id, user.id);
    assert.equal(me.user.email_verified, true);
    assert.ok(me.tenants.some((x) => x.id === t.tid && x.role === 'admin'), JSON.stringify(me.tenants));
    assert.equal((await server.get('/v1/audit-logs', { headers: bearer(tokens.access_token) })).status, 200,
      'an admin of the tenant reads its audit log with the new session');
    // The password works on login.
    const li = await login(server, email, NEW_PASSWORD);
    assert.equal(li.user.id, user.id);
    // The member list shows the new admin; member_count follows.
    const roles = await memberRoles(as(t.owner, t.tid), t.tid);
    assert.equal(roles[email], 'admin');
    const { data: members } = await list(server, `${membersPath(t.tid)}?per_page=100`, as(t.owner, t.tid));
    const m = members.find((x) => x.email === email);
    assert.deepEqual(Object.keys(m).sort(), MEMBER_MEMBERS);
    assert.equal(m.user_id, user.id);
    assert.equal(m.name, 'Ada Invited');
    assert.equal((await getTenant(server, as(t.owner, t.tid), t.tid)).member_count, countBefore + 1);

    // Single use.
    err = expectBadRequest(await accept({ token, password: NEW_PASSWORD }));
    assert.equal(err.message, 'Invalid or expired token');
    err = expectBadRequest(await accept({ token }));
    assert.equal(err.message, 'Invalid or expired token');
  });

  test('accepting without a name creates the account too, with the invited role', async () => {
    const email = uniqueEmail('noname');
    await inviteOk(as(t.owner, t.tid), t.tid, email, 'viewer');
    const { token } = await invitationMail(email, t.name);
    const data = expectSuccess(await accept({ token, password: NEW_PASSWORD }), 200);
    assert.equal(data.user.email, email);
    assert.equal(typeof data.user.name, 'string');
    assert.equal(data.tenants.find((x) => x.id === t.tid)?.role, 'viewer');
    // A viewer cannot write in the tenant: the role is real.
    expectForbidden(await invite(bearer(data.tokens.access_token), t.tid, uniqueEmail('by-viewer'), 'viewer'));
  });

  test('audit: member.invited, then member.joined after acceptance, visible to the tenant\'s admins', async () => {
    const email = uniqueEmail('audit');
    const inv = await inviteOk(as(t.adm, t.tid), t.tid, email, 'member');
    let events = await auditActions(as(t.adm, t.tid));
    const invited = events.filter((e) => e.action === 'member.invited');
    assert.ok(invited.length >= 1, `member.invited in ${events.map((e) => e.action).join(',')}`);
    for (const e of events) assert.equal(e.tenant_id, t.tid, `an event of another tenant: ${JSON.stringify(e)}`);
    const mine = invited.find((e) => JSON.stringify(e).includes(email) || JSON.stringify(e).includes(inv.id));
    assert.ok(mine, `a member.invited event names the invitation: ${JSON.stringify(invited)}`);
    assert.equal(mine.actor, t.adm.user.id, 'the inviting admin is the actor');
    assert.ok(!events.some((e) => e.action === 'member.joined' && JSON.stringify(e).includes(email)));

    const { token } = await invitationMail(email, t.name);
    const acc = expectSuccess(await accept({ token, password: NEW_PASSWORD, name: 'Audited' }), 200);
    events = await auditActions(as(t.owner, t.tid));
    const joined = events.filter((e) => e.action === 'member.joined');
    assert.ok(joined.some((e) => JSON.stringify(e).includes(acc.user.id) || JSON.stringify(e).includes(email)),
      `member.joined names the new member: ${JSON.stringify(joined)}`);
    // Members and viewers do not read the audit log; another tenant does not see these events.
    expectForbidden(await server.get('/v1/audit-logs', { headers: as(t.mem, t.tid) }));
    const other = await newUser(server, 'audit-other');
    const theirs = await auditActions(other.auth);
    assert.ok(!theirs.some((e) => e.tenant_id === t.tid));
    assert.ok(!theirs.some((e) => JSON.stringify(e).includes(email)));
  });
});

// ---------------------------------------------------------------------------------------

describe('who may invite, and what', () => {
  let t;
  before(async () => { t = await makeTenant('rules', 'Rules Inc'); });

  test('an existing account is added directly: 201 member object, no invitation mail', async () => {
    const u = await newUser(server, 'direct');
    const res = await invite(as(t.adm, t.tid), t.tid, u.email, 'member');
    const m = expectSuccess(res, 201);
    assert.deepEqual(Object.keys(m).sort(), MEMBER_MEMBERS);
    assert.equal(m.user_id, u.user.id);
    assert.equal(m.role, 'member');
    await flushWith(as(t.owner, t.tid), t.tid, 'direct-sentinel');
    assert.deepEqual(box.to(u.email), [], 'an existing account gets no invitation mail');
    // A second add of the same account → 409.
    expectConflict(await invite(as(t.adm, t.tid), t.tid, u.email, 'viewer'));
  });

  test('nobody invites above their own role; members and viewers cannot invite; a refused invitation mails nothing', async () => {
    const refused = uniqueEmail('refused-inv');
    expectForbidden(await invite(as(t.adm, t.tid), t.tid, refused, 'owner'));
    expectForbidden(await invite(as(t.mem, t.tid), t.tid, refused, 'member'));
    expectForbidden(await invite(as(t.mem, t.tid), t.tid, refused, 'viewer'));
    expectForbidden(await invite(as(t.vie, t.tid), t.tid, refused, 'viewer'));
    expectForbidden(await invite(as(t.vie, t.tid), t.tid, refused));
    const outsider = await newUser(server, 'rules-out');
    expectNotFound(await invite(outsider.auth, t.tid, refused, 'member'));
    expectUnauthorized(await invite({}, t.tid, refused, 'member'));
    expectValidation(await invite(as(t.owner, t.tid), t.tid, refused, 'superuser'), 'role');
    expectValidation(await invite(as(t.owner, t.tid), t.tid, 'not-an-email', 'member'), 'email');
    expectValidation(await server.post(membersPath(t.tid), {
      headers: as(t.owner, t.tid), json: { email: refused, role: 'member', note: 'hi' } }), 'note');
    const readKey = await createKey(server, as(t.owner, t.tid), { scopes: ['read'] });
    expectForbidden(await invite({ 'X-API-Key': readKey.key }, t.tid, refused, 'member'));

    await flushWith(as(t.owner, t.tid), t.tid, 'rules-sentinel');
    assert.deepEqual(box.to(refused), [], 'a refused invitation mailed something');
    // And no invitation exists: nothing to accept, the pending list is untouched.
    const roles = await memberRoles(as(t.owner, t.tid), t.tid);
    assert.equal(roles[refused], undefined);
  });

  test('the owner may invite an owner; an admin may invite an admin; the role defaults to member', async () => {
    const asOwner = uniqueEmail('inv-owner');
    await inviteOk(as(t.owner, t.tid), t.tid, asOwner, 'owner');
    const asAdmin = uniqueEmail('inv-admin');
    await inviteOk(as(t.adm, t.tid), t.tid, asAdmin, 'admin');
    const asDefault = uniqueEmail('inv-default');
    await inviteOk(as(t.adm, t.tid), t.tid, asDefault);

    const a = expectSuccess(await accept({ token: (await invitationMail(asOwner, t.name)).token, password: NEW_PASSWORD }), 200);
    assert.equal(a.tenants.find((x) => x.id === t.tid)?.role, 'owner');
    const b = expectSuccess(await accept({ token: (await invitationMail(asAdmin, t.name)).token, password: NEW_PASSWORD }), 200);
    assert.equal(b.tenants.find((x) => x.id === t.tid)?.role, 'admin');
    const c = expectSuccess(await accept({ token: (await invitationMail(asDefault, t.name)).token, password: NEW_PASSWORD }), 200);
    assert.equal(c.tenants.find((x) => x.id === t.tid)?.role, 'member');
    const roles = await memberRoles(as(t.owner, t.tid), t.tid);
    assert.equal(roles[asOwner], 'owner');
    assert.equal(roles[asAdmin], 'admin');
    assert.equal(roles[asDefault], 'member');
  });

  test('a second invitation for the same email replaces the first: the first token → 400, the second works with its role', async () => {
    const email = uniqueEmail('twice');
    const first = await inviteOk(as(t.owner, t.tid), t.tid, email, 'member');
    const { token: token1 } = await invitationMail(email, t.name, 1);
    const second = await inviteOk(as(t.adm, t.tid), t.tid, email, 'viewer');
    const { token: token2 } = await invitationMail(email, t.name, 2);
    assert.notEqual(token1, token2);
    assert.match(second.id, UUID_V7);
    assert.match(first.id, UUID_V7);
    const err = expectBadRequest(await accept({ token: token1, password: NEW_PASSWORD }));
    assert.equal(err.message, 'Invalid or expired token');
    const data = expectSuccess(await accept({ token: token2, password: NEW_PASSWORD }), 200);
    assert.equal(data.tenants.find((x) => x.id === t.tid)?.role, 'viewer');
    // The first still fails after the second was used; now the email has an account → 201/409.
    expectBadRequest(await accept({ token: token1 }));
    expectConflict(await invite(as(t.owner, t.tid), t.tid, email, 'admin'));
  });

  test('invitations of two tenants for one email are independent', async () => {
    const email = uniqueEmail('two-tenants');
    const other = await makeTenant('rules2', 'Other Rules');
    await inviteOk(as(t.owner, t.tid), t.tid, email, 'member');
    await inviteOk(as(other.owner, other.tid), other.tid, email, 'admin');
    const { token: tokA } = await invitationMail(email, t.name);
    const { token: tokB } = await invitationMail(email, other.name);
    const a = expectSuccess(await accept({ token: tokA, password: NEW_PASSWORD, name: 'Two' }), 200);
    assert.equal(jwtPayload(a.tokens.access_token).tid, t.tid);
    // The second now joins the account made by the first, without its password.
    const b = expectSuccess(await accept({ token: tokB }), 200);
    assert.equal(b.user.id, a.user.id);
    assert.equal(jwtPayload(b.tokens.access_token).tid, other.tid);
    const roles = Object.fromEntries(b.tenants.map((x) => [x.id, x.role]));
    assert.deepEqual(roles, { [t.tid]: 'member', [other.tid]: 'admin' });
  });
});

// ---------------------------------------------------------------------------------------

describe('accepting with an account that exists by then, and a deleted tenant', () => {
  let t;
  before(async () => { t = await makeTenant('late', 'Late Joiners'); });

  test('the email registered after being invited: accepting joins that account, password and name ignored', async () => {
    const email = uniqueEmail('late');
    await inviteOk(as(t.adm, t.tid), t.tid, email, 'admin');
    const { token } = await invitationMail(email, t.name);
    const reg = await register(server, { email, name: 'Registered Name' });
    const personal = reg.tenants[0].id;

    const data = expectSuccess(await accept({ token, password: 'some other passphrase 99', name: 'Ignored Name' }), 200);
    assert.equal(data.user.id, reg.user.id, 'the existing account joins');
    assert.equal(data.user.email, email);
    assert.equal(data.user.name, 'Registered Name', 'the name is not changed');
    // (Whether joining marks an unverified existing account verified is not specified.)
    assert.equal(typeof data.user.email_verified, 'boolean');
    expectTokens(data.tokens);
    assert.equal(jwtPayload(data.tokens.access_token).tid, t.tid);
    const roles = Object.fromEntries(data.tenants.map((x) => [x.id, x.role]));
    assert.deepEqual(roles, { [personal]: 'owner', [t.tid]: 'admin' });
    // The password is unchanged.
    expectUnauthorized(await server.post('/v1/auth/login', { json: { email, password: 'some other passphrase 99' } }));
    assert.equal((await login(server, email, PASSWORD)).user.id, reg.user.id);
    // The member list shows them with the invited role.
    assert.equal((await memberRoles(as(t.owner, t.tid), t.tid))[email], 'admin');
    expectBadRequest(await accept({ token }));
  });

  test('an existing account accepts without any password', async () => {
    const email = uniqueEmail('late2');
    await inviteOk(as(t.owner, t.tid), t.tid, email, 'viewer');
    const { token } = await invitationMail(email, t.name);
    const reg = await register(server, { email });
    const data = expectSuccess(await accept({ token }), 200);
    assert.equal(data.user.id, reg.user.id);
    assert.equal(data.tenants.find((x) => x.id === t.tid)?.role, 'viewer');
    expectSuccess(await server.get('/v1/auth/me', { headers: bearer(data.tokens.access_token) }), 200);
  });

  test('an invitation of a deleted tenant → 400', async () => {
    const owner = await newUser(server, 'doomed-own');
    const doomed = await createTenant(server, owner.auth, { name: 'Doomed Tenant' });
    const email = uniqueEmail('doomed');
    const emailOld = uniqueEmail('doomed-old');
    await inviteOk(as(owner, doomed.id), doomed.id, email, 'member');
    await inviteOk(as(owner, doomed.id), doomed.id, emailOld, 'member');
    const { token } = await invitationMail(email, 'Doomed Tenant');
    const { token: tokenOld } = await invitationMail(emailOld, 'Doomed Tenant');
    // One of them registered meanwhile (an existing account), one did not.
    await register(server, { email: emailOld });
    const del = await server.request('DELETE', `/v1/tenants/${doomed.id}`, { headers: as(owner, doomed.id) });
    assert.equal(del.status, 204, describeRes(del));
    let err = expectBadRequest(await accept({ token, password: NEW_PASSWORD }));
    assert.equal(err.message, 'Invalid or expired token');
    err = expectBadRequest(await accept({ token: tokenOld }));
    assert.equal(err.message, 'Invalid or expired token');
    // No account was created by the refused acceptance.
    expectUnauthorized(await server.post('/v1/auth/login', { json: { email, password: NEW_PASSWORD } }));
  });

  test('an invitation of a suspended tenant → 400', async () => {
    const owner = await newUser(server, 'susp-own');
    const tenant = await createTenant(server, owner.auth, { name: 'Suspended Tenant' });
    const email = uniqueEmail('susp');
    await inviteOk(as(owner, tenant.id), tenant.id, email, 'member');
    const { token } = await invitationMail(email, 'Suspended Tenant');
    const admin = await adminLogin(server);
    const res = await server.request('PATCH', `/v1/tenants/${tenant.id}`, { headers: admin.auth, json: { status: 'suspended' } });
    assert.equal(expectSuccess(res, 200).status, 'suspended');
    const err = expectBadRequest(await accept({ token, password: NEW_PASSWORD }));
    assert.equal(err.message, 'Invalid or expired token');
    expectUnauthorized(await server.post('/v1/auth/login', { json: { email, password: NEW_PASSWORD } }));
  });
});

// ---------------------------------------------------------------------------------------

describe('concurrency', () => {
  let t;
  before(async () => { t = await makeTenant('race', 'Race Tenant'); });

  test('parallel acceptances of one invitation: exactly one 200; one account, one membership', async () => {
    const email = uniqueEmail('race-acc');
    await inviteOk(as(t.owner, t.tid), t.tid, email, 'member');
    const { token } = await invitationMail(email, t.name);
    const answers = await Promise.all(Array.from({ length: 8 }, () => accept({ token, password: NEW_PASSWORD })));
    const ok = answers.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `statuses ${answers.map((r) => r.status)}`);
    for (const r of answers) {
      if (r.status === 200) continue;
      // The losers of the race: the token is spent (400) or the membership exists (409).
      assert.ok([400, 409].includes(r.status), `a loser: ${describeRes(r)}`);
    }
    const { data } = await list(server, `${membersPath(t.tid)}?per_page=100`, as(t.owner, t.tid));
    assert.equal(data.filter((m) => m.email === email).length, 1);
    expectBadRequest(await accept({ token, password: NEW_PASSWORD }));
  });

  test('parallel invitations of one email: the newest replaces the others, so exactly one token works', async () => {
    for (let round = 0; round < 5; round++) {
      const email = uniqueEmail(`race-inv${round}`);
      const answers = await Promise.all(Array.from({ length: 5 }, () => invite(as(t.owner, t.tid), t.tid, email, 'viewer')));
      for (const r of answers) expectSuccess(r, 202);
      const mails = await box.waitForMails(mailTo(email, subjectFor(t.name)), 5);
      const statuses = [];
      for (const m of mails) {
        statuses.push((await accept({ token: tokenFrom(m.text, 'accept-invitation'), password: NEW_PASSWORD })).status);
      }
      assert.equal(statuses.filter((x) => x === 200).length, 1,
        `round ${round}: one pending invitation per email and tenant; accepting the ${mails.length} tokens gave ${statuses}`);
    }
  });
});
