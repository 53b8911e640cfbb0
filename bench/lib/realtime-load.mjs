// Realtime load (issue #25; bench/realtime runs it): many event streams on one server.
//
//   node bench/lib/realtime-load.mjs fanout URL KEY COLLECTION SUBSCRIBERS RATE SECONDS
//     SUBSCRIBERS streams subscribed to COLLECTION with the API key; one writer POSTs RATE
//     documents a second for SECONDS. Prints JSON: the latency from each write's 201 to its
//     event at each subscriber (p50, p99, max, in ms), events expected and received.
//   node bench/lib/realtime-load.mjs idle URL KEY COLLECTION STREAMS
//     opens STREAMS subscribed streams, prints "open" when they all are, and holds them until
//     its stdin closes.
//
// The streams are raw sockets read with indexOf, not an EventSource each: one client process
// must keep up with 200,000 events a second, and the figure measured is the server's.
import http from 'node:http';
import net from 'node:net';

const [mode, base, key, collection, ...rest] = process.argv.slice(2);
const url = new URL(base);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({
      host: url.hostname, port: url.port, method, path, agent,
      headers: { 'X-API-Key': key, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Opens a stream and subscribes it; onEvent(name, data, at) for every later event.
 * Resolves once subscribed.
 */
function openStream(onEvent) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: url.hostname, port: Number(url.port) });
    sock.setNoDelay(true);
    let buf = '';
    let headers = false;
    let subscribed = false;
    sock.on('connect', () => sock.write(`GET /v1/realtime HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`));
    sock.on('error', reject);
    sock.on('data', async (chunk) => {
      const at = performance.now();
      buf += chunk.toString('latin1');
      if (!headers) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buf.startsWith('HTTP/1.1 200')) return reject(new Error(buf.slice(0, 200)));
        headers = true;
        buf = buf.slice(end + 4);
      }
      // The body is not chunked (no Content-Length, Connection: close): events end with "\n\n".
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const e = ev.indexOf('\nevent: ');
        if (e < 0) continue; // a heartbeat comment
        const nl = ev.indexOf('\n', e + 8);
        const name = ev.slice(e + 8, nl);
        const data = ev.slice(ev.indexOf('data: ', nl) + 6);
        if (name === 'connect' && !subscribed) {
          subscribed = true;
          if (process.env.REALTIME_SUBSCRIBE === '0') return resolve(sock); // a bare stream
          const clientId = JSON.parse(data).client_id;
          const res = await request('POST', `/v1/realtime/${clientId}/subscriptions`, { subscriptions: [{ collection }] });
          if (res.status !== 200) return reject(new Error(`subscribe: ${res.status} ${res.body}`));
          resolve(sock);
        } else {
          onEvent(name, data, at);
        }
      }
    });
  });
}

async function openMany(n, onEvent, parallel = 100) {
  const socks = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + parallel); j++) batch.push(openStream(onEvent));
    socks.push(...await Promise.all(batch));
  }
  return socks;
}

const pct = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))];

async function fanout(subscribers, rate, seconds) {
  const arrivals = new Map(); // document id -> [ms]
  let received = 0;
  const socks = await openMany(subscribers, (name, data, at) => {
    if (name !== 'create') return;
    // {"collection":"…","id":"<id>",…}: the id without parsing the document.
    const i = data.indexOf('"id":"') + 6;
    const id = data.slice(i, data.indexOf('"', i));
    received++;
    let list = arrivals.get(id);
    if (!list) arrivals.set(id, (list = []));
    list.push(at);
  });
  const written = new Map(); // id -> ms of its 201
  const total = rate * seconds;
  const start = performance.now();
  const pending = [];
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(request('POST', `/v1/collections/${collection}/documents`, { n, pad: 'x'.repeat(64) }).then((res) => {
      const at = performance.now();
      if (res.status !== 201) throw new Error(`write: ${res.status} ${res.body}`);
      written.set(JSON.parse(res.body).data._id, at);
    }));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  // Let the last events arrive.
  const expected = written.size * subscribers;
  for (let i = 0; i < 100 && received < expected; i++) await new Promise((r) => setTimeout(r, 50));
  const lags = [];
  for (const [id, at201] of written) for (const at of arrivals.get(id) ?? []) lags.push(Math.max(0, at - at201));
  lags.sort((a, b) => a - b);
  for (const s of socks) s.destroy();
  console.log(JSON.stringify({
    subscribers, rate_target: rate, writes: written.size, write_rate: +(written.size / elapsed).toFixed(1),
    events_expected: expected, events_received: received,
    p50_ms: +pct(lags, 0.5).toFixed(2), p99_ms: +pct(lags, 0.99).toFixed(2), max_ms: +lags[lags.length - 1].toFixed(2),
  }));
}

async function idle(streams) {
  const socks = await openMany(streams, () => {}, 200);
  console.log('open', socks.length);
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
  for (const s of socks) s.destroy();
}

if (mode === 'fanout') await fanout(Number(rest[0]), Number(rest[1]), Number(rest[2]));
else if (mode === 'idle') await idle(Number(rest[0]));
else throw new Error(`unknown mode ${mode}`);
process.exit(0);
