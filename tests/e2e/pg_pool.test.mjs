// The PostgreSQL pool's wait is bounded (issue #23): when every connection is busy, a request
// waits at most postgres.acquire_timeout_ms for one, then answers 503 UNAVAILABLE with
// Retry-After: 1 instead of queueing without bound; the busy requests finish normally.
// PostgreSQL only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { BACKEND, expectEnvelopeError, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV } from './auth_helpers.mjs';
import { as, describeRes, expectSuccess, newUser } from './tenancy_helpers.mjs';

describe('the pool\'s acquire timeout', { skip: BACKEND !== 'postgres' && 'PostgreSQL only' }, () => {
  let server; let h;
  before(async () => {
    server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_POSTGRES_POOL_SIZE: '2',
      TB_POSTGRES_ACQUIRE_TIMEOUT_MS: '200', TB_QUERY_TIMEOUT_MS: '20000' } });
    const u = await newUser(server, 'pool');
    h = as(u, u.tid);
    expectSuccess(await server.post('/v1/collections/notes/documents', { headers: h, json: { a: 1 } }), 201);
  });
  after(async () => { await server?.stop(); });

  test('all connections held: the next request answers 503 with Retry-After after about the timeout', async () => {
    // Another client holds the documents table: two reads of it hold both connections.
    const lock = spawn('psql', [server.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-c',
      'BEGIN; LOCK TABLE documents IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(2); COMMIT;'], { stdio: 'ignore' });
    const locked = new Promise((r) => lock.on('exit', r));
    await sleep(300);
    const held = [0, 1].map(() => server.get('/v1/collections/notes/documents', { headers: h }));
    await sleep(200);
    const t = performance.now();
    const res = await server.get('/v1/collections', { headers: h });
    const waited = performance.now() - t;
    const err = expectEnvelopeError(res, 503, 'UNAVAILABLE');
    assert.match(err.message, /busy/);
    assert.equal(res.headers['retry-after'], '1');
    assert.ok(waited >= 150 && waited < 1500, `waited ${waited} ms`);
    assert.equal(await locked, 0);
    for (const r of await Promise.all(held)) assert.equal(r.status, 200, describeRes(r));
    // Free again.
    assert.equal((await server.get('/v1/collections', { headers: h })).status, 200);
    // The refusal is counted, and the pool reports its size and no one waiting.
    const metrics = (await server.metrics()).body;
    assert.match(metrics, /^tenantbase_db_pool_size 2$/m);
    const timeouts = Number(/^tenantbase_db_pool_timeouts_total (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(timeouts >= 1, `timeouts ${timeouts}`);
    const ready = await server.get('/readyz');
    assert.equal(ready.status, 200);
    assert.match(ready.headers['x-db-pool'], /; waiting=0; size=2$/);
  });
});
