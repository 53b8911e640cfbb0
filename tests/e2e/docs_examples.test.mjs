// The curl examples of docs/api.md §15 (issue #8: examples that cannot rot): every ```sh
// block of that section, in order, runs as one bash script (set -euo pipefail) against a fresh
// server whose address is in $BASE. A failing command or a `jq -e` answering false fails here.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { DEFAULT_BUDGETS, REPO_ROOT, startServer } from './harness.mjs';
import { NO_THROTTLE_ENV } from './tenancy_helpers.mjs';

const execFileP = promisify(execFile);

let server;
// The default request budgets, as `make run` has them (the examples show the headers).
before(async () => { server = await startServer({ env: { ...NO_THROTTLE_ENV, ...DEFAULT_BUDGETS } }); });
after(async () => { await server?.stop(); });

function examples() {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
  const start = text.indexOf('\n## 15. Examples');
  assert.ok(start >= 0, 'docs/api.md has no "## 15. Examples" section');
  const rest = text.slice(start + 1);
  const end = rest.indexOf('\n## ', 1);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

test('docs/api.md §15: every curl example runs and its checks hold', async () => {
  const blocks = examples();
  assert.ok(blocks.length >= 5, `expected the examples of §15, found ${blocks.length} blocks`);
  // Each block echoes a marker first, so that a failure says which one.
  const script = ['set -euo pipefail', ...blocks.map((b, i) => `echo "--- example block ${i + 1}" >&2\n${b}`)].join('\n');
  try {
    await execFileP('bash', ['-c', script], { env: { ...process.env, BASE: server.url }, timeout: 60_000 });
  } catch (e) {
    const failed = (e.stderr.match(/--- example block (\d+)/g) || []).pop();
    assert.fail(`${failed || 'an example block'} failed (exit ${e.code}):\nstdout:\n${e.stdout}\nstderr:\n${e.stderr}`);
  }
});
