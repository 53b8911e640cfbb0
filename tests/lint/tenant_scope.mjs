// Every SQL statement in src/ that touches a tenant-owned table names tenant_id (ARCHITECTURE.md
// "Data model": every query is scoped by tenant). A statement that is global on purpose (a key
// looked up by its hash, a user's own memberships across tenants, purging an account) carries
// a comment `// tenant-scope: <why>` on one of the three lines above it.
//
// Statements are the C++ string literals of one expression joined together (SQL is written
// as adjacent literals). Run by ctest (label unit); exits 1 and lists the offenders.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TABLES = [
  'memberships', 'organizations', 'organization_members', 'api_keys', 'audit_log', 'mail_outbox',
  'invitations', 'collections', 'documents',
];
const TOUCH = new RegExp(`\\b(FROM|UPDATE|INTO|JOIN)\\s+(${TABLES.join('|')})\\b`, 'i');

function* sources(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(p);
    else if (/\.(cpp|h)$/.test(entry.name) && !/_test\.cpp$/.test(entry.name)) yield p;
  }
}

// Runs of adjacent string literals ("a" "b" → "ab"), with the line where each run starts.
function literalRuns(text) {
  const runs = [];
  const re = /"(?:[^"\\\n]|\\.)*"(?:\s*"(?:[^"\\\n]|\\.)*")*/g;
  for (let m; (m = re.exec(text));) {
    const joined = [...m[0].matchAll(/"((?:[^"\\\n]|\\.)*)"/g)].map((x) => x[1]).join('');
    runs.push({ sql: joined, line: text.slice(0, m.index).split('\n').length });
  }
  return runs;
}

const offenders = [];
let checked = 0;
for (const file of sources(path.join(ROOT, 'src'))) {
  if (file.includes(`${path.sep}migrations${path.sep}`)) continue;
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  for (const { sql, line } of literalRuns(text)) {
    if (!TOUCH.test(sql)) continue;
    checked++;
    if (/tenant_id/.test(sql)) continue;
    const above = lines.slice(Math.max(0, line - 4), line).join('\n');
    if (/\/\/ tenant-scope: \S/.test(above)) continue;
    offenders.push(`${path.relative(ROOT, file)}:${line}: ${sql.slice(0, 140)}`);
  }
}
if (offenders.length) {
  console.error(`SQL on tenant-owned tables without tenant_id (add the scope, or a "// tenant-scope: why" comment):\n${offenders.join('\n')}`);
  process.exit(1);
}
console.log(`tenant scope: ${checked} statements on tenant-owned tables checked`);
