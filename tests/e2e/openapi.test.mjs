// GET /v1/openapi.json (API.md §10): the OpenAPI 3.1 document, bare (not the envelope),
// without credentials, describing the routes this server answers.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { JSON_CONTENT_TYPE, startServer } from './harness.mjs';

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
    const r = await server.get(path);
    assert.ok(Object.keys(op.responses).includes(String(r.status)),
      `GET ${path} answered ${r.status}, documented: ${Object.keys(op.responses).join(', ')}`);
  }
});
