// Realtime (issue #25, API.md §5.6): a server-sent event stream of document changes, read
// with the `eventsource` package (a maintained client, what a Node app would use), and
// subscriptions set by an authenticated call. Who hears what: the collection's read rule per
// subscriber, the subscription's `q`, the tenant; a reconnect with Last-Event-ID gets what it
// missed.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { openStream as openStreamOn, quietFor, subscribe as subscribeOn } from './realtime_helpers.mjs';
import { startServer } from './harness.mjs';
import { loadOpenApi, loadedOpenApi } from './openapi_validation.mjs';
import {
  NO_THROTTLE_ENV, PASSWORD, addMember, as, createKey, expectForbidden, expectNotFound, expectSuccess, expectValidation,
  makeTeam, newUser,
} from './tenancy_helpers.mjs';

let server;
let t; // {owner, adm, mem, vie, tid}
let other; // a user of another tenant
const streams = [];
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  t = await makeTeam(server, 'rt');
  other = await newUser(server, 'rt-other');
});
after(async () => {
  for (const s of streams) s.close();
  await server?.stop();
});

let n = 0;
const uname = (tag = 'rt') => `${tag}-${process.pid}-${++n}`;
const H = (who, tid = t.tid) => as(who, tid);

async function createCol(rules, name = uname(), who = t.owner, tid = t.tid) {
  return expectSuccess(await server.post('/v1/collections', { headers: H(who, tid), json: { name, rules } }), 201).name;
}
const create = async (who, c, json, tid = t.tid) =>
  expectSuccess(await server.post(`/v1/collections/${c}/documents`, { headers: H(who, tid), json }), 201);

const openStream = (headers = {}) => openStreamOn(server, { headers, streams });
const subscribe = (clientId, headers, subscriptions) => subscribeOn(server, clientId, headers, subscriptions);

describe('the stream', () => {
  test('GET /v1/realtime is an event stream whose first event is connect with a client id', async () => {
    const res = await fetch(`${server.url}/v1/realtime`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(res.headers.get('content-length'), null);
    // The harness's client reads a body to its end, which a stream never has: its status and
    // headers are checked against the OpenAPI document here.
    const validator = loadedOpenApi() || await loadOpenApi(server.url);
    validator.validateResponse({
      method: 'GET', url: `${server.url}/v1/realtime`, requestHeaders: {}, status: res.status,
      headers: Object.fromEntries(res.headers.entries()), body: '',
    });
    const reader = res.body.getReader();
    const { value } = await reader.read();
    const text = new TextDecoder().decode(value);
    assert.match(text, /^id: [0-9a-f-]{36}:\d+\nevent: connect\ndata: \{"client_id":"[0-9a-f-]{36}"\}\n\n/);
    await reader.cancel();
  });

  test('create, update and delete reach a subscriber, each document as a GET returns it', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const s = await openStream();
    const set = expectSuccess(await subscribe(s.clientId, H(t.mem), [{ collection: c }]), 200);
    assert.deepEqual(set, { client_id: s.clientId, subscriptions: [{ collection: c, id: null, q: null }] });

    const d = await create(t.owner, c, { title: 'one' });
    const created = await s.next('create');
    assert.deepEqual(created.data, { collection: c, id: d._id, document: d });
    const got = expectSuccess(await server.get(`/v1/collections/${c}/documents/${d._id}`, { headers: H(t.mem) }), 200);
    assert.deepEqual(created.data.document, got);

    const patched = expectSuccess(await server.request('PATCH', `/v1/collections/${c}/documents/${d._id}`,
      { headers: H(t.owner), json: { title: 'two' } }), 200);
    const updated = await s.next('update');
    assert.deepEqual(updated.data, { collection: c, id: d._id, document: patched });

    assert.equal((await server.request('DELETE', `/v1/collections/${c}/documents/${d._id}`, { headers: H(t.owner) })).status, 204);
    const deleted = await s.next('delete');
    assert.deepEqual(deleted.data, { collection: c, id: d._id });

    // Ids grow along the stream: "<client id>:<sequence>".
    const seqs = [created, updated, deleted].map((e) => {
      const [client, seq] = e.id.split(':');
      assert.equal(client, s.clientId);
      return Number(seq);
    });
    assert.ok(seqs[0] < seqs[1] && seqs[1] < seqs[2], `ids grow: ${seqs}`);
  });

  test('a batch create and a bulk delete send one event per document', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, H(t.owner), [{ collection: c }]), 200);
    const docs = await create(t.owner, c, [{ k: 1 }, { k: 2 }, { k: 3 }]);
    for (const d of docs) assert.equal((await s.next('create')).data.id, d._id);
    const res = await server.post(`/v1/collections/${c}/documents:delete`, { headers: H(t.owner), json: { q: { k: { $gte: 2 } } } });
    expectSuccess(res, 200);
    const gone = [(await s.next('delete')).data.id, (await s.next('delete')).data.id].sort();
    assert.deepEqual(gone, [docs[1]._id, docs[2]._id].sort());
  });
});

describe('who hears what', () => {
  test('q filters on the server with the list semantics; id follows one document', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, H(t.mem), [{ collection: c, q: '{"tag":"hot","n":{"$gt":2}}' }]), 200);
    await create(t.owner, c, { tag: 'hot', n: 1 });
    await create(t.owner, c, { tag: 'cold', n: 5 });
    const hit = await create(t.owner, c, { tag: 'hot', n: 3 });
    const ev = await s.next('create');
    assert.equal(ev.data.id, hit._id);
    assert.deepEqual(await quietFor(s), []);

    const one = await create(t.owner, c, { x: 1 });
    expectSuccess(await subscribe(s.clientId, H(t.mem), [{ collection: c, id: one._id }]), 200);
    await create(t.owner, c, { x: 2 });
    await server.request('PATCH', `/v1/collections/${c}/documents/${one._id}`, { headers: H(t.owner), json: { x: 3 } });
    const upd = await s.next('update');
    assert.equal(upd.data.id, one._id);
    assert.deepEqual(await quietFor(s), [], 'the other document is not followed');
  });

  test('an owner-rule collection shows each subscriber only their own documents', async () => {
    const c = await createCol({ list: 'owner', read: 'owner' });
    const sMem = await openStream();
    const sAdm = await openStream();
    expectSuccess(await subscribe(sMem.clientId, H(t.mem), [{ collection: c }]), 200);
    expectSuccess(await subscribe(sAdm.clientId, H(t.adm), [{ collection: c }]), 200);
    const mine = await create(t.mem, c, { who: 'mem' });
    const theirs = await create(t.owner, c, { who: 'owner' });
    assert.equal((await sMem.next('create')).data.id, mine._id);
    assert.deepEqual((await quietFor(sMem)).map((e) => e.data?.id), [], 'not the owner\'s document');
    // An admin passes every rule: both.
    const seen = [(await sAdm.next('create')).data.id, (await sAdm.next('create')).data.id].sort();
    assert.deepEqual(seen, [mine._id, theirs._id].sort());
    // A delete of another's document is not announced to the member either.
    await server.request('DELETE', `/v1/collections/${c}/documents/${theirs._id}`, { headers: H(t.owner) });
    assert.deepEqual(await quietFor(sMem), []);
  });

  test('another tenant\'s writes never arrive, even to a collection of the same name', async () => {
    const name = uname('same');
    await createCol({ list: 'member', read: 'member' }, name);
    await createCol({ list: 'member', read: 'member' }, name, other, other.tid);
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, H(t.mem), [{ collection: name }]), 200);
    await create(other, name, { secret: 'other tenant' }, other.tid);
    assert.deepEqual(await quietFor(s, 500), []);
    const ours = await create(t.owner, name, { ok: true });
    assert.equal((await s.next('create')).data.id, ours._id);
  });

  test('a visitor follows a public collection with X-Tenant-ID, and nothing else', async () => {
    const pub = await createCol({ list: 'public', read: 'public' });
    const priv = await createCol({ list: 'member', read: 'member' });
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, { 'X-Tenant-ID': t.tid }, [{ collection: pub }]), 200);
    const res = await subscribe(s.clientId, { 'X-Tenant-ID': t.tid }, [{ collection: priv }]);
    assert.ok([401, 404].includes(res.status), `a member collection refuses a visitor: ${res.status}`);
    const d = await create(t.owner, pub, { open: 1 });
    assert.equal((await s.next('create')).data.id, d._id);
  });

  test('an API key with read subscribes; a key restricted to other collections may not', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const key = await createKey(server, H(t.owner), { scopes: ['read'] });
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, { 'X-API-Key': key.key }, [{ collection: c }]), 200);
    const d = await create(t.owner, c, { k: 1 });
    assert.equal((await s.next('create')).data.id, d._id);
    const narrow = await createKey(server, H(t.owner), { scopes: ['read'], collections: ['elsewhere'] });
    const s2 = await openStream();
    expectForbidden(await subscribe(s2.clientId, { 'X-API-Key': narrow.key }, [{ collection: c }]));
  });
});

describe('files', () => {
  const upload = (who, name, body, tid = t.tid) => server.post(`/v1/files?name=${name}`, {
    headers: { ...H(who, tid), 'Content-Type': 'text/plain' }, body,
  });

  test('uploads and deletes reach subscribers of _files, each file as GET /v1/files/{id} returns it', async () => {
    const s = await openStream();
    const set = expectSuccess(await subscribe(s.clientId, H(t.vie), [{ collection: '_files' }]), 200);
    assert.deepEqual(set.subscriptions, [{ collection: '_files', id: null, q: null }]);
    const f = expectSuccess(await upload(t.mem, 'notes.txt', 'hello'), 201);
    const created = await s.next('create');
    const got = expectSuccess(await server.get(`/v1/files/${f.id}`, { headers: H(t.vie) }), 200);
    assert.deepEqual(created.data, { collection: '_files', id: f.id, document: got });
    assert.equal((await server.request('DELETE', `/v1/files/${f.id}`, { headers: H(t.mem) })).status, 204);
    assert.deepEqual((await s.next('delete')).data, { collection: '_files', id: f.id });
  });

  test('a q filter applies to the file\'s fields; another tenant\'s files never arrive', async () => {
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, H(t.mem), [{ collection: '_files', q: JSON.stringify({ name: { $startswith: 'img' } }) }]), 200);
    expectSuccess(await upload(other, 'img-theirs.txt', 'x', other.tid), 201);
    expectSuccess(await upload(t.mem, 'doc.txt', 'x'), 201);
    const img = expectSuccess(await upload(t.mem, 'img-1.txt', 'x'), 201);
    assert.equal((await s.next('create')).data.id, img.id);
    assert.deepEqual((await quietFor(s)).filter((e) => e.type === 'create'), []);
  });

  test('who may not read the tenant\'s files may not subscribe to them', async () => {
    const s = await openStream();
    expectNotFound(await subscribe(s.clientId, H(other), [{ collection: '_files' }]));
  });
});

describe('the subscription call', () => {
  test('a client id is bound to the first principal that subscribes it', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, H(t.mem), [{ collection: c }]), 200);
    expectForbidden(await subscribe(s.clientId, H(t.adm), [{ collection: c }]));
    expectForbidden(await subscribe(s.clientId, H(other, other.tid), []));
    // Whose client it is is settled before what the call asks for.
    expectForbidden(await subscribe(s.clientId, H(t.adm), [{ collection: 5 }]));
    expectNotFound(await subscribe('018b6216-27a1-7e2b-aa83-67d7ba500982', H(t.mem), [{ collection: 5 }]));
    // The same principal may change its set (here: to none).
    assert.deepEqual(expectSuccess(await subscribe(s.clientId, H(t.mem), []), 200).subscriptions, []);
  });

  test('bad input answers 4xx with the error envelope and changes nothing', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const s = await openStream();
    expectNotFound(await subscribe('018b6216-27a1-7e2b-aa83-67d7ba500982', H(t.mem), [{ collection: c }]));
    expectValidation(await server.post(`/v1/realtime/${s.clientId}/subscriptions`, { headers: H(t.mem), json: {} }), 'subscriptions');
    expectValidation(await subscribe(s.clientId, H(t.mem), [{ collection: c, extra: 1 }]), /^subscriptions\.0/);
    expectValidation(await subscribe(s.clientId, H(t.mem), [{ collection: 5 }]), 'subscriptions.0.collection');
    expectValidation(await subscribe(s.clientId, H(t.mem), ['x']), 'subscriptions.0');
    const badQ = await subscribe(s.clientId, H(t.mem), [{ collection: c, q: '{"a":{"$nope":1}}' }]);
    assert.ok([400, 422].includes(badQ.status), `a bad q: ${badQ.status}`);
    assert.equal(badQ.json.error.details.field, 'subscriptions.0.q');
    expectNotFound(await subscribe(s.clientId, H(t.mem), [{ collection: uname('missing') }]));
    const malformed = await server.post(`/v1/realtime/${s.clientId}/subscriptions`,
      { headers: { ...H(t.mem), 'Content-Type': 'application/json' }, body: '{"subscriptions": [' });
    assert.equal(malformed.status, 400);
    // None of those took: the client follows nothing, so a write brings no event.
    await create(t.owner, c, { k: 1 });
    assert.deepEqual(await quietFor(s), []);
  });
});

describe('authorization changes end streams', () => {
  test('deleting the API key ends its stream with reset, and the client is forgotten', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const key = await createKey(server, H(t.owner), { scopes: ['read'] });
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, { 'X-API-Key': key.key }, [{ collection: c }]), 200);
    assert.equal((await server.request('DELETE', `/v1/api-keys/${key.id}`, { headers: H(t.owner) })).status, 204);
    await s.next('reset');
    await create(t.owner, c, { after: 'revoked' });
    assert.deepEqual((await quietFor(s)).filter((e) => e.type === 'create'), []);
    expectNotFound(await subscribe(s.clientId, H(t.owner), [{ collection: c }]));
  });

  test('a logout ends the streams its session subscribed, not the user\'s other sessions\'', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const u = await newUser(server, 'rt-logout');
    await addMember(server, t.owner.auth, t.tid, u.email, 'member');
    const other = await server.post('/v1/auth/login', { json: { email: u.email, password: PASSWORD } });
    const otherAuth = { Authorization: `Bearer ${expectSuccess(other, 200).tokens.access_token}`, 'X-Tenant-ID': t.tid };
    const s = await openStream();
    const kept = await openStream();
    expectSuccess(await subscribe(s.clientId, H(u), [{ collection: c }]), 200);
    expectSuccess(await subscribe(kept.clientId, otherAuth, [{ collection: c }]), 200);
    const out = await server.post('/v1/auth/logout', { headers: u.auth });
    assert.ok([200, 204].includes(out.status), out.body);
    await s.next('reset');
    const d = await create(t.owner, c, { after: 'logout' });
    assert.equal((await kept.next('create')).data.id, d._id, 'the other session still hears');
    assert.deepEqual((await quietFor(s)).filter((e) => e.type === 'create'), []);
  });

  test('removing a member ends the stream; subscribing again is refused', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const leaver = await newUser(server, 'rt-leaver');
    await addMember(server, t.owner.auth, t.tid, leaver.email, 'member');
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, H(leaver), [{ collection: c }]), 200);
    const res = await server.request('DELETE', `/v1/tenants/${t.tid}/members/${leaver.user.id}`, { headers: H(t.owner) });
    assert.equal(res.status, 204, res.body);
    await s.next('reset');
    const again = await openStream();
    expectNotFound(await subscribe(again.clientId, H(leaver), [{ collection: c }]));
  });
});

describe('reconnecting', () => {
  test('Last-Event-ID to the same node keeps the subscriptions and replays what was missed', async () => {
    const c = await createCol({ list: 'member', read: 'member' });
    const s = await openStream();
    expectSuccess(await subscribe(s.clientId, H(t.mem), [{ collection: c }]), 200);
    const first = await create(t.owner, c, { i: 1 });
    const ev = await s.next('create');
    assert.equal(ev.data.id, first._id);
    s.es.close();
    const missed = [await create(t.owner, c, { i: 2 }), await create(t.owner, c, { i: 3 })];

    const res = await fetch(`${server.url}/v1/realtime`, { headers: { 'Last-Event-ID': ev.id }, signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    let text = '';
    while ((text.match(/event: create/g) || []).length < 2) {
      const { value, done } = await reader.read();
      assert.ok(!done, `the stream ended early: ${text}`);
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    assert.doesNotMatch(text, /event: connect/, 'the same client, not a new one');
    const ids = [...text.matchAll(/data: (\{.*\})/g)].map((m) => JSON.parse(m[1]).id);
    assert.deepEqual(ids, missed.map((d) => d._id));
    assert.match(text, new RegExp(`id: ${s.clientId}:\\d+`));
  });

  test('an unknown Last-Event-ID gets a new client and reset', async () => {
    const res = await fetch(`${server.url}/v1/realtime`, {
      headers: { 'Last-Event-ID': '018b6216-27a1-7e2b-aa83-67d7ba500982:7' }, signal: AbortSignal.timeout(5000),
    });
    const reader = res.body.getReader();
    let text = '';
    while (!/event: reset/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    assert.match(text, /event: connect\n[^]*event: reset/);
  });
});

describe('limits', () => {
  // A server of its own: three streams per node, two subscribed per tenant (the free plan's
  // max_realtime_connections), a heartbeat each second.
  let small;
  let team;
  const smallStreams = [];
  before(async () => {
    small = await startServer({
      env: {
        ...NO_THROTTLE_ENV, TB_REALTIME_MAX_CONNECTIONS: '3', TB_PLANS_FREE_MAX_REALTIME_CONNECTIONS: '2',
        TB_REALTIME_HEARTBEAT_SECONDS: '1',
      },
    });
    team = await makeTeam(small, 'rtl');
    expectSuccess(await small.post('/v1/collections', { headers: as(team.owner, team.tid), json: { name: 'big' } }), 201);
  });
  after(async () => {
    for (const s of smallStreams) s.close();
    await small?.stop();
  });
  const open = () => openStreamOn(small, { streams: smallStreams });
  // The streams a test closed end on the server a moment later.
  const settle = () => new Promise((r) => setTimeout(r, 200));
  const sub = (s, who = team.mem) => subscribeOn(small, s.clientId, as(who, team.tid), [{ collection: 'big' }]);

  test('more than 100 subscriptions on one client is 422', async () => {
    const s = await openStreamOn(server, { streams });
    const many = Array.from({ length: 101 }, () => ({ collection: 'x' }));
    expectValidation(await subscribe(s.clientId, H(t.mem), many), 'subscriptions');
    s.es.close();
  });

  test('a tenant past its plan\'s max_realtime_connections gets 402; a closed stream frees its place', async () => {
    const a = await open();
    const b = await open();
    const c = await open();
    expectSuccess(await sub(a), 200);
    expectSuccess(await sub(b, team.adm), 200);
    const refused = await sub(c);
    assert.equal(refused.status, 402);
    assert.equal(refused.json.error.code, 'QUOTA_EXCEEDED');
    assert.deepEqual(refused.json.error.details, { limit: 'max_realtime_connections', value: 2 });
    const bill = expectSuccess(await small.get('/v1/billing', { headers: as(team.owner, team.tid) }), 200);
    assert.equal(bill.usage.realtime_connections, 2);
    assert.equal(bill.limits.max_realtime_connections, 2);
    assert.equal(bill.usage_percent.realtime_connections, 100);
    // Another tenant has places of its own.
    const o = await newUser(small, 'rtl-other');
    expectSuccess(await small.post('/v1/collections', { headers: as(o, o.tid), json: { name: 'big' } }), 201);
    a.es.close();
    // The server notices the closed connection at once (it watches the socket).
    let again;
    for (let i = 0; i < 40; i++) {
      again = await sub(c);
      if (again.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(again.status, 200, 'the closed stream\'s place was given back');
    b.es.close();
    c.es.close();
  });

  test('past realtime.max_connections streams on the node, a new one is 503', async () => {
    await settle();
    const held = [await open(), await open(), await open()];
    const res = await fetch(`${small.url}/v1/realtime`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.success, false);
    assert.equal(body.error.code, 'UNAVAILABLE');
    const validator = loadedOpenApi() || await loadOpenApi(server.url);
    validator.validateResponse({
      method: 'GET', url: `${small.url}/v1/realtime`, requestHeaders: {}, status: res.status,
      headers: Object.fromEntries(res.headers.entries()), body: JSON.stringify(body),
    });
    for (const s of held) s.es.close();
  });

  test('a client that stops reading gets overflow and its stream ends; writers and other clients go on', async () => {
    await settle();
    // A raw socket that reads its connect event, subscribes, then reads nothing more.
    const sock = net.connect({ host: new URL(small.url).hostname, port: Number(new URL(small.url).port) });
    let text = '';
    const connected = new Promise((resolve) => sock.on('data', (d) => {
      text += d.toString('latin1');
      const m = /"client_id":"([^"]+)"/.exec(text);
      if (m) resolve(m[1]);
    }));
    sock.write(`GET /v1/realtime HTTP/1.1\r\nHost: x\r\n\r\n`);
    const clientId = await connected;
    expectSuccess(await subscribeOn(small, clientId, as(team.mem, team.tid), [{ collection: 'big' }]), 200);
    sock.pause();
    const healthy = await openStreamOn(small, { streams: smallStreams });
    expectSuccess(await sub(healthy, team.adm), 200);
    // 250 documents of 100 KB: more than the socket buffers on both sides hold (about 10 MB
    // on loopback), so the server's queue for the paused client passes its 1 MiB.
    const pad = 'x'.repeat(100_000);
    for (let i = 0; i < 250; i++) {
      const res = await small.post('/v1/collections/big/documents', { headers: as(team.owner, team.tid), json: { i, pad } });
      assert.equal(res.status, 201, 'writers are not slowed down');
    }
    for (let i = 0; i < 250; i++) assert.equal((await healthy.next('create')).data.document.i, i);
    const ended = new Promise((resolve) => sock.on('end', resolve));
    sock.resume();
    await ended;
    assert.match(text, /event: overflow\ndata: \{"reason":"[^"]+"\}\n\n$/, 'the last event is overflow');
    // /metrics counts it, with the events sent and the streams open.
    const metric = (text, name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const scraped = (await small.metrics()).body;
    assert.equal(metric(scraped, 'tenantbase_realtime_overflows_total'), 1);
    assert.ok(metric(scraped, 'tenantbase_realtime_events_total') >= 250, scraped);
    assert.ok(metric(scraped, 'tenantbase_realtime_streams') >= 1);
    healthy.es.close();
  });
});
