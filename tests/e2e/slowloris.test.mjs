// Header read timeout (server.header_timeout_seconds): a client that trickles header bytes
// is cut off once the timeout has passed since its request started, however steadily it
// sends; other clients keep being served meanwhile.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openRaw, sleep, startServer } from './harness.mjs';

const HEADER_TIMEOUT_S = 1;

let server;
before(async () => {
  server = await startServer({ env: { TB_SERVER_HEADER_TIMEOUT_SECONDS: String(HEADER_TIMEOUT_S) } });
});
after(async () => { await server?.stop(); });

test('a slow-loris client is disconnected while normal clients are served', { timeout: 15_000 }, async () => {
  const c = await openRaw(server.port);
  const started = Date.now();
  let closedAt = null;
  c.closed.then(() => { closedAt = Date.now(); });

  // Trickle one header byte every 300 ms; the headers never end.
  let trickling = true;
  const trickle = (async () => {
    await c.write('GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    while (trickling && !c.closedByServer && !c.socket.destroyed) {
      await sleep(300);
      if (!trickling || c.closedByServer || c.socket.destroyed) break;
      await c.write('a');
    }
  })();

  // Meanwhile a well-behaved client keeps getting quick answers.
  const latencies = [];
  while (closedAt === null && Date.now() - started < 4_000) {
    const t0 = Date.now();
    const res = await server.get('/v1/health', { timeoutMs: 2_000 });
    latencies.push(Date.now() - t0);
    assert.equal(res.status, 200);
    await sleep(200);
  }
  trickling = false;
  await trickle;
  c.destroy();

  assert.ok(closedAt !== null, `the slow client was still connected after ${Date.now() - started} ms`);
  const elapsed = closedAt - started;
  assert.ok(elapsed <= 3_000, `disconnected after ${elapsed} ms (header timeout ${HEADER_TIMEOUT_S} s)`);
  assert.ok(elapsed >= 800, `disconnected after only ${elapsed} ms: before the header timeout`);
  assert.ok(latencies.length >= 3, `only ${latencies.length} normal requests were made`);
  assert.ok(Math.max(...latencies) < 1_000, `normal requests were slow: ${latencies.join(', ')} ms`);
  // Whatever the server sent before closing (a 408 is allowed, nothing is fine too), it must
  // not have served the unfinished request.
  assert.doesNotMatch(c.text(), /^HTTP\/1\.1 200/);

  // And the server still serves new connections.
  assert.equal((await server.get('/v1/health')).status, 200);
});

test('a client that connects and sends nothing is disconnected too', { timeout: 15_000 }, async () => {
  const c = await openRaw(server.port);
  const started = Date.now();
  // Header timeout (1 s) at the latest; an idle timeout may apply to a fresh connection instead,
  // but it must not be the 60 s default: nothing was received, so the header timeout governs.
  const closed = await c.waitClosed(4_000);
  c.destroy();
  assert.ok(closed, `still connected after ${Date.now() - started} ms`);
});
