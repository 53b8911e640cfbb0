// A login storm: `concurrency` clients logging in back to back until SIGTERM, then prints the
// number of successful logins. Used by bench/run to check that password hashing (Argon2id on
// worker threads) does not slow other users' reads.
//   node login-storm.mjs URL EMAIL PASSWORD CONCURRENCY
const [url, email, password, concurrency = '32'] = process.argv.slice(2);
let ok = 0;
let failed = 0;
let stop = false;
process.on('SIGTERM', () => { stop = true; });

async function client() {
  while (!stop) {
    try {
      const res = await fetch(`${url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      await res.arrayBuffer();
      if (res.status === 200) ok++; else failed++;
    } catch {
      failed++;
    }
  }
}

console.log('started');
await Promise.all(Array.from({ length: Number(concurrency) }, client));
console.log(`${ok} ${failed}`);
