// Every (operation, status) pair the OpenAPI document promises, and every header it lists for
// one, must have been produced by the end-to-end suite (issue #20: statuses and headers were
// documented that no request could produce). The harness records what each test process saw
// (openapi_validation.mjs, TB_OPENAPI_COVERAGE_DIR); tests/run-e2e runs this after the suite:
//
//   node tests/e2e/openapi_coverage.mjs <dir>
//
// A pair that only a fault can produce (the database gone, a bug) is listed in FAULTS with
// the reason; anything else unproduced fails.
import fs from 'node:fs';
import path from 'node:path';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

// "METHOD /template STATUS" or "* STATUS" (every operation), with why only a fault makes it.
const FAULTS = {
  '* 500': 'a bug: the exception guard answers 500 INTERNAL_ERROR',
  '* 503': 'the database unreachable, the server draining, or a worker queue full',
  'POST /v1/invitations/accept 409': 'a race: the email registered between reading the invitation and creating its account',
};

const dir = process.argv[2];
if (!dir) {
  console.error('usage: openapi_coverage.mjs <dir>');
  process.exit(2);
}
const docs = ['openapi.json', 'openapi-compat.json'].map((name) => {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    console.error(`openapi_coverage: no ${name} in ${dir} (did the suite run?)`);
    process.exit(1);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
});
const observed = new Set();
for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('observed-'))) {
  for (const k of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))) observed.add(k);
}

const fault = (op, status) => FAULTS[`${op} ${status}`] || FAULTS[`* ${status}`];

const missing = [];
let promised = 0;
for (const doc of docs) {
  const deref = (obj) => {
    for (let i = 0; obj && obj.$ref && i < 10; i++) {
      obj = obj.$ref.slice(2).split('/').reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    }
    return obj;
  };
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const name = `${m.toUpperCase()} ${template}`;
      for (const [status, r0] of Object.entries(op.responses || {})) {
        promised += 1;
        const key = `${name} ${status}`;
        if (!observed.has(key)) {
          if (!fault(name, status)) missing.push(key);
          continue;
        }
        for (const header of Object.keys(deref(r0)?.headers || {})) {
          promised += 1;
          if (!observed.has(`${key} header ${header}`)) missing.push(`${key} header ${header}`);
        }
      }
    }
  }
}
if (missing.length) {
  console.log(`openapi_coverage: ${missing.length} of ${promised} documented statuses and headers were never produced:`);
  for (const k of missing) console.log(`  ${k}`);
  console.log(`${promised - missing.length} passed, ${missing.length} failed`);
  process.exit(1);
}
console.log(`openapi_coverage: all ${promised} documented statuses and headers were produced (faults aside)`);
