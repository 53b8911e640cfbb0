// Account mail (docs/api.md §2 table, §13 "Single-use tokens", "Mail headers", §14
// "Account-mail links", "Reset requests", "Verification requests"): password reset
// (request → mail "Reset your password" with `<link_base>/reset-password?token=…` → confirm)
// and email verification (request with a session → mail "Verify your email" with
// `<link_base>/verify-email?token=…` → confirm). No account enumeration, single-use tokens, a
// newer request retiring the older token, all sessions revoked by a reset, the per-address
// mail cap, and the mail settings (from, link base, limits).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectEnvelopeError, sleep, startServer } from './harness.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, USER_MEMBERS, adminLogin, as, bearer, createKey, expectBadRequest, expectForbidden,
  expectNotFound, expectSuccess, expectValidation, login, newUser, register, uniqueEmail,
} from './tenancy_helpers.mjs';
import { expectUnauthorized, me, refresh } from './auth_helpers.mjs';
import { DEFAULT_FROM, FAST_MAIL_ENV, fileBox, idOfFile, mailTo, tokenFrom } from './mail_helpers.mjs';

const servers = [];
let server;
let box;
before(async () => {
  // Limits stay enabled (the default): the reset-mail cap is part of what is tested.
  server = await startServer({ env: { ...NO_THROTTLE_ENV, ...FAST_MAIL_ENV } });
  servers.push(server);
  box = fileBox(server);
});
after(async () => { for (const s of servers) await s.stop().catch(() => {}); });

const RESET_SUBJECT = 'Reset your password';
const VERIFY_SUBJECT = 'Verify your email';
const NEW_PASSWORD = 'a brand new passphrase 2024';

const requestReset = (email, s = server) => s.post('/v1/auth/password-reset/request', { json: { email } });
const confirmReset = (json, s = server) => s.post('/v1/auth/password-reset/confirm', { json });
const requestVerify = (headers, opts = {}, s = server) => s.post('/v1/auth/verify-email/request', { headers, ...opts });
const confirmVerify = (json, s = server) => s.post('/v1/auth/verify-email/confirm', { json });

/** Waits for the n-th mail with `subject` to `email`; returns {mail, token}. */
async function mailWithToken(email, subject, linkPath, n = 1, { mailbox = box, linkBase } = {}) {
  const mails = await mailbox.waitForMails(mailTo(email, subject), n);
  const mail = mails[n - 1];
  return { mail, token: tokenFrom(mail.text, linkPath, linkBase) };
}

/**
 * Proves the outbox has caught up: a fresh reset request for a new account is mailed, and a
 * little time passes after it (anything queued before has been written by then).
 */
async function flush(s = server, mailbox = box) {
  const acct = await register(s, { email: uniqueEmail('flush') });
  expectSuccess(await requestReset(acct.email, s), 202);
  await mailbox.waitForMail(mailTo(acct.email, RESET_SUBJECT));
  await sleep(400);
}

function expectInvalidToken(res) {
  const err = expectBadRequest(res);
  assert.equal(err.message, 'Invalid or expired token');
}

// =======================================================================================

describe('POST /v1/auth/password-reset/request', () => {
  test('202 with the same body for a known, an unknown and a deactivated email; only the active account gets a mail', async () => {
    const known = await newUser(server, 'rr-known');
    const gone = await newUser(server, 'rr-inactive');
    const admin = await adminLogin(server);
    const off = await server.request('PUT', `/v1/users/${gone.user.id}`,
      { headers: as(admin, gone.tid), json: { is_active: false } });
    assert.equal(expectSuccess(off, 200).is_active, false);
    const unknown = uniqueEmail('rr-nobody');

    const answers = [];
    for (const email of [known.email, unknown, gone.email, `  ${known.email.toUpperCase()} `]) {
      const res = await requestReset(email);
      expectSuccess(res, 202);
      answers.push(res);
    }
    for (const res of answers.slice(1)) {
      assert.deepEqual(res.json, answers[0].json, 'the same body whatever the account');
      assert.equal(res.headers['content-type'], answers[0].headers['content-type']);
    }
    assert.equal(typeof answers[0].json.data.message, 'string');
    assert.deepEqual(Object.keys(answers[0].json.data), ['message']);

    const { mail, token } = await mailWithToken(known.email, RESET_SUBJECT, 'reset-password', 2);
    assert.equal(mail.from, DEFAULT_FROM);
    assert.equal(mail.to, known.email);
    assert.equal(mail.subject, RESET_SUBJECT);
    assert.ok(mail.text.includes(`http://localhost:8080/reset-password?token=${token}`));
    await flush();
    assert.deepEqual(box.to(unknown), [], 'no mail to an address without an account');
    assert.deepEqual(box.to(gone.email), [], 'no mail to a deactivated account');
    assert.equal(box.to(known.email).length, 2, 'the trimmed, upper-case address is the same account');
  });

  test('a malformed email → 422 email; unknown fields → 422; malformed JSON → 400', async () => {
    for (const email of ['not-an-email', '', 'a@', 42, null, 'ünï@example.com']) {
      expectValidation(await requestReset(email), 'email');
    }
    expectValidation(await server.post('/v1/auth/password-reset/request', { json: {} }), 'email');
    expectValidation(await server.post('/v1/auth/password-reset/request',
      { json: { email: uniqueEmail('x'), redirect: 'https://evil.example' } }), 'redirect');
    expectBadRequest(await server.post('/v1/auth/password-reset/request',
      { headers: { 'Content-Type': 'application/json' }, body: '{"email":' }));
  });

  test('a reset mail is not listed in GET /v1/mail/{id}, not even to the owner of the user\'s tenant', async () => {
    const u = await newUser(server, 'rr-hidden');
    expectSuccess(await requestReset(u.email), 202);
    const { mail } = await mailWithToken(u.email, RESET_SUBJECT, 'reset-password');
    const id = idOfFile(mail.file);
    expectNotFound(await server.get(`/v1/mail/${id}`, { headers: u.auth }));
    const admin = await adminLogin(server);
    expectNotFound(await server.get(`/v1/mail/${id}`, { headers: as(admin) }));
  });
});

describe('POST /v1/auth/password-reset/confirm', () => {
  test('weak password → 422 (token kept); then 200: new password in, old out, every session revoked, email verified, token single-use', async () => {
    const u = await newUser(server, 'rc');
    assert.equal(u.user.email_verified, false);
    const second = await login(server, u.email); // another session, also to be revoked
    expectSuccess(await requestReset(u.email), 202);
    const { token } = await mailWithToken(u.email, RESET_SUBJECT, 'reset-password');

    // Validation first: none of these consumes the token.
    expectValidation(await confirmReset({ token, new_password: 'password' }), 'new_password');
    expectValidation(await confirmReset({ token, new_password: 'short' }), 'new_password');
    expectValidation(await confirmReset({ token }), 'new_password');
    expectValidation(await confirmReset({ new_password: NEW_PASSWORD }), 'token');
    expectValidation(await confirmReset({ token, new_password: NEW_PASSWORD, email: u.email }), 'email');
    expectInvalidToken(await confirmReset({ token: `${token}A`, new_password: NEW_PASSWORD }));
    expectInvalidToken(await confirmReset({ token: 'A'.repeat(43), new_password: NEW_PASSWORD }));
    // Still the old password.
    assert.equal((await login(server, u.email, PASSWORD)).user.id, u.user.id);
    const third = await login(server, u.email);

    const res = await confirmReset({ token, new_password: NEW_PASSWORD });
    const data = expectSuccess(res, 200);
    assert.deepEqual(Object.keys(data), ['message']);
    assert.equal(typeof data.message, 'string');

    expectUnauthorized(await server.post('/v1/auth/login', { json: { email: u.email, password: PASSWORD } }));
    const fresh = await login(server, u.email, NEW_PASSWORD);
    assert.equal(fresh.user.id, u.user.id);
    assert.equal(fresh.user.email_verified, true, 'a completed reset marks the email verified');
    for (const s of [u, second, third]) {
      expectUnauthorized(await me(server, s.tokens.access_token));
      expectUnauthorized(await refresh(server, s.tokens.refresh_token));
    }
    // The new session works.
    const meNow = expectSuccess(await me(server, fresh.tokens.access_token), 200);
    assert.equal(meNow.user.email_verified, true);

    expectInvalidToken(await confirmReset({ token, new_password: 'yet another passphrase 77' }));
    assert.equal((await login(server, u.email, NEW_PASSWORD)).user.id, u.user.id, 'the reused token changed nothing');
  });

  test('a newer request retires the older token: the first → 400, the second works', async () => {
    const u = await newUser(server, 'rc-twice');
    expectSuccess(await requestReset(u.email), 202);
    expectSuccess(await requestReset(u.email), 202);
    const { token: first } = await mailWithToken(u.email, RESET_SUBJECT, 'reset-password', 1);
    const { token: second } = await mailWithToken(u.email, RESET_SUBJECT, 'reset-password', 2);
    assert.notEqual(first, second);
    expectInvalidToken(await confirmReset({ token: first, new_password: NEW_PASSWORD }));
    expectUnauthorized(await server.post('/v1/auth/login', { json: { email: u.email, password: NEW_PASSWORD } }));
    expectSuccess(await confirmReset({ token: second, new_password: NEW_PASSWORD }), 200);
    await login(server, u.email, NEW_PASSWORD);
  });

  test('a reset token is not a verification token, nor the other way round', async () => {
    const u = await newUser(server, 'rc-cross');
    expectSuccess(await requestReset(u.email), 202);
    expectSuccess(await requestVerify(u.auth), 202);
    const { token: resetToken } = await mailWithToken(u.email, RESET_SUBJECT, 'reset-password');
    const { token: verifyToken } = await mailWithToken(u.email, VERIFY_SUBJECT, 'verify-email');
    expectInvalidToken(await confirmVerify({ token: resetToken }));
    expectInvalidToken(await confirmReset({ token: verifyToken, new_password: NEW_PASSWORD }));
    // Both still work for their own purpose.
    expectSuccess(await confirmVerify({ token: verifyToken }), 200);
    expectSuccess(await confirmReset({ token: resetToken, new_password: NEW_PASSWORD }), 200);
  });

  test('a reset does not reactivate an account deactivated after the request', async () => {
    const u = await newUser(server, 'rc-deact');
    expectSuccess(await requestReset(u.email), 202);
    const { token } = await mailWithToken(u.email, RESET_SUBJECT, 'reset-password');
    const admin = await adminLogin(server);
    const off = await server.request('PUT', `/v1/users/${u.user.id}`, { headers: as(admin, u.tid), json: { is_active: false } });
    expectSuccess(off, 200);
    // Whether the token still completes is not specified (this server answers 200); the
    // account must stay inactive either way.
    const res = await confirmReset({ token, new_password: NEW_PASSWORD });
    assert.ok([200, 400, 403].includes(res.status), `reset of a deactivated account: ${res.status} ${res.body}`);
    for (const password of [PASSWORD, NEW_PASSWORD]) {
      const li = await server.post('/v1/auth/login', { json: { email: u.email, password } });
      assert.ok([401, 403].includes(li.status), `login of a deactivated account: ${li.status} ${li.body}`);
    }
    const meRes = await me(server, u.tokens.access_token);
    assert.ok([401, 403].includes(meRes.status), `a deactivated account's session: ${meRes.status} ${meRes.body}`);
  });
});

describe('reset mail cap (limits enabled)', () => {
  test('at most 5 reset mails an hour to one address: the 6th request answers 202 and mails nothing', async () => {
    const u = await newUser(server, 'cap');
    const bodies = [];
    for (let i = 0; i < 6; i++) {
      const res = await requestReset(u.email);
      expectSuccess(res, 202);
      bodies.push(res.json);
    }
    for (const b of bodies) assert.deepEqual(b, bodies[0], 'the capped answer looks like any other');
    await box.waitForMails(mailTo(u.email, RESET_SUBJECT), 5);
    await flush();
    assert.equal(box.to(u.email).filter((m) => m.subject === RESET_SUBJECT).length, 5);
    // The last mailed token is the valid one.
    const { token } = await mailWithToken(u.email, RESET_SUBJECT, 'reset-password', 5);
    expectSuccess(await confirmReset({ token, new_password: NEW_PASSWORD }), 200);
    // Another address is not affected by this one's cap.
    const v = await newUser(server, 'cap-other');
    expectSuccess(await requestReset(v.email), 202);
    await mailWithToken(v.email, RESET_SUBJECT, 'reset-password');
  });
});

// =======================================================================================

describe('email verification', () => {
  test('request: a Bearer session (no body or {}) → 202 and a mail; an API key → 403; no auth → 401', async () => {
    const u = await newUser(server, 'vr');
    expectUnauthorized(await requestVerify({}));
    expectUnauthorized(await requestVerify({ Authorization: 'Bearer nope' }));
    const key = await createKey(server, u.auth, { scopes: ['read', 'write', 'admin'] });
    expectForbidden(await requestVerify({ 'X-API-Key': key.key }));
    expectForbidden(await requestVerify({ Authorization: `Bearer ${key.key}` }));
    const r1 = await requestVerify(u.auth);
    const d1 = expectSuccess(r1, 202);
    assert.deepEqual(Object.keys(d1), ['message']);
    expectSuccess(await requestVerify(u.auth, { json: {} }), 202);
    expectValidation(await requestVerify(u.auth, { json: { email: 'other@example.com' } }), 'email');

    const { mail, token } = await mailWithToken(u.email, VERIFY_SUBJECT, 'verify-email', 2);
    assert.equal(mail.from, DEFAULT_FROM);
    assert.equal(mail.to, u.email);
    assert.ok(mail.text.includes(`http://localhost:8080/verify-email?token=${token}`));
    await flush();
    assert.equal(box.to(u.email).length, 2, 'the refused requests mailed nothing');
  });

  test('confirm: 200 {user} verified (and /me agrees); reuse → 400; an older token retired by a newer request → 400', async () => {
    const u = await newUser(server, 'vc');
    expectSuccess(await requestVerify(u.auth), 202);
    expectSuccess(await requestVerify(u.auth), 202);
    const { token: older } = await mailWithToken(u.email, VERIFY_SUBJECT, 'verify-email', 1);
    const { token } = await mailWithToken(u.email, VERIFY_SUBJECT, 'verify-email', 2);

    expectValidation(await confirmVerify({}), 'token');
    expectValidation(await confirmVerify({ token, extra: 1 }), 'extra');
    expectInvalidToken(await confirmVerify({ token: 'Z'.repeat(43) }));
    expectInvalidToken(await confirmVerify({ token: older }));
    assert.equal(expectSuccess(await me(server, u.tokens.access_token), 200).user.email_verified, false);

    const data = expectSuccess(await confirmVerify({ token }), 200);
    assert.deepEqual(Object.keys(data), ['user']);
    assert.deepEqual(Object.keys(data.user).sort(), USER_MEMBERS);
    assert.equal(data.user.id, u.user.id);
    assert.equal(data.user.email, u.email);
    assert.equal(data.user.email_verified, true);
    const meNow = expectSuccess(await me(server, u.tokens.access_token), 200);
    assert.equal(meNow.user.email_verified, true, 'the session is not revoked, and sees the change');
    expectInvalidToken(await confirmVerify({ token }));
  });

  test('a verified user who requests again → 202 and no new mail', async () => {
    const u = await newUser(server, 'vv');
    expectSuccess(await requestVerify(u.auth), 202);
    const { token } = await mailWithToken(u.email, VERIFY_SUBJECT, 'verify-email');
    expectSuccess(await confirmVerify({ token }), 200);
    const res = await requestVerify(u.auth);
    expectSuccess(res, 202);
    await flush();
    assert.equal(box.to(u.email).filter((m) => m.subject === VERIFY_SUBJECT).length, 1);
  });

  test('more than 5 verification requests an hour → 429 with Retry-After', async () => {
    const u = await newUser(server, 'vlimit');
    for (let i = 0; i < 5; i++) expectSuccess(await requestVerify(u.auth), 202);
    const res = await requestVerify(u.auth);
    expectEnvelopeError(res, 429, 'RATE_LIMITED');
    assert.match(res.headers['retry-after'] || '', /^\d+$/, `Retry-After: ${res.headers['retry-after']}`);
    await box.waitForMails(mailTo(u.email, VERIFY_SUBJECT), 5);
    await flush();
    assert.equal(box.to(u.email).filter((m) => m.subject === VERIFY_SUBJECT).length, 5);
  });
});

// =======================================================================================

describe('concurrency: single use and retirement hold under parallel requests', () => {
  test('parallel confirms of one reset token: exactly one 200, the others 400', async () => {
    const u = await newUser(server, 'race-rc');
    expectSuccess(await requestReset(u.email), 202);
    const { token } = await mailWithToken(u.email, RESET_SUBJECT, 'reset-password');
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      confirmReset({ token, new_password: `${NEW_PASSWORD} ${i}` })));
    const ok = answers.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `statuses ${answers.map((r) => r.status)}`);
    for (const r of answers) if (r.status !== 200) expectInvalidToken(r);
    const winner = answers.indexOf(ok[0]);
    await login(server, u.email, `${NEW_PASSWORD} ${winner}`);
  });

  test('parallel confirms of one verification token: exactly one 200, the others 400', async () => {
    const u = await newUser(server, 'race-vc');
    expectSuccess(await requestVerify(u.auth), 202);
    const { token } = await mailWithToken(u.email, VERIFY_SUBJECT, 'verify-email');
    const answers = await Promise.all(Array.from({ length: 8 }, () => confirmVerify({ token })));
    assert.equal(answers.filter((r) => r.status === 200).length, 1, `statuses ${answers.map((r) => r.status)}`);
    for (const r of answers) if (r.status !== 200) expectInvalidToken(r);
  });

  test('parallel reset requests for one address: only one of the mailed tokens works', async () => {
    for (let round = 0; round < 5; round++) {
      const u = await newUser(server, `race-rr${round}`);
      const answers = await Promise.all(Array.from({ length: 4 }, () => requestReset(u.email)));
      for (const r of answers) expectSuccess(r, 202);
      const mails = await box.waitForMails(mailTo(u.email, RESET_SUBJECT), 4);
      const statuses = [];
      for (const [i, m] of mails.entries()) {
        const token = tokenFrom(m.text, 'reset-password');
        statuses.push((await confirmReset({ token, new_password: `${NEW_PASSWORD} ${i}` })).status);
      }
      assert.equal(statuses.filter((x) => x === 200).length, 1,
        `round ${round}: a newer request retires the older tokens, so one of ${mails.length} works; got ${statuses}`);
    }
  });

  test('parallel verification requests: only one of the mailed tokens works', async () => {
    for (let round = 0; round < 5; round++) {
      const u = await newUser(server, `race-vr${round}`);
      const answers = await Promise.all(Array.from({ length: 4 }, () => requestVerify(u.auth)));
      for (const r of answers) expectSuccess(r, 202);
      const mails = await box.waitForMails(mailTo(u.email, VERIFY_SUBJECT), 4);
      const statuses = [];
      for (const m of mails) statuses.push((await confirmVerify({ token: tokenFrom(m.text, 'verify-email') })).status);
      assert.equal(statuses.filter((x) => x === 200).length, 1,
        `round ${round}: a newer request retires the older tokens, so one of ${mails.length} works; got ${statuses}`);
    }
  });

  test('parallel reset requests never exceed the cap of 5 mails', async () => {
    const u = await newUser(server, 'race-cap');
    const answers = await Promise.all(Array.from({ length: 12 }, () => requestReset(u.email)));
    for (const r of answers) expectSuccess(r, 202);
    await box.waitForMails(mailTo(u.email, RESET_SUBJECT), 5);
    await flush();
    assert.equal(box.to(u.email).length, 5);
  });
});

// =======================================================================================

describe('mail settings: TB_MAIL_FROM, TB_MAIL_LINK_BASE, TB_LIMITS_ENABLED=false', () => {
  let s2;
  let box2;
  const FROM = '"Example App" <accounts@example.org>';
  const LINK_BASE = 'https://app.example.org/auth';
  before(async () => {
    s2 = await startServer({ env: {
      ...NO_THROTTLE_ENV, ...FAST_MAIL_ENV, TB_MAIL_FROM: FROM, TB_MAIL_LINK_BASE: LINK_BASE, TB_LIMITS_ENABLED: 'false',
    } });
    servers.push(s2);
    box2 = fileBox(s2);
  });

  test('links use the link base, From the configured sender; the reset and verification flows work with them', async () => {
    const u = await register(s2, { email: uniqueEmail('cfg') });
    expectSuccess(await requestReset(u.email, s2), 202);
    const { mail, token } = await mailWithToken(u.email, RESET_SUBJECT, 'reset-password', 1,
      { mailbox: box2, linkBase: LINK_BASE });
    assert.match(mail.from, /accounts@example\.org/);
    assert.match(mail.from, /Example App/);
    assert.match(mail.headers['message-id'], /@example\.org>$/);
    assert.ok(!mail.text.includes('http://localhost:8080'), 'no default link base left');
    expectSuccess(await confirmReset({ token, new_password: NEW_PASSWORD }, s2), 200);

    const v = await register(s2, { email: uniqueEmail('cfg-v') });
    expectSuccess(await requestVerify(bearer(v.tokens.access_token), {}, s2), 202);
    const { token: vt } = await mailWithToken(v.email, VERIFY_SUBJECT, 'verify-email', 1,
      { mailbox: box2, linkBase: LINK_BASE });
    assert.equal(expectSuccess(await confirmVerify({ token: vt }, s2), 200).user.email_verified, true);
  });

  test('with limits disabled, a 6th reset request in the hour is mailed too', async () => {
    const u = await register(s2, { email: uniqueEmail('nocap') });
    for (let i = 0; i < 6; i++) expectSuccess(await requestReset(u.email, s2), 202);
    await box2.waitForMails(mailTo(u.email, RESET_SUBJECT), 6);
  });
});
