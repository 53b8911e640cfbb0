// Poll a URL until it answers 200; used by bench/run to measure cold start.
//
//   node bench/lib/wait-ready.mjs URL TIMEOUT_MS
//
// Prints "polling" as soon as it runs (bench/run waits for that line before it spawns the server,
// so node's own start-up is not counted), then, on the first 200, the wall-clock time of that
// answer in microseconds since the epoch (comparable with bash's $EPOCHREALTIME).
// Exits 1 if no 200 arrives within TIMEOUT_MS.
import http from 'node:http';

const [url, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg ?? 30000);
if (!url || !Number.isFinite(timeoutMs)) {
  console.error('usage: wait-ready.mjs URL TIMEOUT_MS');
  process.exit(2);
}

const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const deadline = performance.now() + timeoutMs;
const agent = new http.Agent({ keepAlive: false });

function attempt() {
  if (performance.now() > deadline) {
    console.error(`wait-ready: no 200 from ${url} within ${timeoutMs} ms`);
    process.exit(1);
  }
  const req = http.get(url, { agent, timeout: 1000 }, (res) => {
    res.resume();
    if (res.statusCode === 200) {
      console.log(String(nowMicros()));
      process.exit(0);
    }
    setTimeout(attempt, 2);
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  // Connection refused while the server is still starting: try again shortly.
  req.on('error', () => setTimeout(attempt, 2));
}

console.log('polling');
attempt();
