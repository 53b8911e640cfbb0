// Command line and start-up behaviour (API.md §12): version, bad settings, the first-start
// admin bootstrap, and data that survives a restart.

import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, runCli, sleep, startServer } from './harness.mjs';

const servers = [];
after(async () => { await Promise.all(servers.map((s) => s.stop('SIGKILL'))); });

const run = runCli;

describe('command line', () => {
  test('`tenantbase version` prints a semver version and exits 0', async () => {
    const r = await run(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\d+\.\d+\.\d+/);
  });

  test('`tenantbase --help` prints usage naming serve and exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /serve/);
  });

  const badSettings = {
    TB_SERVER_THREADS: ['abc', 'server.threads'],
    TB_SERVER_HEADER_TIMEOUT_SECONDS: ['soon', 'server.header_timeout_seconds'],
    TB_LOG_ACCESS: ['maybe', 'log.access'],
  };
  for (const [name, [value, setting]] of Object.entries(badSettings)) {
    test(`${name}=${value} stops \`serve\` with exit code 2 and a message naming ${setting}`, async () => {
      const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-e2e-bad-'));
      try {
        const port = await freePort();
        const r = await run(['serve', '--http', `127.0.0.1:${port}`, '--data', dataDir],
          { env: { TB_LOG_ACCESS: 'false', [name]: value } });
        assert.equal(r.signal, null, 'exited on its own (not still serving)');
        assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
        assert.ok(r.stderr.includes(setting), `stderr does not name ${setting}: ${r.stderr}`);
      } finally {
        await fsp.rm(dataDir, { recursive: true, force: true });
      }
    });
  }
});

/** Finds the generated admin password in the start-up output (plain text or a JSON log line). */
function generatedPassword(output) {
  for (const line of output.split('\n')) {
    if (!line.includes('password:')) continue;
    const texts = [line];
    try {
      const collect = (v) => {
        if (typeof v === 'string') texts.push(v);
        else if (v && typeof v === 'object') Object.values(v).forEach(collect);
      };
      collect(JSON.parse(line));
    } catch { /* not JSON */ }
    for (const t of texts.slice(1).concat(texts[0])) {
      const m = /password:\s*([^\s"\\,}]+)/.exec(t);
      if (m) return m[1];
    }
  }
  return null;
}

describe('first start and restart', () => {
  let dataDir;
  let databaseUrl;
  let password;

  test('first start without TB_ADMIN_* creates admin@localhost and prints its password once', { timeout: 30_000 }, async () => {
    const first = await startServer({ env: { TB_ADMIN_EMAIL: undefined, TB_ADMIN_PASSWORD: undefined } });
    servers.push(first);
    dataDir = first.dataDir;
    databaseUrl = first.databaseUrl;
    await first.waitForOutput(/password:/, 5_000);
    const out = first.output();
    assert.match(out, /admin@localhost/);
    assert.match(out, new RegExp(`listening on http://127\\.0\\.0\\.1:${first.port}`));
    password = generatedPassword(out);
    assert.ok(password && password.length >= 12, `a strong generated password, got ${JSON.stringify(password)}`);
    assert.equal(await first.stop(), 0, first.output());
  });

  test('a restart on the same data prints no password again', { timeout: 30_000 }, async () => {
    assert.ok(dataDir, 'needs the first-start test');
    const second = await startServer({ dataDir, databaseUrl,
      env: { TB_ADMIN_EMAIL: undefined, TB_ADMIN_PASSWORD: undefined } });
    servers.push(second);
    await sleep(300); // give a (wrong) late bootstrap message time to appear
    assert.equal((await second.get('/v1/health')).status, 200);
    assert.doesNotMatch(second.output(), /password:/);
    assert.equal(await second.stop(), 0, second.output());
  });

  test('the generated admin can sign in after the restart (data kept)', { timeout: 30_000 }, async () => {
    assert.ok(password, 'needs the first-start test');
    const third = await startServer({ dataDir, databaseUrl,
      env: { TB_ADMIN_EMAIL: undefined, TB_ADMIN_PASSWORD: undefined } });
    servers.push(third);
    const res = await third.post('/v1/auth/login', { json: { email: 'admin@localhost', password } });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.success, true);
    assert.equal(res.json.data.user.email, 'admin@localhost');
    assert.equal(res.json.data.user.is_admin, true);
    assert.doesNotMatch(third.output(), /password:/);
    assert.equal(await third.stop(), 0, third.output());
  });
});
