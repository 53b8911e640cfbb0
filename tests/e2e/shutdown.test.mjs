// Graceful shutdown on SIGTERM (API.md §12): stop accepting at once, finish the requests in
// flight, close idle keep-alive connections, exit 0.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { httpRequest, openRaw, sleep, startServer, tryConnect } from './harness.mjs';

const servers = [];
after(async () => { await Promise.all(servers.map((s) => s.stop('SIGKILL'))); });

async function waitRefused(port, withinMs) {
  const started = Date.now();
  let last;
  while (Date.now() - started <= withinMs) {
    last = await tryConnect(port, { timeoutMs: 300 });
    if (last === 'refused') return Date.now() - started;
    await sleep(25);
  }
  assert.fail(`new connections were still possible ${withinMs} ms after SIGTERM (last attempt: ${last})`);
}

test('SIGTERM drains a request in flight and refuses new connections', { timeout: 30_000 }, async () => {
  const server = await startServer();
  servers.push(server);

  const inflight = await openRaw(server.port);
  await inflight.write(httpRequest(['POST /v1/health HTTP/1.1', 'Host: 127.0.0.1',
    'Content-Type: application/json', 'Content-Length: 10', 'X-Request-ID: inflight'], '12345'));
  // Let the server read the headers, so the request is in flight when the signal arrives.
  await sleep(300);
  assert.ok(!inflight.closedByServer, 'the half-sent request is still open');

  server.kill('SIGTERM');
  await waitRefused(server.port, 1_000);
  assert.ok(!inflight.closedByServer, `the in-flight request was dropped: ${JSON.stringify(inflight.text())}`);

  await inflight.write('67890');
  const res = await inflight.nextResponse({ timeoutMs: 5_000 });
  assert.ok(res, `no complete response for the in-flight request; got ${JSON.stringify(inflight.text())}`);
  assert.equal(res.status, 405, JSON.stringify(res.body));
  assert.equal(res.headers['x-request-id'], 'inflight');
  assert.equal(res.json?.error?.code, 'METHOD_NOT_ALLOWED');

  const { code, signal } = await server.waitExit(15_000);
  assert.equal(signal, null, `killed by ${signal}\n${server.output()}`);
  assert.equal(code, 0, server.output());
  assert.ok(await inflight.waitClosed(1_000), 'the connection is closed once drained');
  inflight.destroy();
});

test('SIGTERM closes idle keep-alive connections and exits promptly', { timeout: 30_000 }, async () => {
  const server = await startServer();
  servers.push(server);

  const idle = await openRaw(server.port);
  await idle.write(httpRequest(['GET /v1/health HTTP/1.1', 'Host: 127.0.0.1']));
  assert.equal((await idle.nextResponse())?.status, 200);
  assert.ok(!idle.closedByServer, 'the keep-alive connection is idle and open');

  const t0 = Date.now();
  server.kill('SIGTERM');
  assert.ok(await idle.waitClosed(5_000), 'the idle connection is closed by the server');
  const { code } = await server.waitExit(10_000);
  const took = Date.now() - t0;
  assert.equal(code, 0, server.output());
  // The shutdown timeout is 10 s by default: an idle connection must not hold the exit up to it.
  assert.ok(took < 5_000, `exit took ${took} ms with only an idle connection open`);
  idle.destroy();
});

test('SIGINT also shuts down with exit code 0', { timeout: 30_000 }, async () => {
  const server = await startServer();
  servers.push(server);
  assert.equal((await server.get('/v1/health')).status, 200);
  assert.equal(await server.stop('SIGINT'), 0, server.output());
});
