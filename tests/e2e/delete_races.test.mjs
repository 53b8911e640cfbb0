// No document outlives its collection or its tenant, even when the delete races the inserts
// (issue #23). On PostgreSQL documents carry no foreign key (a check per inserted row cost as
// much as the insert): an insert locks its collection's row, a delete locks the rows before
// deleting the documents (storage/dialect.h, ShareRowLock). Each round below fires batches
// of creates at a collection (or a tenant) and deletes it while they run, then reads the
// database itself for documents whose collection is gone. Every create answers 201 or 404
// (it found the collection deleted), never 500.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV, as, createTenant, describeRes, expectSuccess, newUser } from './tenancy_helpers.mjs';

const ORPHANS = 'SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM collections c ' +
  'WHERE c.tenant_id = d.tenant_id AND c.id = d.collection_id)';

let server;
let owner;
before(async () => {
  server = await startServer({ env: NO_THROTTLE_ENV });
  owner = await newUser(server, 'race');
});
after(async () => { await server?.stop(); });

// Runs a one-number query on the server's database, beside the server.
function scalar(sql) {
  if (server.backend === 'postgres') {
    return Number(execFileSync('psql', [server.databaseUrl, '-Atc', sql], { encoding: 'utf8' }).trim());
  }
  const db = path.join(server.dataDir, 'tenantbase.db');
  return Number(execFileSync('python3', ['-c', `import sqlite3,sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
print(c.execute(sys.argv[2]).fetchone()[0])`, db, sql], { encoding: 'utf8' }).trim());
}

const batch = (round, k) => Array.from({ length: 20 }, (_, i) => ({ round, k, i }));

// Eight writers, each posting batches (and single documents) until told to stop.
function writers(headers, collection, round, allowed = [201, 404]) {
  let stop = false;
  const statuses = [];
  const one = async (k) => {
    for (let j = 0; !stop && j < 40; ++j) {
      const json = j % 2 ? batch(round, k) : { round, k, j };
      const res = await server.post(`/v1/collections/${collection}/documents`, { headers, json });
      statuses.push(res.status);
      assert.ok(allowed.includes(res.status), describeRes(res));
    }
  };
  const done = Promise.all(Array.from({ length: 8 }, (_, k) => one(k)));
  return { statuses, finish: async () => { stop = true; await done; } };
}

test('deleting a collection while documents are being created into it leaves none behind', async () => {
  const h = as(owner, owner.tid);
  for (let round = 0; round < 6; ++round) {
    const name = `race-${round}`;
    expectSuccess(await server.post('/v1/collections', { headers: h, json: { name } }), 201);
    const w = writers(h, name, round);
    await sleep(15 + round * 10);
    const del = await server.request('DELETE', `/v1/collections/${name}`, { headers: h });
    assert.equal(del.status, 204, describeRes(del));
    await w.finish();
    assert.ok(w.statuses.includes(201), `round ${round}: some creates landed before the delete`);
  }
  assert.equal(scalar(ORPHANS), 0, 'documents whose collection is gone');
});

test('deleting a tenant while documents are being created in it leaves none of its documents', async () => {
  for (let round = 0; round < 4; ++round) {
    const tenant = await createTenant(server, owner.auth, { name: `Race ${round}` });
    const h = as(owner, tenant.id);
    expectSuccess(await server.post('/v1/collections', { headers: h, json: { name: 'notes' } }), 201);
    const w = writers(h, 'notes', round, [201, 403, 404]);
    await sleep(20 + round * 10);
    const del = await server.request('DELETE', `/v1/tenants/${tenant.id}`, { headers: h });
    assert.equal(del.status, 204, describeRes(del));
    await w.finish();
    assert.equal(scalar(`SELECT COUNT(*) FROM documents WHERE tenant_id = '${tenant.id}'`), 0,
      `round ${round}: documents of the deleted tenant`);
    assert.equal(scalar(`SELECT COUNT(*) FROM collections WHERE tenant_id = '${tenant.id}'`), 0);
  }
  assert.equal(scalar(ORPHANS), 0, 'documents whose collection is gone');
});
