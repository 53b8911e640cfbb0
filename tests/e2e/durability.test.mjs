// Unsafe durability does not start silently (issue #29): the effective settings are logged at
// start-up, a setting under which an acknowledged write could be lost is warned about loudly,
// shown by /v1/health (`checks.durability`) and /readyz (`X-Durability-Warning`); a misspelt
// TB_* variable is warned about instead of ignored in silence.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { BACKEND, sleep, startServer } from './harness.mjs';

const servers = [];
after(async () => { await Promise.all(servers.map((s) => s.stop())); });
async function start(env) {
  const s = await startServer({ env });
  servers.push(s);
  return s;
}

test('SQLite with synchronous=FULL (the default): durable, no warning', { skip: BACKEND !== 'sqlite' }, async () => {
  const server = await start({});
  const health = await server.get('/v1/health');
  assert.equal(health.json.data.checks.durability, 'ok');
  const ready = await server.get('/readyz');
  assert.equal(ready.headers['x-durability-warning'], undefined);
  assert.match(server.output(), /durability: a committed write survives/);
});

test('SQLite with synchronous=OFF or NORMAL: warned at start-up, in /v1/health and /readyz', { skip: BACKEND !== 'sqlite' }, async () => {
  for (const mode of ['OFF', 'NORMAL']) {
    const server = await start({ TB_SQLITE_SYNCHRONOUS: mode });
    assert.match(server.output(), /DURABILITY AT RISK/);
    const health = await server.get('/v1/health');
    assert.match(health.json.data.checks.durability, new RegExp(`^at risk: sqlite.synchronous=${mode}`));
    const ready = await server.get('/readyz');
    assert.equal(ready.status, 200);
    assert.match(ready.headers['x-durability-warning'], new RegExp(`sqlite.synchronous=${mode}`));
  }
});

test("PostgreSQL: the cluster's fsync, synchronous_commit and full_page_writes are read", { skip: BACKEND !== 'postgres' }, async () => {
  // The throwaway test cluster runs with all three off (scripts/pg-cluster), as no real one should.
  const server = await start({});
  const health = await server.get('/v1/health');
  const durability = health.json.data.checks.durability;
  for (const setting of ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off']) {
    assert.ok(durability.includes(setting), `${setting} in ${durability}`);
  }
  assert.match(server.output(), /DURABILITY AT RISK/);
  assert.match((await server.get('/readyz')).headers['x-durability-warning'], /fsync=off/);
});

test('a TB_* variable that names no setting is warned about (by name, not value)', async () => {
  const server = await start({ TB_SQLITE_SYNCHRONUS: 'FULL', TB_LIMITS_USER_PER_HOUR: '1000000000', TB_NOT_A_THING: 'secret-value-1' });
  await sleep(50);
  const out = server.output();
  assert.match(out, /unknown setting in the environment, ignored.*TB_SQLITE_SYNCHRONUS/);
  assert.match(out, /TB_NOT_A_THING/);
  assert.doesNotMatch(out, /secret-value-1/);
  assert.doesNotMatch(out, /"variable":"TB_LIMITS_USER_PER_HOUR"/);
});
