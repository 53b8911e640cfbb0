// Sessions (API.md §2.1, §2.2): rotating refresh tokens with reuse detection and the grace
// window, logout (one session or all), and password change revoking the other sessions.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectEnvelopeError, sleep, startServer } from './harness.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, bearer, decodeParts, expectAccessRefused, expectAccessWorks, expectSuccess,
  expectTokens, expectUnauthorized, expectValidation, login, register, refresh,
} from './auth_helpers.mjs';

let server; // default grace window (10 s)
let strict; // TB_AUTH_REFRESH_GRACE_SECONDS=0: any reuse is theft
let short; // TB_AUTH_REFRESH_GRACE_SECONDS=1: a window that a test can outwait
before(async () => {
  [server, strict, short] = await Promise.all([
    startServer({ env: NO_THROTTLE_ENV }),
    startServer({ env: { ...NO_THROTTLE_ENV, TB_AUTH_REFRESH_GRACE_SECONDS: '0' } }),
    startServer({ env: { ...NO_THROTTLE_ENV, TB_AUTH_REFRESH_GRACE_SECONDS: '1' } }),
  ]);
});
after(async () => { await Promise.all([server?.stop(), strict?.stop(), short?.stop()]); });

/** POST /v1/auth/refresh expecting 200 {tokens}; returns the tokens. */
async function refreshOk(srv, refreshToken, label = 'refresh') {
  const res = await refresh(srv, refreshToken);
  assert.equal(res.status, 200, `${label}: ${res.status} ${res.body}`);
  const data = expectSuccess(res, 200);
  assert.deepEqual(Object.keys(data), ['tokens']);
  expectTokens(data.tokens);
  return data.tokens;
}

const sidOf = (accessToken) => decodeParts(accessToken).payload.sid;

describe('POST /v1/auth/refresh', () => {
  test('200 {tokens}: a new refresh token and a new access token for the same session', async () => {
    const acct = await register(server, {});
    const t0 = acct.tokens;
    const t1 = await refreshOk(server, t0.refresh_token);
    assert.notEqual(t1.refresh_token, t0.refresh_token);
    assert.notEqual(t1.access_token, t0.access_token);
    const p0 = decodeParts(t0.access_token).payload;
    const p1 = decodeParts(t1.access_token).payload;
    assert.equal(p1.sid, p0.sid, 'a refresh continues the session');
    assert.equal(p1.sub, p0.sub);
    assert.notEqual(p1.jti, p0.jti);
    const user = await expectAccessWorks(server, t1.access_token, 'refreshed access token');
    assert.equal(user.id, acct.user.id);
    // A refresh does not end the session: the earlier access token stays valid until it expires.
    await expectAccessWorks(server, t0.access_token, 'access token from before the refresh');
  });

  test('a chain of refreshes keeps working', async () => {
    const acct = await register(server, {});
    let t = acct.tokens;
    const seen = new Set([t.refresh_token]);
    for (let i = 0; i < 4; i++) {
      t = await refreshOk(server, t.refresh_token, `refresh #${i + 1}`);
      assert.ok(!seen.has(t.refresh_token), 'refresh tokens are never reused');
      seen.add(t.refresh_token);
    }
    await expectAccessWorks(server, t.access_token);
    assert.equal(sidOf(t.access_token), sidOf(acct.tokens.access_token));
  });

  describe('401 for a token that is not a live refresh token', () => {
    const bad = {
      'random garbage': 'not-a-refresh-token',
      'an empty string': '',
      'a long random string': 'A'.repeat(43),
      'a very long string': 'x'.repeat(5000),
    };
    for (const [label, token] of Object.entries(bad)) {
      test(label, async () => {
        expectUnauthorized(await refresh(server, token));
      });
    }
    test('an access token', async () => {
      const acct = await register(server, {});
      expectUnauthorized(await refresh(server, acct.tokens.access_token));
      // Not counted as reuse: the session still refreshes.
      await refreshOk(server, acct.tokens.refresh_token);
    });
    test('a refresh token with one character changed', async () => {
      const acct = await register(server, {});
      const rt = acct.tokens.refresh_token;
      const flipped = rt.slice(0, -1) + (rt.endsWith('A') ? 'B' : 'A');
      expectUnauthorized(await refresh(server, flipped));
      await refreshOk(server, rt);
    });
  });

  test('missing refresh_token -> 422 details.field "refresh_token"', async () => {
    const res = await server.post('/v1/auth/refresh', { json: {} });
    expectValidation(res, 'refresh_token');
  });

  test('refresh_token of the wrong type -> 422 details.field "refresh_token"', async () => {
    const res = await server.post('/v1/auth/refresh', { json: { refresh_token: 12345 } });
    expectValidation(res, 'refresh_token');
  });

  test('tenant_id -> 404 NOT_FOUND (no tenants exist yet)', async () => {
    const acct = await register(server, {});
    const res = await server.post('/v1/auth/refresh',
      { json: { refresh_token: acct.tokens.refresh_token, tenant_id: '018b6216-27a1-7e2b-aa83-67d7ba500982' } });
    expectEnvelopeError(res, 404, 'NOT_FOUND');
  });
});

describe('refresh token reuse within the grace window (default 10 s)', () => {
  test('a token retired within the window gets a fresh pair of the same session; nothing is retired or revoked', async () => {
    const acct = await register(server, {});
    const r0 = acct.tokens.refresh_token;
    const t1 = await refreshOk(server, r0, 'first refresh');
    // The response with t1 "was lost" (or another tab refreshed r0 too): r0 again.
    const t1b = await refreshOk(server, r0, 'retry of the retired token within grace');
    assert.notEqual(t1b.refresh_token, t1.refresh_token);
    assert.notEqual(t1b.refresh_token, r0);
    assert.equal(sidOf(t1b.access_token), sidOf(acct.tokens.access_token));
    // Both children stay live: each tab keeps its own.
    const t2 = await refreshOk(server, t1.refresh_token, 'the first child');
    const t2b = await refreshOk(server, t1b.refresh_token, 'the second child');
    await expectAccessWorks(server, t2.access_token);
    await expectAccessWorks(server, t2b.access_token);
    // Even a token whose child was already used, presented within its window (issue #20).
    const t3 = await refreshOk(server, r0, 'r0 once more, still within its window');
    await expectAccessWorks(server, t3.access_token);
    await expectAccessWorks(server, acct.tokens.access_token);
  });

  // Issue #20: several tabs refreshing one token at the same moment signed the user out in
  // 40-100% of trials.
  test('8 concurrent refreshes of one token, 20 rounds: every one succeeds, nothing revoked', async () => {
    const acct = await register(server, {});
    let token = acct.tokens.refresh_token;
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(server, token)));
      for (const res of answers) assert.equal(res.status, 200, `round ${round}: ${res.status} ${res.body}`);
      const pairs = answers.map((res) => res.json.data.tokens);
      for (const t of pairs) assert.equal(sidOf(t.access_token), sidOf(acct.tokens.access_token));
      await Promise.all(pairs.map((t) => expectAccessWorks(server, t.access_token, `round ${round}`)));
      token = pairs[round % 8].refresh_token;
    }
    await expectAccessWorks(server, acct.tokens.access_token, 'the first access token');
  });
});

describe('refresh token reuse with the grace window off (TB_AUTH_REFRESH_GRACE_SECONDS=0)', () => {
  test('presenting a retired token -> 401 and the whole session is revoked', async () => {
    const acct = await register(strict, {});
    const r0 = acct.tokens.refresh_token;
    const t1 = await refreshOk(strict, r0);
    await expectAccessWorks(strict, t1.access_token);

    expectUnauthorized(await refresh(strict, r0));
    // The newest token of the family is revoked too, and so are the access tokens.
    expectUnauthorized(await refresh(strict, t1.refresh_token));
    await expectAccessRefused(strict, t1.access_token);
    await expectAccessRefused(strict, acct.tokens.access_token);
    // Repeating the reuse keeps answering 401.
    expectUnauthorized(await refresh(strict, r0));
  });

  test('reuse in one session does not touch another session of the same user', async () => {
    const acct = await register(strict, {});
    const other = await login(strict, acct.email);
    const t1 = await refreshOk(strict, acct.tokens.refresh_token);
    await refreshOk(strict, t1.refresh_token);
    expectUnauthorized(await refresh(strict, acct.tokens.refresh_token)); // theft in session 1
    await expectAccessWorks(strict, other.tokens.access_token, 'the other session');
    await refreshOk(strict, other.tokens.refresh_token, 'the other session');
  });

  test('the user can still sign in again after the revocation', async () => {
    const acct = await register(strict, {});
    const t1 = await refreshOk(strict, acct.tokens.refresh_token);
    expectUnauthorized(await refresh(strict, acct.tokens.refresh_token));
    await expectAccessRefused(strict, t1.access_token);
    const again = await login(strict, acct.email);
    await expectAccessWorks(strict, again.tokens.access_token);
    await refreshOk(strict, again.tokens.refresh_token);
  });
});

describe('refresh token reuse after the grace window has passed (TB_AUTH_REFRESH_GRACE_SECONDS=1)', () => {
  test('within the second: a new pair; after it: 401 and the session is revoked', async () => {
    const acct = await register(short, {});
    const t1 = await refreshOk(short, acct.tokens.refresh_token);
    const t1b = await refreshOk(short, acct.tokens.refresh_token, 'retry within the 1 s window');
    await sleep(1600);
    expectUnauthorized(await refresh(short, acct.tokens.refresh_token));
    expectUnauthorized(await refresh(short, t1b.refresh_token));
    expectUnauthorized(await refresh(short, t1.refresh_token));
    await expectAccessRefused(short, t1b.access_token);
    await expectAccessRefused(short, acct.tokens.access_token);
  });
});

describe('POST /v1/auth/logout', () => {
  test('200 {message}; the session ends at once (access and refresh token)', async () => {
    const acct = await register(server, {});
    const other = await login(server, acct.email);
    const res = await server.post('/v1/auth/logout', { headers: bearer(acct.tokens.access_token) });
    const data = expectSuccess(res, 200);
    assert.equal(typeof data.message, 'string');
    assert.ok(data.message.length > 0);
    await expectAccessRefused(server, acct.tokens.access_token);
    expectUnauthorized(await refresh(server, acct.tokens.refresh_token));
    // Only that session.
    await expectAccessWorks(server, other.tokens.access_token, 'the other session');
    await refreshOk(server, other.tokens.refresh_token, 'the other session');
  });

  test('an access token obtained by refresh is revoked with its session', async () => {
    const acct = await register(server, {});
    const t1 = await refreshOk(server, acct.tokens.refresh_token);
    const res = await server.post('/v1/auth/logout', { headers: bearer(t1.access_token), json: {} });
    expectSuccess(res, 200);
    await expectAccessRefused(server, t1.access_token);
    await expectAccessRefused(server, acct.tokens.access_token);
    expectUnauthorized(await refresh(server, t1.refresh_token));
  });

  test('with {refresh_token} of the session: 200 and that refresh token is dead', async () => {
    const acct = await register(server, {});
    const res = await server.post('/v1/auth/logout',
      { headers: bearer(acct.tokens.access_token), json: { refresh_token: acct.tokens.refresh_token } });
    expectSuccess(res, 200);
    await expectAccessRefused(server, acct.tokens.access_token);
    expectUnauthorized(await refresh(server, acct.tokens.refresh_token));
  });

  test('{all: true} revokes every session of the user, and no one else\'s', async () => {
    const acct = await register(server, {});
    const s2 = await login(server, acct.email);
    const s3 = await login(server, acct.email);
    const stranger = await register(server, {});
    const res = await server.post('/v1/auth/logout', { headers: bearer(s2.tokens.access_token), json: { all: true } });
    expectSuccess(res, 200);
    for (const t of [acct.tokens, s2.tokens, s3.tokens]) {
      await expectAccessRefused(server, t.access_token);
      expectUnauthorized(await refresh(server, t.refresh_token));
    }
    await expectAccessWorks(server, stranger.tokens.access_token, 'another user');
    // Signing in again works.
    await expectAccessWorks(server, (await login(server, acct.email)).tokens.access_token);
  });

  test('{all: false} ends only the current session', async () => {
    const acct = await register(server, {});
    const other = await login(server, acct.email);
    expectSuccess(await server.post('/v1/auth/logout',
      { headers: bearer(acct.tokens.access_token), json: { all: false } }), 200);
    await expectAccessRefused(server, acct.tokens.access_token);
    await expectAccessWorks(server, other.tokens.access_token);
  });

  test('a refresh_token of another user in the body does not end that user\'s session', async () => {
    const acct = await register(server, {});
    const stranger = await register(server, {});
    const res = await server.post('/v1/auth/logout',
      { headers: bearer(acct.tokens.access_token), json: { refresh_token: stranger.tokens.refresh_token } });
    assert.ok(res.status < 500, `${res.status} ${res.body}`);
    await expectAccessWorks(server, stranger.tokens.access_token, 'the other user\'s session');
    await refreshOk(server, stranger.tokens.refresh_token, 'the other user\'s refresh token');
  });

  test('a second logout with the revoked token -> 401', async () => {
    const acct = await register(server, {});
    expectSuccess(await server.post('/v1/auth/logout', { headers: bearer(acct.tokens.access_token) }), 200);
    expectUnauthorized(await server.post('/v1/auth/logout', { headers: bearer(acct.tokens.access_token) }));
  });

  test('without credentials -> 401', async () => {
    expectUnauthorized(await server.post('/v1/auth/logout'));
  });

  test('all of the wrong type -> 422 details.field "all"; the session is kept', async () => {
    const acct = await register(server, {});
    const res = await server.post('/v1/auth/logout', { headers: bearer(acct.tokens.access_token), json: { all: 'yes' } });
    expectValidation(res, 'all');
    await expectAccessWorks(server, acct.tokens.access_token);
  });
});

describe('POST /v1/auth/password', () => {
  const NEW_PASSWORD = 'a brand new passphrase';

  test('200; other sessions revoked, the current one kept; only the new password signs in', async () => {
    const acct = await register(server, {});
    const current = await login(server, acct.email);
    const other = acct.tokens; // the registration session
    const res = await server.post('/v1/auth/password', {
      headers: bearer(current.tokens.access_token),
      json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json?.success, true, res.body);
    assert.ok(!res.body.includes(NEW_PASSWORD) && !res.body.includes(PASSWORD), 'a password is echoed');

    await expectAccessRefused(server, other.access_token);
    expectUnauthorized(await refresh(server, other.refresh_token));
    await expectAccessWorks(server, current.tokens.access_token, 'the session that changed the password');
    const t = await refreshOk(server, current.tokens.refresh_token, 'the current session');
    await expectAccessWorks(server, t.access_token);

    expectUnauthorized(await server.post('/v1/auth/login', { json: { email: acct.email, password: PASSWORD } }));
    const relogin = await login(server, acct.email, NEW_PASSWORD);
    assert.equal(relogin.user.id, acct.user.id);
  });

  test('a wrong current_password -> 422 details.field "current_password"; nothing changes', async () => {
    const acct = await register(server, {});
    const other = await login(server, acct.email);
    const res = await server.post('/v1/auth/password', {
      headers: bearer(acct.tokens.access_token),
      json: { current_password: 'definitely not it', new_password: NEW_PASSWORD },
    });
    expectValidation(res, 'current_password');
    assert.ok(!res.body.includes('definitely not it'), 'the password is echoed');
    await expectAccessWorks(server, other.tokens.access_token, 'the other session');
    await login(server, acct.email, PASSWORD);
  });

  for (const weak of ['Zq9!xv', 'password123', '12345678', 'qwerty123']) {
    test(`a weak new_password ${JSON.stringify(weak)} -> 422 details.field "new_password"`, async () => {
      const acct = await register(server, {});
      const res = await server.post('/v1/auth/password', {
        headers: bearer(acct.tokens.access_token),
        json: { current_password: PASSWORD, new_password: weak },
      });
      expectValidation(res, 'new_password');
      assert.ok(!res.body.includes(weak), 'the password is echoed');
    });
  }

  test('without credentials -> 401', async () => {
    const res = await server.post('/v1/auth/password',
      { json: { current_password: PASSWORD, new_password: NEW_PASSWORD } });
    expectUnauthorized(res);
  });
});

// Issue #29: sessions had a 30-day absolute lifetime and no idle limit.
describe('idle sessions (TB_AUTH_SESSION_IDLE_SECONDS=2)', () => {
  test('a refresh within the limit keeps the session; one after it is refused', async () => {
    const idle = await startServer({ env: { ...NO_THROTTLE_ENV, TB_AUTH_SESSION_IDLE_SECONDS: '2' } });
    try {
      const acct = await register(idle, {});
      await sleep(1200);
      const t1 = await refreshOk(idle, acct.tokens.refresh_token, 'within the idle limit');
      await sleep(1200);
      const t2 = await refreshOk(idle, t1.refresh_token, 'each refresh restarts the clock');
      await sleep(2300);
      expectUnauthorized(await refresh(idle, t2.refresh_token));
      // A fresh login starts a new session.
      const again = await login(idle, acct.email);
      await refreshOk(idle, again.tokens.refresh_token);
    } finally {
      await idle.stop();
    }
  });
});
