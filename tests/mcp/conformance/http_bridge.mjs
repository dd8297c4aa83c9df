// A Streamable HTTP front for `nexus mcp` (stdio), for the MCP conformance
// suite, whose server mode speaks HTTP only. Each session that POSTs an
// initialize gets its own `nexus mcp` child (and its own data directory);
// messages pass through unchanged both ways. Not part of Nexus: a test aid
// (tests/mcp/conformance.sh).
//
// Usage: node http_bridge.mjs NEXUS WORKFLOW WORK_DIR PORT
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const [nexus, workflow, work, port] = process.argv.slice(2);
const sessions = new Map();

async function open() {
  const dir = path.join(work, randomUUID());
  fs.mkdirSync(dir, { recursive: true });
  const child = new StdioClientTransport({ command: nexus, args: ['mcp', workflow, '--data-dir', dir],
                                           env: { ...process.env }, stderr: 'ignore' });
  const front = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: true,
    onsessioninitialized: (id) => sessions.set(id, front),
  });
  front.onmessage = (m) => child.send(m);
  child.onmessage = (m) => front.send(m, 'id' in m ? { relatedRequestId: m.id } : undefined);
  front.onclose = () => { child.close(); if (front.sessionId) sessions.delete(front.sessionId); };
  await child.start();
  await front.start();
  return front;
}

http.createServer(async (req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', async () => {
    const parsed = body ? JSON.parse(body) : undefined;
    const id = req.headers['mcp-session-id'];
    let front = id ? sessions.get(id) : undefined;
    if (!front && req.method === 'POST' && parsed?.method === 'initialize') front = await open();
    if (!front) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'no session' } }));
      return;
    }
    await front.handleRequest(req, res, parsed);
  });
}).listen(Number(port), '127.0.0.1', () => console.log(`bridge listening on 127.0.0.1:${port}`));
