// Security headers (issue #29): every answer says `X-Content-Type-Options: nosniff` and
// `Referrer-Policy: no-referrer`; an answer to credentials is `Cache-Control: no-store`
// (unless the route chose its own caching); HTML (/docs) has a strict Content-Security-Policy.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { httpRequest, rawRequest, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, newUser } from './tenancy_helpers.mjs';

let server;
let user;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  user = await newUser(server, 'headers');
});
after(async () => { await server?.stop(); });

const always = (res, what) => {
  assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', what);
};

test('nosniff and no-referrer on every answer, errors and framing refusals included', async () => {
  for (const [method, path, headers] of [['GET', '/v1/health', {}], ['GET', '/healthz', {}], ['GET', '/nope', {}],
    ['GET', '/v1/auth/me', user.auth], ['GET', '/v1/users', { Authorization: 'Bearer nope' }],
    ['OPTIONS', '/v1/users', { Origin: 'https://x.example', 'Access-Control-Request-Method': 'GET' }],
    ['GET', '/docs', {}], ['GET', '/v1/openapi.json', {}]]) {
    always(await server.request(method, path, { headers, validate: method !== 'OPTIONS' }), `${method} ${path}`);
  }
  const refused = await rawRequest(server.port, httpRequest(['GET /v1/health HTTP/1.1']));
  assert.equal(refused.status, 400);
  assert.equal(refused.response.headers['x-content-type-options'], 'nosniff');
});

test('Cache-Control: no-store on answers to credentials, not on public ones', async () => {
  const withToken = await server.get('/v1/users', { headers: as(user, user.tid) });
  assert.equal(withToken.headers['cache-control'], 'no-store');
  const refused = await server.get('/v1/users', { headers: { Authorization: 'Bearer nope' } });
  assert.equal(refused.headers['cache-control'], 'no-store');
  const publicAnswer = await server.get('/v1/plans');
  assert.equal(publicAnswer.headers['cache-control'], undefined);
  // A route's own policy stands (the JWKS may be cached by anyone).
  const jwks = await server.get('/.well-known/jwks.json', { headers: user.auth });
  assert.equal(jwks.headers['cache-control'], 'public, max-age=300');
});

test('/docs has a strict Content-Security-Policy; its script is a file of the server', async () => {
  const res = await server.get('/docs');
  const csp = res.headers['content-security-policy'] || '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(res.body, /<script>[^<]/, 'no inline script');
  const init = await server.get('/docs/docs-init.js');
  assert.equal(init.status, 200);
  assert.match(init.body, /SwaggerUIBundle/);
});
