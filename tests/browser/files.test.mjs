// Files in Debian's Chromium (issue #21): a tenant's page shows an image through a signed
// link (<img src>, no credentials); a download takes the name from Content-Disposition,
// non-ASCII included (filename*); an uploaded HTML page is a download in a sandbox, never a
// page of our origin that runs its script.
//
//   TB_BIN=build/tenantbase node --test tests/browser/
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import { launchChromium } from './chromium.mjs';
import { freePort, startServer } from '../e2e/harness.mjs';


let server;
let app;
let appOrigin;
let browser;
let auth; // headers of a user in their own tenant

/** A 2×1 PNG (red, blue), made here so no binary fixture is needed. */
function png() {
  const crc = (buf) => {
    let c = ~0;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return ~c >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(2, 0); ihdr.writeUInt32BE(1, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.from([0, 255, 0, 0, 0, 0, 255]);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function upload(body, name, type) {
  const res = await fetch(`${server.url}/v1/files?name=${encodeURIComponent(name)}`, {
    method: 'POST', headers: { ...auth, 'Content-Type': type }, body,
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).data;
}

async function link(file) {
  const res = await fetch(`${server.url}/v1/files/${file.id}/link`, { method: 'POST', headers: auth });
  assert.equal(res.status, 200);
  return `${server.url}${(await res.json()).data.url}`;
}

before(async () => {
  server = await startServer({ env: { TB_LIMITS_REGISTER_PER_HOUR: '100000' } });
  const reg = await fetch(`${server.url}/v1/auth/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `files-${process.pid}@example.com`, password: 'correct horse battery' }),
  });
  const data = (await reg.json()).data;
  auth = { Authorization: `Bearer ${data.tokens.access_token}`, 'X-Tenant-ID': data.tenants[0].id };
  const port = await freePort();
  appOrigin = `http://127.0.0.1:${port}`;
  let page = '';
  app = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  app.setPage = (html) => { page = html; };
  await new Promise((resolve) => app.listen(port, '127.0.0.1', resolve));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => app?.close(resolve));
  await server?.stop();
});

test('an <img> on another origin shows a file through its signed link', async () => {
  const image = await upload(png(), 'pixel.png', 'image/png');
  const src = await link(image);
  app.setPage(`<!doctype html><img id="i" src="${src}">`);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${appOrigin}/`);
  await page.waitForFunction(() => document.getElementById('i').complete);
  const size = await page.evaluate(() => [document.getElementById('i').naturalWidth, document.getElementById('i').naturalHeight]);
  assert.deepEqual(size, [2, 1], 'the browser decoded the PNG');
  await context.close();
});

test('a download is named by Content-Disposition, non-ASCII included', async () => {
  const file = await upload('bonjour', 'résumé été.txt', 'application/octet-stream');
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const url = await link(file);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.goto(url).catch(() => {}), // a download aborts the navigation
  ]);
  assert.equal(download.suggestedFilename(), 'résumé été.txt');
  await context.close();
});

test('an uploaded HTML page is a download in a sandbox: its script never runs', async () => {
  const file = await upload('<!doctype html><script>document.title = "pwned"; fetch("/v1/auth/me")</script>',
    'page.html', 'text/html');
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  let ran = false;
  page.on('request', (r) => { if (r.url().includes('/v1/auth/me')) ran = true; });
  const url = await link(file);
  const [download] = await Promise.all([page.waitForEvent('download'), page.goto(url).catch(() => {})]);
  assert.equal(download.suggestedFilename(), 'page.html');
  assert.notEqual(await page.title(), 'pwned');
  assert.equal(ran, false, 'the uploaded script made a request');
  await context.close();
});
