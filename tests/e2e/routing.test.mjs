// Routing errors, X-Request-ID and X-HTTP-Method-Override (API.md §1, §1.1, §13).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UUID, expectEnvelopeError, headerTokens, httpRequest, rawRequest, startServer } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

describe('routing', () => {
  for (const p of ['/nope', '/v1/does-not-exist', '/v1/health/extra', '/v2/health']) {
    test(`unknown path ${p} -> 404 NOT_FOUND envelope`, async () => {
      expectEnvelopeError(await server.get(p), 404, 'NOT_FOUND');
    });
  }

  test('unknown path with another method is still 404, not 405', async () => {
    expectEnvelopeError(await server.request('DELETE', '/v1/does-not-exist'), 404, 'NOT_FOUND');
  });

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    test(`${method} /v1/health -> 405 METHOD_NOT_ALLOWED with Allow containing GET`, async () => {
      const res = await server.request(method, '/v1/health');
      expectEnvelopeError(res, 405, 'METHOD_NOT_ALLOWED');
      assert.ok(headerTokens(res.headers.allow).includes('get'), `Allow: ${res.headers.allow}`);
    });
  }

  test('percent-encoded path segments route as their decoded text; an encoded slash stays inside its segment', async () => {
    assert.equal((await server.get('/v1/%68ealth')).status, 200);
    assert.equal((await server.get('/v1/HEALTH')).status, 404);
    expectEnvelopeError(await server.get('/v1%2Fhealth'), 404, 'NOT_FOUND');
  });

  // Sent over a raw socket: fetch would re-encode these paths before sending them.
  for (const target of ['/v1/%zz', '/v1/health%2', '/v1/a{b}', '/v1/a|b', 'v1/health']) {
    test(`a malformed path ${target} -> 400 BAD_REQUEST envelope`, async () => {
      const r = await rawRequest(server.port, httpRequest([`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1']),
        { timeoutMs: 3_000 });
      assert.equal(r.status, 400, `got ${JSON.stringify(r.text.slice(0, 300))}`);
      assert.match(r.text, /"code":"BAD_REQUEST"/);
    });
  }

  test('a query string does not change routing', async () => {
    const res = await server.get('/v1/health?x=1&y=2');
    assert.equal(res.status, 200);
  });
});

describe('X-Request-ID', () => {
  const sane = [
    'abc-123',
    'Req.1:2_3-4',
    'a'.repeat(128),
    '018b6216-27a1-7e2b-aa83-67d7ba500982',
  ];
  for (const id of sane) {
    test(`a sane id is echoed (${id.length} chars: ${id.slice(0, 24)})`, async () => {
      const ok = await server.get('/v1/health', { headers: { 'X-Request-ID': id } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['x-request-id'], id);

      const err = await server.get('/nope', { headers: { 'X-Request-ID': id } });
      expectEnvelopeError(err, 404, 'NOT_FOUND');
      assert.equal(err.json.request_id, id);
    });
  }

  const insane = {
    'too long (129 chars)': 'a'.repeat(129),
    'contains a space': 'abc def',
    'contains a slash': 'abc/def',
    'contains a quote': 'abc"def',
    'contains non-ASCII': 'abc\u00e9def',
    'contains angle brackets': '<script>',
  };
  for (const [label, id] of Object.entries(insane)) {
    test(`an insane id is replaced by a new UUID: ${label}`, async () => {
      // fetch sends header values as Latin-1 bytes, so \u00e9 goes out as the byte 0xE9.
      const headers = { 'X-Request-ID': id };
      const ok = await server.get('/v1/health', { headers });
      assert.equal(ok.status, 200);
      assert.notEqual(ok.headers['x-request-id'], id);
      assert.match(ok.headers['x-request-id'], UUID);

      const err = await server.get('/nope', { headers });
      expectEnvelopeError(err, 404, 'NOT_FOUND');
      assert.notEqual(err.json.request_id, id);
      assert.match(err.json.request_id, UUID);
    });
  }

  test('without a client id every response gets a distinct UUID, also in error bodies', async () => {
    const a = await server.get('/v1/health');
    const b = await server.get('/v1/health');
    assert.match(a.headers['x-request-id'], UUID);
    assert.match(b.headers['x-request-id'], UUID);
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
    const err = await server.get('/nope');
    expectEnvelopeError(err, 404, 'NOT_FOUND');
    assert.match(err.json.request_id, UUID);
  });
});

describe('X-HTTP-Method-Override', () => {
  for (const value of ['DELETE', 'delete', 'Delete']) {
    test(`POST /v1/health with override ${value} -> 405 naming DELETE`, async () => {
      const res = await server.post('/v1/health', { headers: { 'X-HTTP-Method-Override': value } });
      const error = expectEnvelopeError(res, 405, 'METHOD_NOT_ALLOWED');
      assert.match(error.message, /DELETE/);
      assert.ok(headerTokens(res.headers.allow).includes('get'), `Allow: ${res.headers.allow}`);
    });
  }

  for (const value of ['PUT', 'PATCH']) {
    test(`POST /v1/health with override ${value} -> 405 naming ${value}`, async () => {
      const res = await server.post('/v1/health', { headers: { 'X-HTTP-Method-Override': value } });
      const error = expectEnvelopeError(res, 405, 'METHOD_NOT_ALLOWED');
      assert.match(error.message, new RegExp(value));
    });
  }

  for (const value of ['GET', 'FOO', 'POST', 'HEAD', 'OPTIONS']) {
    test(`POST /v1/health with override ${JSON.stringify(value)} -> 400 BAD_REQUEST`, async () => {
      const res = await server.post('/v1/health', { headers: { 'X-HTTP-Method-Override': value } });
      expectEnvelopeError(res, 400, 'BAD_REQUEST');
    });
  }

  test('the override is ignored on a GET (only POST is overridden)', async () => {
    const res = await server.get('/v1/health', { headers: { 'X-HTTP-Method-Override': 'DELETE' } });
    assert.equal(res.status, 200);
  });
});

describe('CORS with the default configuration (no allowed origins)', () => {
  test('a preflight answers 204 without Access-Control-Allow-Origin', async () => {
    const res = await server.request('OPTIONS', '/v1/health', {
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
  });

  test('an actual request carries no Access-Control-Allow-Origin', async () => {
    const res = await server.get('/v1/health', { headers: { Origin: 'https://app.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
  });
});
