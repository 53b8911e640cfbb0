// CORS with server-configured origins (API.md §1, §13 "CORS").

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectEnvelopeError, headerTokens, startServer } from './harness.mjs';

const ALLOWED = 'https://app.example';
const OTHER_ALLOWED = 'http://localhost:3000';
const DISALLOWED = 'https://evil.example';

const ALLOW_HEADERS = ['authorization', 'content-type', 'x-api-key', 'x-tenant-id', 'if-match',
  'if-none-match', 'x-request-id', 'x-http-method-override', 'x-apikey'];
const EXPOSE_HEADERS = [
  'etag', 'x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset',
  'x-ratelimit-tenant-limit', 'x-ratelimit-tenant-remaining', 'x-ratelimit-tenant-reset',
];

let server;
before(async () => {
  server = await startServer({ env: { TB_CORS_ORIGINS: `${ALLOWED},${OTHER_ALLOWED}` } });
});
after(async () => { await server?.stop(); });

function preflight(path, origin, method = 'GET', requestHeaders) {
  const headers = { Origin: origin, 'Access-Control-Request-Method': method };
  if (requestHeaders) headers['Access-Control-Request-Headers'] = requestHeaders;
  return server.request('OPTIONS', path, { headers });
}

function assertNoCredentials(res) {
  assert.equal(res.headers['access-control-allow-credentials'], undefined,
    'Access-Control-Allow-Credentials is never sent');
}

function assertAllowedPreflight(res, origin, method) {
  assert.equal(res.status, 204, `status; body ${res.body}`);
  assert.equal(res.body, '', 'a preflight has no body');
  assert.equal(res.headers['access-control-allow-origin'], origin);
  assert.ok(headerTokens(res.headers.vary).includes('origin'), `Vary: ${res.headers.vary}`);
  const methods = headerTokens(res.headers['access-control-allow-methods']).map((m) => m.toUpperCase());
  assert.ok(methods.includes(method), `Access-Control-Allow-Methods ${res.headers['access-control-allow-methods']} lacks ${method}`);
  assert.deepEqual(new Set(headerTokens(res.headers['access-control-allow-headers'])), new Set(ALLOW_HEADERS),
    `Access-Control-Allow-Headers: ${res.headers['access-control-allow-headers']}`);
  assert.equal(res.headers['access-control-max-age'], '600');
  assertNoCredentials(res);
}

describe('CORS preflight', () => {
  test('allowed origin on a known path -> 204 with the allow headers', async () => {
    const res = await preflight('/v1/health', ALLOWED, 'GET', 'authorization, content-type');
    assertAllowedPreflight(res, ALLOWED, 'GET');
  });

  test('the second configured origin is allowed too', async () => {
    assertAllowedPreflight(await preflight('/v1/health', OTHER_ALLOWED, 'GET'), OTHER_ALLOWED, 'GET');
  });

  test('allowed origin, other methods -> 204 listing that method', async () => {
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      assertAllowedPreflight(await preflight('/v1/collections/things/documents', ALLOWED, m, 'content-type, if-match'),
        ALLOWED, m);
    }
  });

  test('allowed origin on an unknown path -> 204 (no route needed)', async () => {
    assertAllowedPreflight(await preflight('/no/such/path', ALLOWED, 'GET'), ALLOWED, 'GET');
  });

  test('disallowed origin -> 204 without Access-Control-Allow-Origin', async () => {
    const res = await preflight('/v1/health', DISALLOWED, 'GET', 'authorization');
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assertNoCredentials(res);
  });

  test('disallowed origin on an unknown path -> 204 without Access-Control-Allow-Origin', async () => {
    const res = await preflight('/no/such/path', DISALLOWED, 'DELETE');
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assertNoCredentials(res);
  });

  test('origins match exactly (scheme, host and port), not by prefix or case-folded suffix', async () => {
    for (const o of ['http://app.example', 'https://app.example:8443', 'https://app.example.evil.example',
      'https://evilapp.example', 'null']) {
      const res = await preflight('/v1/health', o, 'GET');
      assert.equal(res.status, 204, o);
      assert.equal(res.headers['access-control-allow-origin'], undefined, `origin ${o} must not be allowed`);
    }
  });

  test('a preflight needs no credentials even with a bogus Authorization header', async () => {
    const res = await server.request('OPTIONS', '/v1/health', {
      headers: { Origin: ALLOWED, 'Access-Control-Request-Method': 'GET', Authorization: 'Bearer not-a-token' },
    });
    assertAllowedPreflight(res, ALLOWED, 'GET');
  });
});

describe('CORS on actual requests', () => {
  test('allowed origin -> Allow-Origin, Vary: Origin, Expose-Headers', async () => {
    const res = await server.get('/v1/health', { headers: { Origin: ALLOWED } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
    assert.ok(headerTokens(res.headers.vary).includes('origin'), `Vary: ${res.headers.vary}`);
    const exposed = headerTokens(res.headers['access-control-expose-headers']);
    for (const h of EXPOSE_HEADERS) {
      assert.ok(exposed.includes(h), `Access-Control-Expose-Headers ${res.headers['access-control-expose-headers']} lacks ${h}`);
    }
    assertNoCredentials(res);
  });

  test('allowed origin on an error response still gets Allow-Origin (so the browser can read the error)', async () => {
    const res = await server.get('/no/such/path', { headers: { Origin: ALLOWED } });
    expectEnvelopeError(res, 404, 'NOT_FOUND');
    assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
    assertNoCredentials(res);
  });

  test('disallowed origin -> no Access-Control-Allow-Origin', async () => {
    const res = await server.get('/v1/health', { headers: { Origin: DISALLOWED } });
    assert.equal(res.status, 200, 'the server still answers; the browser enforces CORS');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assertNoCredentials(res);
  });

  test('no Origin header -> no CORS headers', async () => {
    const res = await server.get('/v1/health');
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assertNoCredentials(res);
  });
});
