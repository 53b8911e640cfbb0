// The soak's traffic (bench/soak): CONCURRENCY clients for SOAK_SECONDS against a running
// server, a mix of the bench scenarios (get-by-id, filtered and paged lists, creates, updates,
// deletes, health, /me) with file uploads and downloads, plus slower loops of registrations
// and session refreshes (rotating refresh tokens, a logout now and then). The data stays
// bounded (each client deletes its oldest documents, the oldest files go), so after the
// warm-up the server's work per request is steady and any drift is the server's. Every WINDOW seconds
// it records the requests, errors, p50/p99 and the server's RSS and open descriptors
// (/proc/<pid>); at the end it fits a line to RSS and descriptors after the warm-up and prints
// a summary as JSON on the last line.
//
//   node soak.mjs <base-url> <server-pid> <seconds>
import crypto from 'node:crypto';
import fs from 'node:fs';

const [base, pidText, secondsText] = process.argv.slice(2);
const pid = Number(pidText);
const SECONDS = Number(secondsText);
const WINDOW = Number(process.env.SOAK_WINDOW || 30);
// Seconds left out of the slopes: under ASan, freed memory sits in a 256 MiB quarantine that
// fills for the first minutes (the first 30-minute run: RSS rose 25 MiB/h measured from 300 s,
// 3 MiB/h from 600 s, on the same samples).
const WARMUP = Math.min(600, SECONDS / 3);
const CONCURRENCY = 16;
const MINE = 150;  // documents each client keeps
const REFRESH_EVERY = Number(process.env.SOAK_REFRESH_SECONDS || 240);
const PASSWORD = 'soak-Passw0rd-not-secret';
const tag = Date.now().toString(36);

const started = performance.now();
let window = { n: 0, errors: 0, latencies: [], kinds: new Map() };
const samples = [];
const errorsSeen = new Map();
const byRoute = new Map();  // "METHOD /path" (ids as :id) → latencies after the warm-up

async function call(method, path, { token, tenant, json, body, type, expect = [200] } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (tenant) headers['X-Tenant-ID'] = tenant;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  if (type) headers['Content-Type'] = type;
  const t = performance.now();
  let res; let bytes;
  try {
    res = await fetch(base + path, { method, headers, body: json !== undefined ? JSON.stringify(json) : body });
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    window.n++; window.errors++;
    errorsSeen.set(`${method} ${path.split('?')[0]}: ${err.cause?.code || err.message}`, 1);
    return null;
  }
  window.n++;
  const took = performance.now() - t;
  window.latencies.push(took);
  if ((performance.now() - started) / 1000 > WARMUP) {
    const route = `${method} ${path.split('?')[0].replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, ':id')}`;
    if (!byRoute.has(route)) byRoute.set(route, []);
    byRoute.get(route).push(took);
  }
  if (!expect.includes(res.status)) {
    window.errors++;
    const key = `${method} ${path.split('?')[0].replace(/[0-9a-f-]{36}/g, ':id')} ${res.status}`;
    errorsSeen.set(key, (errorsSeen.get(key) || 0) + 1);
    window.kinds.set(key, (window.kinds.get(key) || 0) + 1);
    return null;
  }
  const isJson = (res.headers.get('content-type') || '').startsWith('application/json');
  return { status: res.status, bytes, json: isJson ? JSON.parse(bytes.toString('utf8')) : undefined };
}

async function register(i) {
  const email = `soak-${tag}-${i}@soak.test`;
  const r = await call('POST', '/v1/auth/register', { json: { email, password: PASSWORD, name: `Soak ${i}` }, expect: [201] });
  if (!r) throw new Error(`registration failed: ${[...errorsSeen.keys()]}`);
  return { email, token: r.json.data.tokens.access_token, refresh: r.json.data.tokens.refresh_token,
    tenant: r.json.data.tenants[0].id };
}

const owner = await register('owner');
const docs = [];
for (let from = 0; from < 2000; from += 500) {
  const batch = Array.from({ length: 500 }, (_, j) => ({ tag: `t${(from + j) % 50}`, n: ((from + j) * 7919) % 100003, title: `Doc ${from + j}` }));
  const r = await call('POST', '/v1/collections/soak/documents', { token: owner.token, tenant: owner.tenant, json: batch, expect: [201] });
  if (!r) throw new Error(`seeding failed: ${[...errorsSeen.keys()]}`);
  for (const d of r.json.data) docs.push(d._id);
}
const files = [];

let stop = false;
const auth = { token: owner.token, tenant: owner.tenant };
const pick = (a) => a[Math.floor(Math.random() * a.length)];

async function worker(k) {
  const mine = [];
  for (let j = 0; !stop; ++j) {
    const roll = Math.random() * 100;
    if (roll < 30) {
      await call('GET', `/v1/collections/soak/documents/${pick(docs)}`, auth);
    } else if (roll < 45) {
      const q = encodeURIComponent(JSON.stringify({ tag: `t${j % 50}`, n: { $gt: j % 1000 } }));
      await call('GET', `/v1/collections/soak/documents?q=${q}&sort=-n&per_page=20`, auth);
    } else if (roll < 53) {
      const first = await call('GET', '/v1/collections/soak/documents?per_page=50&sort=_created&after=', auth);
      const next = first?.json?.meta?.next_cursor;
      if (next) await call('GET', `/v1/collections/soak/documents?per_page=50&sort=_created&after=${encodeURIComponent(next)}`, auth);
    } else if (roll < 63) {
      const r = await call('POST', '/v1/collections/soak/documents', { ...auth, json: { tag: `w${k}`, n: j, pad: 'x'.repeat(j % 500) }, expect: [201] });
      if (r) mine.push(r.json.data._id);
      // A steady state: each client keeps its newest MINE documents, so the collection (and
      // what a filtered count reads) stops growing once warm.
      if (mine.length > MINE) {
        const id = mine.shift();
        await call('DELETE', `/v1/collections/soak/documents/${id}`, { ...auth, expect: [200, 204] });
      }
    } else if (roll < 73 && mine.length) {
      await call('PATCH', `/v1/collections/soak/documents/${pick(mine)}`, { ...auth, json: { n: j, extra: { at: Date.now() } } });
    } else if (roll < 76 && mine.length) {
      const id = mine.splice(Math.floor(Math.random() * mine.length), 1)[0];
      await call('DELETE', `/v1/collections/soak/documents/${id}`, { ...auth, expect: [200, 204] });
    } else if (roll < 82) {
      await call('GET', '/v1/health');
    } else if (roll < 88) {
      await call('GET', '/v1/auth/me', { token: owner.token });
    } else if (roll < 93) {
      const r = await call('POST', `/v1/files?name=s${k}-${j}.bin`, { ...auth, body: crypto.randomBytes(1 + (j * 977) % 65536), type: 'application/octet-stream', expect: [201] });
      if (r) files.push(r.json.data.id);
      if (files.length > 500) {
        const id = files.shift();
        await call('DELETE', `/v1/files/${id}`, { ...auth, expect: [200, 204] });
      }
    } else if (files.length) {
      await call('GET', `/v1/files/${pick(files)}/content`, auth);
    }
  }
}

// A session refreshed every half second (the refresh token rotates), logged out and signed in
// again every 50 refreshes; and a registration every 2 s (Argon2id: about 100 ms of a core).
async function sessions() {
  let s = await register('sessions');
  for (let i = 1; !stop; ++i) {
    const r = await call('POST', '/v1/auth/refresh', { json: { refresh_token: s.refresh } });
    if (r) s = { ...s, token: r.json.data.tokens.access_token, refresh: r.json.data.tokens.refresh_token };
    if (i % 50 === 0) {
      await call('POST', '/v1/auth/logout', { token: s.token, json: { refresh_token: s.refresh } });
      const l = await call('POST', '/v1/auth/login', { json: { email: s.email, password: PASSWORD } });
      if (l) s = { ...s, token: l.json.data.tokens.access_token, refresh: l.json.data.tokens.refresh_token };
    }
    await new Promise((r2) => setTimeout(r2, 500));
  }
}
// The clients' access token is short-lived (auth.access_ttl_seconds, 900 by default):
// refreshed well before it expires, as an application does.
async function ownerRefresh() {
  while (!stop) {
    for (let waited = 0; waited < REFRESH_EVERY && !stop; waited += 1) await new Promise((r) => setTimeout(r, 1000));
    if (stop) break;
    const r = await call('POST', '/v1/auth/refresh', { json: { refresh_token: owner.refresh } });
    if (r) {
      owner.token = auth.token = r.json.data.tokens.access_token;
      owner.refresh = r.json.data.tokens.refresh_token;
    }
  }
}
async function registrations() {
  for (let i = 0; !stop; ++i) {
    await register(`r${i}`).catch(() => {});
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function procStatus() {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  return { rssKb, fds };
}

const sampler = setInterval(() => {
  const l = window.latencies.sort((a, b) => a - b);
  const q = (p) => (l.length ? l[Math.min(l.length - 1, Math.floor(p * l.length))] : 0);
  const sample = { t: Math.round((performance.now() - started) / 1000), requests: window.n, errors: window.errors,
    p50: +q(0.5).toFixed(2), p99: +q(0.99).toFixed(2), ...procStatus() };
  if (window.kinds.size) sample.error_kinds = Object.fromEntries(window.kinds);
  samples.push(sample);
  console.log(JSON.stringify(sample));
  window = { n: 0, errors: 0, latencies: [], kinds: new Map() };
}, WINDOW * 1000);

const loops = [...Array.from({ length: CONCURRENCY }, (_, k) => worker(k)), sessions(), registrations(), ownerRefresh()];
await new Promise((r) => setTimeout(r, SECONDS * 1000));
stop = true;
await Promise.all(loops);
clearInterval(sampler);

// Least-squares slope per hour after the warm-up.
function slope(key) {
  const pts = samples.filter((s) => s.t > WARMUP);
  if (pts.length < 2) return 0;
  const mx = pts.reduce((a, s) => a + s.t, 0) / pts.length;
  const my = pts.reduce((a, s) => a + s[key], 0) / pts.length;
  const num = pts.reduce((a, s) => a + (s.t - mx) * (s[key] - my), 0);
  const den = pts.reduce((a, s) => a + (s.t - mx) ** 2, 0);
  return (num / den) * 3600;
}
const after = samples.filter((s) => s.t > WARMUP);
const p99s = after.map((s) => s.p99);
console.log(JSON.stringify({
  seconds: SECONDS, requests: samples.reduce((a, s) => a + s.requests, 0),
  errors: samples.reduce((a, s) => a + s.errors, 0), error_kinds: Object.fromEntries(errorsSeen),
  rss_kb_first: after[0]?.rssKb, rss_kb_last: after.at(-1)?.rssKb, rss_kb_per_hour: Math.round(slope('rssKb')),
  fds_first: after[0]?.fds, fds_last: after.at(-1)?.fds, fds_per_hour: +slope('fds').toFixed(2),
  p99_min: Math.min(...p99s), p99_max: Math.max(...p99s),
  p99_median: p99s.sort((a, b) => a - b)[Math.floor(p99s.length / 2)],
  p99_by_route: Object.fromEntries([...byRoute].map(([route, l]) => {
    l.sort((a, b) => a - b);
    return [route, { n: l.length, p50: +l[Math.floor(l.length / 2)].toFixed(2), p99: +l[Math.floor(l.length * 0.99)].toFixed(2) }];
  })),
}));
