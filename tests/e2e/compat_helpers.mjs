// What the end-to-end tests of the compatibility dialects (docs/api.md §11) share: each
// dialect's error shape, checked as its clients read it.
import assert from 'node:assert/strict';
import { JSON_CONTENT_TYPE } from './harness.mjs';
import { PASSWORD, uniqueEmail } from './auth_helpers.mjs';

const describe = (res) => `status ${res.status}, body ${String(res.body).slice(0, 400)}`;

function expectJsonError(res, status) {
  assert.equal(res.status, status, `expected ${status}; got ${describe(res)}`);
  assert.match(res.headers['content-type'] || '', JSON_CONTENT_TYPE, describe(res));
  assert.ok(res.headers['x-request-id'], `X-Request-ID: ${describe(res)}`);
  assert.equal(res.json?.success, undefined, `no /v1 envelope in a dialect: ${describe(res)}`);
  return res.json;
}

/** Nilux: {"detail": "<string>"} and nothing else. */
export function expectNiluxError(res, status, detail) {
  const body = expectJsonError(res, status);
  assert.deepEqual(Object.keys(body), ['detail'], describe(res));
  assert.equal(typeof body.detail, 'string');
  if (detail !== undefined) assert.equal(body.detail, detail);
  return body.detail;
}

/** Nile: {"errorCode", "message", "statusCode"} with statusCode the status. */
export function expectNileError(res, status, errorCode) {
  const body = expectJsonError(res, status);
  assert.deepEqual(Object.keys(body).sort(), ['errorCode', 'message', 'statusCode'], describe(res));
  assert.equal(body.statusCode, status);
  if (errorCode !== undefined) assert.equal(body.errorCode, errorCode);
  return body;
}

/** RestDB: {"name", "message", "status"} (+ `list` for a validation error). */
export function expectRestDbError(res, status, name) {
  const body = expectJsonError(res, status);
  assert.equal(body.status, status, describe(res));
  assert.equal(typeof body.message, 'string');
  if (name !== undefined) assert.equal(body.name, name, describe(res));
  return body;
}

/** POST /api/auth/register expecting 200: {user, tokens, api_key, email, password}. */
export async function niluxRegister(server, { email = uniqueEmail('nx'), password = PASSWORD, name } = {}) {
  const json = { email, password };
  if (name !== undefined) json.name = name;
  const res = await server.post('/api/auth/register', { json });
  assert.equal(res.status, 200, describe(res));
  return { ...res.json, email, password };
}
