// Login throttling and the registration limit (API.md §2.2, §13 "Limits settings").
//
// Every request of a test run comes from 127.0.0.1, so a server's per-IP budgets are shared
// by everything sent to it: each scenario below gets its own server. Since one IP's failure
// count is always at least any one email's, the per-email block cannot be told apart from
// the per-IP block from a single address; the tests check what is observable.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectEnvelopeError, sleep, startServer } from './harness.mjs';
import {
  PASSWORD, expectAccessWorks, expectSuccess, expectUnauthorized, login, refresh, register, uniqueEmail,
} from './auth_helpers.mjs';

const N = 3;
const FAST = { TB_LIMITS_LOGIN_FAILURES: String(N) };

// One server per scenario, all started at once up front (start-up dominates this file).
const CONFIGS = {
  email: FAST,
  ip: FAST,
  success: FAST,
  window: { ...FAST, TB_LIMITS_LOGIN_WINDOW_SECONDS: '2' },
  disabled: { ...FAST, TB_LIMITS_ENABLED: 'false', TB_LIMITS_REGISTER_PER_HOUR: '1' },
  defaults: {},
  register: { TB_LIMITS_REGISTER_PER_HOUR: '2' },
  register409: { TB_LIMITS_REGISTER_PER_HOUR: '2' },
};
const started = {};
before(async () => {
  const entries = await Promise.allSettled(Object.entries(CONFIGS).map(async ([name, env]) => {
    started[name] = await startServer({ env });
  }));
  const failed = entries.find((e) => e.status === 'rejected');
  if (failed) throw failed.reason;
});
after(async () => { await Promise.all(Object.values(started).map((s) => s.stop())); });
const serverFor = (name) => started[name];

function attempt(server, email, password) {
  return server.post('/v1/auth/login', { json: { email, password } });
}

async function failLogin(server, email) {
  expectUnauthorized(await attempt(server, email, 'not the right password'));
}

/** 429 RATE_LIMITED with an integer Retry-After in (0, max] seconds; returns it. */
function expectRateLimited(res, max) {
  expectEnvelopeError(res, 429, 'RATE_LIMITED');
  const ra = res.headers['retry-after'];
  assert.match(ra || '', /^\d+$/, `Retry-After must be integer seconds; headers ${JSON.stringify(res.headers)}`);
  const seconds = Number(ra);
  assert.ok(seconds > 0 && seconds <= max, `Retry-After ${seconds} not in (0, ${max}]`);
  assert.ok(!('data' in res.json), 'no data (no tokens) in a 429');
  return seconds;
}

describe('login throttling (TB_LIMITS_LOGIN_FAILURES=3)', () => {
  test('after 3 failures for one email, login answers 429 with Retry-After, even with the right password', async () => {
    const server = serverFor('email');
    const acct = await register(server, {});
    for (let i = 0; i < N; i++) await failLogin(server, acct.email);
    expectRateLimited(await attempt(server, acct.email, PASSWORD), 900);
    expectRateLimited(await attempt(server, acct.email, 'not the right password'), 900);
    expectRateLimited(await attempt(server, acct.email.toUpperCase(), PASSWORD), 900);
    // Only login is throttled: the existing session keeps working and refreshing.
    await expectAccessWorks(server, acct.tokens.access_token);
    expectSuccess(await refresh(server, acct.tokens.refresh_token), 200);
  });

  test('failures spread over different emails block the client IP for every email', async () => {
    const server = serverFor('ip');
    const acct = await register(server, {});
    const victim = await register(server, {});
    await failLogin(server, acct.email);
    await failLogin(server, uniqueEmail('ghost'));
    await failLogin(server, uniqueEmail('ghost'));
    // No single email has reached the limit; the IP has.
    expectRateLimited(await attempt(server, victim.email, PASSWORD), 900);
    expectRateLimited(await attempt(server, uniqueEmail('ghost'), PASSWORD), 900);
  });

  test('a successful login does not clear the IP\'s failures', async () => {
    const server = serverFor('success');
    const a = await register(server, {});
    const b = await register(server, {});
    await failLogin(server, a.email);
    await failLogin(server, a.email);
    await login(server, a.email); // clears a's email failures, not the IP's
    await failLogin(server, b.email); // the IP's third failure
    expectRateLimited(await attempt(server, a.email, PASSWORD), 900);
  });

  test('the block ends when the window has passed (TB_LIMITS_LOGIN_WINDOW_SECONDS=2)', { timeout: 20_000 }, async () => {
    const server = serverFor('window');
    const acct = await register(server, {});
    for (let i = 0; i < N; i++) await failLogin(server, acct.email);
    const wait = expectRateLimited(await attempt(server, acct.email, PASSWORD), 2);
    await sleep(wait * 1000 + 300);
    await login(server, acct.email);
  });

  test('TB_LIMITS_ENABLED=false: no throttling, no registration limit', async () => {
    const server = serverFor('disabled');
    const acct = await register(server, {});
    for (let i = 0; i < N + 2; i++) await failLogin(server, acct.email);
    await login(server, acct.email);
    await register(server, {});
    await register(server, {});
  });
});

describe('login throttling defaults (10 failures in 15 minutes)', () => {
  test('10 failures answer 401, the 11th attempt 429 with Retry-After <= 900', async () => {
    const server = serverFor('defaults');
    const acct = await register(server, {});
    for (let i = 0; i < 10; i++) await failLogin(server, acct.email);
    expectRateLimited(await attempt(server, acct.email, PASSWORD), 900);
  });
});

describe('registration limit per client IP (TB_LIMITS_REGISTER_PER_HOUR=2)', () => {
  test('the third registration in the hour -> 429 with Retry-After', async () => {
    const server = serverFor('register');
    const first = await register(server, {});
    await register(server, {});
    const res = await server.post('/v1/auth/register', { json: { email: uniqueEmail('third'), password: PASSWORD } });
    expectRateLimited(res, 3600);
    // Signing in is not affected.
    await login(server, first.email);
  });

  test('a 409 for a taken email counts too', async () => {
    const server = serverFor('register409');
    const first = await register(server, {});
    const dup = await server.post('/v1/auth/register', { json: { email: first.email, password: PASSWORD } });
    expectEnvelopeError(dup, 409, 'CONFLICT');
    const res = await server.post('/v1/auth/register', { json: { email: uniqueEmail('third'), password: PASSWORD } });
    expectRateLimited(res, 3600);
  });
});
