// GET /docs in a real browser (issue #8): Debian's Chromium, driven by playwright-core, opens
// the interactive documentation served by the binary, finds the endpoints, and runs one
// "Try it out" call against the live server. A screenshot goes to the test output directory
// (TB_ARTIFACTS, default tests/browser/artifacts/).
//
//   TB_BIN=build/tenantbase node --test tests/browser/
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium } from './chromium.mjs';
import { REPO_ROOT, startServer } from '../e2e/harness.mjs';

const ARTIFACTS = process.env.TB_ARTIFACTS || path.join(REPO_ROOT, 'tests', 'browser', 'artifacts');

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('/docs lists the endpoints and "Try it out" calls the live server', { timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  // No request may leave for the internet: everything comes from the binary.
  const foreign = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(server.url)) foreign.push(req.url());
  });
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // The page's Content-Security-Policy (issue #29) must not block anything it needs.
  page.on('console', (msg) => { if (/Content Security Policy|Refused to/i.test(msg.text())) errors.push(msg.text()); });

  await page.goto(`${server.url}/docs`);
  await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
  const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.textContent.trim()));
  for (const p of ['/v1/health', '/v1/auth/login', '/v1/users', '/v1/tenants/{id}/members']) {
    assert.ok(paths.some((x) => x.replace(/\u200b/g, '') === p), `the page lists ${p}; found ${paths.length} paths`);
  }

  // Try it out: GET /v1/health, executed by Swagger UI in the page.
  const op = page.locator('.opblock', { has: page.locator('.opblock-summary-path', { hasText: /^\/v1\/health$/ }) }).first();
  await op.locator('.opblock-summary').click();
  // The page enables "Try it out" from the start (tryItOutEnabled): Execute is there.
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${server.url}/v1/health`),
    op.locator('button.execute').click(),
  ]);
  assert.equal(response.status(), 200);
  const status = op.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor();
  const shown = await status.textContent();
  assert.match(shown, /200/);
  const body = await op.locator('.live-responses-table tbody .response-col_description pre').first().textContent();
  assert.match(body, /"status"/);

  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const shot = path.join(ARTIFACTS, 'docs.png');
  await page.screenshot({ path: shot, fullPage: false });
  console.log(`screenshot: ${shot}`);
  assert.deepEqual(foreign, [], 'no request leaves the server');
  assert.deepEqual(errors, [], 'no script errors on the page');
});

// Issue #20: "Try it out" on a list sent `additionalProp1=string…` from the filter object's
// made-up example (400, or a silently empty list); the page has the operation search box.
test('/docs: "Try it out" on a list sends no made-up filter; operations can be searched', { timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  await page.goto(`${server.url}/docs`);
  await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
  const search = page.locator('input.operation-filter-input');
  await search.waitFor({ timeout: 5_000 });
  await search.fill('tenants');
  const op = page.locator('.opblock', { has: page.locator('.opblock-summary-path', { hasText: /^\/v1\/tenants$/ }) })
    .filter({ has: page.locator('.opblock-summary-method', { hasText: 'GET' }) }).first();
  await op.locator('.opblock-summary').click();
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.url().startsWith(`${server.url}/v1/tenants`)),
    op.locator('button.execute').click(),
  ]);
  assert.doesNotMatch(request.url(), /additionalProp/, request.url());
  const sort = new URL(request.url()).searchParams.get('sort');
  assert.ok(sort === null || sort === 'name', `the sort example is one tenants accept: ${sort}`);
});
