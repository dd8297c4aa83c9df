// nexus mcp, driven by the official MCP TypeScript SDK client over stdio:
// the tools are listed with their schemas, sagas are started, polled to
// their end, cancelled and retried, lists are paged, and protocol errors
// come back as JSON-RPC errors while the server keeps serving. A raw
// session checks what the SDK never sends: malformed and oversized lines,
// requests before initialize, batches. Then the same log is read by the
// other commands, a saga left running resumes under `nexus run`, and
// `--connect` runs the tools on a `nexus serve` coordinator.
//
// Usage: node mcp_test.mjs NEXUS_BINARY SOURCE_DIR
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const [nexus, src] = process.argv.slice(2);
const here = path.dirname(new URL(import.meta.url).pathname);
let Client, StdioClientTransport, McpError;
try {
  ({ Client } = await import('@modelcontextprotocol/sdk/client/index.js'));
  ({ StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js'));
  ({ McpError } = await import('@modelcontextprotocol/sdk/types.js'));
} catch (e) {
  console.log(`skip: the MCP SDK is not installed in ${here} (scripts/setup installs it): ${e.message}`);
  process.exit(77);
}

let passed = 0;
let failed = 0;
function check(what, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok: ${what}`);
  } else {
    failed++;
    console.log(`FAIL: ${what}${detail ? `: ${detail}` : ''}`);
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-mcp-'));
const data = path.join(work, 'data');
const ledger = path.join(work, 'refunds');
const step = path.join(src, 'tests/programs/step.sh');
const workflow = path.join(work, 'wf.json');
fs.writeFileSync(workflow, JSON.stringify({
  runtime: { data_dir: data },
  logging: { level: 'info', file: path.join(work, 'logs/nexus.jsonl') },
  defaults: { retry: { max_attempts: 2, initial_interval_ms: 1, max_interval_ms: 2 } },
  sagas: {
    order: { steps: [
      { name: 'reserve', resource: 'inventory', action: { kind: 'simulate', latency_ms: 1 },
        compensate: { kind: 'simulate' } },
      { name: 'charge', resource: 'payments', action: { kind: 'simulate', latency_ms: 1 },
        compensate: { kind: 'simulate' } },
      { name: 'ship', action: { kind: 'simulate', latency_ms: 1 } },
    ] },
    slow: { steps: [
      { name: 'hold', action: { kind: 'simulate' }, compensate: { kind: 'simulate' } },
      { name: 'wait', action: { kind: 'simulate', latency_ms: 1500 }, compensate: { kind: 'simulate' } },
    ] },
    refund: { steps: [
      { name: 'charge', action: { kind: 'simulate' },
        compensate: { kind: 'exec', argv: [step, 'fail-ledger', ledger] } },
      { name: 'ship', action: { kind: 'simulate', fail_first: 9, fail_kind: 'permanent' } },
    ] },
  },
}));

const terminal = new Set(['completed', 'compensated', 'failed', 'cancelled']);

/// Calls a tool; its structured result, or the text of its error.
async function call(client, name, args = {}) {
  const r = await client.callTool({ name, arguments: args });
  return { error: r.isError === true, value: r.structuredContent, text: r.content?.[0]?.text ?? '' };
}

/// Polls get_saga until `done(saga)` holds (a state change, not a time): at
/// most `seconds`.
async function until(client, cid, done, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = await call(client, 'get_saga', { correlation_id: cid });
    if (!r.error && done(r.value)) return r.value;
    if (Date.now() > deadline) return r.value ?? { status: `no answer: ${r.text}` };
    await new Promise((ok) => setTimeout(ok, 20));
  }
}

async function connect(args) {
  const stderr = [];
  // The whole environment: the SDK passes on only a few variables by
  // default, and the sanitizers' options must reach the server.
  const transport = new StdioClientTransport({ command: nexus, args, stderr: 'pipe',
                                               env: { ...process.env } });
  transport.stderr?.on('data', (d) => stderr.push(d.toString()));
  const client = new Client({ name: 'nexus-mcp-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, stderr };
}

// -- the tools, through the SDK ---------------------------------------------------

const { client, transport, stderr } = await connect(['mcp', workflow, '--grace-seconds', '0']);
check('the server names itself', client.getServerVersion()?.name === 'nexus',
      JSON.stringify(client.getServerVersion()));
check('it offers tools', client.getServerCapabilities()?.tools !== undefined);

const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
check('seven tools are listed', JSON.stringify(names) === JSON.stringify(
  ['breaker_status', 'cancel_saga', 'get_saga', 'list_sagas', 'retry_saga', 'signal_saga',
   'start_saga', 'stats']),
  names.join(','));
check('each has an object input schema', tools.every((t) => t.inputSchema?.type === 'object'));
const start = tools.find((t) => t.name === 'start_saga');
check('start_saga names the workflow\'s sagas',
      JSON.stringify(start?.inputSchema?.properties?.saga?.enum) === '["order","refund","slow"]',
      JSON.stringify(start?.inputSchema?.properties?.saga));
check('start_saga requires the saga', JSON.stringify(start?.inputSchema?.required) === '["saga"]');
check('read-only tools say so', tools.find((t) => t.name === 'get_saga')?.annotations?.readOnlyHint === true);

// A saga started with a made-up ID, polled to its end.
let r = await call(client, 'start_saga', { saga: 'order', input: { sku: 'A-7', qty: 2 } });
check('start_saga starts a saga', !r.error && r.value?.status === 'running', r.text);
const made = r.value?.correlation_id ?? '';
check('and makes up its correlation ID', /^mcp-[0-9]+-[0-9]+$/.test(made), made);
let saga = await until(client, made, (s) => terminal.has(s.status));
check('it runs to completed', saga.status === 'completed', JSON.stringify(saga).slice(0, 300));
check('every step succeeded', saga.steps?.length === 3 && saga.steps.every((s) => s.status === 'succeeded'),
      JSON.stringify(saga.steps));
check('its input is shown', saga.input?.sku === 'A-7' && saga.input?.qty === 2);
check('each step\'s output is shown', Object.keys(saga.outputs ?? {}).sort().join() === 'charge,reserve,ship',
      JSON.stringify(saga.outputs));
check('its events come in order',
      saga.events?.[0]?.type === 'saga_started' && saga.events.at(-1)?.type === 'saga_completed'
      && saga.events.every((e, i) => e.seq === i + 1), JSON.stringify(saga.events?.map((e) => e.type)));

check('get_saga names the definition the saga runs on, the one its start names',
      /^[0-9a-f]{64}$/.test(saga.definition ?? '') && saga.events?.[0]?.definition === saga.definition,
      String(saga.definition));

// Events a page at a time.
r = await call(client, 'get_saga', { correlation_id: made, limit: 3 });
check('a page of events stops at its limit', r.value?.events?.length === 3 && r.value?.next_after_seq === 3,
      r.text.slice(0, 200));
let seen = r.value?.events?.length ?? 0;
for (let after = r.value?.next_after_seq; after !== undefined;) {
  const page = await call(client, 'get_saga', { correlation_id: made, after_seq: after, limit: 3 });
  seen += page.value?.events?.length ?? 0;
  after = page.value?.next_after_seq;
  if (page.error) break;
}
check('the pages hold every event once', seen === saga.events_total, `${seen} of ${saga.events_total}`);

// Given IDs, duplicates and bad arguments.
r = await call(client, 'start_saga', { saga: 'order', correlation_id: 'given-1' });
check('a given correlation ID is kept', !r.error && r.value?.correlation_id === 'given-1', r.text);
r = await call(client, 'start_saga', { saga: 'order', correlation_id: 'given-1' });
check('a duplicate is refused as a tool error', r.error && r.text.includes('already in the log'), r.text);
r = await call(client, 'start_saga', { saga: 'nope' });
check('an unknown saga is a tool error naming it', r.error && r.text.includes('"nope"'), r.text);
r = await call(client, 'start_saga', { saga: 'order', correlation_id: 'bad/id' });
check('a bad correlation ID is a tool error', r.error && r.text.startsWith('correlation_id:'), r.text);
r = await call(client, 'start_saga', { saga: 'order', input: [1, 2] });
check('an input that is not an object is a tool error', r.error && r.text.startsWith('input:'), r.text);
r = await call(client, 'start_saga', { saga: 'order', colour: 'red' });
check('an unknown argument is a tool error naming it', r.error && r.text.includes('"colour"'), r.text);
r = await call(client, 'get_saga', { correlation_id: 'missing-1' });
check('get_saga of an unknown saga is a tool error', r.error && r.text.includes('missing-1'), r.text);
r = await call(client, 'get_saga', { correlation_id: made, limit: 0 });
check('a limit out of range is a tool error', r.error && r.text.startsWith('limit:'), r.text);

// Cancel a saga while its slow step runs.
r = await call(client, 'start_saga', { saga: 'slow', correlation_id: 'slow-1' });
check('a slow saga starts', !r.error, r.text);
saga = await until(client, 'slow-1', (s) => s.steps?.[1]?.status === 'running');
check('its slow step is running', saga.steps?.[1]?.status === 'running', JSON.stringify(saga.steps));
r = await call(client, 'cancel_saga', { correlation_id: 'slow-1' });
check('cancel_saga cancels it', !r.error && r.value?.result === 'cancelling', r.text);
saga = await until(client, 'slow-1', (s) => terminal.has(s.status));
check('it ends cancelled', saga.status === 'cancelled', saga.status);
check('its done step was compensated', saga.steps?.[0]?.status === 'compensated', JSON.stringify(saga.steps));
r = await call(client, 'cancel_saga', { correlation_id: 'slow-1' });
check('a second cancel finds it ended', !r.error && r.value?.result === 'already_ended'
      && r.value?.status === 'cancelled', r.text);
r = await call(client, 'cancel_saga', { correlation_id: 'never-1' });
check('cancelling an unknown saga is a tool error', r.error, r.text);
r = await call(client, 'signal_saga', { correlation_id: 'never-1', signal: 'paid' });
check('signalling an unknown saga is a tool error naming it', r.error
      && r.text.includes('no saga never-1'), r.text);
r = await call(client, 'signal_saga', { correlation_id: 'slow-1', signal: 'paid', signal_id: 'x' });
check('signalling a saga that has ended is a tool error saying so', r.error
      && r.text.includes('has ended'), r.text);
r = await call(client, 'signal_saga', { correlation_id: 'slow-1', signal: 'bad name' });
check('a bad signal name is a tool error', r.error && r.text.includes('invalid name'), r.text);

// A compensation that fails for good, retried once its cause is fixed.
fs.writeFileSync(`${ledger}.fail`, ''); // the refund service is down
r = await call(client, 'start_saga', { saga: 'refund', correlation_id: 'refund-1' });
check('a saga whose refund fails starts', !r.error, r.text);
saga = await until(client, 'refund-1', (s) => terminal.has(s.status));
check('it ends failed', saga.status === 'failed', saga.status);
check('its step shows the failed compensation', saga.steps?.[0]?.status === 'compensation_failed',
      JSON.stringify(saga.steps?.[0]));
r = await call(client, 'retry_saga', { correlation_id: made });
check('retrying a completed saga is a tool error', r.error && r.text.includes('completed'), r.text);
fs.rmSync(`${ledger}.fail`); // the refund service is back
r = await call(client, 'retry_saga', { correlation_id: 'refund-1' });
check('retry_saga reopens its compensation', !r.error && r.value?.status === 'compensating', r.text);
saga = await until(client, 'refund-1', (s) => terminal.has(s.status));
check('it ends compensated', saga.status === 'compensated', saga.status);
check('the refund was made', fs.existsSync(ledger) && fs.readFileSync(ledger, 'utf8').includes('refund-1'));

// Lists, a page at a time.
for (let i = 0; i < 5; i++) await call(client, 'start_saga', { saga: 'order', correlation_id: `many-${i}` });
for (let i = 0; i < 5; i++) await until(client, `many-${i}`, (s) => terminal.has(s.status));
const all = [];
let cursor;
let pages = 0;
do {
  r = await call(client, 'list_sagas', cursor ? { limit: 2, cursor } : { limit: 2 });
  all.push(...(r.value?.sagas ?? []).map((s) => s.cid));
  cursor = r.value?.next_cursor;
  pages++;
} while (cursor && !r.error && pages < 20);
check('list_sagas pages through every saga once', all.length === 9 && new Set(all).size === 9,
      all.join(','));
check('in correlation-ID order', all.join() === [...all].sort().join());
r = await call(client, 'list_sagas', { status: 'completed' });
check('a status filter keeps only those', !r.error && r.value?.sagas?.length === 7
      && r.value.sagas.every((s) => s.status === 'completed'), r.text.slice(0, 200));
r = await call(client, 'list_sagas', { saga: 'slow' });
check('a saga filter keeps only those', r.value?.sagas?.length === 1 && r.value.sagas[0].cid === 'slow-1');
r = await call(client, 'list_sagas', { status: 'lost' });
check('an unknown status is a tool error', r.error, r.text);

r = await call(client, 'breaker_status');
check('breaker_status shows every resource',
      JSON.stringify(r.value?.breakers?.map((b) => b.resource)) === '["inventory","payments"]', r.text);
check('closed while nothing failed', r.value?.breakers?.every((b) => b.state === 'closed'));
r = await call(client, 'breaker_status', { resource: 'nowhere' });
check('an unknown resource is a tool error', r.error, r.text);
r = await call(client, 'stats');
check('stats counts the sagas', r.value?.sagas?.total === 9 && r.value?.sagas?.completed === 7
      && r.value?.sagas?.cancelled === 1, JSON.stringify(r.value?.sagas));
check('and this engine\'s run', r.value?.engine?.started === 9, JSON.stringify(r.value?.engine));

// Protocol errors, through the SDK: JSON-RPC errors, and the server goes on.
async function rpcError(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e instanceof McpError ? e.code : `not an McpError: ${e}`;
  }
}
check('an unknown method is -32601', await rpcError(client.request({ method: 'resources/list' },
  (await import('@modelcontextprotocol/sdk/types.js')).ListResourcesResultSchema)) === -32601);
check('an unknown tool is -32602', await rpcError(client.callTool({ name: 'drop_tables', arguments: {} })) === -32602);
check('ping answers', (await client.ping()) !== undefined);
r = await call(client, 'get_saga', { correlation_id: made });
check('the server still serves', !r.error && r.value?.status === 'completed');

// A saga left running when the client goes (grace 0) stops where it is...
r = await call(client, 'start_saga', { saga: 'slow', correlation_id: 'left-1' });
await until(client, 'left-1', (s) => s.steps?.[1]?.status === 'running');
const server = transport._process; // the SDK forgets it on close
await client.close();
check('closing stdin ends the server, exit 0', server?.exitCode === 0, String(server?.exitCode));
check('it logs why it stopped',
      fs.readFileSync(path.join(work, 'logs/nexus.jsonl'), 'utf8').includes('stdin closed'));
check('nothing but its logs went to stderr', stderr.join('').split('\n').filter(Boolean)
  .every((l) => l.startsWith('nexus: ')), stderr.join('').slice(0, 300));

// ...in the same log that the other commands read, and `nexus run` resumes it.
let out = spawnSync(nexus, ['sagas', '--data-dir', data, '--json'], { encoding: 'utf8' });
const rows = out.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
check('nexus sagas lists what MCP started', rows.length === 10, `${rows.length} rows`);
check('the one left running is unfinished', rows.find((x) => x.cid === 'left-1')?.status === 'running');
out = spawnSync(nexus, ['run', workflow, '--json', '--no-progress'], { encoding: 'utf8' });
const summary = JSON.parse(out.stdout || '{}');
check('nexus run resumes it', out.status === 0 && summary.resumed === 1 && summary.completed === 1,
      out.stdout + out.stderr);

// -- a raw session: what the SDK never sends ---------------------------------------

async function raw(lines, extra = []) {
  const child = spawn(nexus, ['mcp', workflow, ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  const replies = [];
  createInterface({ input: child.stdout }).on('line', (l) => replies.push(l));
  for (const l of lines) child.stdin.write(l + '\n');
  child.stdin.end();
  const code = await new Promise((ok) => child.on('exit', ok));
  return { code, replies: replies.map((l) => { try { return JSON.parse(l); } catch { return { unparsable: l }; } }) };
}
const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
const session = await raw([
  JSON.stringify({ jsonrpc: '2.0', id: 'early', method: 'tools/list' }),
  init,
  JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  '{"jsonrpc":"2.0","id":2,"method":',
  'x'.repeat(10000),
  '[{"jsonrpc":"2.0","id":3,"method":"ping"}]',
  JSON.stringify({ jsonrpc: '1.0', id: 4, method: 'ping' }),
  JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'stats', arguments: 7 } }),
  JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'initialize', params: { protocolVersion: '2024-11-05' } }),
  JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'stats' } }),
  JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'ping' }),
], ['--max-message-bytes', '4096']);
const byId = (id) => session.replies.find((x) => x.id === id);
const codes = session.replies.map((x) => x.error?.code ?? 'ok');
check('every stdout line is a JSON-RPC message', session.replies.every((x) => x.jsonrpc === '2.0'),
      JSON.stringify(session.replies.filter((x) => x.jsonrpc !== '2.0')));
check('a request before initialize is -32002', byId('early')?.error?.code === -32002);
check('an old protocol version is agreed to', byId(1)?.result?.protocolVersion === '2024-11-05');
check('a line that is not JSON is -32700 with a null id', session.replies.some(
  (x) => x.error?.code === -32700 && x.id === null && /column/.test(x.error.message)));
check('an oversized line is -32600, not read', session.replies.some(
  (x) => x.error?.code === -32600 && /too large/.test(x.error.message)));
check('a batch is -32600', session.replies.some((x) => x.error?.code === -32600 && /batch/.test(x.error.message)));
check('a wrong jsonrpc version is -32600', byId(4)?.error?.code === -32600);
check('arguments that are not an object are -32602', byId(5)?.error?.code === -32602);
check('a second initialize is refused', byId(6)?.error !== undefined);
check('after all that it still serves', byId(7)?.result?.isError === false && byId(8)?.result !== undefined,
      codes.join(','));
check('the notification got no answer', session.replies.length === 10, `${session.replies.length} replies`);
check('and it exits 0 when stdin closes', session.code === 0, String(session.code));
const newer = await raw([JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2099-01-01', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } })]);
check('an unknown version gets the newest', newer.replies[0]?.result?.protocolVersion === '2025-11-25');

// -- bad command lines ----------------------------------------------------------------

out = spawnSync(nexus, ['mcp'], { encoding: 'utf8', input: '' });
check('mcp without a workflow or --connect exits 2', out.status === 2, out.stderr);
out = spawnSync(nexus, ['mcp', path.join(work, 'missing.json')], { encoding: 'utf8', input: '' });
check('a missing workflow exits 2, naming it', out.status === 2 && out.stderr.includes('missing.json'), out.stderr);
check('and writes nothing to stdout', out.stdout === '');

// -- --connect: the tools run on a coordinator ------------------------------------------

const data2 = path.join(work, 'data2');
const serve = spawn(nexus, ['serve', workflow, '--listen', '127.0.0.1:0', '--data-dir', data2],
                    { stdio: ['ignore', 'pipe', 'pipe'] });
const port = await new Promise((ok) => {
  let text = '';
  const t = setTimeout(() => ok(null), 60000);
  serve.stderr.on('data', (d) => {
    text += d.toString();
    const m = /listening on 127\.0\.0\.1:([0-9]+)/.exec(text);
    if (m) { clearTimeout(t); ok(m[1]); }
  });
});
check('a coordinator is listening', port !== null);
if (port !== null) {
  const remote = await connect(['mcp', '--connect', `127.0.0.1:${port}`]);
  const rtools = await remote.client.listTools();
  check('--connect lists the same tools', rtools.tools.length === 8);
  r = await call(remote.client, 'start_saga', { saga: 'order', correlation_id: 'remote-1' });
  check('start_saga runs on the coordinator', !r.error && r.value?.correlation_id === 'remote-1', r.text);
  saga = await until(remote.client, 'remote-1', (s) => terminal.has(s.status));
  check('and the saga completes there', saga.status === 'completed', saga.status);
  r = await call(remote.client, 'start_saga', { saga: 'nope' });
  check('a remote tool error comes back as one', r.error && r.text.includes('"nope"'), r.text);
  await remote.client.close();
  serve.kill('SIGTERM');
  await new Promise((ok) => serve.on('exit', ok));
  out = spawnSync(nexus, ['sagas', '--data-dir', data2, '--json'], { encoding: 'utf8' });
  check('it is in the coordinator\'s log', out.stdout.includes('"remote-1"'));
}
// -- Streamable HTTP: the same tools at POST /mcp on nexus serve --http -------------------

const { StreamableHTTPClientTransport } =
  await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
const data3 = path.join(work, 'data3');
const web = spawn(nexus, ['serve', workflow, '--http', '127.0.0.1:0', '--data-dir', data3],
                  { stdio: ['ignore', 'pipe', 'pipe'] });
const webPort = await new Promise((ok) => {
  let text = '';
  const t = setTimeout(() => ok(null), 60000);
  web.stderr.on('data', (d) => {
    text += d.toString();
    const m = /http listening on 127\.0\.0\.1:([0-9]+)/.exec(text);
    if (m) { clearTimeout(t); ok(m[1]); }
  });
});
check('nexus serve --http is listening', webPort !== null);
if (webPort !== null) {
  const url = new URL(`http://127.0.0.1:${webPort}/mcp`);
  const client = new Client({ name: 'nexus-http-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  check('an MCP session over Streamable HTTP opens', typeof transport.sessionId === 'string'
        && transport.sessionId.length === 32, String(transport.sessionId));
  const htools = await client.listTools();
  check('it lists the same tools', htools.tools.length === 8);
  r = await call(client, 'start_saga', { saga: 'order', correlation_id: 'web-1' });
  check('start_saga over HTTP', !r.error && r.value?.correlation_id === 'web-1', r.text);
  saga = await until(client, 'web-1', (s) => terminal.has(s.status));
  check('and the saga completes', saga.status === 'completed', saga.status);
  r = await call(client, 'start_saga', { saga: 'nope' });
  check('a tool error over HTTP comes back as one', r.error && r.text.includes('"nope"'), r.text);
  await transport.terminateSession();
  await client.close();
  const stale = await fetch(url, { method: 'POST', headers: {
    'content-type': 'application/json', accept: 'application/json, text/event-stream',
    'mcp-session-id': transport.sessionId ?? 'gone' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
  check('an ended session is 404', stale.status === 404, String(stale.status));
  const nosession = await fetch(url, { method: 'POST', headers: {
    'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
  check('a message without a session is 400', nosession.status === 400, String(nosession.status));
  web.kill('SIGTERM');
  await new Promise((ok) => web.on('exit', ok));
}

const bad = spawnSync(nexus, ['mcp', '--connect', '127.0.0.1:1'], { encoding: 'utf8', input: '' });
check('no coordinator there: exit 1, saying so', bad.status === 1 && bad.stderr.includes('no coordinator'),
      bad.stderr);

fs.rmSync(work, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
