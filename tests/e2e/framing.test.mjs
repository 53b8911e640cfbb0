// HTTP/1.1 message framing (request smuggling defences) and keep-alive, over raw sockets.
// Every ambiguous framing must be answered 400 and the connection closed: a proxy in front
// of the server could otherwise frame the same bytes differently.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectEnvelopeError, httpRequest, inFlight, openRaw, rawRequest, sleep, startServer } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const HEAD = ['POST /v1/health HTTP/1.1', 'Host: 127.0.0.1', 'Content-Type: application/json'];

// Each case: the framing headers (raw lines) and the bytes after the blank line.
const BAD_FRAMING = {
  'Transfer-Encoding and Content-Length together': [['Transfer-Encoding: chunked', 'Content-Length: 5'], '0\r\n\r\n'],
  'Content-Length before Transfer-Encoding': [['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'],
  'Transfer-Encoding: gzip, chunked': [['Transfer-Encoding: gzip, chunked'], '0\r\n\r\n'],
  'Transfer-Encoding: identity': [['Transfer-Encoding: identity'], 'hello'],
  'Transfer-Encoding: chunked, chunked': [['Transfer-Encoding: chunked, chunked'], '0\r\n\r\n'],
  'Transfer-Encoding: xchunked': [['Transfer-Encoding: xchunked'], '0\r\n\r\n'],
  'two Transfer-Encoding: chunked headers': [['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], '0\r\n\r\n'],
  'two Content-Length headers, same value': [['Content-Length: 5', 'Content-Length: 5'], 'hello'],
  'two Content-Length headers, different values': [['Content-Length: 5', 'Content-Length: 6'], 'hello!'],
  'Content-Length: +5': [['Content-Length: +5'], 'hello'],
  'Content-Length: 5, 5': [['Content-Length: 5, 5'], 'hello'],
  'Content-Length: -1': [['Content-Length: -1'], 'hello'],
  'Content-Length: 0x5': [['Content-Length: 0x5'], 'hello'],
  'Content-Length: empty': [['Content-Length: '], 'hello'],
  'obs-fold: continuation line starting with a space': [['Content-Length: 5', 'X-Folded: a', ' b'], 'hello'],
  'obs-fold: continuation line starting with a tab': [['Content-Length: 5', 'X-Folded: a', '\tb'], 'hello'],
  'obs-fold: folded Content-Length': [['Content-Length:', ' 5'], 'hello'],
};

describe('ambiguous framing -> 400 and the connection is closed', () => {
  // In-flight gauge before this group (it counts the scrape itself), to check that the
  // refused requests below do not stay counted.
  let inFlightBefore;
  before(async () => { inFlightBefore = await inFlight(server); });

  for (const [label, [lines, body]] of Object.entries(BAD_FRAMING)) {
    test(label, async () => {
      const r = await rawRequest(server.port, httpRequest([...HEAD, ...lines], body), { timeoutMs: 3_000 });
      assert.equal(r.status, 400, `got ${JSON.stringify(r.text.slice(0, 300))}`);
      assert.ok(r.response, 'a complete response');
      expectEnvelopeError(r.response, 400, 'BAD_REQUEST');
      assert.equal(r.responses.length, 1, 'nothing after the 400 (no second, smuggled request is answered)');
      assert.ok(r.closedByServer, 'the server closes the connection');
    });
  }

  test('a header line starting with whitespace right after the request line -> 400', async () => {
    const r = await rawRequest(server.port,
      'GET /v1/health HTTP/1.1\r\n X-Leading: space\r\nHost: 127.0.0.1\r\n\r\n', { timeoutMs: 3_000 });
    assert.equal(r.status, 400, `got ${JSON.stringify(r.text.slice(0, 300))}`);
    assert.ok(r.closedByServer);
  });

  test('a smuggled second request after bad framing is never answered', async () => {
    const smuggled = httpRequest(['GET /nope HTTP/1.1', 'Host: 127.0.0.1']);
    const r = await rawRequest(server.port,
      httpRequest([...HEAD, 'Content-Length: 5', 'Transfer-Encoding: chunked'], `0\r\n\r\n${smuggled}`), { timeoutMs: 3_000 });
    assert.equal(r.status, 400);
    assert.equal(r.responses.length, 1, `got ${JSON.stringify(r.text)}`);
    assert.ok(r.closedByServer);
  });

  test('refused requests are no longer counted as in flight', async () => {
    await sleep(200);
    const n = await inFlight(server);
    assert.ok(n <= inFlightBefore, `tenantbase_http_requests_in_flight went from ${inFlightBefore} to ${n}`);
  });
});

describe('well-formed messages and keep-alive', () => {
  test('two requests one after the other on one connection get two responses', async () => {
    const c = await openRaw(server.port);
    try {
      await c.write(httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1', 'X-Request-ID: first']));
      const a = await c.nextResponse();
      assert.equal(a?.status, 200, c.text());
      assert.equal(a.headers['x-request-id'], 'first');
      assert.equal(a.json.success, true);
      assert.ok(!c.closedByServer, 'an HTTP/1.1 connection stays open');

      await c.write(httpRequest(['GET /nope HTTP/1.1', 'Host: 127.0.0.1', 'X-Request-ID: second']));
      const b = await c.nextResponse();
      expectEnvelopeError(b, 404, 'NOT_FOUND');
      assert.equal(b.headers['x-request-id'], 'second');
      assert.ok(!c.closedByServer, 'an error that is not a framing error keeps the connection');
    } finally {
      c.destroy();
    }
  });

  test('pipelined requests are answered in order', async () => {
    const c = await openRaw(server.port);
    try {
      await c.write(
        httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1', 'X-Request-ID: p1']) +
        httpRequest(['GET /nope HTTP/1.1', 'Host: 127.0.0.1', 'X-Request-ID: p2']) +
        httpRequest(['GET /healthz HTTP/1.1', 'Host: 127.0.0.1', 'X-Request-ID: p3']));
      const got = [];
      for (let i = 0; i < 3; i++) got.push(await c.nextResponse());
      assert.deepEqual(got.map((r) => r?.status), [200, 404, 200], c.text());
      assert.deepEqual(got.map((r) => r.headers['x-request-id']), ['p1', 'p2', 'p3']);
    } finally {
      c.destroy();
    }
  });

  test('a correctly chunked body is read and the connection reused', async () => {
    const c = await openRaw(server.port);
    try {
      await c.write(httpRequest([...HEAD, 'Transfer-Encoding: chunked'], '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'));
      const a = await c.nextResponse();
      expectEnvelopeError(a, 405, 'METHOD_NOT_ALLOWED');
      await c.write(httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1']));
      const b = await c.nextResponse();
      assert.equal(b?.status, 200, c.text());
    } finally {
      c.destroy();
    }
  });

  test('a Content-Length body is read and the connection reused', async () => {
    const c = await openRaw(server.port);
    try {
      await c.write(httpRequest([...HEAD, 'Content-Length: 5'], 'hello'));
      expectEnvelopeError(await c.nextResponse(), 405, 'METHOD_NOT_ALLOWED');
      await c.write(httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1']));
      assert.equal((await c.nextResponse())?.status, 200, c.text());
    } finally {
      c.destroy();
    }
  });

  test('Connection: close is honoured', async () => {
    const r = await rawRequest(server.port,
      httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close']), { timeoutMs: 3_000 });
    assert.equal(r.status, 200);
    assert.ok(r.closedByServer, 'closed after the response');
    assert.equal(r.responses.length, 1);
  });

  test('HTTP/1.0 without keep-alive is closed after the response', async () => {
    const r = await rawRequest(server.port, httpRequest(['GET /v1/health HTTP/1.0', 'Host: 127.0.0.1']), { timeoutMs: 3_000 });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.ok(r.closedByServer);
  });

  // Issue #29 (RFC 9112 §6.1): HTTP/1.0 has no chunked coding. Such a message with
  // keep-alive and a pipelined second request was processed and both were answered.
  test('HTTP/1.0 with Transfer-Encoding: 400, closed, the pipelined request never answered', async () => {
    const smuggled = httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1']);
    const r = await rawRequest(server.port, httpRequest(['POST /v1/health HTTP/1.0', 'Host: 127.0.0.1',
      'Transfer-Encoding: chunked', 'Connection: keep-alive'], `0\r\n\r\n${smuggled}`), { timeoutMs: 3_000 });
    assert.equal(r.status, 400, r.text.slice(0, 300));
    assert.ok(r.closedByServer);
    assert.equal(r.responses.length, 1, 'the second request is not answered');
  });
});
