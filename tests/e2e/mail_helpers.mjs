// Shared helpers for the mail end-to-end tests (docs/api.md §7, §13 "Mail headers", "Mail
// defaults", §14 "Mail", "Account-mail links"): a real SMTP server (Debian's aiosmtpd), and
// reading the messages the server wrote, either as `<data>/mail/<id>.eml` files (no SMTP
// configured) or as files of aiosmtpd's maildir.
// Not a test file itself (node --test only runs *.test.mjs here).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep, tryConnect } from './harness.mjs';

/** The Python that has the aiosmtpd module (the `python3` on PATH may not). */
export const SMTP_PYTHON = '/usr/bin/python3';

/** Default settings of the server (docs/api.md §13). */
export const DEFAULT_FROM = 'Tenantbase <no-reply@localhost>';
export const DEFAULT_LINK_BASE = 'http://localhost:8080';

/** Makes the delivery loop look for due mail every 0.2 s instead of every second. */
export const FAST_MAIL_ENV = Object.freeze({ TB_MAIL_POLL_SECONDS: '0.2' });

// ---------------------------------------------------------------------------------------
// aiosmtpd.

const liveSmtp = new Set();
process.on('exit', () => {
  for (const s of liveSmtp) {
    try { s.proc.kill('SIGKILL'); } catch { /* gone */ }
    if (process.env.TB_TEST_KEEP !== '1') {
      try { fs.rmSync(s.root, { recursive: true, force: true }); } catch { /* best effort */ }
    }
  }
});

/**
 * A running aiosmtpd (Mailbox handler) on 127.0.0.1:port.
 * `box` reads the messages it stored (MAILDIR/new, MAILDIR/cur).
 */
export class SmtpSink {
  constructor({ port, root, maildir, proc }) {
    this.port = port;
    this.root = root;
    this.maildir = maildir;
    this.proc = proc;
    this.url = `smtp://127.0.0.1:${port}`;
    this.box = new MailBox(maildir);
    this.output = '';
    this.exited = new Promise((resolve) => proc.on('close', (code, signal) => {
      liveSmtp.delete(this);
      resolve({ code, signal });
    }));
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d) => { this.output += d; });
    proc.stderr.on('data', (d) => { this.output += d; });
  }

  get running() { return this.proc.exitCode === null && this.proc.signalCode === null; }

  /** Kills the process (and removes its maildir unless TB_TEST_KEEP=1). */
  async stop() {
    if (this.running) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => { if (this.running) this.proc.kill('SIGKILL'); }, 3_000);
    await this.exited;
    clearTimeout(timer);
    if (process.env.TB_TEST_KEEP !== '1') await fsp.rm(this.root, { recursive: true, force: true });
  }
}

/**
 * Starts aiosmtpd on `port` (default a free one) storing into a fresh maildir, and waits until
 * it accepts connections.
 * @param {object} [opts]
 * @param {number} [opts.port]
 * @param {string} [opts.handler]  a `module.Class` for -c (default aiosmtpd.handlers.Mailbox,
 *        which takes the maildir as its argument); with a custom handler, `pythonPath` names
 *        the directory of its module, and the maildir is still passed as the argument.
 * @param {string} [opts.pythonPath]
 */
export async function startSmtp({ port, handler = 'aiosmtpd.handlers.Mailbox', pythonPath } = {}) {
  port = port ?? await freePort();
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'tb-e2e-smtp-'));
  const maildir = path.join(root, 'maildir');
  const env = { ...process.env };
  if (pythonPath) env.PYTHONPATH = pythonPath + (env.PYTHONPATH ? `:${env.PYTHONPATH}` : '');
  const proc = spawn(SMTP_PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', handler, maildir],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const sink = new SmtpSink({ port, root, maildir, proc });
  liveSmtp.add(sink);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!sink.running) {
      await sink.stop(); // removes the maildir
      throw new Error(`aiosmtpd exited before accepting connections\n--- output ---\n${sink.output}`);
    }
    if (await tryConnect(port, { timeoutMs: 500 }) === 'connected') break;
    if (Date.now() > deadline) {
      await sink.stop();
      throw new Error(`aiosmtpd not accepting on ${port} after 10 s\n--- output ---\n${sink.output}`);
    }
    await sleep(50);
  }
  return sink;
}

/** A port where nothing listens (a free port, handed out once by freePort). */
export const deadPort = () => freePort();

// ---------------------------------------------------------------------------------------
// Parsing messages.

/** Decodes RFC 2047 encoded words (B and Q, UTF-8 or ASCII/latin1); white space between
 * two adjacent encoded words is dropped. */
export function decodeWords(value) {
  const word = /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g;
  const joined = value.replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?[^?]+\?[BbQq]\?[^?]*\?=)/g, '$1');
  return joined.replace(word, (_, charset, enc, data) => {
    let bytes;
    if (enc.toUpperCase() === 'B') {
      bytes = Buffer.from(data, 'base64');
    } else {
      bytes = Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g,
        (_m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    }
    return /^utf-?8$/i.test(charset) ? bytes.toString('utf8') : bytes.toString('latin1');
  });
}

/** Splits a header block into [[name, value]] (unfolded, raw values) and a lower-cased map. */
function parseHeaderBlock(block) {
  const lines = block.split(/\r?\n/);
  const list = [];
  for (const line of lines) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && list.length) {
      list[list.length - 1][1] += line.replace(/^[ \t]+/, ' ');
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) throw new Error(`not a header line: ${JSON.stringify(line)}`);
    list.push([line.slice(0, i), line.slice(i + 1).trim()]);
  }
  const headers = {};
  for (const [k, v] of list) {
    const key = k.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}\n${v}` : v;
  }
  return { list, headers };
}

/** Splits at the first empty line. */
function splitHead(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return { head: raw, body: '' };
  return { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) };
}

/** `text/plain; charset=utf-8; boundary="x"` → {type: 'text/plain', params: {charset, boundary}}. */
export function parseContentType(value = 'text/plain') {
  const [type, ...rest] = value.split(';');
  const params = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase(), params };
}

function decodeBody(body, encoding) {
  const enc = (encoding || '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g,
      (_m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return bytes.toString('utf8');
  }
  return body;
}

/** One MIME entity: {headers, contentType, params, encoding, rawBody, body (decoded)}. */
function parseEntity(raw) {
  const { head, body } = splitHead(raw);
  const { headers, list } = parseHeaderBlock(head);
  const ct = parseContentType(headers['content-type']);
  const encoding = (headers['content-transfer-encoding'] || '7bit').toLowerCase();
  return { headers, headerList: list, contentType: ct.type, params: ct.params, encoding, rawBody: body,
    body: ct.type.startsWith('multipart/') ? undefined : decodeBody(body, encoding) };
}

/**
 * Parses an RFC 5322 message.
 * @returns {{raw:string, file?:string, headers:Record<string,string>, headerList:Array<[string,string]>,
 *   from:string, to:string, subject:string, contentType:string, params:object,
 *   parts:Array<{contentType:string, params:object, encoding:string, rawBody:string, body:string, headers:object}>,
 *   text:string|undefined, html:string|undefined}}
 */
export function parseMessage(raw, file) {
  const top = parseEntity(raw);
  let parts;
  if (top.contentType.startsWith('multipart/')) {
    const boundary = top.params.boundary;
    assert.ok(boundary, `multipart without a boundary: ${top.headers['content-type']}`);
    const esc = boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const chunks = top.rawBody.split(new RegExp(`(?:^|\\r?\\n)--${esc}`));
    parts = [];
    // chunks[0] is the preamble; each later chunk starts with "\r\n" or "--" (the close).
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break;
      parts.push(parseEntity(chunk.replace(/^[ \t]*\r?\n/, '')));
    }
  } else {
    parts = [top];
  }
  const text = parts.find((p) => p.contentType === 'text/plain')?.body;
  const html = parts.find((p) => p.contentType === 'text/html')?.body;
  return {
    raw,
    file,
    headers: top.headers,
    headerList: top.headerList,
    from: top.headers.from,
    to: top.headers.to,
    subject: top.headers.subject === undefined ? undefined : decodeWords(top.headers.subject),
    contentType: top.contentType,
    params: top.params,
    parts,
    text,
    html,
  };
}

// ---------------------------------------------------------------------------------------
// Mailboxes: a directory of .eml files, or a maildir.

export class MailBox {
  /** @param {string} dir  `<data>/mail`, or a maildir (its new/ and cur/ are read). */
  constructor(dir) { this.dir = dir; }

  /** Paths of the complete message files now present (temp files are skipped). */
  files() {
    const dirs = fs.existsSync(path.join(this.dir, 'new'))
      ? [path.join(this.dir, 'new'), path.join(this.dir, 'cur')] : [this.dir];
    const out = [];
    for (const d of dirs) {
      let names = [];
      try { names = fs.readdirSync(d); } catch (err) { if (err.code !== 'ENOENT') throw err; }
      for (const n of names) {
        if (n.startsWith('.') || n.endsWith('.tmp')) continue;
        if (d === this.dir && !n.endsWith('.eml')) continue;
        out.push(path.join(d, n));
      }
    }
    return out.sort();
  }

  /** Every message now present, parsed. */
  list() {
    return this.files().map((f) => parseMessage(fs.readFileSync(f, 'utf8'), f));
  }

  /** Messages whose To header contains `address` (case-insensitive). */
  to(address) {
    return this.list().filter((m) => (m.to || '').toLowerCase().includes(address.toLowerCase()));
  }

  /**
   * Waits until `count` messages match `predicate`; returns them (at least `count`).
   * Throws, listing what the box holds, after `timeoutMs`.
   */
  async waitForMails(predicate, count, timeoutMs = 5_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.list().filter(predicate);
      if (got.length >= count) return got;
      if (Date.now() > deadline) {
        const all = this.list().map((m) => `${m.to} | ${m.subject}`);
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${count} matching mail(s), have ` +
          `${got.length}; the box ${this.dir} holds:\n${all.join('\n')}`);
      }
      await sleep(50);
    }
  }

  /** Waits for one message matching `predicate`; returns the newest match. */
  async waitForMail(predicate, timeoutMs = 5_000) {
    const got = await this.waitForMails(predicate, 1, timeoutMs);
    return got[got.length - 1];
  }
}

/** The box of a server with no SMTP configured: `<dataDir>/mail`. */
export const fileBox = (server) => new MailBox(path.join(server.dataDir, 'mail'));

/** waitForMail(box, predicate, timeoutMs): see MailBox.waitForMail. */
export const waitForMail = (box, predicate, timeoutMs) => box.waitForMail(predicate, timeoutMs);

/** A predicate: To contains `address` and, when given, the subject equals `subject`. */
export const mailTo = (address, subject) => (m) =>
  (m.to || '').toLowerCase().includes(address.toLowerCase()) && (subject === undefined || m.subject === subject);

/**
 * The token of a `<linkBase>/<linkPath>?token=<token>` link in `text`; throws if there is
 * none. `linkPath` without a leading slash, e.g. 'reset-password'.
 */
export function tokenFrom(text, linkPath, linkBase = DEFAULT_LINK_BASE) {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${esc(linkBase)}/${esc(linkPath.replace(/^\//, ''))}\\?token=([A-Za-z0-9_~.%-]+)`);
  const m = re.exec(text || '');
  assert.ok(m, `no ${linkBase}/${linkPath}?token=… link in:\n${text}`);
  return decodeURIComponent(m[1]);
}

/** The outbox id of a message written as `<data>/mail/<id>.eml`. */
export const idOfFile = (file) => path.basename(file).replace(/\.eml$/, '');

// ---------------------------------------------------------------------------------------
// The outbox through the API.

/**
 * Polls GET /v1/mail/{id} until `until(mail)` is true; returns the mail object.
 */
export async function waitForStatus(server, headers, id, until, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    const res = await server.get(`/v1/mail/${id}`, { headers });
    assert.equal(res.status, 200, `GET /v1/mail/${id}: status ${res.status}, body ${res.body}`);
    last = res.json.data;
    if (until(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`mail ${id} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    }
    await sleep(50);
  }
}

/** Every line break of `raw` is CRLF (no bare LF or CR). */
export function assertCrlf(raw, label = 'message') {
  assert.ok(!/(^|[^\r])\n/.test(raw), `${label} has a bare LF`);
  assert.ok(!/\r(?!\n)/.test(raw), `${label} has a bare CR`);
}
