// The statuses every operation of the OpenAPI document promises for malformed or refused
// requests, produced on every operation that lists them (issue #20: the document promised
// statuses that no test had produced, some that nothing could). The producers are generic:
//   400: a malformed JSON body, or a query parameter that is not UTF-8 (`?%ff=1`);
//   401: a Bearer token that is not one;
//   413: a body over the server's limit (4 KiB here);
//   415: a body declared text/plain on a JSON operation;
//   429: the budget of the caller (user or client IP) used up, on a server with small budgets.
// Every response is also checked against the document by the harness. What no generic
// request produces (402, 409, 412, the successes, …) comes from the resource suites; the
// suite-wide check (openapi_coverage.mjs, run by tests/run-e2e) holds the two together.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './harness.mjs';
import { NO_THROTTLE_ENV } from './tenancy_helpers.mjs';
import { operations, routeFixtures } from './route_fixtures.mjs';

const BODY_LIMIT = 4096;
const isPublic = (op) => Array.isArray(op.security) && op.security.length === 0;
const jsonBody = (op) => Boolean(op.requestBody?.content?.['application/json']);

let server;
let limited; // small budgets: 429
let ops;
let fx;
let fxLimited;
before(async () => {
  [server, limited] = await Promise.all([
    startServer({ env: { ...NO_THROTTLE_ENV, TB_SERVER_MAX_BODY_BYTES: String(BODY_LIMIT) } }),
    startServer({ env: { ...NO_THROTTLE_ENV, TB_LIMITS_USER_PER_HOUR: '300', TB_LIMITS_ANONYMOUS_PER_HOUR: '300' } }),
  ]);
  [fx, fxLimited] = await Promise.all([routeFixtures(server, 'statuses'), routeFixtures(limited, 'limited')]);
  ops = await operations(server);
});
after(async () => { await Promise.all([server?.stop(), limited?.stop()]); });

/** Sends `init` to every operation documenting `status`; returns the ones answered otherwise. */
async function produce(srv, fixtures, status, init) {
  const wrong = [];
  let tried = 0;
  for (const { method, template, op } of ops) {
    if (!(String(status) in (op.responses || {}))) continue;
    const req = init({ method, template, op, path: fixtures.concrete(template), fixtures });
    if (!req) continue;
    tried += 1;
    const res = await srv.request(method, req.path, { headers: req.headers, body: req.body });
    if (res.status !== status) wrong.push(`${method} ${template}: ${res.status} ${res.body.slice(0, 100)}`);
  }
  assert.ok(tried > 0, `some operation documents ${status}`);
  return wrong;
}

const credentials = (op, fixtures) => (isPublic(op) ? {} : { ...fixtures.owner });

describe('generic statuses on every operation that documents them', () => {
  test('400: a malformed JSON body, or a query parameter that is not UTF-8', async () => {
    const wrong = await produce(server, fx, 400, ({ op, path }) => (jsonBody(op)
      ? { path, headers: { ...credentials(op, fx), 'Content-Type': 'application/json' }, body: '{"bad' }
      : { path: `${path}?%ff=1`, headers: credentials(op, fx) }));
    assert.deepEqual(wrong, []);
  });

  test('401: a Bearer token that is not one (or, where credentials travel in the body, bad ones)', async () => {
    const inBody = {
      'POST /v1/auth/login': { email: 'nobody@example.com', password: 'not the password' },
      'POST /v1/auth/refresh': { refresh_token: 'not-a-refresh-token' },
    };
    const wrong = await produce(server, fx, 401, ({ op, path, method, template }) => ({
      path,
      headers: { Authorization: 'Bearer not-a-token', ...(jsonBody(op) ? { 'Content-Type': 'application/json' } : {}) },
      body: method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(inBody[`${method} ${template}`] ?? {}),
    }));
    assert.deepEqual(wrong, []);
  });

  test('413: a body over the limit', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT * 2) });
    const wrong = await produce(server, fx, 413, ({ op, path }) => ({
      path, headers: { ...credentials(op, fx), 'Content-Type': 'application/json' }, body: big,
    }));
    assert.deepEqual(wrong, []);
  });

  test('415: a body that is not declared JSON', async () => {
    const wrong = await produce(server, fx, 415, ({ op, path }) => ({
      path, headers: { ...credentials(op, fx), 'Content-Type': 'text/plain' }, body: '{}',
    }));
    assert.deepEqual(wrong, []);
  });

  test('429: the caller\'s budget used up (a user\'s, or an anonymous client IP\'s)', async () => {
    for (const headers of [fxLimited.owner, {}]) {
      let res;
      for (let i = 0; i < 400; i++) {
        res = await limited.request('GET', Object.keys(headers).length ? '/v1/auth/me' : '/v1/plans', { headers });
        if (res.status === 429) break;
      }
      assert.equal(res.status, 429, 'the budget runs out');
    }
    const wrong = await produce(limited, fxLimited, 429, ({ op, path, method }) => ({
      path,
      headers: { ...credentials(op, fxLimited), ...(method === 'GET' || method === 'DELETE' ? {} : { 'Content-Type': 'application/json' }) },
      body: method === 'GET' || method === 'DELETE' ? undefined : '{}',
    }));
    assert.deepEqual(wrong, []);
  });
});
