// Seeds the list benchmarks through the public API, with a few requests in flight at once.
//
//   node seed.mjs <base-url> users <n> <access-token> <tenant-id>   n members via POST /v1/users
//   node seed.mjs <base-url> tenants <n> <access-token>              n tenants via POST /v1/tenants
//   node seed.mjs <base-url> documents <n> <access-token> <tenant-id> <collection>
//                                              n documents in batches of 1,000, 4 in flight
//   node seed.mjs <base-url> import <n> <access-token> <tenant-id> <collection>
//                                              n documents in batches of 1,000, one at a time;
//                                              prints the time and documents/s
//
// Prints the number created; exits non-zero on the first failure.
const [base, kind, countText, token, tenant, collection] = process.argv.slice(2);
const count = Number(countText);
const CONCURRENCY = 16;
const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
if (tenant) headers['X-Tenant-ID'] = tenant;
const tag = Date.now().toString(36);

async function one(i) {
  const [path, body] = kind === 'users'
    ? ['/v1/users', { email: `seed-${tag}-${i}@bench.test`, name: `Seed ${i}`, role: 'member' }]
    : ['/v1/tenants', { name: `Bench tenant ${i}`, slug: `bench-${tag}-${i}` }];
  const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`${path} #${i}: ${res.status} ${await res.text()}`);
}

// Documents: tag t0..t99 (1% each), n a pseudo-random integer, a title and a nested object.
function documents(from, size) {
  return Array.from({ length: size }, (_, j) => {
    const i = from + j;
    return { tag: `t${i % 100}`, n: (i * 7919) % 100003, title: `Document ${i}`, meta: { i, even: i % 2 === 0 } };
  });
}

async function batch(from, size) {
  const res = await fetch(`${base}/v1/collections/${collection}/documents`, {
    method: 'POST', headers, body: JSON.stringify(documents(from, size)),
  });
  if (res.status !== 201) throw new Error(`batch at ${from}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  await res.arrayBuffer();
}

if (kind === 'documents' || kind === 'import') {
  const BATCH = 1000;
  // fetch sets itself up on its first request (about 50 ms here): not the server's time.
  await (await fetch(`${base}/v1/health`)).text();
  const started = performance.now();
  if (kind === 'import') {
    for (let from = 0; from < count; from += BATCH) await batch(from, Math.min(BATCH, count - from));
    const seconds = (performance.now() - started) / 1000;
    console.log(`${seconds.toFixed(2)} s, ${Math.round(count / seconds)} documents/s`);
  } else {
    let at = 0;
    const work = async () => {
      while (at < count) {
        const from = at;
        at += BATCH;
        await batch(from, Math.min(BATCH, count - from));
      }
    };
    await Promise.all(Array.from({ length: 4 }, work));
    console.log(count);
  }
  process.exit(0);
}

let next = 0;
async function worker() {
  while (next < count) await one(next++);
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
console.log(count);
