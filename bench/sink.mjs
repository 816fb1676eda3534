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
import { gunzipSync } from 'node:zlib';
import { guardChild } from './lib/proc.mjs';

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

/**
 * Every Ours distinctId received, as bytes, each followed by a newline: copied
 * out of the body while it is counted, and checked for duplicates only when
 * asked for stats, after the run. A Set of 200,000 strings grown during the
 * run cost the sink more CPU than counting (its hashing and its GC).
 */
class IdLog {
  chunks = [Buffer.allocUnsafe(ID_CHUNK)];
  at = 0;

  add(buf, start, end) {
    if (this.at + end - start + 1 > ID_CHUNK) {
      this.chunks.push(Buffer.allocUnsafe(ID_CHUNK));
      this.at = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1];
    // Byte by byte: an id is 36 bytes, and Buffer#copy's checks cost more than copying them.
    let at = this.at;
    for (let i = start; i < end; i++) chunk[at++] = buf[i];
    chunk[at++] = 0x0a;
    this.at = at;
  }

  /** { unique, duplicates } of what was logged. */
  tally() {
    const last = this.chunks.length - 1;
    const seen = new Set();
    let duplicates = 0;
    this.chunks.forEach((chunk, i) => {
      const text = chunk.toString('latin1', 0, i === last ? this.at : chunk.lastIndexOf(0x0a) + 1);
      for (const id of text.split('\n')) {
        if (id === '') continue;
        if (seen.has(id)) duplicates++;
        else seen.add(id);
      }
    });
    return { unique: seen.size, duplicates };
  }

  clear() {
    this.chunks = [Buffer.allocUnsafe(ID_CHUNK)];
    this.at = 0;
  }
}
const ID_CHUNK = 1024 * 1024;
const ids = keepIds ? new IdLog() : undefined;
let lastAt = 0;

/**
 * One output buffer per body, of the size the gzip trailer gives (ISIZE, the
 * last four bytes): zlib runs once, synchronously, into a buffer no larger
 * than the body, instead of a fixed megabyte faulted in for every request.
 */
function inflatedSize(raw) {
  return raw.length >= 18 ? Math.max(64, raw.readUInt32LE(raw.length - 4)) : 64 * 1024;
}

/** The request body, decompressed when gzipped. */
async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  counts.bytes += raw.length;
  const gz = req.headers['content-encoding'] === 'gzip' || (raw[0] === 0x1f && raw[1] === 0x8b);
  return gz ? gunzipSync(raw, { chunkSize: inflatedSize(raw) }) : raw;
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
      ids.add(buf, start, buf.indexOf(0x22, start));
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
    const cpu = process.cpuUsage(cpuAtReady); // since it listened (Node's own start-up is not the run's); before the tally
    process.send({
      type: 'stats',
      ...counts,
      ...ids?.tally(),
      lastAt,
      timeOrigin: performance.timeOrigin,
      cpuUs: cpu.user + cpu.system,
    });
  }
  if (msg.type === 'reset') {
    for (const k of Object.keys(counts)) counts[k] = 0;
    ids?.clear();
    cpuAtReady = process.cpuUsage();
    process.send({ type: 'reset' });
  }
});

let cpuAtReady;
server.listen(0, '127.0.0.1', () => {
  cpuAtReady = process.cpuUsage();
  process.send({ type: 'ready', port: server.address().port });
});
