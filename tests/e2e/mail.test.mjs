// Mail (docs/api.md §7, §13 "Mail headers", "Mail defaults", §14 "Mail"): POST /v1/mail and
// GET /v1/mail/{id} (rights, validation, tenant isolation), the message format (RFC 5322 with
// CRLF, RFC 2047 subjects, 7bit/base64 parts, multipart/alternative), delivery into
// `<data>/mail/<id>.eml` without SMTP and to a real SMTP server (aiosmtpd), retries with
// backoff, the attempt limit, a 5xx refusal, and durability across a restart.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sleep, startServer } from './harness.mjs';
import { UUID_V7, expectRecentTimestamp, expectUnauthorized } from './auth_helpers.mjs';
import {
  NO_THROTTLE_ENV, RANDOM_ID, addMember, as, createKey, expectBadRequest, expectForbidden, expectNotFound,
  expectSuccess, expectValidation, makeTeam, newUser, uniqueEmail,
} from './tenancy_helpers.mjs';
import {
  DEFAULT_FROM, FAST_MAIL_ENV, assertCrlf, deadPort, fileBox, mailTo, startSmtp, waitForStatus,
} from './mail_helpers.mjs';

const MAIL_MEMBERS = ['attempts', 'created_at', 'id', 'last_error', 'sent_at', 'status', 'subject', 'to',
  'updated_at'];

const servers = [];
const sinks = [];
after(async () => {
  for (const s of servers) await s.stop().catch(() => {});
  for (const s of sinks) await s.stop().catch(() => {});
});

async function serve(env = {}, opts = {}) {
  const s = await startServer({ ...opts, env: { ...NO_THROTTLE_ENV, ...FAST_MAIL_ENV, ...env } });
  servers.push(s);
  return s;
}
async function smtp(opts) {
  const s = await startSmtp(opts);
  sinks.push(s);
  return s;
}

const sendMail = (server, headers, json) => server.post('/v1/mail', { headers, json });
const getMail = (server, headers, id) => server.get(`/v1/mail/${id}`, { headers });

/** POST /v1/mail expecting 202 {id, status: queued}; returns the id. */
async function queue(server, headers, json) {
  const res = await sendMail(server, headers, json);
  const data = expectSuccess(res, 202);
  assert.deepEqual(Object.keys(data).sort(), ['id', 'status'], `queued answer: ${res.body}`);
  assert.match(data.id, UUID_V7);
  assert.equal(data.status, 'queued');
  return data.id;
}

/** Checks the mail object of GET /v1/mail/{id}. */
function expectMail(m, { id, to, subject, status } = {}) {
  assert.deepEqual(Object.keys(m).sort(), MAIL_MEMBERS, `mail object: ${JSON.stringify(m)}`);
  if (id !== undefined) assert.equal(m.id, id);
  if (to !== undefined) assert.equal(m.to, to);
  if (subject !== undefined) assert.equal(m.subject, subject);
  if (status !== undefined) assert.equal(m.status, status);
  assert.ok(['queued', 'sent', 'failed'].includes(m.status), `status ${m.status}`);
  assert.ok(Number.isInteger(m.attempts) && m.attempts >= 0, `attempts ${m.attempts}`);
  assert.ok(m.last_error === null || typeof m.last_error === 'string', `last_error ${m.last_error}`);
  expectRecentTimestamp(m.created_at, 'created_at');
  expectRecentTimestamp(m.updated_at, 'updated_at');
  assert.ok(m.updated_at >= m.created_at);
  if (m.status === 'sent') {
    expectRecentTimestamp(m.sent_at, 'sent_at');
    assert.ok(m.sent_at >= m.created_at);
  } else {
    assert.equal(m.sent_at, null, `sent_at of a ${m.status} mail`);
  }
}

const isSent = (m) => m.status === 'sent';

// =======================================================================================
// Without SMTP: .eml files.

describe('without SMTP: POST /v1/mail, GET /v1/mail/{id}, .eml files', () => {
  let server;
  let box;
  let t;
  before(async () => {
    server = await serve();
    box = fileBox(server);
    t = await makeTeam(server, 'mail');
  });

  test('the owner queues a mail: 202 {id, status: queued}; it is written and becomes sent after 1 attempt', async () => {
    const to = uniqueEmail('rcpt');
    const id = await queue(server, t.owner.auth, { to, subject: 'Hello there', text: 'Line one\nLine two' });
    const first = expectSuccess(await getMail(server, t.owner.auth, id), 200);
    expectMail(first, { id, to, subject: 'Hello there' });
    assert.ok(['queued', 'sent'].includes(first.status));
    const sent = await waitForStatus(server, t.owner.auth, id, isSent);
    expectMail(sent, { id, to, subject: 'Hello there', status: 'sent' });
    assert.equal(sent.attempts, 1);
    assert.equal(sent.last_error, null);

    // <data>/mail/<id>.eml, mode 0600.
    const file = path.join(server.dataDir, 'mail', `${id}.eml`);
    const st = await fsp.stat(file);
    assert.equal(st.mode & 0o777, 0o600, `mode ${(st.mode & 0o777).toString(8)}`);
    const msg = (await box.waitForMail(mailTo(to))).raw;
    const m = box.list().find((x) => x.file === file);
    assert.ok(m, `${file} is one of the box's messages`);
    assert.equal(m.raw, msg);
    assertCrlf(m.raw);
    assert.equal(m.from, DEFAULT_FROM);
    assert.equal(m.to, to);
    assert.equal(m.headers.subject, 'Hello there', 'an ASCII subject is sent as is');
    assert.equal(m.headers['mime-version'], '1.0');
    assert.equal(m.headers['message-id'], `<${id}@localhost>`);
    assert.ok(m.headers.date, 'Date header');
    const date = Date.parse(m.headers.date);
    assert.ok(Number.isFinite(date), `Date parses: ${m.headers.date}`);
    assert.match(m.headers.date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/,
      `RFC 5322 date: ${m.headers.date}`);
    assert.ok(Math.abs(date - Date.now()) < 120_000, `Date ${m.headers.date} is near now`);
    assert.equal(m.contentType, 'text/plain');
    assert.equal(m.params.charset?.toLowerCase(), 'utf-8');
    assert.equal(m.headers['content-transfer-encoding'], '7bit');
    assert.equal(m.text.replace(/\r\n/g, '\n').replace(/\n$/, ''), 'Line one\nLine two');
    for (const h of ['from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'content-type']) {
      assert.equal(m.headerList.filter(([k]) => k.toLowerCase() === h).length, 1, `exactly one ${h} header`);
    }
  });

  test('a non-ASCII subject is an RFC 2047 encoded word; a non-ASCII or long-lined body is base64', async () => {
    const to = uniqueEmail('utf8');
    const subject = 'Grüße aus Köln — 東京 ✓';
    const text = 'Schöne Grüße\nZweite Zeile ☃';
    const id = await queue(server, t.owner.auth, { to, subject, text });
    await waitForStatus(server, t.owner.auth, id, isSent);
    const m = await box.waitForMail(mailTo(to));
    assertCrlf(m.raw);
    assert.match(m.headers.subject, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=(\s+=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=)*$/i,
      `encoded subject: ${m.headers.subject}`);
    assert.equal(m.subject, subject);
    // The raw message is ASCII: every non-ASCII character is encoded.
    assert.ok(/^[\x00-\x7f]*$/.test(m.raw), 'the message itself is 7-bit');
    assert.equal(m.headers['content-transfer-encoding'], 'base64');
    assert.equal(m.text.replace(/\r\n/g, '\n').replace(/\n$/, ''), text);
    // GET shows the subject as given.
    const got = expectSuccess(await getMail(server, t.owner.auth, id), 200);
    assert.equal(got.subject, subject);

    const longTo = uniqueEmail('long');
    const longLine = 'x'.repeat(1200);
    const id2 = await queue(server, t.owner.auth, { to: longTo, subject: 'Long line', text: `short\n${longLine}\nend` });
    await waitForStatus(server, t.owner.auth, id2, isSent);
    const m2 = await box.waitForMail(mailTo(longTo));
    assert.equal(m2.headers['content-transfer-encoding'], 'base64', 'a line over the limit needs base64');
    assert.ok(m2.raw.split('\r\n').every((l) => l.length <= 998), 'no line of the message exceeds 998 characters');
    assert.equal(m2.text.replace(/\r\n/g, '\n').replace(/\n$/, ''), `short\n${longLine}\nend`);
  });

  test('text and html: multipart/alternative with both parts; html alone: one text/html part', async () => {
    const to = uniqueEmail('multi');
    const text = 'Plain version';
    const html = '<p>HTML <b>version</b> — ü</p>';
    const id = await queue(server, t.owner.auth, { to, subject: 'Both', text, html });
    await waitForStatus(server, t.owner.auth, id, isSent);
    const m = await box.waitForMail(mailTo(to));
    assertCrlf(m.raw);
    assert.equal(m.contentType, 'multipart/alternative');
    assert.ok(m.params.boundary, 'a boundary');
    assert.match(m.headers['content-type'], /^multipart\/alternative;\s*boundary="[^"]+"$/);
    assert.ok(m.raw.includes(`\r\n--${m.params.boundary}--`), 'the closing delimiter');
    assert.equal(m.parts.length, 2);
    assert.deepEqual(m.parts.map((p) => p.contentType), ['text/plain', 'text/html'],
      'plain first, then html (RFC 2046: the preferred last)');
    for (const p of m.parts) assert.equal(p.params.charset?.toLowerCase(), 'utf-8');
    assert.equal(m.parts[0].encoding, '7bit');
    assert.equal(m.parts[1].encoding, 'base64', 'the non-ASCII html part');
    assert.equal(m.text.replace(/\r\n$/, ''), text);
    assert.equal(m.html.replace(/\r\n$/, ''), html);

    const to2 = uniqueEmail('html');
    const id2 = await queue(server, t.owner.auth, { to: to2, subject: 'HTML only', html: '<p>only</p>' });
    await waitForStatus(server, t.owner.auth, id2, isSent);
    const m2 = await box.waitForMail(mailTo(to2));
    assert.equal(m2.contentType, 'text/html');
    assert.equal(m2.params.charset?.toLowerCase(), 'utf-8');
    assert.equal(m2.headers['content-transfer-encoding'], '7bit');
    assert.equal(m2.parts.length, 1);
    assert.equal(m2.html.replace(/\r\n$/, ''), '<p>only</p>');
  });

  test('rights: owner and admin (Bearer), a key with the admin scope → 202; member, viewer, read/write key → 403; none → 401', async () => {
    const ok = [];
    ok.push([await queue(server, as(t.adm, t.tid), { to: uniqueEmail('by-adm'), subject: 'By admin', text: 'x' }), t.tid]);
    const adminKey = await createKey(server, t.owner.auth, { scopes: ['admin'] });
    const keyH = { 'X-API-Key': adminKey.key };
    const viaKey = await queue(server, keyH, { to: uniqueEmail('by-key'), subject: 'By key', text: 'x' });
    const bearerKey = await queue(server, { Authorization: `Bearer ${adminKey.key}` },
      { to: uniqueEmail('by-key-b'), subject: 'By key (Bearer)', text: 'x' });
    // The key reads its tenant's mails, the owner reads the key's.
    expectMail(expectSuccess(await getMail(server, keyH, viaKey), 200), { id: viaKey });
    expectMail(expectSuccess(await getMail(server, keyH, ok[0][0]), 200), { id: ok[0][0] });
    expectMail(expectSuccess(await getMail(server, t.owner.auth, bearerKey), 200), { id: bearerKey });

    for (const id of [ok[0][0], viaKey, bearerKey]) await waitForStatus(server, t.owner.auth, id, isSent);
    await sleep(300);
    const filesBefore = new Set(box.files());
    const refusedTo = uniqueEmail('refused-rights');
    const body = { to: refusedTo, subject: 'Refused', text: 'x' };
    expectForbidden(await sendMail(server, as(t.mem, t.tid), body));
    expectForbidden(await sendMail(server, as(t.vie, t.tid), body));
    const rwKey = await createKey(server, t.owner.auth, { scopes: ['read', 'write'] });
    expectForbidden(await sendMail(server, { 'X-API-Key': rwKey.key }, body));
    expectUnauthorized(await sendMail(server, {}, body));
    expectUnauthorized(await sendMail(server, { Authorization: 'Bearer not-a-token' }, body));
    // GET has the same rights.
    expectForbidden(await getMail(server, as(t.mem, t.tid), viaKey));
    expectForbidden(await getMail(server, as(t.vie, t.tid), viaKey));
    const readKey = await createKey(server, t.owner.auth, { scopes: ['read'] });
    expectForbidden(await getMail(server, { 'X-API-Key': readKey.key }, viaKey));
    expectUnauthorized(await getMail(server, {}, viaKey));
    // A key with admin scope made by a plain member cannot exceed the member's rights.
    const memKeyRes = await server.post('/v1/api-keys', { headers: as(t.mem, t.tid), json: { name: 'm', scopes: ['admin'] } });
    if (memKeyRes.status === 201) {
      expectForbidden(await sendMail(server, { 'X-API-Key': memKeyRes.json.data.key }, body));
    } else {
      expectForbidden(memKeyRes);
    }

    // Nothing of the refused requests was queued: a later mail goes out, they never do.
    const sentinel = uniqueEmail('sentinel-rights');
    const sid = await queue(server, t.owner.auth, { to: sentinel, subject: 'Sentinel', text: 'x' });
    await waitForStatus(server, t.owner.auth, sid, isSent);
    await box.waitForMail(mailTo(sentinel));
    await sleep(500);
    assert.deepEqual(box.to(refusedTo), [], 'a refused request queued a mail');
    const added = box.list().filter((m) => !filesBefore.has(m.file)).map((m) => m.to);
    assert.deepEqual(added, [sentinel], 'only the sentinel was mailed after the refusals');
  });

  test('validation: to, subject, text/html, unknown fields → 422 naming the field; malformed JSON → 400; nothing is queued', async () => {
    await sleep(300); // the previous test's mails are out
    const filesBefore = new Set(box.files());
    const bad = uniqueEmail('refused-val');
    const h = t.owner.auth;
    const cases = [
      [{ subject: 'S', text: 'x' }, 'to'],
      [{ to: '', subject: 'S', text: 'x' }, 'to'],
      [{ to: 'not-an-email', subject: 'S', text: 'x' }, 'to'],
      [{ to: 'a@', subject: 'S', text: 'x' }, 'to'],
      [{ to: `${bad}, other@example.com`, subject: 'S', text: 'x' }, 'to'],
      [{ to: `${bad};other@example.com`, subject: 'S', text: 'x' }, 'to'],
      [{ to: `Bob <${bad}>`, subject: 'S', text: 'x' }, 'to'],
      [{ to: 'bób@example.com', subject: 'S', text: 'x' }, 'to'],
      [{ to: `${bad}\r\nBcc: victim@example.com`, subject: 'S', text: 'x' }, 'to'],
      [{ to: [bad], subject: 'S', text: 'x' }, 'to'],
      [{ to: 42, subject: 'S', text: 'x' }, 'to'],
      [{ to: bad, text: 'x' }, 'subject'],
      [{ to: bad, subject: 'x'.repeat(501), text: 'x' }, 'subject'],
      [{ to: bad, subject: 'Line\r\nBcc: victim@example.com', text: 'x' }, 'subject'],
      [{ to: bad, subject: 'Line\nbreak', text: 'x' }, 'subject'],
      [{ to: bad, subject: 'Carriage\rreturn', text: 'x' }, 'subject'],
      [{ to: bad, subject: 'Nul\u0000char', text: 'x' }, 'subject'],
      [{ to: bad, subject: 'Tab\tchar', text: 'x' }, 'subject'],
      [{ to: bad, subject: 'Del\u007fchar', text: 'x' }, 'subject'],
      [{ to: bad, subject: '', text: 'x' }, 'subject'],
      [{ to: bad, subject: 7, text: 'x' }, 'subject'],
      [{ to: bad, subject: 'No body' }, 'text'],
      [{ to: bad, subject: 'Empty body', text: '' }, 'text'],
      [{ to: bad, subject: 'Too long', text: 'x'.repeat(1024 * 1024 + 1) }, 'text'],
      [{ to: bad, subject: 'Too long', text: 'x', html: 'x'.repeat(1024 * 1024 + 1) }, 'html'],
      [{ to: bad, subject: 'Null bodies', text: null, html: null }, 'text'],
      [{ to: bad, subject: 'S', text: 5 }, 'text'],
      [{ to: bad, subject: 'S', html: ['x'] }, 'html'],
      [{ to: bad, subject: 'S', text: 'x', cc: 'z@example.com' }, 'cc'],
      [{ to: bad, subject: 'S', text: 'x', bcc: 'z@example.com' }, 'bcc'],
      [{ to: bad, subject: 'S', text: 'x', from: 'evil@example.com' }, 'from'],
    ];
    for (const [json, field] of cases) {
      const res = await sendMail(server, h, json);
      assert.equal(res.status, 422, `${JSON.stringify(json).slice(0, 120)} → ${res.status} ${res.body}`);
      expectValidation(res, field);
    }
    expectBadRequest(await server.post('/v1/mail', { headers: { ...h, 'Content-Type': 'application/json' }, body: '{"to": ' }));
    expectBadRequest(await server.post('/v1/mail', { headers: { ...h, 'Content-Type': 'application/json' }, body: `{"to":"${bad}","subject":"S","text":"x",}` }));

    // The limits themselves are accepted: a subject of exactly 500 characters.
    const okTo = uniqueEmail('subject500');
    const subject500 = 'é'.repeat(500);
    const id = await queue(server, h, { to: okTo, subject: subject500, text: 'x' });
    await waitForStatus(server, h, id, isSent);
    const m = await box.waitForMail(mailTo(okTo));
    assert.equal(m.subject, subject500, 'a long encoded subject decodes to what was sent');
    assert.ok(m.raw.split('\r\n').every((l) => l.length <= 998), 'header lines stay within 998 characters');

    // A body of exactly 1 MiB is accepted.
    const bigTo = uniqueEmail('big');
    const idBig = await queue(server, h, { to: bigTo, subject: 'Big', text: `${'y'.repeat(63)}\n`.repeat(16384) });
    await waitForStatus(server, h, idBig, isSent);
    assert.equal((await box.waitForMail(mailTo(bigTo))).text.replace(/\r\n/g, '\n').length, 1024 * 1024);

    // The address is trimmed and lower-cased like an account's email.
    const mixed = uniqueEmail('MiXeD');
    const id2 = await queue(server, h, { to: `  ${mixed.toUpperCase()} `, subject: 'Case', text: 'x' });
    const got = expectSuccess(await getMail(server, h, id2), 200);
    assert.equal(got.to, mixed.toLowerCase());

    await waitForStatus(server, h, id2, isSent);
    await sleep(500);
    assert.deepEqual(box.to(bad), [], 'a refused request queued a mail');
    const added = box.list().filter((m) => !filesBefore.has(m.file)).map((m) => m.to).sort();
    assert.deepEqual(added, [okTo, bigTo, mixed.toLowerCase()].sort(), 'only the accepted mails were written');
  });

  test('C1 control characters (U+0080–U+009F) in the subject are control characters too → 422', async () => {
    const to = uniqueEmail('refused-c1');
    for (const subject of ['Next\u0085line', 'CSI\u009b2J', 'Pad\u0080']) {
      expectValidation(await sendMail(server, t.owner.auth, { to, subject, text: 'x' }), 'subject');
    }
  });

  test('GET /v1/mail/{id}: another tenant\'s mail → 404, also when switching with X-Tenant-ID; unknown id → 404', async () => {
    const to = uniqueEmail('iso');
    const id = await queue(server, t.owner.auth, { to, subject: 'Tenant A only', text: 'secret' });
    await waitForStatus(server, t.owner.auth, id, isSent);

    // Another tenant's owner.
    const other = await newUser(server, 'mail-other');
    expectNotFound(await getMail(server, other.auth, id));
    const otherKey = await createKey(server, other.auth, { scopes: ['admin'] });
    expectNotFound(await getMail(server, { 'X-API-Key': otherKey.key }, id));

    // t.adm is admin in A and owner of their personal tenant B: only A's context shows it.
    expectSuccess(await getMail(server, as(t.adm, t.tid), id), 200);
    expectNotFound(await getMail(server, as(t.adm, t.adm.tid), id));
    expectNotFound(await getMail(server, t.adm.auth, id)); // the token's own tenant is B
    // And the mail B queues is not visible from A.
    const idB = await queue(server, as(t.adm, t.adm.tid), { to: uniqueEmail('iso-b'), subject: 'Tenant B', text: 'x' });
    expectSuccess(await getMail(server, as(t.adm, t.adm.tid), idB), 200);
    expectNotFound(await getMail(server, as(t.adm, t.tid), idB));
    expectNotFound(await getMail(server, t.owner.auth, idB));

    // A tenant one is not a member of cannot be named.
    expectNotFound(await getMail(server, as(other, t.tid), id));
    const post = await sendMail(server, as(other, t.tid), { to: uniqueEmail('iso-x'), subject: 'x', text: 'x' });
    assert.ok([403, 404].includes(post.status), `sending in a foreign tenant: ${post.status} ${post.body}`);

    expectNotFound(await getMail(server, t.owner.auth, RANDOM_ID));
    const junk = await getMail(server, t.owner.auth, 'not-a-uuid');
    assert.ok([400, 404].includes(junk.status), `a malformed id: ${junk.status} ${junk.body}`);
  });

  test('rights are checked live: a user who becomes admin of the tenant later reads its earlier mail', async () => {
    const to = uniqueEmail('pa');
    const id = await queue(server, t.owner.auth, { to, subject: 'PA', text: 'x' });
    // The owner adds a fresh user later: membership after the fact grants access (rights are live).
    const late = await newUser(server, 'mail-late');
    expectNotFound(await getMail(server, as(late, t.tid), id));
    await addMember(server, t.owner.auth, t.tid, late.email, 'admin');
    expectSuccess(await getMail(server, as(late, t.tid), id), 200);
  });
});

// =======================================================================================
// SMTP.

describe('with SMTP (aiosmtpd)', () => {
  let sink;
  let server;
  let owner;
  const FROM = 'Acme Support <support@acme.test>';
  before(async () => {
    sink = await smtp();
    server = await serve({ TB_SMTP_URL: sink.url, TB_MAIL_FROM: FROM });
    owner = await newUser(server, 'smtp');
  });

  test('the message arrives with From, To, Subject, Message-ID and both parts; status sent; no .eml file', async () => {
    const to = uniqueEmail('smtp-rcpt');
    const subject = 'Déjà vu — über SMTP';
    const text = 'Plain body\nwith lines\n.\n..two dots\n.\r\nFrom the start\nend';
    const html = '<h1>Héllo</h1>';
    const id = await queue(server, owner.auth, { to, subject, text, html });
    const m = await sink.box.waitForMail(mailTo(to), 10_000);
    assert.equal(m.from, FROM);
    assert.equal(m.to, to);
    assert.equal(m.subject, subject);
    assert.equal(m.headers['message-id'], `<${id}@acme.test>`, 'Message-ID uses the domain of From');
    assert.equal(m.headers['mime-version'], '1.0');
    assert.equal(m.headers['x-mailfrom'], 'support@acme.test', 'envelope sender is the From address');
    assert.equal(m.headers['x-rcptto'], to, 'envelope recipient');
    assert.equal(m.contentType, 'multipart/alternative');
    assert.deepEqual(m.parts.map((p) => p.contentType), ['text/plain', 'text/html']);
    assert.equal(m.text.replace(/\r?\n/g, '\n').replace(/\n$/, ''), text.replace(/\r\n/g, '\n'),
      'lines of only "." and leading dots survive SMTP (dot-stuffing)');
    assert.equal(m.html.replace(/\r?\n$/, ''), html);
    const sent = await waitForStatus(server, owner.auth, id, isSent);
    expectMail(sent, { id, to, subject, status: 'sent' });
    assert.equal(sent.attempts, 1);
    assert.equal(sent.last_error, null);
    assert.equal(fs.existsSync(path.join(server.dataDir, 'mail', `${id}.eml`)), false,
      'with SMTP configured no .eml file is written');
  });

  test('several mails queued at once all arrive, each once', async () => {
    const tos = Array.from({ length: 5 }, (_, i) => uniqueEmail(`burst${i}`));
    const ids = await Promise.all(tos.map((to, i) => queue(server, owner.auth, { to, subject: `Burst ${i}`, text: `n=${i}` })));
    for (const id of ids) await waitForStatus(server, owner.auth, id, isSent, 10_000);
    for (const [i, to] of tos.entries()) {
      const got = sink.box.to(to);
      assert.equal(got.length, 1, `${to} got ${got.length} messages`);
      assert.equal(got[0].subject, `Burst ${i}`);
      assert.equal(got[0].text.replace(/\r?\n$/, ''), `n=${i}`);
    }
  });
});

describe('delivery failures', () => {
  test('SMTP down: queued with growing attempts and last_error; once the server is up it is delivered', { timeout: 40_000 }, async () => {
    const port = await deadPort();
    const server = await serve({
      TB_SMTP_URL: `smtp://127.0.0.1:${port}`, TB_MAIL_RETRY_BASE_SECONDS: '0.2', TB_MAIL_POLL_SECONDS: '0.2',
    });
    const owner = await newUser(server, 'retry');
    const to = uniqueEmail('retry-rcpt');
    const id = await queue(server, owner.auth, { to, subject: 'Eventually', text: 'retry me' });
    const m = await waitForStatus(server, owner.auth, id, (x) => x.attempts >= 2, 10_000);
    expectMail(m, { id, status: 'queued' });
    assert.equal(typeof m.last_error, 'string');
    assert.ok(m.last_error.length > 0, 'last_error says what went wrong');
    assert.equal(m.sent_at, null);
    const sink = await smtp({ port });
    const msg = await sink.box.waitForMail(mailTo(to), 20_000);
    assert.equal(msg.subject, 'Eventually');
    const sent = await waitForStatus(server, owner.auth, id, isSent, 10_000);
    expectMail(sent, { id, status: 'sent' });
    assert.ok(sent.attempts >= 3, `the successful attempt counts too: ${sent.attempts}`);
    assert.equal(sent.last_error, null, 'a delivered mail carries no error');
  });

  test('retries back off exponentially (retry n waits base·2^(n−1))', { timeout: 30_000 }, async () => {
    const port = await deadPort();
    const server = await serve({
      TB_SMTP_URL: `smtp://127.0.0.1:${port}`, TB_MAIL_RETRY_BASE_SECONDS: '0.5', TB_MAIL_POLL_SECONDS: '0.1',
      TB_MAIL_MAX_ATTEMPTS: '20',
    });
    const owner = await newUser(server, 'backoff');
    const id = await queue(server, owner.auth, { to: uniqueEmail('backoff'), subject: 'Backoff', text: 'x' });
    // Waits 0.5, 1, 2 s: after 2.5 s about 3–4 attempts, never the ~25 a fixed 0.1 s poll would make.
    await waitForStatus(server, owner.auth, id, (x) => x.attempts >= 1, 5_000);
    const t0 = Date.now();
    await sleep(3_000);
    const m = expectSuccess(await getMail(server, owner.auth, id), 200);
    assert.equal(m.status, 'queued');
    assert.ok(m.attempts >= 3 && m.attempts <= 5, `attempts after ${Date.now() - t0} ms: ${m.attempts}`);
  });

  test('TB_MAIL_MAX_ATTEMPTS=2 and SMTP down: failed after exactly 2 attempts, and it stays failed', { timeout: 30_000 }, async () => {
    const port = await deadPort();
    const server = await serve({
      TB_SMTP_URL: `smtp://127.0.0.1:${port}`, TB_MAIL_RETRY_BASE_SECONDS: '0.2', TB_MAIL_POLL_SECONDS: '0.2',
      TB_MAIL_MAX_ATTEMPTS: '2',
    });
    const owner = await newUser(server, 'maxatt');
    const to = uniqueEmail('maxatt');
    const id = await queue(server, owner.auth, { to, subject: 'Doomed', text: 'x' });
    const m = await waitForStatus(server, owner.auth, id, (x) => x.status !== 'queued', 10_000);
    expectMail(m, { id, to, subject: 'Doomed', status: 'failed' });
    assert.equal(m.attempts, 2);
    assert.equal(typeof m.last_error, 'string');
    assert.ok(m.last_error.length > 0);
    assert.equal(m.sent_at, null);
    // An SMTP server coming up later changes nothing: failed is final.
    const sink = await smtp({ port });
    await sleep(1_000);
    const again = expectSuccess(await getMail(server, owner.auth, id), 200);
    assert.equal(again.status, 'failed');
    assert.equal(again.attempts, 2);
    assert.deepEqual(sink.box.to(to), []);
  });

  test('a 5xx reply of the SMTP server fails the mail at once (one attempt)', { timeout: 30_000 }, async (ctx) => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-e2e-smtp-handler-'));
    ctx.after(() => fsp.rm(dir, { recursive: true, force: true }));
    await fsp.writeFile(path.join(dir, 'tb_reject_handler.py'), [
      'class Reject:',
      '    @classmethod',
      '    def from_cli(cls, parser, *args):',
      '        return cls()',
      '    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):',
      "        return '550 5.1.1 No such user here'",
      '',
    ].join('\n'));
    const sink = await smtp({ handler: 'tb_reject_handler.Reject', pythonPath: dir });
    const server = await serve({ TB_SMTP_URL: sink.url, TB_MAIL_RETRY_BASE_SECONDS: '0.2' });
    const owner = await newUser(server, 'reject');
    const id = await queue(server, owner.auth, { to: uniqueEmail('reject'), subject: 'Rejected', text: 'x' });
    const m = await waitForStatus(server, owner.auth, id, (x) => x.status !== 'queued' || x.attempts > 1, 10_000);
    expectMail(m, { id, status: 'failed' });
    assert.equal(m.attempts, 1, 'a permanent refusal is not retried');
    assert.match(m.last_error, /550/, `last_error carries the reply: ${m.last_error}`);
  });

  test('durability: a mail queued while SMTP is down survives a graceful restart and is then delivered', { timeout: 60_000 }, async () => {
    const port = await deadPort();
    const env = {
      TB_SMTP_URL: `smtp://127.0.0.1:${port}`, TB_MAIL_RETRY_BASE_SECONDS: '0.2', TB_MAIL_POLL_SECONDS: '0.2',
    };
    const first = await serve(env);
    const owner = await newUser(first, 'durable');
    const tos = [uniqueEmail('durable0'), uniqueEmail('durable1'), uniqueEmail('durable2')];
    const ids = [];
    for (const [i, to] of tos.entries()) ids.push(await queue(first, owner.auth, { to, subject: `Durable ${i}`, text: `body ${i}` }));
    await waitForStatus(first, owner.auth, ids[0], (x) => x.attempts >= 1, 10_000);
    assert.equal(await first.stop('SIGTERM'), 0, `graceful stop: ${first.output().slice(-2000)}`);

    const sink = await smtp({ port });
    const second = await serve(env, { dataDir: first.dataDir, databaseUrl: first.databaseUrl });
    for (const [i, to] of tos.entries()) {
      const m = await sink.box.waitForMail(mailTo(to), 15_000);
      assert.equal(m.subject, `Durable ${i}`);
      assert.equal(m.text.replace(/\r?\n$/, ''), `body ${i}`);
    }
    // The same access token works after the restart (signing keys are in the data).
    for (const id of ids) {
      const m = await waitForStatus(second, owner.auth, id, isSent, 10_000);
      assert.equal(m.last_error, null);
    }
  });
});
