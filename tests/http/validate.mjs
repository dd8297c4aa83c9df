// Validates HTTP responses recorded by tests/app/http_test.py against
// docs/openapi.json: each one's status must be documented for its route and
// method, and its JSON body must match that response's schema (JSON Schema
// 2020-12, as OpenAPI 3.1 says, checked by Ajv). Also lints the document
// with Redocly's CLI. Exits 0 when everything holds, 1 otherwise, 77 when
// the packages are not installed (scripts/setup installs them).
//
// Usage: node validate.mjs OPENAPI.json RESPONSES.jsonl
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
let Ajv2020, addFormats;
try {
  ({ default: Ajv2020 } = await import('ajv/dist/2020.js'));
  ({ default: addFormats } = await import('ajv-formats'));
} catch (e) {
  console.log(`skip: the test packages are not installed in ${here}: ${e.message}`);
  process.exit(77);
}
const [docPath, recordsPath] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
let failed = 0;
let passed = 0;

// No telemetry or update check: they wait on the network (5 s here).
const lint = spawnSync(path.join(here, 'node_modules/.bin/redocly'), ['lint', docPath], {
  encoding: 'utf8',
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
});
const clean = lint.status === 0 && /valid/.test(lint.stdout + lint.stderr)
              && !/warning/i.test(lint.stdout + lint.stderr);
console.log(`${clean ? 'ok' : 'FAIL'}: redocly lint passes ${docPath} with no warning`);
if (!clean) { failed++; console.log(lint.stdout + lint.stderr); } else passed++;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi.json');

// Literal segments before parameters: /v1/sagas before /v1/sagas/{saga}.
const routes = Object.keys(doc.paths).map((p) => ({
  template: p,
  regex: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`),
  literal: !p.includes('{'),
})).sort((a, b) => Number(b.literal) - Number(a.literal));

const resolve = (o) => {
  while (o && o.$ref) o = o.$ref.split('/').slice(1).reduce((x, k) => x[k.replace(/~1/g, '/')], doc);
  return o;
};
const pointer = (o) => o.replace(/~/g, '~0').replace(/\//g, '~1');

const seen = new Set();
for (const line of fs.readFileSync(recordsPath, 'utf8').split('\n').filter(Boolean)) {
  const r = JSON.parse(line);
  const where = `${r.method} ${r.path} -> ${r.status}`;
  const route = routes.find((x) => x.regex.test(r.path));
  const operation = route && doc.paths[route.template][r.method.toLowerCase()];
  if (!operation) {
    // Only routes the document leaves out on purpose: methods it does not list answer 405.
    if (r.status === 405 || r.status === 404 || r.status === 403) { passed++; continue; }
    failed++;
    console.log(`FAIL: ${where}: no such operation in the document`);
    continue;
  }
  const response = resolve(operation.responses[String(r.status)]);
  if (!response) {
    // 401, 403, 405 and the server's own limits (413, 431, 503) answer any route.
    if ([401, 403, 405, 413, 431, 503].includes(r.status)
        && r.content_type === 'application/problem+json') {
      const ok = ajv.validate({ $ref: 'openapi.json#/components/schemas/Problem' }, r.body);
      ok ? passed++ : (failed++, console.log(`FAIL: ${where}: ${ajv.errorsText()}`));
      continue;
    }
    failed++;
    console.log(`FAIL: ${where}: status not documented for ${route.template}`);
    continue;
  }
  const media = response.content?.[r.content_type];
  if (!media) {
    if (!response.content && (r.body === null || r.body === '')) { passed++; continue; }
    failed++;
    console.log(`FAIL: ${where}: content type ${r.content_type} not documented`);
    continue;
  }
  if (r.content_type === 'text/event-stream') { passed++; continue; }
  const schemaRef = media.schema.$ref
    ? { $ref: `openapi.json${media.schema.$ref}` }
    : { $ref: `openapi.json#/paths/${pointer(route.template)}/${r.method.toLowerCase()}` };
  const schema = media.schema.$ref ? schemaRef : media.schema;
  const ok = ajv.validate(schema, r.body);
  seen.add(`${r.method} ${route.template} ${r.status}`);
  if (ok) passed++;
  else { failed++; console.log(`FAIL: ${where}: ${ajv.errorsText()}: ${JSON.stringify(r.body).slice(0, 300)}`); }
}
console.log(`ok: ${seen.size} documented responses were seen and checked`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
