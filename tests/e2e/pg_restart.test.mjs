// PostgreSQL restarted under load (issue #24): 16 clients create, read and list documents
// while the database is stopped (a fast shutdown, then a crash: pg_ctl -m immediate) and
// started again on the same port. While it is down every request answers at once with 503
// UNAVAILABLE in the error envelope (none hangs, none answers 500); the pool and the change
// feed reconnect by themselves and the node serves again within seconds of the database's
// return, without a restart; every acknowledged write is there afterwards.
// PostgreSQL only; the test runs its own throwaway cluster (scripts/pg-cluster), not the
// suite's shared one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { BACKEND, REPO_ROOT, sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, describeRes, newUser } from './tenancy_helpers.mjs';

const execFileP = promisify(execFile);
const PG_CLUSTER = path.join(REPO_ROOT, 'scripts', 'pg-cluster');
const CLIENTS = 16;
// Durable (synchronous_commit on): an immediate stop is a crash of the database, which with
// the suite's fast settings would lose the last commits it acknowledged.
const pgCluster = async (...args) => (await execFileP(PG_CLUSTER, args,
  { timeout: 60_000, env: { ...process.env, PG_CLUSTER_DURABLE: '1' } })).stdout.trim();

describe('PostgreSQL restarted under load', { skip: BACKEND !== 'postgres' && 'PostgreSQL only' }, () => {
  let dir; let server; let h;
  before(async () => {
    // Under /tmp: as root the cluster runs as the postgres user, who must reach it.
    dir = await fsp.mkdtemp('/tmp/tb-pg-restart-');
    await fsp.rmdir(dir);
    const url = await pgCluster('start', dir);
    server = await startServer({ databaseUrl: url,
      env: { ...NO_THROTTLE_ENV, TB_POSTGRES_ACQUIRE_TIMEOUT_MS: '1000' } });
    const u = await newUser(server, 'pgr');
    h = as(u, u.tid);
  });
  after(async () => {
    await server?.stop();
    if (dir) await pgCluster('stop', dir).catch(() => {});
  });

  // One client until state.stop: a create, a read of one of its documents, a list. Records
  // every answer's status (and whether a 503 came in the envelope) and what was acknowledged.
  async function client(state, k) {
    const mine = [];
    for (let j = 0; !state.stop; ++j) {
      let res;
      const t = performance.now();
      if (mine.length === 0 || j % 3 === 0) {
        const body = { k, j, round: state.round };
        res = await server.post('/v1/collections/pgr/documents', { headers: h, json: body });
        if (res.status === 201) {
          mine.push(res.json.data._id);
          state.acked.set(res.json.data._id, body);
        }
      } else if (j % 3 === 1) {
        res = await server.get(`/v1/collections/pgr/documents/${mine[j % mine.length]}`, { headers: h });
      } else {
        res = await server.get('/v1/collections/pgr/documents?per_page=5&sort=-_created', { headers: h });
      }
      state.slowest = Math.max(state.slowest, performance.now() - t);
      state.statuses.set(res.status, (state.statuses.get(res.status) || 0) + 1);
      if (res.status === 503) {
        if (res.json?.success !== false || res.json?.error?.code !== 'UNAVAILABLE') state.bad.push(describeRes(res));
        await sleep(20);  // a client backs off a little, as Retry-After asks
      } else if (res.status >= 300) {
        state.bad.push(describeRes(res));
      } else if (state.downAt && !state.firstOkAfterUp && state.upAt) {
        state.firstOkAfterUp = performance.now();
      }
    }
  }

  for (const mode of ['fast', 'immediate']) {
    test(`${mode} stop: requests fail fast with 503 while it is down, and the node recovers by itself`, async (t) => {
      const state = { stop: false, round: mode, acked: new Map(), statuses: new Map(), bad: [], slowest: 0 };
      const clients = Array.from({ length: CLIENTS }, (_, k) => client(state, k));
      await sleep(700);
      state.downAt = performance.now();
      await pgCluster('down', dir, mode);
      await sleep(1500);
      const during = new Map(state.statuses);
      await pgCluster('up', dir);
      state.upAt = performance.now();
      // Serving again by itself: wait for the first success after the database's return.
      for (let i = 0; i < 200 && !state.firstOkAfterUp; ++i) await sleep(50);
      await sleep(1000);
      state.stop = true;
      await Promise.all(clients);

      assert.deepEqual(state.bad, [], 'answers other than 2xx or a 503 envelope');
      assert.ok(during.get(503) > 0, `no 503 while the database was down: ${JSON.stringify([...during])}`);
      assert.ok(state.firstOkAfterUp, 'no success after the database came back');
      const recovery = state.firstOkAfterUp - state.upAt;
      assert.ok(recovery < 5000, `recovered ${recovery} ms after the database returned`);
      // Nothing waited on the dead database past the pool's bound (and a request timeout).
      assert.ok(state.slowest < 6000, `slowest request ${state.slowest} ms`);
      assert.equal(server.exitCode, undefined, 'the node exited');

      // Everything acknowledged is there, as written.
      for (const [id, body] of state.acked) {
        const res = await server.get(`/v1/collections/pgr/documents/${id}`, { headers: h });
        assert.equal(res.status, 200, describeRes(res));
        for (const [key, value] of Object.entries(body)) assert.deepEqual(res.json.data[key], value);
      }
      const ready = await server.get('/readyz');
      assert.equal(ready.status, 200);
      // The change feed listens again (its reconnection is logged).
      assert.ok((server.output().match(/listening for other nodes' changes/g) || []).length >= 2,
        'the change feed did not reconnect');
      t.diagnostic(`${mode}: ${JSON.stringify(Object.fromEntries(state.statuses))}, recovery ${Math.round(recovery)} ms, ` +
        `slowest ${Math.round(state.slowest)} ms, ${state.acked.size} acknowledged`);
    });
  }
});
