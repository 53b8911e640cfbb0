// Black-box end-to-end harness for the tenantbase binary.
//
// Every test file starts its own server(s) through startServer(); files may run in
// parallel (node --test --test-concurrency=N), so each server gets its own port, data
// directory and (on PostgreSQL) its own database.
//
// Environment read by the harness (never passed on to the server):
//   TB_BIN            binary under test (default <repo>/build/tenantbase)
//   TB_TEST_BACKEND   sqlite (default) | postgres
//   TB_TEST_PG_URL    admin URL of a throwaway PostgreSQL cluster (trust auth), e.g.
//                     postgres://postgres@127.0.0.1:5433/postgres; required for postgres
//   TB_TEST_KEEP      1 = keep temp data dirs and databases after the run (debugging)
//   TB_TEST_OPENAPI   a JSON file to validate responses against instead of the document the
//                     server serves (while editing docs/openapi.yaml; openapi_validation.mjs)
//
// Every response of Server.request() (and get/post) is validated against the OpenAPI
// document for its route and status; see openapi_validation.mjs.

import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadOpenApi, loadedOpenApi } from './openapi_validation.mjs';

const execFileP = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.resolve(REPO_ROOT, process.env.TB_BIN || 'build/tenantbase');
export const BACKEND = (process.env.TB_TEST_BACKEND || 'sqlite').toLowerCase();
export const PG_ADMIN_URL = process.env.TB_TEST_PG_URL || '';
const KEEP = process.env.TB_TEST_KEEP === '1';

if (BACKEND !== 'sqlite' && BACKEND !== 'postgres') {
  throw new Error(`TB_TEST_BACKEND must be sqlite or postgres, got "${BACKEND}"`);
}
if (BACKEND === 'postgres' && !PG_ADMIN_URL) {
  throw new Error('TB_TEST_BACKEND=postgres needs TB_TEST_PG_URL (admin URL of a throwaway cluster)');
}

/** The platform admin every server gets unless a test overrides/deletes these variables. */
export const TEST_ADMIN = Object.freeze({ email: 'admin@e2e.test', password: 'E2e-admin-Passw0rd!' });

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 20_000; // > the server's default shutdown timeout (10 s)

// ---------------------------------------------------------------------------------------
// Process-wide bookkeeping, so nothing outlives the test process.

const liveServers = new Set(); // Server objects whose process has not exited yet
const createdDirs = new Set(); // temp data dirs made by the harness
const createdDbs = new Set(); // database names made by the harness (postgres)

function cleanupSync() {
  for (const s of liveServers) {
    try { s.proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
  liveServers.clear();
  if (KEEP) return;
  for (const dir of createdDirs) {
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  createdDirs.clear();
  for (const db of createdDbs) {
    // The servers were just SIGKILLed and their sessions may still linger: FORCE (PG 13+)
    // terminates them; fall back to a plain DROP for older servers.
    for (const sql of [`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`, `DROP DATABASE IF EXISTS "${db}"`]) {
      try {
        execFileSync('psql', [...pgConnArgs(), '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql],
          { env: pgEnv(), stdio: 'ignore', timeout: 10_000 });
        break;
      } catch { /* try the next form; leftovers in a throwaway cluster are harmless */ }
    }
  }
  createdDbs.clear();
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  // Installing a handler replaces the default "die"; restore it after cleaning up.
  process.once(sig, () => { cleanupSync(); process.kill(process.pid, sig); });
}

// ---------------------------------------------------------------------------------------
// Small utilities.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Ports this process has handed out: the kernel may offer a just-released port again. */
const handedOut = new Set();

/** A free TCP port on 127.0.0.1 (bound and released; startServer retries on a lost race). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address();
        srv.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

let uniq = 0;
function uniqueName(prefix) {
  uniq += 1;
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${uniq}_${Math.random().toString(36).slice(2, 6)}`;
}

/** Request budgets that no suite reaches (the defaults are 1000, 5000 and 100 per hour). */
export const UNLIMITED_BUDGETS = {
  TB_LIMITS_USER_PER_HOUR: '1000000000',
  TB_LIMITS_KEY_PER_HOUR: '1000000000',
  TB_LIMITS_ANONYMOUS_PER_HOUR: '1000000000',
};

/** Removes UNLIMITED_BUDGETS from a server's env: the budgets of API.md §1.3 apply. */
export const DEFAULT_BUDGETS = Object.fromEntries(Object.keys(UNLIMITED_BUDGETS).map((k) => [k, undefined]));

/** Process env without any TB_* variable: the test runner's own settings must not leak. */
function baseEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('TB_')) env[k] = v;
  }
  return env;
}

// ---------------------------------------------------------------------------------------
// PostgreSQL helpers (postgresql-client tools, parameters parsed from TB_TEST_PG_URL).

function pgUrl() { return new URL(PG_ADMIN_URL); }

function pgConnArgs() {
  const u = pgUrl();
  const args = ['-h', u.hostname || '127.0.0.1', '-p', u.port || '5432'];
  if (u.username) args.push('-U', decodeURIComponent(u.username));
  const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  args.push('-d', db);
  return args;
}

function pgEnv() {
  const u = pgUrl();
  const env = { ...process.env };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  return env;
}

/** Creates a fresh database in the test cluster; returns its connection URL. */
export async function createPgDatabase() {
  const name = uniqueName('tb_e2e');
  await execFileP('psql', [...pgConnArgs(), '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE DATABASE "${name}"`],
    { env: pgEnv(), timeout: 15_000 });
  createdDbs.add(name);
  const u = pgUrl();
  u.pathname = `/${name}`;
  return u.toString();
}

// ---------------------------------------------------------------------------------------
// Server lifecycle.

/**
 * Starts `TB_BIN serve` and waits until GET /readyz answers 200.
 *
 * @param {object} [opts]
 * @param {Record<string,string|undefined|null>} [opts.env]  merged over the defaults;
 *        a value of undefined/null removes the variable (e.g. {TB_ADMIN_EMAIL: undefined}).
 * @param {string[]} [opts.args]     extra command-line arguments after `serve ...`.
 * @param {'sqlite'|'postgres'} [opts.backend]  default TB_TEST_BACKEND.
 * @param {string} [opts.dataDir]    reuse a data dir (restart tests); default a new temp dir.
 * @param {string} [opts.databaseUrl] reuse a database (postgres restart tests).
 * @param {number} [opts.port]       listen on this port (a restart where a proxy expects it).
 * @param {boolean} [opts.waitReady] default true.
 */
export async function startServer(opts = {}) {
  const backend = opts.backend || BACKEND;
  let dataDir = opts.dataDir;
  if (!dataDir) {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-e2e-'));
    createdDirs.add(dataDir);
  }
  let databaseUrl = opts.databaseUrl || null;
  if (!databaseUrl && backend === 'postgres') databaseUrl = await createPgDatabase();

  // freePort() releases the port before the server binds it, so a parallel test file can
  // grab it in between. That race is rare; retry with a new port when it happens.
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    // opts.port: a node restarted where a load balancer expects it (tests/cluster/).
    const port = opts.port && attempt === 0 ? opts.port : await freePort();
    // Every server also gets a metrics.http listener (issue #29: on the main one /metrics is a
    // platform admin's), which Server.metrics() scrapes; a test may set TB_METRICS_HTTP itself.
    const metricsPort = opts.env && 'TB_METRICS_HTTP' in opts.env ? null : await freePort();
    const server = new Server({ ...opts, port, metricsPort, dataDir, databaseUrl, backend });
    try {
      if (opts.waitReady !== false) {
        await server.waitReady();
        // The OpenAPI document every response is validated against (openapi_validation.mjs
        // says why it comes from the server under test), fetched once per test process from
        // the first server that is ready. A failure here is not fatal: request() tries again
        // and fails the request that could not be validated.
        if (!loadedOpenApi()) await loadOpenApi(server.url).catch(() => {});
      }
      return server;
    } catch (err) {
      lastErr = err;
      await server.stop('SIGKILL').catch(() => {});
      if (!/address (already )?in use|EADDRINUSE/i.test(server.output())) throw err;
    }
  }
  throw lastErr;
}

export class Server {
  constructor({ env = {}, args = [], port, metricsPort, dataDir, databaseUrl, backend }) {
    this.port = port;
    this.metricsUrl = metricsPort ? `http://127.0.0.1:${metricsPort}` : null;
    this.host = '127.0.0.1';
    this.url = `http://127.0.0.1:${port}`;
    this.dataDir = dataDir;
    this.databaseUrl = databaseUrl;
    this.backend = backend;
    this.exitCode = undefined; // number | null once exited
    this.exitSignal = undefined;

    const merged = {
      ...baseEnv(),
      TB_LOG_ACCESS: 'false',
      TB_ADMIN_EMAIL: TEST_ADMIN.email,
      TB_ADMIN_PASSWORD: TEST_ADMIN.password,
      ...(metricsPort ? { TB_METRICS_HTTP: `127.0.0.1:${metricsPort}` } : {}),
      // Every suite signs up and signs in from 127.0.0.1 many times: request budgets this
      // large stay out of the way; rate_limits.test.mjs removes them to test the defaults.
      ...UNLIMITED_BUDGETS,
      ...env,
    };
    for (const k of Object.keys(merged)) if (merged[k] === undefined || merged[k] === null) delete merged[k];
    this.env = merged;

    this.argv = ['serve', '--http', `127.0.0.1:${port}`, '--data', dataDir];
    if (databaseUrl) this.argv.push('--database', databaseUrl);
    this.argv.push(...args);

    this._stdout = '';
    this._stderr = '';
    this._all = '';
    this.proc = spawn(BIN, this.argv, { env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.proc.pid;
    liveServers.add(this);

    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => { this._stdout += d; this._all += d; });
    this.proc.stderr.on('data', (d) => { this._stderr += d; this._all += d; });

    /** Resolves to {code, signal} when the process has exited and its pipes are drained. */
    this.exited = new Promise((resolve) => {
      let spawnError = null;
      this.proc.on('error', (err) => {
        // e.g. ENOENT when the binary is missing; 'close' still follows.
        spawnError = err;
        this._all += `\n[harness] spawn error: ${err.message}\n`;
      });
      this.proc.on('close', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        if (spawnError && code === null && signal === null) this.exitCode = -1;
        liveServers.delete(this);
        resolve({ code: this.exitCode, signal });
      });
    });
  }

  /** Combined stdout+stderr captured so far. */
  output() { return this._all; }
  stdout() { return this._stdout; }
  stderr() { return this._stderr; }

  get running() { return this.exitCode === undefined; }

  /** Waits until the captured output matches `re`. */
  async waitForOutput(re, timeoutMs = 5_000) {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this._all)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for output ${re}\n--- output ---\n${this._all}`);
      await sleep(25);
    }
  }

  async waitReady(timeoutMs = READY_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (true) {
      if (!this.running) {
        throw new Error(`server exited (code ${this.exitCode}, signal ${this.exitSignal}) before it was ready\n` +
          `command: ${BIN} ${this.argv.join(' ')}\n--- output ---\n${this._all}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`server not ready after ${timeoutMs} ms (last /readyz: ${last})\n--- output ---\n${this._all}`);
      }
      // Only this process's own "listening" line proves that the port is ours: another
      // server that won a race for it would answer /readyz just as well.
      if (!new RegExp(`listening on https?://127\\.0\\.0\\.1:${this.port}\\b`).test(this._all)) {
        last = 'not listening yet';
        await sleep(50);
        continue;
      }
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
        last = `status ${res.status}`;
      } catch (err) {
        last = err.cause?.code || err.message;
      }
      await sleep(50);
    }
  }

  /** Sends a signal without waiting. */
  kill(signal = 'SIGTERM') {
    if (this.running) this.proc.kill(signal);
  }

  /**
   * Sends `signal` and resolves to the exit code (null if killed by a signal; see
   * exitSignal). Escalates to SIGKILL after `timeoutMs`.
   */
  async stop(signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
    if (this.running) {
      this.proc.kill(signal);
      const timer = setTimeout(() => { if (this.running) this.proc.kill('SIGKILL'); }, timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
    this.assertNoSanitizerReport();
    return this.exitCode;
  }

  /**
   * Throws when the server printed an AddressSanitizer, LeakSanitizer or UBSan report: under
   * the sanitizer build (make test runs the suite on it too) such a report fails the test
   * that stopped the server, even if every HTTP answer looked right.
   */
  assertNoSanitizerReport() {
    const out = this._all;
    const marker = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:']
      .find((m) => out.includes(m));
    if (marker) throw new Error(`sanitizer report in server output (${marker})\n--- output ---\n${out}`);
  }

  /** Waits for the process to exit on its own; resolves to {code, signal} or rejects on timeout. */
  async waitExit(timeoutMs = STOP_TIMEOUT_MS) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`server did not exit within ${timeoutMs} ms\n--- output ---\n${this._all}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * HTTP request through fetch; see request(). Every response is validated against the
   * OpenAPI document (openapi_validation.mjs): one the document does not describe for its
   * route and status throws an AssertionError.
   *
   * opts.validate = false skips that check for this one request. Only for a request that
   * deliberately breaks the protocol in a way the document cannot describe; say why at the
   * call site. (No test needs it today: malformed HTTP goes through rawRequest/RawConnection,
   * which are never validated.)
   */
  async request(method, p, opts = {}) {
    const { validate = true, ...rest } = opts;
    const url = `${this.url}${p}`;
    const res = await request(url, method, rest);
    if (validate) {
      const v = loadedOpenApi() || await loadOpenApi(this.url);
      v.validateResponse({ method, url, requestHeaders: rest.headers || {}, status: res.status, headers: res.headers, body: res.body });
    }
    return res;
  }

  get(p, opts) { return this.request('GET', p, opts); }

  /** GET /metrics from the server's metrics.http listener (no credentials there). */
  async metrics() {
    assert.ok(this.metricsUrl, 'this server was started with a TB_METRICS_HTTP of its own');
    return request(`${this.metricsUrl}/metrics`, 'GET');
  }
  post(p, opts) { return this.request('POST', p, opts); }
}

// ---------------------------------------------------------------------------------------
// HTTP through fetch.

/**
 * @param {string} url
 * @param {string} method
 * @param {object} [opts]
 * @param {Record<string,string>} [opts.headers]
 * @param {string|Uint8Array|Buffer} [opts.body]  sent as is (a string gets fetch's default
 *        text/plain Content-Type unless headers set one; a Uint8Array gets none)
 * @param {*} [opts.json]  serialised with Content-Type application/json
 * @param {number} [opts.timeoutMs]
 * @returns {Promise<{status:number, headers:Record<string,string>, body:string, bytes:Buffer, json:any}>}
 *   (`bytes`: the body as received, for binary content such as files)
 */
export async function request(url, method, { headers = {}, body, json, timeoutMs = 10_000 } = {}) {
  const init = { method, headers: { ...headers }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    if (!Object.keys(init.headers).some((k) => k.toLowerCase() === 'content-type')) {
      init.headers['Content-Type'] = 'application/json';
    }
  } else if (body !== undefined) {
    init.body = body;
    // A stream is sent as it is produced (chunked): fetch wants to be told so.
    if (body instanceof ReadableStream) init.duplex = 'half';
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    // fetch hides the useful part (ECONNREFUSED, ECONNRESET, ...) in err.cause.
    const cause = err.cause ? ` (${err.cause.code || ''} ${err.cause.message || ''})` : '';
    throw new Error(`${method} ${url} failed: ${err.message}${cause}`, { cause: err });
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  const hdrs = {};
  res.headers.forEach((v, k) => { hdrs[k] = v; });
  return { status: res.status, headers: hdrs, body: text, bytes, json: tryJson(text) };
}

function tryJson(text) {
  if (!text) return undefined;
  try { return JSON.parse(text); } catch { return undefined; }
}

// ---------------------------------------------------------------------------------------
// Raw sockets: for what fetch cannot send (bad framing, huge headers, trickled bytes).

/**
 * Parses as many complete HTTP/1.x responses as `buf` holds.
 * A response without Content-Length / chunked framing takes the rest of the buffer and is
 * complete only when `eof` is true.
 * @returns {{responses: Array<{status:number, statusLine:string, headers:Record<string,string>,
 *            rawHeaders:Array<[string,string]>, body:string, json:any}>, rest: Buffer}}
 */
export function parseResponses(buf, { eof = false, requestMethods = [] } = {}) {
  const responses = [];
  let off = 0;
  while (off < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', off);
    if (headEnd < 0) break;
    const head = buf.subarray(off, headEnd).toString('latin1');
    const lines = head.split('\r\n');
    const statusLine = lines[0];
    const m = /^HTTP\/\d\.\d (\d{3})(?: .*)?$/.exec(statusLine);
    if (!m) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
    const status = Number(m[1]);
    const headers = {};
    const rawHeaders = [];
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      rawHeaders.push([k, v]);
      headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
    }
    const bodyStart = headEnd + 4;
    let body;
    let end;
    const method = requestMethods[responses.length];
    if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
      end = bodyStart;
    } else if (/\bchunked\b/i.test(headers['transfer-encoding'] || '')) {
      const parts = [];
      let p = bodyStart;
      let done = false;
      while (true) {
        const le = buf.indexOf('\r\n', p);
        if (le < 0) break;
        const size = parseInt(buf.subarray(p, le).toString('latin1').split(';')[0], 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size in response');
        if (size === 0) {
          // Optional trailer lines, then the empty line that ends the message.
          let q = le + 2;
          while (true) {
            const next = buf.indexOf('\r\n', q);
            if (next < 0) break;
            if (next === q) { end = q + 2; done = true; break; }
            q = next + 2;
          }
          break;
        }
        if (buf.length < le + 2 + size + 2) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!done) break;
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length']);
      if (buf.length < bodyStart + len) break;
      body = buf.subarray(bodyStart, bodyStart + len);
      end = bodyStart + len;
    } else {
      if (!eof) break; // body delimited by connection close
      body = buf.subarray(bodyStart);
      end = buf.length;
    }
    const text = body.toString('utf8');
    responses.push({ status, statusLine, headers, rawHeaders, body: text, json: tryJson(text), byteLength: end - off });
    off = end;
  }
  return { responses, rest: buf.subarray(off) };
}

/**
 * A raw TCP connection to the server with helpers to read whole HTTP responses.
 * `closed` resolves when the peer ends/resets the connection (not when we destroy it).
 */
export class RawConnection {
  constructor(port, host = '127.0.0.1') {
    this.port = port;
    this.buf = Buffer.alloc(0);
    this.consumed = 0; // bytes of buf already returned as responses
    this.closedByServer = false;
    this.reset = false;
    this.error = null;
    this._waiters = new Set();
    this.socket = net.connect({ port, host });
    this.socket.setNoDelay(true);
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.connected.catch(() => {}); // surfaced by callers that await it
    this.closed = new Promise((resolve) => { this._resolveClosed = resolve; });
    this.socket.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this._notify(); });
    this.socket.on('end', () => { this.closedByServer = true; this._resolveClosed(); this._notify(); });
    this.socket.on('error', (err) => {
      this.error = err;
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') { this.closedByServer = true; this.reset = true; }
      this._resolveClosed();
      this._notify();
    });
    this.socket.on('close', () => { this._resolveClosed(); this._notify(); });
  }

  _notify() { for (const w of this._waiters) w(); }

  /** Waits until `pred()` is true, the socket closes, or timeout; returns pred(). */
  async _waitFor(pred, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!pred() && !this.socket.destroyed && !this.closedByServer) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise((resolve) => {
        const done = () => { clearTimeout(timer); this._waiters.delete(done); resolve(); };
        const timer = setTimeout(done, left);
        this._waiters.add(done);
      });
    }
    return pred();
  }

  /** Writes bytes; resolves once flushed (errors are recorded, not thrown: the server may have closed). */
  write(data) {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve(false);
      this.socket.write(data, (err) => resolve(!err));
    });
  }

  /**
   * Resolves with the next complete response, or null if none arrives before the timeout or
   * the server closing the connection.
   */
  async nextResponse({ timeoutMs = 5_000, method } = {}) {
    let got = null;
    const tryParse = () => {
      if (got) return true;
      const eof = this.closedByServer || this.socket.destroyed;
      const { responses } = parseResponses(this.buf.subarray(this.consumed),
        { eof, requestMethods: method ? [method] : [] });
      if (responses.length === 0) return false;
      got = responses[0];
      this.consumed += got.byteLength;
      return true;
    };
    await this._waitFor(tryParse, timeoutMs);
    tryParse(); // after a close, a body delimited by the close becomes complete
    return got;
  }

  /** Waits until the server closes the connection; true if it did within the timeout. */
  async waitClosed(timeoutMs = 5_000) {
    let timer;
    const r = await Promise.race([
      this.closed.then(() => true),
      new Promise((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); }),
    ]);
    clearTimeout(timer);
    return r && this.closedByServer;
  }

  /** Everything received so far. */
  text() { return this.buf.toString('latin1'); }

  end() { this.socket.end(); }
  destroy() { this.socket.destroy(); }
}

/** Opens a raw connection and waits until it is connected. */
export async function openRaw(port, host = '127.0.0.1') {
  const c = new RawConnection(port, host);
  await c.connected;
  return c;
}

/**
 * Writes raw bytes and collects everything until the server closes the connection or
 * `timeoutMs` passes.
 * @returns {Promise<{data:Buffer, text:string, closedByServer:boolean, reset:boolean,
 *   timedOut:boolean, status:number|null, statusLine:string|null, response:object|null,
 *   responses:object[]}>}
 */
export async function rawRequest(port, bytes, { timeoutMs = 5_000, host = '127.0.0.1' } = {}) {
  const c = await openRaw(port, host);
  await c.write(bytes);
  const closed = await c.waitClosed(timeoutMs);
  c.destroy();
  const data = c.buf;
  const text = data.toString('latin1');
  const firstLine = text.split('\r\n', 1)[0];
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(firstLine);
  let responses = [];
  try { responses = parseResponses(data, { eof: closed }).responses; } catch { /* keep raw */ }
  return {
    data,
    text,
    closedByServer: closed,
    reset: c.reset,
    timedOut: !closed,
    status: m ? Number(m[1]) : null,
    statusLine: m ? firstLine : null,
    response: responses[0] || null,
    responses,
  };
}

/** Tries to open a TCP connection: resolves 'connected', 'refused' or the error code. */
export function tryConnect(port, { host = '127.0.0.1', timeoutMs = 1_000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, timeoutMs);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve('connected'); });
    s.once('error', (err) => { clearTimeout(t); resolve(err.code === 'ECONNREFUSED' ? 'refused' : err.code || err.message); });
  });
}

/** Builds a request from lines (CRLF-joined, terminated by an empty line) plus an optional body. */
export function httpRequest(lines, body = '') {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

// ---------------------------------------------------------------------------------------
// Prometheus text.

/** Parses Prometheus text into [{name, labels, value}] (comments skipped). */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels = {};
    if (m[3]) {
      for (const lm of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    }
    samples.push({ name: m[1], labels, value: m[4] === '+Inf' ? Infinity : Number(m[4]) });
  }
  return samples;
}

/** Samples named `name` whose labels include all of `labels`. */
export function findSamples(samples, name, labels = {}) {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** Scrapes /metrics and returns the value of the unlabelled gauge tenantbase_http_requests_in_flight. */
export async function inFlight(server) {
  const res = await server.metrics();
  assert.equal(res.status, 200);
  const [g] = findSamples(parseMetrics(res.body), 'tenantbase_http_requests_in_flight');
  assert.ok(g, 'tenantbase_http_requests_in_flight is exported');
  return g.value;
}

// ---------------------------------------------------------------------------------------
// Assertions.

export const RFC3339_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const JSON_CONTENT_TYPE = /^application\/json\s*;\s*charset=utf-8$/i;

function describeRes(res) {
  const body = typeof res.body === 'string' ? res.body.slice(0, 500) : res.body;
  return `status ${res.status}, headers ${JSON.stringify(res.headers)}, body ${JSON.stringify(body)}`;
}

/**
 * Asserts the error envelope: status, JSON content type, success:false, error.code (when
 * `code` is given), a non-empty error.message, and request_id equal to X-Request-ID.
 * Works with results of request() and of the raw parsers (same shape).
 */
export function expectEnvelopeError(res, status, code) {
  assert.ok(res, 'no response');
  assert.equal(res.status, status, `expected status ${status}; got ${describeRes(res)}`);
  assert.match(res.headers['content-type'] || '', JSON_CONTENT_TYPE, `content type; got ${describeRes(res)}`);
  assert.ok(res.json && typeof res.json === 'object', `body is not a JSON object: ${describeRes(res)}`);
  assert.equal(res.json.success, false, `success must be false: ${describeRes(res)}`);
  assert.ok(res.json.error && typeof res.json.error === 'object', `missing error object: ${describeRes(res)}`);
  if (code !== undefined) assert.equal(res.json.error.code, code, `error.code: ${describeRes(res)}`);
  assert.equal(typeof res.json.error.message, 'string', `error.message: ${describeRes(res)}`);
  assert.ok(res.json.error.message.length > 0, `empty error.message: ${describeRes(res)}`);
  assert.ok(res.headers['x-request-id'], `missing X-Request-ID: ${describeRes(res)}`);
  assert.equal(res.json.request_id, res.headers['x-request-id'], `request_id vs X-Request-ID: ${describeRes(res)}`);
  return res.json.error;
}

/** Splits a comma-separated header value into lower-cased, trimmed tokens. */
export function headerTokens(value) {
  return (value || '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

// ---------------------------------------------------------------------------------------
// The CLI.

/** Runs the binary to completion without any TB_* variable of the test runner; resolves
 * {code, signal, stdout, stderr}. */
export function runCli(args, { env = {}, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TB_')));
    const p = spawn(BIN, args, { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}
