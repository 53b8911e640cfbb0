// Connections per client are capped (issue #29: one address held 300 idle connections, with
// no cap at all). Past server.max_connections_per_ip (or server.max_connections), a new
// connection gets a 503 and is closed before anything is read; closing one frees the slot.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { httpRequest, openRaw, rawRequest, sleep, startServer } from './harness.mjs';

let server;
before(async () => { server = await startServer({ env: { TB_SERVER_MAX_CONNECTIONS_PER_IP: '6' } }); });
after(async () => { await server?.stop(); });

/** Opens idle connections until the server refuses one; returns [open ones, the refusal]. */
async function fill(max) {
  const open = [];
  for (let i = 0; i < max; i++) {
    const c = await openRaw(server.port);
    const closed = await Promise.race([c.closed.then(() => true), sleep(150).then(() => false)]);
    if (closed) return [open, c];
    open.push(c);
  }
  return [open, null];
}

test('past 6 connections from one address: 503 with Retry-After, closed; a freed slot is taken again', async () => {
  const [open, refused] = await fill(20);
  try {
    // The test process may hold a kept-alive fetch connection or two: at most 6 in all.
    assert.ok(open.length >= 3 && open.length <= 6, `${open.length} idle connections were accepted`);
    assert.ok(refused, 'a connection past the cap is refused');
    const text = refused.buf.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 503 /);
    assert.match(text, /Retry-After: 1/);
    assert.match(text, /"code":"UNAVAILABLE"/);
    // Closing one frees its slot for a real request.
    open.pop().destroy();
    await sleep(100);
    const r = await rawRequest(server.port, httpRequest(['GET /healthz HTTP/1.1', 'Host: x', 'Connection: close']));
    assert.equal(r.status, 200, r.text.slice(0, 200));
  } finally {
    for (const c of open) c.destroy();
    refused?.destroy();
  }
  await sleep(100);
  assert.equal((await server.get('/healthz')).status, 200, 'the server serves on');
});

test('the file descriptor limit is raised and logged at start-up', () => {
  assert.match(server.output(), /"msg":"file descriptors","limit":\d+/);
});
