// Shared helpers for the tenancy end-to-end tests (API.md §3, §1.2, docs/api.md §14):
// tenants, members, users of the tenant, organizations and the list mechanism.
// Not a test file itself (node --test only runs *.test.mjs here).

import assert from 'node:assert/strict';
import { TEST_ADMIN, expectEnvelopeError } from './harness.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, bearer, decodeParts, expectSuccess, login, register, uniqueEmail,
} from './auth_helpers.mjs';

export { NO_THROTTLE_ENV, PASSWORD, TEST_ADMIN, bearer, decodeParts, expectSuccess, login, register, uniqueEmail };

/** A syntactically valid UUIDv7 that names nothing. */
export const RANDOM_ID = '018b6216-27a1-7e2b-aa83-67d7ba500982';

export const TENANT_MEMBERS = ['created_at', 'id', 'member_count', 'name', 'plan', 'role', 'settings', 'slug',
  'status', 'updated_at'];
export const MEMBER_MEMBERS = ['email', 'joined_at', 'name', 'role', 'user_id'];
export const USER_MEMBERS = ['created_at', 'email', 'email_verified', 'id', 'is_active', 'is_admin',
  'last_login_at', 'name', 'updated_at'];
export const TENANT_USER_MEMBERS = [...USER_MEMBERS, 'joined_at', 'role'].sort();
export const ORG_MEMBERS = ['created_at', 'description', 'id', 'member_count', 'name', 'slug', 'tenant_id',
  'updated_at'];

export function describeRes(res) {
  return `status ${res.status}, body ${typeof res.body === 'string' ? res.body.slice(0, 600) : res.body}`;
}

/** Headers for a user token, optionally naming a tenant with X-Tenant-ID. */
export function as(acct, tenantId) {
  const h = { ...acct.auth };
  if (tenantId) h['X-Tenant-ID'] = tenantId;
  return h;
}

/** The payload of a JWT (unverified). */
export const jwtPayload = (token) => decodeParts(token).payload;

/**
 * Registers a fresh user: {user, tokens, tenants, email, password, auth, tid}; `tid` is the
 * personal tenant's id (the first of `tenants`), or undefined.
 */
export async function newUser(server, tag = 'tn', extra = {}) {
  const acct = await register(server, { email: uniqueEmail(tag), name: extra.name ?? `User ${tag}`, ...extra });
  return { ...acct, auth: bearer(acct.tokens.access_token), tid: acct.tenants?.[0]?.id };
}

/** Logs the platform admin in: {user, tokens, tenants, auth}. */
export async function adminLogin(server) {
  const data = await login(server, TEST_ADMIN.email, TEST_ADMIN.password);
  return { ...data, auth: bearer(data.tokens.access_token) };
}

export const api = (server, method, path, headers, json) =>
  server.request(method, path, json === undefined ? { headers } : { headers, json });

/** POST /v1/tenants expecting 201; returns the tenant. */
export async function createTenant(server, headers, body) {
  const res = await server.post('/v1/tenants', { headers, json: body });
  return expectSuccess(res, 201);
}

/** POST /v1/tenants/{id}/members expecting 201; returns the member. */
export async function addMember(server, headers, tenantId, email, role) {
  const json = role === undefined ? { email } : { email, role };
  const res = await server.post(`/v1/tenants/${tenantId}/members`, { headers, json });
  return expectSuccess(res, 201);
}

/** GET /v1/tenants/{id} expecting 200; returns the tenant. */
export async function getTenant(server, headers, id) {
  return expectSuccess(await server.get(`/v1/tenants/${id}`, { headers }), 200);
}

/** GET a list expecting 200; returns {data, meta}. */
export async function list(server, path, headers) {
  const res = await server.get(path, { headers });
  assert.equal(res.status, 200, `GET ${path}: ${describeRes(res)}`);
  assert.equal(res.json?.success, true, describeRes(res));
  assert.ok(Array.isArray(res.json.data), `data is a list: ${describeRes(res)}`);
  assert.ok(res.json.meta && typeof res.json.meta === 'object', `meta: ${describeRes(res)}`);
  return { data: res.json.data, meta: res.json.meta, res };
}

/** A 400 BAD_REQUEST naming `field` (when given) in details.field. */
export function expectBadRequest(res, field) {
  const error = expectEnvelopeError(res, 400, 'BAD_REQUEST');
  if (field !== undefined) assert.equal(error.details?.field, field, `details.field; got ${JSON.stringify(error)}`);
  return error;
}

/** A 422 VALIDATION_ERROR naming `field` (string or RegExp). */
export function expectValidation(res, field) {
  const error = expectEnvelopeError(res, 422, 'VALIDATION_ERROR');
  if (field instanceof RegExp) assert.match(String(error.details?.field), field, `details.field; got ${JSON.stringify(error)}`);
  else if (field !== undefined) assert.equal(error.details?.field, field, `details.field; got ${JSON.stringify(error)}`);
  return error;
}

export const expectForbidden = (res) => expectEnvelopeError(res, 403, 'FORBIDDEN');
export const expectNotFound = (res) => expectEnvelopeError(res, 404, 'NOT_FOUND');
export const expectConflict = (res) => expectEnvelopeError(res, 409, 'CONFLICT');

/** POST /v1/api-keys in a tenant expecting 201; returns the key object (with `key`). */
export async function createKey(server, headers, body = {}) {
  const res = await server.post('/v1/api-keys', { headers, json: { name: 'tenancy key', ...body } });
  return expectSuccess(res, 201);
}

/** Code-point order of two strings (API.md §13 "Order"). */
export function cmpCodePoints(a, b) {
  const A = Array.from(a); const B = Array.from(b);
  for (let i = 0; i < Math.min(A.length, B.length); i++) {
    const x = A[i].codePointAt(0); const y = B[i].codePointAt(0);
    if (x !== y) return x < y ? -1 : 1;
  }
  return A.length - B.length === 0 ? 0 : (A.length < B.length ? -1 : 1);
}

/** A tenant (the owner's personal one) with an admin, a member and a viewer, who can all sign in. */
export async function makeTeam(server, tag) {
  // One after another: tests rely on ids (creation order) following owner, adm, mem, vie.
  const owner = await newUser(server, `${tag}-own`);
  const adm = await newUser(server, `${tag}-adm`);
  const mem = await newUser(server, `${tag}-mem`);
  const vie = await newUser(server, `${tag}-vie`);
  const tid = owner.tid;
  await addMember(server, owner.auth, tid, adm.email, 'admin');
  await addMember(server, owner.auth, tid, mem.email, 'member');
  await addMember(server, owner.auth, tid, vie.email, 'viewer');
  return { owner, adm, mem, vie, tid };
}
