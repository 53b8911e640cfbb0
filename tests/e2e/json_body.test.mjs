// JSON request bodies on the first JSON endpoints, POST /v1/auth/login and /v1/auth/register
// (API.md §1.1, §13 "Content types", "Precedence of errors"): 415 for a non-JSON type,
// 400 for malformed JSON, 422 for well-formed JSON that breaks the rules.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectEnvelopeError, startServer } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const enc = (s) => new TextEncoder().encode(s); // a Uint8Array body: fetch adds no Content-Type

const VALID_LOGIN = JSON.stringify({ email: 'nobody@example.com', password: 'correct horse battery' });
const VALID_REGISTER = JSON.stringify({ email: 'json-body@example.com', password: 'correct horse battery' });

for (const [path, validBody] of [['/v1/auth/login', VALID_LOGIN], ['/v1/auth/register', VALID_REGISTER]]) {
  describe(`POST ${path}`, () => {
    describe('415 UNSUPPORTED_MEDIA_TYPE for a body that is not declared JSON', () => {
      const types = ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=xyz', 'application/jsonp', 'application/xml'];
      for (const type of types) {
        test(`Content-Type: ${type}`, async () => {
          const res = await server.post(path, { headers: { 'Content-Type': type }, body: validBody });
          expectEnvelopeError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
        });
      }
      test('no Content-Type with a body', async () => {
        const res = await server.post(path, { body: enc(validBody) });
        expectEnvelopeError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      });
    });

    describe('400 BAD_REQUEST for malformed JSON', () => {
      const bodies = {
        'truncated object': '{bad json',
        'unquoted key': '{email: "a@b.c"}',
        'trailing comma': '{"email": "a@b.c",}',
        'trailing garbage': '{"email": "a@b.c", "password": "x"} x',
        'two values': '{} {}',
        'single quotes': "{'email': 'a@b.c'}",
      };
      for (const [label, body] of Object.entries(bodies)) {
        test(label, async () => {
          const res = await server.post(path, { headers: { 'Content-Type': 'application/json' }, body });
          expectEnvelopeError(res, 400, 'BAD_REQUEST');
        });
      }
      test('invalid UTF-8', async () => {
        const body = Buffer.concat([Buffer.from('{"email": "a'), Buffer.from([0xff, 0xfe]), Buffer.from('@b.c", "password": "correct horse"}')]);
        const res = await server.post(path, { headers: { 'Content-Type': 'application/json' }, body: new Uint8Array(body) });
        expectEnvelopeError(res, 400, 'BAD_REQUEST');
      });
    });

    describe('422 VALIDATION_ERROR for well-formed JSON of the wrong shape', () => {
      const shapes = {
        'an array': '[{"email": "a@b.c", "password": "correct horse battery"}]',
        'a string': '"hello"',
        'a number': '42',
        'null': 'null',
      };
      for (const [label, body] of Object.entries(shapes)) {
        test(label, async () => {
          const res = await server.post(path, { headers: { 'Content-Type': 'application/json' }, body });
          expectEnvelopeError(res, 422, 'VALIDATION_ERROR');
        });
      }

      test('email of the wrong type -> details.field "email"', async () => {
        const res = await server.post(path, { json: { email: 12345, password: 'correct horse battery' } });
        const error = expectEnvelopeError(res, 422, 'VALIDATION_ERROR');
        assert.equal(error.details?.field, 'email', JSON.stringify(error));
      });

      test('password of the wrong type -> details.field "password", value not echoed', async () => {
        const res = await server.post(path, { json: { email: 'typed@example.com', password: 987654321 } });
        const error = expectEnvelopeError(res, 422, 'VALIDATION_ERROR');
        assert.equal(error.details?.field, 'password', JSON.stringify(error));
        assert.ok(!res.body.includes('987654321'), `the password is echoed: ${res.body}`);
      });

      test('missing password -> details.field "password"', async () => {
        const res = await server.post(path, { json: { email: 'typed@example.com' } });
        const error = expectEnvelopeError(res, 422, 'VALIDATION_ERROR');
        assert.equal(error.details?.field, 'password', JSON.stringify(error));
      });
    });
  });
}

describe('accepted JSON content types on POST /v1/auth/login', () => {
  // Unknown credentials: past content negotiation and parsing, the answer is 401.
  for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON',
    'application/json;charset=UTF-8']) {
    test(`Content-Type: ${type} is parsed (401 for unknown credentials)`, async () => {
      const res = await server.post('/v1/auth/login', { headers: { 'Content-Type': type }, body: VALID_LOGIN });
      expectEnvelopeError(res, 401, 'UNAUTHORIZED');
    });
  }
});

// API.md §13 "Precedence of errors": credentials first, then visibility, then the body.
describe('credentials before the body on authenticated endpoints', () => {
  const cases = [
    ['malformed JSON', { 'Content-Type': 'application/json' }, '{"name":'],
    ['a non-JSON Content-Type', { 'Content-Type': 'text/plain' }, 'name=x'],
  ];
  for (const [label, headers, body] of cases) {
    test(`${label} without credentials -> 401, not 400/415`, async () => {
      for (const [method, path] of [['POST', '/v1/api-keys'], ['POST', '/v1/tenants'],
        ['PATCH', '/v1/auth/me'], ['POST', '/v1/users']]) {
        const res = await server.request(method, path, { headers, body });
        expectEnvelopeError(res, 401, 'UNAUTHORIZED');
      }
    });
  }

  test('with credentials, the body error is answered (400, 415)', async () => {
    const reg = await server.post('/v1/auth/register', {
      json: { email: 'precedence@example.com', password: 'correct horse battery' },
    });
    assert.equal(reg.status, 201, reg.body);
    const auth = { Authorization: `Bearer ${JSON.parse(reg.body).data.tokens.access_token}` };
    const bad = await server.post('/v1/api-keys', {
      headers: { ...auth, 'Content-Type': 'application/json' }, body: '{"name":',
    });
    expectEnvelopeError(bad, 400, 'BAD_REQUEST');
    const type = await server.post('/v1/api-keys', {
      headers: { ...auth, 'Content-Type': 'text/plain' }, body: 'name=x',
    });
    expectEnvelopeError(type, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('bodies between 1 MiB and the 10 MiB limit are read', () => {
  test('a 2 MiB JSON body reaches the handler (422 for the long name, not 400 or 413)', async () => {
    // On a route with the server's limit (credential routes take 16 KiB: below).
    const reg = await server.post('/v1/auth/register', { json: { email: 'big@example.com', password: 'correct horse battery' } });
    assert.equal(reg.status, 201, reg.body);
    const body = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const res = await server.post('/v1/organizations', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${reg.json.data.tokens.access_token}` }, body,
    });
    expectEnvelopeError(res, 422, 'VALIDATION_ERROR');
    assert.equal(JSON.parse(res.body).error.details.field, 'name');
  });
});

// Issue #29: the auth, invitation and key routes read bodies up to 16 KiB (a login hashed a
// 9 MiB password), and no password longer than 1,024 bytes is ever hashed.
describe('small bodies on credential routes', () => {
  test('a body over 16 KiB -> 413 on /v1/auth/*, invitations and keys', async () => {
    const big = JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(20 * 1024) });
    for (const path of ['/v1/auth/login', '/v1/auth/register', '/v1/auth/refresh',
      '/v1/auth/password-reset/request', '/v1/invitations/accept']) {
      const res = await server.post(path, { headers: { 'Content-Type': 'application/json' }, body: big });
      expectEnvelopeError(res, 413, 'PAYLOAD_TOO_LARGE');
    }
  });

  test('a password over 1,024 bytes -> 422 before it is hashed, for any email', async () => {
    for (const email of ['nobody-at-all@example.com', 'admin@e2e.test']) {
      const started = Date.now();
      const res = await server.post('/v1/auth/login', { json: { email, password: 'p'.repeat(1025) } });
      const error = expectEnvelopeError(res, 422, 'VALIDATION_ERROR');
      assert.equal(error.details.field, 'password');
      assert.ok(Date.now() - started < 2000);
    }
    const ok = await server.post('/v1/auth/login', { json: { email: 'nobody-at-all@example.com', password: 'p'.repeat(1024) } });
    expectEnvelopeError(ok, 401, 'UNAUTHORIZED');
  });
});
