// Realtime across two nodes on one PostgreSQL (issue #25, realtime/cluster_relay.h): a write
// committed through node A reaches a subscriber on node B, with the document as a GET on B
// returns it, B's rules and filters applied, nothing of another tenant, each change once.
// The relay: B says which collections its clients follow (realtime_interest); the documents'
// statement triggers NOTIFY tb_documents with ids and versions; B reads the documents by id.
// PostgreSQL only: one SQLite file serves one node.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BACKEND, createPgDatabase, sleep, startServer } from '../e2e/harness.mjs';
import { NO_THROTTLE_ENV } from '../e2e/auth_helpers.mjs';
import { openStream, quietFor, subscribe } from '../e2e/realtime_helpers.mjs';
import { as, createKey, expectSuccess, makeTeam, newUser } from '../e2e/tenancy_helpers.mjs';

const run = promisify(execFile);
const TRIALS = 100;
const p = (xs, q) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * q))];

describe('realtime across two nodes on one PostgreSQL', { skip: BACKEND !== 'postgres' && 'PostgreSQL only' }, () => {
  let a; let b; let t; let other; let databaseUrl;
  const streams = [];
  before(async () => {
    databaseUrl = await createPgDatabase();
    a = await startServer({ databaseUrl, env: NO_THROTTLE_ENV });
    b = await startServer({ databaseUrl, env: NO_THROTTLE_ENV });
    t = await makeTeam(a, 'rtc');
    other = await newUser(a, 'rtc-other');
  });
  after(async () => {
    for (const s of streams) s.close();
    await a?.stop();
    await b?.stop();
  });

  let n = 0;
  const col = async (rules, who = t.owner, tid = t.tid) => expectSuccess(await a.post('/v1/collections', {
    headers: as(who, tid), json: { name: `rtc${++n}`, rules },
  }), 201).name;
  const createOn = async (node, who, c, json, tid = t.tid) =>
    expectSuccess(await node.post(`/v1/collections/${c}/documents`, { headers: as(who, tid), json }), 201);
  const follow = async (node, who, subscriptions, tid = t.tid) => {
    const s = await openStream(node, { streams });
    expectSuccess(await subscribe(node, s.clientId, as(who, tid), subscriptions), 200);
    return s;
  };
  const interestRows = async () => {
    const { stdout } = await run('psql', ['-d', databaseUrl, '-Atc', 'SELECT count(*) FROM realtime_interest']);
    return Number(stdout.trim());
  };

  test(`a create, update and delete through A reach a subscriber on B (${TRIALS} trials)`, async () => {
    const c = await col({ list: 'member', read: 'member' });
    const s = await follow(b, t.mem, [{ collection: c }]);
    const lags = [];
    for (let i = 0; i < TRIALS; i++) {
      const t0 = performance.now();
      const d = await createOn(a, t.owner, c, { i });
      const ev = await s.next('create');
      lags.push(performance.now() - t0);
      assert.deepEqual(ev.data, { collection: c, id: d._id, document: d });
    }
    const d = await createOn(a, t.owner, c, { title: 'x' });
    await s.next('create');
    const patched = expectSuccess(await a.request('PATCH', `/v1/collections/${c}/documents/${d._id}`, {
      headers: as(t.owner, t.tid), json: { title: 'y' },
    }), 200);
    const upd = await s.next('update');
    assert.deepEqual(upd.data, { collection: c, id: d._id, document: patched });
    const onB = expectSuccess(await b.get(`/v1/collections/${c}/documents/${d._id}`, { headers: as(t.mem, t.tid) }), 200);
    assert.deepEqual(upd.data.document, onB, 'the event carries what a GET on B returns');
    assert.equal((await a.request('DELETE', `/v1/collections/${c}/documents/${d._id}`, { headers: as(t.owner, t.tid) })).status, 204);
    assert.deepEqual((await s.next('delete')).data, { collection: c, id: d._id });
    const line = `write on A → event on B: n=${lags.length} median ${p(lags, 0.5).toFixed(1)} ms, p99 ${p(lags, 0.99).toFixed(1)} ms`;
    console.log(line);
    assert.ok(p(lags, 0.99) < 500, line);
  });

  test('a batch through A arrives whole and in order; a filter on B lets through what it matches', async () => {
    const c = await col({ list: 'member', read: 'member' });
    const all = await follow(b, t.mem, [{ collection: c }]);
    const red = await follow(b, t.mem, [{ collection: c, q: JSON.stringify({ color: 'red' }) }]);
    const body = Array.from({ length: 300 }, (_, i) => ({ i, color: i % 3 ? 'blue' : 'red', pad: 'x'.repeat(100) }));
    const made = expectSuccess(await a.post(`/v1/collections/${c}/documents`, { headers: as(t.owner, t.tid), json: body }), 201);
    const got = [];
    for (let i = 0; i < made.length; i++) got.push((await all.next('create')).data.id);
    assert.deepEqual(got, made.map((d) => d._id), 'every document, in the order written');
    const reds = made.filter((d) => d.color === 'red').map((d) => d._id);
    const gotRed = [];
    for (let i = 0; i < reds.length; i++) gotRed.push((await red.next('create')).data.id);
    assert.deepEqual(gotRed, reds);
    assert.deepEqual((await quietFor(red)).filter((e) => e.type === 'create'), []);
  });

  test('a file uploaded and deleted through A reaches a subscriber of _files on B', async () => {
    const s = await follow(b, t.vie, [{ collection: '_files' }]);
    const up = await a.post('/v1/files?name=shared.txt', { headers: { ...as(t.mem, t.tid), 'Content-Type': 'text/plain' }, body: 'hi' });
    const f = expectSuccess(up, 201);
    const ev = await s.next('create');
    const onB = expectSuccess(await b.get(`/v1/files/${f.id}`, { headers: as(t.vie, t.tid) }), 200);
    assert.deepEqual(ev.data, { collection: '_files', id: f.id, document: onB });
    assert.equal((await a.request('DELETE', `/v1/files/${f.id}`, { headers: as(t.mem, t.tid) })).status, 204);
    assert.deepEqual((await s.next('delete')).data, { collection: '_files', id: f.id });
  });

  test('B applies its subscribers\' rules: an owner-rule collection shows a member only their own', async () => {
    const c = await col({ list: 'owner', read: 'owner', create: 'member' });
    const sMem = await follow(b, t.mem, [{ collection: c }]);
    const sAdm = await follow(b, t.adm, [{ collection: c }]);
    const mine = await createOn(a, t.mem, c, { who: 'mem' });
    const theirs = await createOn(a, t.adm, c, { who: 'adm' });
    assert.deepEqual((await sMem.next('create')).data.document, mine);
    assert.deepEqual((await quietFor(sMem)).filter((e) => e.type === 'create'), [], 'not the admin\'s document');
    // Tenant admins see every document of an owner-rule collection (API.md §5.4).
    assert.deepEqual([(await sAdm.next('create')).data.id, (await sAdm.next('create')).data.id], [mine._id, theirs._id]);
  });

  test('another tenant\'s writes through A never reach B\'s subscribers', async () => {
    const name = `same${++n}`;
    expectSuccess(await a.post('/v1/collections', { headers: as(t.owner, t.tid), json: { name } }), 201);
    expectSuccess(await a.post('/v1/collections', { headers: as(other, other.tid), json: { name } }), 201);
    const s = await follow(b, t.mem, [{ collection: name }]);
    await createOn(a, other, name, { secret: 1 }, other.tid);
    const ours = await createOn(a, t.owner, name, { mine: 1 });
    assert.equal((await s.next('create')).data.id, ours._id);
    assert.deepEqual((await quietFor(s)).filter((e) => e.type === 'create'), []);
  });

  test('subscribers on both nodes hear a write once each, whichever node took it', async () => {
    const c = await col({ list: 'member', read: 'member' });
    const onA = await follow(a, t.mem, [{ collection: c }]);
    const onB = await follow(b, t.mem, [{ collection: c }]);
    const x = await createOn(a, t.owner, c, { via: 'a' });
    const y = await createOn(b, t.owner, c, { via: 'b' });
    for (const s of [onA, onB]) {
      assert.equal((await s.next('create')).data.id, x._id);
      assert.equal((await s.next('create')).data.id, y._id);
      assert.deepEqual((await quietFor(s)).filter((e) => e.type === 'create'), [], 'each write once');
    }
  });

  test('the plan\'s max_realtime_connections holds across nodes (they tell each other every 5 s)', async () => {
    const env = { ...NO_THROTTLE_ENV, TB_PLANS_FREE_MAX_REALTIME_CONNECTIONS: '2' };
    const x = await startServer({ databaseUrl, env });
    const y = await startServer({ databaseUrl, env });
    try {
      const u = await newUser(x, 'rtc-limit');
      const h = as(u, u.tid);
      expectSuccess(await x.post('/v1/collections', { headers: h, json: { name: 'lim' } }), 201);
      const onX = [];
      for (let i = 0; i < 2; i++) {
        const s = await openStream(x, { streams });
        expectSuccess(await subscribe(x, s.clientId, h, [{ collection: 'lim' }]), 200);
        onX.push(s);
      }
      const seenOnY = async (n) => {
        for (let i = 0; i < 100; i++) {
          const bill = expectSuccess(await y.get('/v1/billing', { headers: h }), 200);
          if (bill.usage.realtime_connections === n) return;
          await sleep(100);
        }
        throw new Error(`node y never counted ${n} streams`);
      };
      await seenOnY(2);
      const third = await openStream(y, { streams });
      const refused = await subscribe(y, third.clientId, h, [{ collection: 'lim' }]);
      assert.equal(refused.status, 402, 'the third stream of the tenant, on the other node');
      assert.deepEqual(refused.json.error.details, { limit: 'max_realtime_connections', value: 2 });
      onX[0].es.close();
      await seenOnY(1);
      expectSuccess(await subscribe(y, third.clientId, h, [{ collection: 'lim' }]), 200);
    } finally {
      await x.stop();
      await y.stop();
    }
  });

  test('a key deleted through A ends, within 100 ms, the stream it subscribed on B', async () => {
    const c = await col({ list: 'member', read: 'member' });
    const lags = [];
    for (let i = 0; i < 20; i++) {
      const k = await createKey(a, as(t.owner, t.tid), { name: `rtk${i}`, scopes: ['read'] });
      const s = await openStream(b, { streams });
      expectSuccess(await subscribe(b, s.clientId, { 'X-API-Key': k.key }, [{ collection: c }]), 200);
      const t0 = performance.now();
      assert.equal((await a.request('DELETE', `/v1/api-keys/${k.id}`, { headers: as(t.owner, t.tid) })).status, 204);
      await s.next('reset', 3000);
      lags.push(performance.now() - t0);
      s.es.close();
    }
    const line = `key deleted on A → reset on B: n=${lags.length} median ${p(lags, 0.5).toFixed(1)} ms, p99 ${p(lags, 0.99).toFixed(1)} ms`;
    console.log(line);
    assert.ok(p(lags, 0.99) < 100, line);
  });

  test('a node that stops withdraws its interest: the other nodes stop announcing to it', async () => {
    const c = await col({ list: 'member', read: 'member' });
    const third = await startServer({ databaseUrl, env: NO_THROTTLE_ENV });
    const before = await interestRows();
    const s = await openStream(third, { streams });
    expectSuccess(await subscribe(third, s.clientId, as(t.mem, t.tid), [{ collection: c }]), 200);
    assert.equal(await interestRows(), before + 1, 'subscribing wrote the node\'s interest');
    const d = await createOn(a, t.owner, c, { k: 1 });
    assert.equal((await s.next('create')).data.id, d._id);
    s.es.close();
    await third.stop();
    assert.equal(await interestRows(), before, 'a clean stop deletes it');
  });
});
