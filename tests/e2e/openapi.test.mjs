// GET /v1/openapi.json (API.md §10): the OpenAPI 3.1 document, bare (not the envelope),
// without credentials, describing the routes this server answers.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { JSON_CONTENT_TYPE, REPO_ROOT, startServer } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('the document is served as JSON, without credentials', async () => {
  const res = await server.get('/v1/openapi.json');
  assert.equal(res.status, 200, res.body?.slice(0, 300));
  assert.match(res.headers['content-type'], JSON_CONTENT_TYPE);
  const doc = JSON.parse(res.body);
  assert.match(doc.openapi, /^3\.1\./);
  assert.equal(doc.info.title, 'Tenantbase');
  for (const path of ['/v1/auth/login', '/v1/users', '/v1/tenants/{id}/members', '/v1/openapi.json']) {
    assert.ok(doc.paths[path], `documents ${path}`);
  }
  assert.ok(doc.components.securitySchemes.bearerAuth, 'Bearer security scheme');
  assert.ok(doc.components.securitySchemes.apiKeyAuth, 'API key security scheme');
});

test('every documented GET without path parameters and without security answers as documented', async () => {
  const res = await server.get('/v1/openapi.json');
  const doc = JSON.parse(res.body);
  for (const [path, item] of Object.entries(doc.paths)) {
    const op = item.get;
    if (!op || path.includes('{') || !Array.isArray(op.security) || op.security.length) continue;
    // An event stream never ends: realtime.test.mjs reads and validates its first event.
    if (op.responses?.['200']?.content?.['text/event-stream']) continue;
    const r = await server.get(path);
    assert.ok(Object.keys(op.responses).includes(String(r.status)),
      `GET ${path} answered ${r.status}, documented: ${Object.keys(op.responses).join(', ')}`);
  }
});

// Issue #20: tools that read only OpenAPI 3.0 (Dredd 14 aborts on 3.1) get a 3.0.3 rendition of
// the same document, which a linter nobody here wrote accepts.
test('GET /v1/openapi-3.0.json: the same API in OpenAPI 3.0.3, valid for @redocly/cli', async () => {
  const res = await server.get('/v1/openapi-3.0.json');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], JSON_CONTENT_TYPE);
  const v30 = JSON.parse(res.body);
  const v31 = JSON.parse((await server.get('/v1/openapi.json')).body);
  assert.equal(v30.openapi, '3.0.3');
  assert.deepEqual(Object.keys(v30.paths), Object.keys(v31.paths));
  assert.ok(v30.info.contact && v30.info.license?.name, 'info.contact and info.license');
  assert.ok(!/"type":\[/.test(res.body), 'no 3.1 type lists');
  assert.ok(!/"const":/.test(res.body), 'no const');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-openapi30-'));
  try {
    const file = path.join(dir, 'openapi-3.0.json');
    fs.writeFileSync(file, res.body);
    const redocly = path.join(REPO_ROOT, 'tests', 'node_modules', '.bin', 'redocly');
    // The same rules as the 3.1 document, but for the per-location ignores of that file.
    const { stdout, stderr } = await promisify(execFile)(redocly,
      ['lint', file, '--config', path.join(REPO_ROOT, 'docs', 'redocly.yaml'), '--format', 'stylish'],
      { timeout: 120_000 }).catch((err) => assert.fail(`redocly lint failed:\n${err.stdout}\n${err.stderr}`));
    assert.match(`${stdout}${stderr}`, /valid|0 errors|Woohoo/i);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
