// Seeds the list benchmarks through the public API, with a few requests in flight at once.
//
//   node seed.mjs <base-url> users <n> <access-token> <tenant-id>   n members via POST /v1/users
//   node seed.mjs <base-url> tenants <n> <access-token>              n tenants via POST /v1/tenants
//
// Prints the number created; exits non-zero on the first failure.
const [base, kind, countText, token, tenant] = process.argv.slice(2);
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

let next = 0;
async function worker() {
  while (next < count) await one(next++);
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
console.log(count);
