// Shared helpers for the auth end-to-end tests (API.md §2): accounts, sessions, JWTs.
// Not a test file itself (node --test only runs *.test.mjs here).

import assert from 'node:assert/strict';
import { RFC3339_MS_Z, expectEnvelopeError } from './harness.mjs';

/** A UUID of version 7 with the RFC 9562 variant. */
export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const PASSWORD = 'correct horse battery staple';

/**
 * Server settings that keep the login throttle and the registration limit out of the way of
 * tests that are not about them: every request of a test run comes from 127.0.0.1, so the
 * per-IP budgets would otherwise be shared by unrelated tests. auth_throttle.test.mjs tests
 * the limits themselves (and their defaults) on dedicated servers.
 */
export const NO_THROTTLE_ENV = Object.freeze({
  TB_LIMITS_LOGIN_FAILURES: '100000',
  TB_LIMITS_REGISTER_PER_HOUR: '100000',
});

let n = 0;
/** A fresh email address, unique within the test process. */
export function uniqueEmail(tag = 'user') {
  n += 1;
  return `${tag}-${process.pid}-${n}@example.com`;
}

export const bearer = (token) => ({ Authorization: `Bearer ${token}` });

function describeRes(res) {
  return `status ${res.status}, body ${res.body?.slice(0, 500)}`;
}

/** Asserts a 2xx success envelope with the given status; returns data. */
export function expectSuccess(res, status) {
  assert.equal(res.status, status, `expected ${status}; got ${describeRes(res)}`);
  assert.match(res.headers['content-type'] || '', /^application\/json\s*;\s*charset=utf-8$/i);
  assert.equal(res.json?.success, true, describeRes(res));
  assert.ok(res.json.data && typeof res.json.data === 'object', describeRes(res));
  return res.json.data;
}

/** 401 UNAUTHORIZED in the envelope, with WWW-Authenticate: Bearer (API.md §1.1). */
export function expectUnauthorized(res) {
  const error = expectEnvelopeError(res, 401, 'UNAUTHORIZED');
  assert.match(res.headers['www-authenticate'] || '', /^Bearer\b/i,
    `401 without WWW-Authenticate: Bearer; headers ${JSON.stringify(res.headers)}`);
  return error;
}

/** 422 VALIDATION_ERROR naming `field` in details.field. */
export function expectValidation(res, field) {
  const error = expectEnvelopeError(res, 422, 'VALIDATION_ERROR');
  assert.equal(error.details?.field, field, `details.field; got ${JSON.stringify(error)}`);
  return error;
}

/** Checks a RFC 3339 ms Z timestamp that is close to now (same machine as the server). */
export function expectRecentTimestamp(value, label) {
  assert.equal(typeof value, 'string', `${label}: ${JSON.stringify(value)}`);
  assert.match(value, RFC3339_MS_Z, `${label}: ${value}`);
  const skew = Math.abs(Date.parse(value) - Date.now());
  assert.ok(skew < 120_000, `${label} ${value} is ${skew} ms away from now`);
}

/** The `user` object of API.md §2.2. */
export function expectUser(user, { email, name, isAdmin = false, loggedIn = false } = {}) {
  assert.ok(user && typeof user === 'object', `user: ${JSON.stringify(user)}`);
  assert.deepEqual(Object.keys(user).sort(), ['created_at', 'email', 'email_verified', 'id', 'is_active',
    'is_admin', 'last_login_at', 'name', 'updated_at'], `user members: ${JSON.stringify(user)}`);
  assert.match(user.id, UUID_V7, `user.id is a UUIDv7: ${user.id}`);
  if (email !== undefined) assert.equal(user.email, email);
  if (name !== undefined) assert.equal(user.name, name);
  assert.equal(typeof user.name, 'string');
  assert.equal(typeof user.email_verified, 'boolean');
  assert.equal(user.is_active, true);
  assert.equal(user.is_admin, isAdmin);
  expectRecentTimestamp(user.created_at, 'created_at');
  expectRecentTimestamp(user.updated_at, 'updated_at');
  assert.ok(user.updated_at >= user.created_at, `updated_at ${user.updated_at} < created_at ${user.created_at}`);
  if (loggedIn) expectRecentTimestamp(user.last_login_at, 'last_login_at');
  else assert.equal(user.last_login_at, null);
}

/** The `tokens` object of API.md §2.1. */
export function expectTokens(tokens) {
  assert.ok(tokens && typeof tokens === 'object', `tokens: ${JSON.stringify(tokens)}`);
  assert.deepEqual(Object.keys(tokens).sort(),
    ['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'token_type']);
  assert.match(tokens.access_token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'access_token is a compact JWS');
  assert.equal(typeof tokens.refresh_token, 'string');
  assert.ok(tokens.refresh_token.length >= 32, `refresh token too short: ${tokens.refresh_token.length}`);
  assert.ok(!tokens.refresh_token.includes('.'), 'the refresh token is opaque, not a JWT');
  assert.equal(tokens.token_type, 'Bearer');
  assert.equal(tokens.expires_in, 900);
  assert.equal(tokens.refresh_expires_in, 2592000);
}

/** POST /v1/auth/register; asserts 201 and returns data ({user, tokens, tenants}). */
export async function register(server, { email = uniqueEmail(), password = PASSWORD, ...rest } = {}) {
  const res = await server.post('/v1/auth/register', { json: { email, password, ...rest } });
  const data = expectSuccess(res, 201);
  return { ...data, email, password };
}

/** POST /v1/auth/login; asserts 200 and returns data ({user, tokens, tenants}). */
export async function login(server, email, password = PASSWORD) {
  const res = await server.post('/v1/auth/login', { json: { email, password } });
  return expectSuccess(res, 200);
}

export function me(server, accessToken) {
  return server.get('/v1/auth/me', { headers: bearer(accessToken) });
}

export function refresh(server, refreshToken) {
  return server.post('/v1/auth/refresh', { json: { refresh_token: refreshToken } });
}

/** Asserts the access token is accepted by GET /v1/auth/me; returns the user. */
export async function expectAccessWorks(server, accessToken, label = 'access token') {
  const res = await me(server, accessToken);
  assert.equal(res.status, 200, `${label} should work on /v1/auth/me; got ${describeRes(res)}`);
  return res.json.data.user;
}

/** Asserts the access token is refused (401) by GET /v1/auth/me. */
export async function expectAccessRefused(server, accessToken) {
  expectUnauthorized(await me(server, accessToken));
}

// ---------------------------------------------------------------------------------------
// JWT pieces, without verification (tests verify with jose separately).

export const b64url = (data) => Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64url');

export function decodeParts(token) {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    signature: s,
    raw: { h, p, s },
  };
}

// The CLI runner lives in the harness; re-exported for the auth tests.
export { runCli } from './harness.mjs';
