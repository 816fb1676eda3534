// A minimal fast sink for throughput runs: a node:http server that answers 200
// at once (or after a delay, or with an error status) and counts the events
// it received, per vendor, without validating them against any contract.
// Run as a child of bench/run.mjs:  node bench/sink.mjs [--delay-ms N] [--status N] [--ids]
//
//   POST /api/v1/batch, /api/v1/track   Ours (gzip or plain JSON)
//   POST /v1/batch                      Segment (analytics-node)
//   POST /batch/, /i/v0/e/              PostHog (posthog-node, gzip)
//   anything else                       200 {}
//
// With --ids it keeps every Ours distinctId to report duplicates. Ours bodies
// are counted without JSON.parse (see countOurs); the others are parsed.
import { createServer } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { guardChild } from './lib/proc.mjs';

const gunzipAsync = promisify(gunzip);
guardChild();

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const delayMs = Number(opt('--delay-ms', 0));
const status = Number(opt('--status', 200));
const keepIds = args.includes('--ids');

const counts = { ours: 0, segment: 0, posthog: 0, requests: 0, bytes: 0, errors: 0 };
const ids = keepIds ? new Set() : undefined;
let duplicates = 0;
let lastAt = 0;

/** The request body, decompressed when gzipped. */
async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  counts.bytes += raw.length;
  const gz = req.headers['content-encoding'] === 'gzip' || (raw[0] === 0x1f && raw[1] === 0x8b);
  return gz ? await gunzipAsync(raw) : raw;
}

const DISTINCT_ID = Buffer.from('"distinctId":"');

/**
 * Ours events in a `/batch` or `/track` body, counted by their `distinctId`
 * key without parsing the JSON: the sink shares the machine's two cores with
 * the client under test, and `JSON.parse` of every body made it cost about as
 * much CPU per event as the client (issue 19: "a sink that counts without
 * parsing every body is a fair instrument"). The byte sequence cannot occur
 * inside a JSON string (its quotes would be escaped); the bench's events have
 * no property named `distinctId`.
 */
function countOurs(buf) {
  let n = 0;
  for (
    let at = buf.indexOf(DISTINCT_ID);
    at !== -1;
    at = buf.indexOf(DISTINCT_ID, at + DISTINCT_ID.length)
  ) {
    n++;
    if (ids) {
      const start = at + DISTINCT_ID.length;
      const id = buf.toString('latin1', start, buf.indexOf(0x22, start));
      if (ids.has(id)) duplicates++;
      else ids.add(id);
    }
  }
  counts.ours += n;
}

function count(path, buf) {
  if (path === '/api/v1/batch' || path === '/api/v1/track') return countOurs(buf);
  const json = JSON.parse(buf.toString('utf8'));
  if (path === '/v1/batch') counts.segment += json.batch?.length ?? 0;
  else if (path === '/batch/' || path === '/batch') counts.posthog += json.batch?.length ?? 0;
  else if (path.startsWith('/i/v0/e') || path.startsWith('/e/') || path.startsWith('/capture')) {
    counts.posthog += Array.isArray(json) ? json.length : (json.batch?.length ?? 1);
  }
}

const OK = {
  '/api/v1/batch': '{"success":true}',
  '/api/v1/track': '{"success":true}',
  '/v1/batch': '{"success":true}',
};

const server = createServer(async (req, res) => {
  counts.requests++;
  const path = (req.url ?? '/').split('?')[0];
  try {
    const buf = req.method === 'POST' ? await body(req) : undefined;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (status === 200 && buf !== undefined) count(path, buf);
    lastAt = performance.now();
    const text =
      status === 200
        ? (OK[path] ?? '{"status":1}')
        : '{"success":false,"error":"bench sink failure"}';
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  } catch (err) {
    counts.errors++;
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ success: false, error: String(err) }));
  }
});
server.keepAliveTimeout = 60_000;

process.on('message', (msg) => {
  if (msg.type === 'stats') {
    const cpu = process.cpuUsage(); // since start: the sink is a fresh process per run
    process.send({
      type: 'stats',
      ...counts,
      duplicates,
      unique: ids?.size,
      lastAt,
      timeOrigin: performance.timeOrigin,
      cpuUs: cpu.user + cpu.system,
    });
  }
  if (msg.type === 'reset') {
    for (const k of Object.keys(counts)) counts[k] = 0;
    ids?.clear();
    duplicates = 0;
    process.send({ type: 'reset' });
  }
});

server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', port: server.address().port });
});
