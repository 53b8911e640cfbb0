// A tested deployment (issue #23, docs/deploy.md): two nodes behind HAProxy (Debian's, with
// the configuration docs/deploy.md gives: health checks on /readyz) on one PostgreSQL.
//   - a change through the balancer is seen by every request made 100 ms later, whichever
//     node answers it;
//   - each queued mail is sent exactly once although both nodes run the outbox;
//   - a node killed with SIGKILL under load: requests in flight may fail, none once the health
//     check has marked it down, and every write that was acknowledged is there afterwards;
//   - a rolling restart (SIGTERM one node, start it again, then the other) costs a client that
//     retries idempotent requests not one failed request.
// PostgreSQL only. In tests/cluster/: run alone after the other suites (tests/run-e2e).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BACKEND, createPgDatabase, sleep, startServer } from '../e2e/harness.mjs';
import { NO_THROTTLE_ENV, PASSWORD, uniqueEmail } from '../e2e/auth_helpers.mjs';
import { startHaproxy } from './haproxy.mjs';

const ENV = { ...NO_THROTTLE_ENV, TB_MAIL_POLL_SECONDS: '0.2' };

/** One request through the balancer; network errors come back as status 0. */
async function call(base, method, p, { headers = {}, json, timeoutMs = 5000 } = {}) {
  try {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { ...headers, ...(json === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body;
    try { body = text ? JSON.parse(text) : undefined; } catch { body = text; }
    return { status: res.status, body };
  } catch (e) {
    return { status: 0, body: String(e) };
  }
}

describe('two nodes behind HAProxy on one PostgreSQL', { skip: BACKEND !== 'postgres' && 'PostgreSQL only' }, () => {
  let databaseUrl; let nodes; let lb; let owner; let key;

  const start = (opts = {}) => startServer({ databaseUrl, env: ENV, ...opts });
  const restart = (node) => start({ dataDir: node.dataDir, port: node.port });

  before(async () => {
    databaseUrl = await createPgDatabase();
    nodes = [await start(), await start()];
    lb = await startHaproxy(nodes);
    const email = uniqueEmail('deploy');
    const reg = await call(lb.url, 'POST', '/v1/auth/register', { json: { email, password: PASSWORD } });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    owner = { Authorization: `Bearer ${reg.body.data.tokens.access_token}`, 'X-Tenant-ID': reg.body.data.tenants[0].id };
    const k = await call(lb.url, 'POST', '/v1/api-keys', { headers: owner, json: { name: 'deploy', scopes: ['read', 'write', 'admin'] } });
    assert.equal(k.status, 201);
    key = { 'X-API-Key': k.body.data.key };
  });
  after(async () => {
    await lb?.stop();
    for (const n of nodes || []) await n?.stop('SIGKILL');
  });

  test('through the balancer, a change is seen by every request 100 ms later', async () => {
    for (let i = 0; i < 20; i++) {
      const k = await call(lb.url, 'POST', '/v1/api-keys', { headers: owner, json: { name: `t${i}` } });
      const h = { 'X-API-Key': k.body.data.key };
      for (let j = 0; j < 6; j++) assert.equal((await call(lb.url, 'GET', '/v1/collections', { headers: h })).status, 200);
      assert.equal((await call(lb.url, 'DELETE', `/v1/api-keys/${k.body.data.id}`, { headers: owner })).status, 204);
      await sleep(100);
      const after100 = [];
      for (let j = 0; j < 6; j++) after100.push((await call(lb.url, 'GET', '/v1/collections', { headers: h })).status);
      assert.deepEqual(after100, [401, 401, 401, 401, 401, 401], `trial ${i}`);
    }
  });

  test('each mail is sent once, though both nodes run the outbox', async () => {
    const ids = [];
    for (let i = 0; i < 30; i++) {
      const res = await call(lb.url, 'POST', '/v1/mail', { headers: key, json: { to: `m${i}@example.com`, subject: `S${i}`, text: 'x' } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      ids.push(res.body.data.id);
    }
    for (const id of ids) {
      let status;
      for (let t = 0; t < 100; t++) {
        status = (await call(lb.url, 'GET', `/v1/mail/${id}`, { headers: key })).body.data.status;
        if (status === 'sent') break;
        await sleep(100);
      }
      assert.equal(status, 'sent', id);
    }
    // With no SMTP server each mail is written as <data>/mail/<id>.eml by the node that sent it.
    const written = nodes.flatMap((n) => {
      const dir = path.join(n.dataDir, 'mail');
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
    }).map((f) => f.replace(/\.eml$/, ''));
    const ours = written.filter((id) => ids.includes(id));
    assert.equal(ours.length, ids.length, 'each exactly once');
    assert.deepEqual(new Set(ours), new Set(ids));
  });

  test('a node killed with SIGKILL under load: no failure once it is marked down, no acknowledged write lost', async () => {
    const acked = [];
    const failures = [];
    let killedAt = 0;
    const stopAt = performance.now() + 4000;
    const worker = async (w) => {
      for (let i = 0; performance.now() < stopAt; i++) {
        const t = performance.now();
        const res = await call(lb.url, 'POST', '/v1/collections/load/documents', { headers: key, json: { w, i } });
        if (res.status === 201) acked.push(res.body.data._id);
        else failures.push({ t, status: res.status, body: String(JSON.stringify(res.body)).slice(0, 200) });
      }
    };
    const killer = (async () => {
      await sleep(1000);
      killedAt = performance.now();
      await nodes[0].stop('SIGKILL');
    })();
    await Promise.all([0, 1, 2, 3].map(worker).concat([killer]));
    // HAProxy marks a node down after 2 failed checks 200 ms apart; a refused connection is
    // retried on the other node at once, so only requests in flight at the kill may fail.
    const late = failures.filter((f) => f.t > killedAt + 1000);
    console.log(`killed under load: ${acked.length} writes acknowledged, ${failures.length} failed (${late.length} later than 1 s after the kill)`);
    assert.deepEqual(late, [], 'no failure once the node is marked down');
    assert.ok(acked.length > 100, `only ${acked.length} writes`);
    // Every acknowledged write is there (read through the survivor).
    const seen = await call(lb.url, 'GET', '/v1/collections/load/documents?per_page=1&count=true', { headers: key });
    assert.ok(seen.body.meta.total >= acked.length, `total ${seen.body.meta.total} < acknowledged ${acked.length}`);
    for (const id of acked.filter((_, i) => i % 10 === 0)) {
      assert.equal((await call(lb.url, 'GET', `/v1/collections/load/documents/${id}`, { headers: key })).status, 200, id);
    }
    nodes[0] = await restart(nodes[0]);
    await sleep(1000); // two good checks bring it back
  });

  test('a rolling restart costs a client that retries idempotent requests nothing', async () => {
    const doc = await call(lb.url, 'POST', '/v1/collections/rolling/documents', { headers: key, json: { n: 0 } });
    const id = doc.body.data._id;
    let retries = 0; let failed = 0; let requests = 0; let running = true;
    const failures = [];
    // GETs and PUTs, retried (3 times, 100 ms apart) on a network error, 502 or 503.
    const idempotent = async (method, p, json) => {
      for (let attempt = 0; ; attempt++) {
        const res = await call(lb.url, method, p, { headers: key, json });
        if (![0, 502, 503].includes(res.status) || attempt === 3) return res;
        retries += 1;
        await sleep(100);
      }
    };
    const client = async (c) => {
      for (let i = 0; running; i++) {
        requests += 2;
        const put = await idempotent('PUT', `/v1/collections/rolling/documents/${id}`, { n: i, c });
        const get = await idempotent('GET', `/v1/collections/rolling/documents/${id}`);
        for (const [what, res] of [['PUT', put], ['GET', get]]) {
          if (res.status === 200) continue;
          failed += 1;
          failures.push(`${what} ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        }
      }
    };
    const clients = [0, 1, 2].map(client);
    for (let i = 0; i < 2; i++) {
      assert.equal(await nodes[i].stop('SIGTERM'), 0, 'a clean stop');
      nodes[i] = await restart(nodes[i]);
      await sleep(1000); // marked up again before the other node goes
    }
    running = false;
    await Promise.all(clients);
    console.log(`rolling restart: ${requests} requests, ${retries} retried, ${failed} failed`);
    assert.equal(failed, 0, failures.join('\n'));
    assert.ok(requests > 100);
  });
});
