// Response validation against the OpenAPI document (issue #8): every response that goes
// through Server.request() (harness.mjs) is checked against the document's description of
// its route and status; a response the document does not describe fails the test.
//
// Where the document comes from. The binary embeds docs/openapi.yaml and serves it, as JSON,
// at GET /v1/openapi.json; the harness fetches it from the first server that becomes ready
// in this test process and caches it for the whole process. Reasons:
//   * tests/node_modules has no YAML parser, and the served JSON is the binary's own reading
//     of the YAML (its converter types plain scalars itself), so no second parser can
//     disagree with it;
//   * it is the document of the binary under test (TB_BIN), the one clients get.
// A binary built before an edit of docs/openapi.yaml serves the old document: rebuild, or,
// while editing the document, point TB_TEST_OPENAPI at a JSON rendering of the YAML, e.g.
//   (cd tests && npx redocly bundle ../docs/openapi.yaml --ext json -o /tmp/openapi.json)
//   TB_TEST_OPENAPI=/tmp/openapi.json node --test tests/e2e/
//
// What is checked, for a response to METHOD PATH?QUERY (see validateResponse):
//   * The operation: PATH is matched against the document's path templates (a literal
//     segment beats a {parameter}); HEAD uses the GET operation (HEAD is implied by every
//     GET); a POST with X-HTTP-Method-Override: PUT|PATCH|DELETE uses that method's
//     operation when the path has it.
//   * The status must be documented for the operation (exact code, else nXX, else default).
//   * Documented headers that are present must match their schemas (values coerced from
//     text for integer/number/boolean schemas).
//   * A response object without `content` (204 and the like) must have an empty body.
//     Otherwise (except for HEAD, which has no body) the Content-Type's media type must be
//     one of the documented ones; application/json bodies must parse and match the schema;
//     text/plain bodies are checked against their schema too (a plain string schema, e.g.
//     `const: ok` for /healthz) when it has one.
//   * No operation (a path outside the document, or a method the path does not have: the
//     router's 404/405, OPTIONS preflights): an error status with a JSON body must match
//     components/schemas/Error; a 204 must have an empty body.
//   * Not checked: the item schemas of a list answered with `fields=` (a projection leaves
//     out the properties it does not name, so "required" does not hold); the status, the
//     headers and error bodies still are.
//
// Validators are compiled once per (operation, status, media type) and cached; the document
// is added to Ajv once, so `$ref: '#/components/...'` resolves inside it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule.default || addFormatsModule;

const DOC_ID = 'https://tenantbase.invalid/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const EXCERPT = 800;

let loading = null; // Promise<Validator>
let ready = null; // Validator once loaded

// What this process saw answered, for the suite's coverage check (openapi_coverage.mjs):
// "METHOD /template STATUS" for each documented response key met, and
// "METHOD /template STATUS header NAME" for each documented header met present. Written to
// TB_OPENAPI_COVERAGE_DIR (when set) as the process exits, with the document.
const observed = new Set();
process.on('exit', () => {
  const dir = process.env.TB_OPENAPI_COVERAGE_DIR;
  if (!dir || !ready) return;
  fs.writeFileSync(`${dir}/observed-${process.pid}.json`, JSON.stringify([...observed]));
  const doc = `${dir}/openapi.json`;
  if (!fs.existsSync(doc)) fs.writeFileSync(doc, JSON.stringify(ready.doc));
  const compat = `${dir}/openapi-compat.json`;
  if (ready.compat && !fs.existsSync(compat)) fs.writeFileSync(compat, JSON.stringify(ready.compat.doc));
});

// The compatibility dialects (docs/api.md §11) by the first segment of a path: their routes
// are in the second document (GET /compat/openapi.json), and their errors are written in the
// dialect's own shape, everywhere under it (its router errors too).
const DIALECT_ERRORS = {
  api: 'NiluxError', workspaces: 'NileError', rest: 'RestDbError', media: 'RestDbError', mail: 'RestDbError',
};
const dialectOf = (pathname) => DIALECT_ERRORS[pathname.split('/')[1]];

async function fetchDocument(baseUrl, path) {
  const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * Loads the document once per process: from TB_TEST_OPENAPI (a JSON file) when set, else
 * from GET <baseUrl>/v1/openapi.json. Safe to call many times; later calls reuse the first.
 */
export function loadOpenApi(baseUrl) {
  if (!loading) {
    loading = (async () => {
      const file = process.env.TB_TEST_OPENAPI;
      const doc = file ? JSON.parse(fs.readFileSync(file, 'utf8')) : await fetchDocument(baseUrl, '/v1/openapi.json');
      const compatFile = process.env.TB_TEST_OPENAPI_COMPAT;
      const compat = compatFile ? JSON.parse(fs.readFileSync(compatFile, 'utf8')) : await fetchDocument(baseUrl, '/compat/openapi.json');
      const v = new Validator(doc);
      v.compat = new Validator(compat, (pathname) => dialectOf(pathname));
      ready = v;
      return ready;
    })();
    // A failed load is retried by the next caller (e.g. the next server to start).
    loading.catch(() => { loading = null; });
  }
  return loading;
}

/** The loaded validator, or null if the document has not been loaded yet. */
export function loadedOpenApi() { return ready; }

/** JSON pointer escaping of one reference token. */
const ptr = (s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

function excerpt(body) {
  if (body === undefined || body === null) return '';
  const s = String(body);
  return s.length > EXCERPT ? `${s.slice(0, EXCERPT)}… (${s.length} chars)` : s;
}

function headerValue(headers, name) {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers || {})) if (k.toLowerCase() === want) return v;
  return undefined;
}

/** Text header value → the JSON value its schema describes (integers, numbers, booleans). */
function coerceHeader(value, schema) {
  const types = [].concat(schema?.type || []);
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  if (types.includes('boolean') && /^(true|false)$/.test(value.trim())) return value.trim() === 'true';
  return value;
}

export class Validator {
  /**
   * `errorSchemaOf(pathname)`: the name of the components schema a router error (no route, 405)
   * under that path matches; by default `Error` (the /v1 envelope).
   */
  constructor(doc, errorSchemaOf = () => 'Error') {
    this.errorSchemaOf = errorSchemaOf;
    this.compat = null; // the dialects' validator (on the /v1 one): paths under a dialect go there
    assert.ok(doc && typeof doc === 'object' && doc.paths && doc.components, 'OpenAPI document with paths and components');
    this.doc = doc;
    // strict: false: the document carries OpenAPI keywords (example, discriminator, ...) that
    // are not JSON Schema; Ajv ignores them. allErrors: report everything wrong at once.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    // The whole document as one schema resource: `#/components/...` inside it resolves.
    this.ajv.addSchema({ $id: DOC_ID, components: doc.components, paths: doc.paths });
    this.validators = new Map(); // JSON pointer -> compiled validator
    // Path templates, literal ones first, then by fewer parameters, then longer literal text.
    this.routes = Object.keys(doc.paths).map((template) => {
      const params = (template.match(/\{[^}]+\}/g) || []).length;
      const re = new RegExp(`^${template.split(/\{[^}]+\}/).map((lit) => lit.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);
      return { template, re, params, literal: template.replace(/\{[^}]+\}/g, '').length };
    }).sort((a, b) => a.params - b.params || b.literal - a.literal);
  }

  /** A compiled validator for the schema at `pointer` (a JSON pointer into the document). */
  validatorAt(pointer) {
    let v = this.validators.get(pointer);
    if (!v) {
      v = this.ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      this.validators.set(pointer, v);
    }
    return v;
  }

  /** Follows a `#/components/...` $ref of a response or header object: [object, pointer]. */
  deref(obj, pointer) {
    for (let i = 0; obj && typeof obj.$ref === 'string' && i < 10; i++) {
      const ref = obj.$ref;
      assert.ok(ref.startsWith('#/'), `only local $refs are supported, got ${ref}`);
      pointer = ref.slice(1);
      obj = pointer.split('/').slice(1)
        .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce((o, k) => (o == null ? undefined : o[k]), this.doc);
    }
    return [obj, pointer];
  }

  matchPath(pathname) {
    for (const r of this.routes) if (r.re.test(pathname)) return r.template;
    return null;
  }

  /**
   * Throws an AssertionError when the response does not match the document.
   * @param {{method:string, url:string, requestHeaders:Record<string,string>,
   *          status:number, headers:Record<string,string>, body:string}} x
   */
  validateResponse(x) {
    let { method } = x;
    const { url, requestHeaders, status, headers, body } = x;
    const u = new URL(url);
    const pathname = u.pathname;
    if (this.compat && dialectOf(pathname)) return this.compat.validateResponse(x);
    method = method.toUpperCase();
    const what = `${method} ${pathname}${u.search}`;
    const fail = (msg) => {
      throw new assert.AssertionError({
        message: `OpenAPI: ${what} → ${status}: ${msg}\n  content-type: ${headerValue(headers, 'content-type') ?? '(none)'}\n  body: ${excerpt(body)}`,
        operator: 'openapi',
      });
    };

    const template = this.matchPath(pathname);
    const item = template ? this.doc.paths[template] : null;
    let opMethod = method === 'HEAD' ? 'get' : method.toLowerCase();
    if (method === 'POST' && item) {
      // The server honours PUT, PATCH and DELETE only (any other value answers 400, which
      // is then checked against the POST operation, or as a router error without one).
      const override = (headerValue(requestHeaders, 'x-http-method-override') || '').trim().toLowerCase();
      if (['put', 'patch', 'delete'].includes(override) && item[override]) opMethod = override;
    }
    const op = item && METHODS.includes(opMethod) ? item[opMethod] : undefined;

    if (!op) {
      // The router's own answers (404 for an unknown path, 405 for a method the path does
      // not have) and OPTIONS preflights.
      if (status === 204) {
        if (body) fail('a 204 must have no body');
        return;
      }
      if (status >= 400 && body && method !== 'HEAD') {
        const ct = headerValue(headers, 'content-type') || '';
        let parsed;
        try { parsed = JSON.parse(body); } catch {
          if (/json/i.test(ct)) fail('Content-Type says JSON but the body does not parse');
          return;
        }
        const schema = this.errorSchemaOf(pathname) || 'Error';
        this.check(`/components/schemas/${schema}`, parsed, fail, `the error body (components/schemas/${schema})`);
      }
      return;
    }

    const opPointer = `/paths/${ptr(template)}/${opMethod}`;
    const responses = op.responses || {};
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
    if (!key) fail(`status ${status} is not documented for ${opMethod.toUpperCase()} ${template} (documented: ${Object.keys(responses).join(', ')})`);
    const seen = `${opMethod.toUpperCase()} ${template} ${key}`;
    observed.add(seen);
    const [resp, respPointer] = this.deref(responses[key], `${opPointer}/responses/${ptr(key)}`);
    if (!resp) fail(`unresolvable response object for ${key}`);

    // Documented headers that are present.
    for (const [name, h0] of Object.entries(resp.headers || {})) {
      const [h, hPointer] = this.deref(h0, `${respPointer}/headers/${ptr(name)}`);
      const v = headerValue(headers, name);
      if (v === undefined) {
        if (h?.required) fail(`required header ${name} is missing`);
        continue;
      }
      observed.add(`${seen} header ${name}`);
      if (h?.schema) this.check(`${hPointer}/schema`, coerceHeader(v, h.schema), fail, `header ${name}: ${JSON.stringify(v)}`);
    }

    if (method === 'HEAD') return; // no body; status and headers are checked above
    const content = resp.content;
    if (!content || Object.keys(content).length === 0) {
      if (body) fail(`the document gives this status no content, but the body is not empty`);
      return;
    }
    const ct = headerValue(headers, 'content-type') || '';
    const media = ct.split(';')[0].trim().toLowerCase();
    // `*/*` documents content of any type (a stored file's own).
    const mediaKey = Object.keys(content).find((k) => k.toLowerCase() === media) ??
      (content['*/*'] ? '*/*' : undefined);
    if (!mediaKey) fail(`Content-Type ${JSON.stringify(ct)} is not documented (documented: ${Object.keys(content).join(', ')})`);
    const schema = content[mediaKey].schema;
    if (!schema) return;
    const schemaPointer = `${respPointer}/content/${ptr(mediaKey)}/schema`;

    if (/json/i.test(mediaKey)) {
      let parsed;
      try { parsed = JSON.parse(body); } catch { fail('the body is not valid JSON'); }
      // A projection (`fields=`) leaves out what it does not name, so the item schemas'
      // required properties do not apply; see the Fields parameter in the document.
      if (status < 300 && u.searchParams.has('fields')) return;
      this.check(this.deref(schema, schemaPointer)[1], parsed, fail, `the schema of ${opMethod.toUpperCase()} ${template} ${key}`);
    } else if (mediaKey.startsWith('text/')) {
      this.check(this.deref(schema, schemaPointer)[1], body, fail, `the schema of ${opMethod.toUpperCase()} ${template} ${key}`);
    }
  }

  check(pointer, value, fail, label) {
    const v = this.validatorAt(pointer);
    if (!v(value)) {
      const errs = v.errors.slice(0, 10).map((e) => `    ${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`);
      fail(`does not match ${label}:\n${errs.join('\n')}${v.errors.length > 10 ? `\n    … ${v.errors.length - 10} more` : ''}`);
    }
  }
}
