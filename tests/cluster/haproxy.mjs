// HAProxy in front of the test nodes (tests/cluster/, issue #23): Debian's haproxy, started on
// loopback with the configuration of docs/deploy.md — round robin, health checks on /readyz
// every 200 ms (down after 2 failures, up after 2 successes), and retries on another node of
// failed connections, and of empty answers to idempotent requests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { REPO_ROOT, freePort, sleep } from '../e2e/harness.mjs';

/**
 * The configuration of docs/deploy.md (its `haproxy` block), with this run's address and
 * nodes: the suite runs what the document tells operators to run.
 */
export function haproxyConfig(port, nodes) {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');
  const block = /```haproxy\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/deploy.md has no haproxy block');
  let cfg = block[1].replace(/^(\s*)bind .*$/m, `$1bind 127.0.0.1:${port}`);
  const servers = nodes.map((n, i) => `    server node${i + 1} 127.0.0.1:${n.port} check`).join('\n');
  const lines = cfg.split('\n').filter((l) => !/^\s*server /.test(l));
  cfg = `${lines.join('\n').trimEnd()}\n${servers}\n`;
  return cfg;
}

/** Starts haproxy in the foreground; resolves once it accepts connections. */
export async function startHaproxy(nodes) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-haproxy-'));
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(cfg, haproxyConfig(port, nodes));
  const proc = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((r) => proc.on('close', r));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(500) });
      if (res.status === 200) break;
    } catch { /* not up yet */ }
    if (proc.exitCode !== null) throw new Error(`haproxy exited: ${output}`);
    await sleep(50);
  }
  return {
    url,
    port,
    output: () => output,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
