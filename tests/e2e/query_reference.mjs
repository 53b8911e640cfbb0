// The reference evaluator of the document query language (API.md §5.3, §13 "Missing fields",
// "Order"; src/query/doc_filter.h), in memory, for the differential tests: the server's
// answer on each backend must equal what this computes over the same documents.

const MISSING = Symbol('missing');

function get(doc, path) {
  let v = doc;
  for (const seg of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !(seg in v)) return MISSING;
    v = v[seg];
  }
  return v;
}

const kind = (v) => {
  if (v === MISSING) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v; // number | string | boolean | object
};

// Code point order (JS compares UTF-16 units, which differs above U+FFFF).
function cmpStrings(a, b) {
  const x = [...a].map((c) => c.codePointAt(0));
  const y = [...b].map((c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

function equals(v, operand) {
  if (operand === null) return v === MISSING || v === null;
  const k = kind(v);
  if (typeof operand === 'number') return k === 'number' && v === operand;
  if (typeof operand === 'string') return k === 'string' && v === operand;
  if (typeof operand === 'boolean') return k === 'boolean' && v === operand;
  throw new Error(`bad operand ${JSON.stringify(operand)}`);
}

function compare(v, operand, op) {
  let c;
  if (typeof operand === 'number') {
    if (kind(v) !== 'number') return false;
    c = v < operand ? -1 : v > operand ? 1 : 0;
  } else if (typeof operand === 'string') {
    if (kind(v) !== 'string') return false;
    c = cmpStrings(v, operand);
  } else if (typeof operand === 'boolean') {
    if (kind(v) !== 'boolean') return false;
    c = Number(v) - Number(operand);
  } else {
    throw new Error('null cannot be ordered');
  }
  return op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : c <= 0;
}

// The $regex patterns the generator uses, each with a JS RegExp of the same meaning under the
// documented semantics (src/query/doc_regex.h): `.` excludes only \n, \d \w \s are ASCII,
// (?i) folds ASCII letters only.
export const REGEXES = new Map([
  ['^a', /^a/u],
  ['b$', /b$/u],
  ['(?i)^a', /^[aA]/u],
  ['^.$', /^[^\n]$/u],
  ['\\d+', /[0-9]+/u],
  ['^[a-c]+$', /^[a-c]+$/u],
  ['(?i)h.*o', /[hH][^\n]*[oO]/u],
  ['é|ÿ', /é|ÿ/u],
  ['^(ab|z)+$', /^(?:ab|z)+$/u],
  ['\\s', /[\t\n\f\r ]/u],
  ['^$', /^$/u],
  ['[^a-z]', /[^a-z]/u],
  ['😀', /😀/u],
  ['a{2}|z{2}', /a{2}|z{2}/u],
  ['(?i)[a-c]b', /[a-cA-C][bB]/u],
  ['^\\w+ \\w+$', /^[0-9A-Za-z_]+ [0-9A-Za-z_]+$/u],
]);

// {"$elemMatch": {...}}: operators on the element when the first key is one, else a query.
const isOperatorObject = (cond) => {
  const first = Object.keys(cond)[0];
  return first.startsWith('$') && !['$and', '$or', '$not'].includes(first);
};

const foldAscii = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function fieldMatches(v, cond) {
  if (cond === null || typeof cond !== 'object') return equals(v, cond);
  return Object.entries(cond).every(([op, operand]) => {
    switch (op) {
      case '$eq': return equals(v, operand);
      case '$ne': return !equals(v, operand);
      case '$gt': case '$gte': case '$lt': case '$lte': return compare(v, operand, op);
      case '$in': return operand.some((o) => equals(v, o));
      case '$nin': return !operand.some((o) => equals(v, o));
      case '$exists': return operand ? v !== MISSING : v === MISSING;
      case '$contains': return kind(v) === 'string' && foldAscii(v).includes(foldAscii(operand));
      case '$startswith': return kind(v) === 'string' && v.startsWith(operand);
      case '$size': return kind(v) === 'array' && v.length === operand;
      case '$regex': {
        const re = REGEXES.get(operand);
        if (!re) throw new Error(`no reference RegExp for ${operand}`);
        return kind(v) === 'string' && re.test(v);
      }
      case '$elemMatch':
        return kind(v) === 'array' && v.some((el) => (isOperatorObject(operand) ? fieldMatches(el, operand) : matches(el, operand)));
      case '$not': return !fieldMatches(v, operand);
      default: throw new Error(`unknown operator ${op}`);
    }
  });
}

/** Whether a document matches a q object. */
export function matches(doc, q) {
  return Object.entries(q).every(([key, cond]) => {
    if (key === '$and') return cond.every((sub) => matches(doc, sub));
    if (key === '$or') return cond.some((sub) => matches(doc, sub));
    if (key === '$not') return !matches(doc, cond);
    return fieldMatches(get(doc, key), cond);
  });
}

// ---------------------------------------------------------------------------------------
// Random documents and queries from a seed (mulberry32), so a failure reproduces.

export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ['', 'a', 'A', 'ab', 'abc', 'Abc', 'b', 'ba', 'z', 'é', 'É', 'ÿ', 'zz', '日本', '😀', 'a😀', 'hello world', 'Hello', '10', '2'];
const NUMBERS = [0, 1, -1, 2, 3, 10, 1.5, -2.5, 0.1, 100, 1e6, 7];

export function generators(random) {
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const scalar = () => {
    const r = random();
    if (r < 0.15) return null;
    if (r < 0.3) return random() < 0.5;
    if (r < 0.65) return pick(NUMBERS);
    return pick(STRINGS);
  };
  const value = (depth = 0) => {
    const r = random();
    if (r < 0.7 || depth > 1) return scalar();
    if (r < 0.8) return Array.from({ length: Math.floor(random() * 4) }, () => scalar());
    if (r < 0.85) return Array.from({ length: Math.floor(random() * 3) }, () => ({ n: pick(NUMBERS), s: scalar() }));
    return object(depth + 1);
  };
  const FIELDS = ['a', 'b', 'c', 'n', 's'];
  const object = (depth) => {
    const o = {};
    for (const f of FIELDS) if (random() < 0.6) o[f] = value(depth);
    return o;
  };
  const doc = () => object(0);
  const path = () => (random() < 0.8 ? pick(FIELDS) : `${pick(FIELDS)}.${pick(FIELDS)}`);
  const orderable = () => (random() < 0.6 ? pick(NUMBERS) : random() < 0.8 ? pick(STRINGS) : random() < 0.5);
  const fieldCond = (depth) => {
    const r = random();
    if (r < 0.2) return scalar();
    const ops = {};
    const count = 1 + Math.floor(random() * 2);
    for (let i = 0; i < count; i++) {
      const op = pick(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$contains', '$startswith', '$size', '$not', '$regex', '$elemMatch']);
      if (op === '$eq' || op === '$ne') ops[op] = scalar();
      else if (op.startsWith('$g') || op.startsWith('$l')) ops[op] = orderable();
      else if (op === '$in' || op === '$nin') ops[op] = Array.from({ length: Math.floor(random() * 4) }, () => scalar());
      else if (op === '$exists') ops[op] = random() < 0.5;
      else if (op === '$contains' || op === '$startswith') ops[op] = pick(STRINGS);
      else if (op === '$size') ops[op] = Math.floor(random() * 4);
      else if (op === '$regex') ops[op] = pick([...REGEXES.keys()]);
      else if (op === '$elemMatch') {
        const r2 = random();
        if (r2 < 0.4) ops[op] = { [pick(['$gt', '$gte', '$lt', '$lte'])]: orderable() };
        else if (r2 < 0.6) ops[op] = { $eq: scalar() };
        else if (r2 < 0.7) ops[op] = { $regex: pick([...REGEXES.keys()]) };
        else if (r2 < 0.9) ops[op] = { n: { [pick(['$gt', '$lt', '$eq'])]: pick(NUMBERS) } };
        else ops[op] = { $or: [{ s: scalar() }, { n: { $gte: pick(NUMBERS) } }] };
      }
      else if (depth < 2) ops[op] = { [pick(['$eq', '$gt', '$lt', '$exists'])]: pick(['$exists']) ? orderable() : orderable() };
    }
    if (ops.$not) {
      const [inner] = Object.keys(ops.$not);
      if (inner === '$exists') ops.$not = { $exists: random() < 0.5 };
    }
    return Object.keys(ops).length ? ops : scalar();
  };
  const query = (depth = 0) => {
    const q = {};
    const count = 1 + Math.floor(random() * 2);
    for (let i = 0; i < count; i++) {
      const r = random();
      if (depth < 2 && r < 0.15) q.$or = Array.from({ length: 1 + Math.floor(random() * 3) }, () => query(depth + 1));
      else if (depth < 2 && r < 0.25) q.$and = Array.from({ length: 1 + Math.floor(random() * 2) }, () => query(depth + 1));
      else if (depth < 2 && r < 0.32) q.$not = query(depth + 1);
      else q[path()] = fieldCond(depth);
    }
    return q;
  };
  return { doc, query };
}

// ---------------------------------------------------------------------------------------
// Sorting on document paths (API.md §5.3 "Sorting"): values of every type are ordered by
// type first — missing and null, numbers, strings, false, true, objects, arrays — then within
// the type (numbers numerically, strings by code point; objects and arrays tie), then by _id.

function rank(v) {
  switch (kind(v)) {
    case 'number': return 1;
    case 'string': return 2;
    case 'boolean': return v ? 4 : 3;
    case 'object': return 5;
    case 'array': return 6;
    default: return 0;
  }
}

function compareValues(a, b) {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (ra === 1) return a < b ? -1 : a > b ? 1 : 0;
  if (ra === 2) return cmpStrings(a, b);
  return 0;
}

/**
 * A comparator of stored documents (with _id) for a sort given as [[path, descending], ...]:
 * `body(doc)` gives the client fields the paths are read from.
 */
export function sortComparator(keys, body = (d) => d) {
  return (x, y) => {
    for (const [path, descending] of keys) {
      const c = compareValues(get(body(x), path), get(body(y), path));
      if (c) return descending ? -c : c;
    }
    return x._id < y._id ? -1 : x._id > y._id ? 1 : 0;
  };
}
