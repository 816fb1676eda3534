// Workload 3, delivery throughput, one mode per process (bench/run.mjs starts
// each in a fresh process):
//   node bench/delivery.mjs floor  <count>
//   node bench/delivery.mjs burst  <count> <apiUrl>   # tight loop of track(), then flush()
//   node bench/delivery.mjs paced  <count> <apiUrl>   # 1,000 track() per event-loop turn, then flush()
//   node bench/delivery.mjs segment|posthog <count> <host> <deadlineMs>   # the anchors, paced
// Reports one JSON line: { mode, count, ms, eventsPerS, maxRssBytes, cpuUs, ... }.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { setImmediate as tick } from 'node:timers/promises';
import { backendEvent as makeEvent } from './lib/backend-event.mjs';

const require = createRequire(import.meta.url);
/** The built package: bench/run.mjs's snapshot of dist/, or dist/ itself when run alone. */
const DIST = process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname;
const [mode, countArg, target, deadlineArg] = process.argv.slice(2);
const COUNT = Number(countArg ?? 200_000);
const TOKEN = 'bench-token';
/** The client's own level (src/client/post-events.ts). */
const GZIP_LEVEL = 1;
const BATCH = 500;
/**
 * Events made before the timed part, in the same mode (and sent, for the
 * client): a server runs for hours, so the rate that counts is the steady
 * one, after the JIT has compiled the code and the heap has grown. Both the
 * floor and the client are warmed up the same way.
 */
const WARMUP = Math.min(20_000, COUNT);
/** CPU µs of this thread alone (the event loop; not libuv's pool), where /proc has it. */
function mainThreadCpuUs() {
  try {
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime, stime in ticks of 1/100 s
  } catch {
    return undefined;
  }
}

/** CPU at the start of the timed part: Node's start-up and the package's loading are not the run's. */
let cpuAtStart = { user: 0, system: 0 };
let mainThreadAtStart = 0;
function startCpu() {
  cpuAtStart = process.cpuUsage();
  mainThreadAtStart = mainThreadCpuUs() ?? 0;
}

function report(extra) {
  const cpu = process.cpuUsage(cpuAtStart);
  const mainThread = mainThreadCpuUs();
  console.log(
    JSON.stringify({
      mode,
      count: COUNT,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      cpuUs: cpu.user + cpu.system,
      mainThreadCpuUs: mainThread === undefined ? undefined : mainThread - mainThreadAtStart,
      ...extra,
    }),
  );
}

/** JSON.stringify + gzip (level 1, synchronous) of the same events in batches of 500: the serialisation floor. */
function floor() {
  serialiseAndCompress(WARMUP);
  startCpu();
  const t0 = performance.now();
  const { json, wire } = serialiseAndCompress(COUNT);
  const ms = performance.now() - t0;
  report({
    ms,
    warmup: WARMUP,
    eventsPerS: (COUNT / ms) * 1000,
    jsonBytesPerEvent: json / COUNT,
    gzipRatio: json / wire,
  });
}

/** `count` events built, stringified and gzipped in batches; the JSON and wire bytes. */
function serialiseAndCompress(count) {
  let batch = [];
  let wire = 0;
  let json = 0;
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const e = makeEvent(i);
    e.distinctId = randomUUID();
    e.time = now;
    batch.push(e);
    if (batch.length === BATCH || i === count - 1) {
      const body = JSON.stringify({ token: TOKEN, events: batch });
      json += body.length;
      wire += gzipSync(body, { level: GZIP_LEVEL }).length;
      batch = [];
    }
  }
  return { json, wire };
}

async function ours(paced) {
  const { OursClient } = require(DIST + '/cjs/src/index.js');
  // Defaults, except that a burst must fit the queue: maxQueueSize defaults to
  // 100,000 events and a tight loop never yields, so nothing is sent during it.
  const client = new OursClient({
    token: TOKEN,
    apiUrl: target,
    logger: false,
    ...(paced ? {} : { maxQueueSize: COUNT }),
  });
  let dropped = 0;
  client.on('drop', (d) => (dropped += d.count));
  client.on('error', () => {});
  await trackAll(client, paced, COUNT, WARMUP); // ids after the timed ones': every event is unique
  await client.flush();
  startCpu();
  const t0 = performance.now();
  await trackAll(client, paced, 0, COUNT);
  const tLoop = performance.now() - t0;
  const flushed = await client.flush();
  const ms = performance.now() - t0;
  const stats = client.stats();
  report({
    ms,
    warmup: WARMUP,
    loopMs: tLoop,
    eventsPerS: (COUNT / ms) * 1000,
    trackNs: (tLoop * 1e6) / COUNT,
    flushed,
    dropped,
    stats,
    ackAt: performance.timeOrigin + performance.now(),
  });
  await client.shutdown();
}

/** `count` track() calls from event `first` on: paced (1,000 per turn), or in one loop that never yields. */
async function trackAll(client, paced, first, count) {
  for (let i = first; i < first + count; i++) {
    client.track(makeEvent(i));
    if (paced && i % 1000 === 999) await tick();
  }
}

/** The anchors, paced (1,000 calls per turn) as the issue measured them, with a deadline to close. */
async function anchor(kind) {
  const deadline = Number(deadlineArg ?? 20_000);
  let send;
  let close;
  if (kind === 'segment') {
    const { Analytics } = require('@segment/analytics-node');
    const analytics = new Analytics({ writeKey: 'bench-write-key', host: target });
    send = (e) =>
      analytics.track({
        userId: e.externalId,
        event: e.event,
        properties: e.eventProperties,
        context: { ip: e.defaultProperties.ip },
      });
    close = () => analytics.closeAndFlush({ timeout: deadline });
  } else {
    const { PostHog } = require('posthog-node');
    const posthog = new PostHog('phc_bench_key', { host: target });
    send = (e) =>
      posthog.capture({
        distinctId: e.externalId,
        event: e.event,
        properties: { ...e.eventProperties, $ip: e.defaultProperties.ip },
      });
    close = () => posthog.shutdown(deadline);
  }
  startCpu();
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) {
    send(makeEvent(i));
    if (i % 1000 === 999) await tick();
  }
  const tLoop = performance.now() - t0;
  await close();
  const ms = performance.now() - t0;
  report({ ms, loopMs: tLoop, eventsPerS: (COUNT / ms) * 1000 });
}

if (mode === 'floor') floor();
else if (mode === 'burst' || mode === 'paced') await ours(mode === 'paced');
else if (mode === 'segment' || mode === 'posthog') await anchor(mode);
else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
setTimeout(() => process.exit(0), 100).unref();
