// Request size limits and malformed request lines, over raw sockets because the server may
// answer early and close the connection (fetch would then report an error instead of the
// response).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectEnvelopeError, httpRequest, inFlight, openRaw, rawRequest, sleep, startServer } from './harness.mjs';

const MAX_BODY = 1024;

let server;
before(async () => {
  server = await startServer({ env: { TB_SERVER_MAX_BODY_BYTES: String(MAX_BODY) } });
});
after(async () => { await server?.stop(); });

function post(path, headers, body) {
  return httpRequest([`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers], body);
}

function chunked(body, chunkSize = 512) {
  let out = '';
  for (let i = 0; i < body.length; i += chunkSize) {
    const part = body.slice(i, i + chunkSize);
    out += `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

describe('body size limit (server.max_body_bytes)', () => {
  // In-flight gauge before this group (it counts the scrape itself), to check that the
  // refused requests below do not stay counted.
  let inFlightBefore;
  before(async () => { inFlightBefore = await inFlight(server); });

  test('Content-Length over the limit -> 413 PAYLOAD_TOO_LARGE', async () => {
    const body = 'x'.repeat(4 * MAX_BODY);
    const r = await rawRequest(server.port, post('/v1/health',
      ['Content-Type: application/json', `Content-Length: ${body.length}`], body), { timeoutMs: 3_000 });
    assert.ok(r.response, `no complete response; got ${JSON.stringify(r.text.slice(0, 300))}`);
    expectEnvelopeError(r.response, 413, 'PAYLOAD_TOO_LARGE');
  });

  test('a chunked body over the limit -> 413 PAYLOAD_TOO_LARGE', async () => {
    const body = 'x'.repeat(4 * MAX_BODY);
    const r = await rawRequest(server.port, post('/v1/health',
      ['Content-Type: application/json', 'Transfer-Encoding: chunked'], chunked(body)), { timeoutMs: 3_000 });
    assert.ok(r.response, `no complete response; got ${JSON.stringify(r.text.slice(0, 300))}`);
    expectEnvelopeError(r.response, 413, 'PAYLOAD_TOO_LARGE');
  });

  test('a body exactly at the limit is accepted (405 on /v1/health, not 413)', async () => {
    const c = await openRaw(server.port);
    try {
      const body = 'x'.repeat(MAX_BODY);
      await c.write(post('/v1/health', ['Content-Type: application/json', `Content-Length: ${body.length}`], body));
      const res = await c.nextResponse({ timeoutMs: 3_000 });
      expectEnvelopeError(res, 405, 'METHOD_NOT_ALLOWED');
      // The connection stays usable: the body was consumed.
      await c.write(httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1']));
      const res2 = await c.nextResponse({ timeoutMs: 3_000 });
      assert.equal(res2?.status, 200);
    } finally {
      c.destroy();
    }
  });

  test('the server keeps answering others after a 413', async () => {
    assert.equal((await server.get('/v1/health')).status, 200);
  });

  test('requests refused with 413 are no longer counted as in flight', async () => {
    // The 413 tests above have finished and their connections are closed; give the server a
    // moment to notice.
    await sleep(200);
    const n = await inFlight(server);
    assert.ok(n <= inFlightBefore, `tenantbase_http_requests_in_flight went from ${inFlightBefore} to ${n}`);
  });
});

describe('header size limit (16 KiB)', () => {
  // In-flight gauge before this group (it counts the scrape itself), to check that the
  // refused requests below do not stay counted.
  let inFlightBefore;
  before(async () => { inFlightBefore = await inFlight(server); });

  test('one header over 16 KiB -> 431', async () => {
    const r = await rawRequest(server.port, httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1',
      `X-Big: ${'a'.repeat(17 * 1024)}`]), { timeoutMs: 3_000 });
    assert.equal(r.status, 431, `got ${JSON.stringify(r.text.slice(0, 300))}`);
    assert.ok(r.response?.json, 'error answered with a JSON body');
    assert.equal(r.response.json.success, false);
  });

  test('many headers adding up to over 16 KiB -> 431', async () => {
    const lines = ['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1'];
    for (let i = 0; i < 40; i++) lines.push(`X-Filler-${i}: ${'b'.repeat(500)}`);
    const r = await rawRequest(server.port, httpRequest(lines), { timeoutMs: 3_000 });
    assert.equal(r.status, 431, `got ${JSON.stringify(r.text.slice(0, 300))}`);
    assert.ok(r.response?.json, 'error answered with a JSON body');
    assert.equal(r.response.json.success, false);
  });

  test('headers just under 16 KiB are fine', async () => {
    const r = await rawRequest(server.port, httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1',
      'Connection: close', `X-Big: ${'a'.repeat(15 * 1024)}`]), { timeoutMs: 3_000 });
    assert.equal(r.status, 200, `got ${JSON.stringify(r.text.slice(0, 300))}`);
  });

  test('refused requests are no longer counted as in flight', async () => {
    await sleep(200);
    const n = await inFlight(server);
    assert.ok(n <= inFlightBefore, `tenantbase_http_requests_in_flight went from ${inFlightBefore} to ${n}`);
  });
});

describe('malformed request line', () => {
  // In-flight gauge before this group (it counts the scrape itself), to check that the
  // refused requests below do not stay counted.
  let inFlightBefore;
  before(async () => { inFlightBefore = await inFlight(server); });

  const cases = {
    'garbage': 'GARBAGE\r\n\r\n',
    'missing HTTP version': 'GET /v1/health\r\n\r\n',
    'extra token after the version': 'GET /v1/health HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n',
    'not HTTP': 'GET /v1/health FTP/1.0\r\nHost: 127.0.0.1\r\n\r\n',
  };
  for (const [label, bytes] of Object.entries(cases)) {
    test(`${label} -> 400 envelope and the connection is closed`, async () => {
      const r = await rawRequest(server.port, bytes, { timeoutMs: 3_000 });
      assert.ok(r.response, `no complete response; got ${JSON.stringify(r.text.slice(0, 300))}`);
      expectEnvelopeError(r.response, 400, 'BAD_REQUEST');
      assert.ok(r.closedByServer, 'the server closes the connection');
    });
  }

  test('refused requests are no longer counted as in flight', async () => {
    await sleep(200);
    const n = await inFlight(server);
    assert.ok(n <= inFlightBefore, `tenantbase_http_requests_in_flight went from ${inFlightBefore} to ${n}`);
  });
});
