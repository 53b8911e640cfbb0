// Secrets never reach the logs (issue #29): a key or token sent in a query string, refused or
// not, appears in the access log as [REDACTED]; passwords never appear at all.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sleep, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV } from './auth_helpers.mjs';

let server;
before(async () => { server = await startServer({ env: { ...NO_THROTTLE_ENV, TB_LOG_ACCESS: 'true' } }); });
after(async () => { await server?.stop(); });

test('query-string credentials are redacted in the access log, on every route', async () => {
  const secrets = ['eyJhbGciOiJSUzI1NiJ9.secret-access.sig', 'tbk_secretKEYsecretKEYsecretKEYsecretKEY123',
    'refresh-secret-value', 'sk_live_secretvalue'];
  const targets = [
    `/v1/auth/me?access_token=${secrets[0]}`,
    `/v1/collections/c/documents?apikey=${secrets[1]}&per_page=2`,
    `/v1/health?refresh_token=${secrets[2]}`,
    `/nope?api_key=${secrets[3]}`,
  ];
  for (const t of targets) await server.get(t, { validate: false }); // statuses vary; only the log matters
  // Also in a login body: the password is never logged.
  await server.post('/v1/auth/login', { json: { email: 'someone@example.com', password: 'password-in-body-1' } });
  await sleep(600); // the access log is written in batches (every 200 ms at most)
  const out = server.output();
  for (const s of [...secrets, 'password-in-body-1']) assert.ok(!out.includes(s), `a secret was logged: ${s}`);
  assert.match(out, /access_token=\[REDACTED\]/);
  assert.match(out, /apikey=\[REDACTED\]&per_page=2/);
  assert.match(out, /"path":"\/v1\/health\?refresh_token=\[REDACTED\]"/);
});
