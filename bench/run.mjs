#!/usr/bin/env node
// The benchmark suite of ours-middleware (issue 5). Measures the BUILT
// package (dist/, rebuilt when stale), on loopback only, every run bounded in time.
//
//   node bench/run.mjs                 # every workload (npm run bench)
//   node bench/run.mjs overhead        # 1: per-request overhead, Express 5 and Koa 3
//   node bench/run.mjs parts           # 1b: where a tracked request's CPU goes (one process, variants by phase;
//                                      #     PARTS_FRAMEWORKS=hono,fetch for some of express, koa, fastify, node, hono, fetch, next;
//                                      #     PARTS_NEXT=platform: Next as on a platform's function)
//   node bench/run.mjs slow-api        # 2: tracking while the API is slow (2 s) or failing (500)
//   node bench/run.mjs delivery        # 3: 200,000 track() calls to acknowledged, vs the serialisation floor
//   node bench/run.mjs micro           # 4: ns per track() and per context extraction
//   options: --quick (shorter runs, still 3 rounds), --rounds N,
//            --build (always rebuild dist/; by default only when it is missing or older than src/), --no-build
//
// Layout: the app (or the client under test) is pinned to CPU 0 and the load
// generator (wrk if installed, else autocannon) and the sink to CPU 1 with taskset, when it exists.
// Variants of a workload run interleaved (A B C A B C ...) for several rounds,
// each in fresh processes; tables give medians over rounds and the ratio to
// the bare app of the same run. The full tables land in bench/.out/.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { neighbours } from './lib/phases.mjs';
import { APP_CPU, LOAD_CPU, PINNING, startChild, sleep } from './lib/proc.mjs';
import { realisticRequests } from './user-agents.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const outDir = join(here, '.out');
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const roundsArg = args.indexOf('--rounds');
const ROUNDS = Math.max(3, roundsArg === -1 ? 3 : Number(args[roundsArg + 1]));
const ALL = ['overhead', 'parts', 'slow-api', 'delivery', 'micro'];
const chosen = args.filter((a) => ALL.includes(a));
const workloads = chosen.length ? chosen : ALL;
const unknown = args.filter((a, i) =>
  a.startsWith('-')
    ? !['--quick', '--rounds', '--no-build', '--build'].includes(a)
    : !ALL.includes(a) && args[i - 1] !== '--rounds',
);
if (unknown.length) {
  console.error(
    `unknown argument(s): ${unknown.join(' ')}\nusage: node bench/run.mjs [${ALL.join('|')}]... [--quick] [--rounds N] [--build|--no-build]`,
  );
  process.exit(2);
}

/** Load settings: warm-up, then a measured window, per variant and round. */
const LOAD = QUICK
  ? { warmupS: 1, durationS: 3, connections: 16 }
  : { warmupS: 2, durationS: 5, connections: 16 };
const DELIVERY_COUNT = 200_000;
/** Segment and PostHog cost ~10x more per event: fewer calls keep the run bounded; rates are per second. */
const ANCHOR_COUNT = QUICK ? 10_000 : 30_000;
const md = [];
const json = { startedAt: new Date().toISOString(), quick: QUICK, rounds: ROUNDS, load: LOAD };
const print = (line = '') => {
  console.log(line);
  md.push(line);
};

// --- helpers -----------------------------------------------------------------

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '–');
const mb = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MB` : '–');

function table(header, rows) {
  print(`| ${header.join(' | ')} |`);
  print(`| ${header.map((h, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows) print(`| ${row.join(' | ')} |`);
  print();
}

function machine() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const info = execFileSync('cat', ['/proc/cpuinfo'], { encoding: 'utf8' });
    model = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? model;
  } catch {}
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  return {
    nproc,
    model,
    node: process.version,
    memGiB: (totalmem() / 2 ** 30).toFixed(0),
    pinning: PINNING,
  };
}

// --- workload 1 and 2: an app under load --------------------------------------

let loadGen;
async function loadGenerator() {
  loadGen ??= await startChild(join(here, 'load.mjs'), [], { cpu: LOAD_CPU });
  return loadGen;
}

/** Requests with the realistic headers (383 Chrome UAs), cycled by every connection. */
const REQUESTS = realisticRequests().map((r) => ({
  method: 'GET',
  path: r.path,
  headers: r.headers,
}));

/**
 * One variant, one round: sink, app, warm-up, measured window, then the
 * app's CPU time over that window and (when `deliver`) a flush and what the
 * sink received. Every process is stopped before it returns.
 */
async function runApp(framework, variant, { sinkArgs = [], deliver = true, rate } = {}) {
  const sink = await startChild(join(here, 'sink.mjs'), sinkArgs, { cpu: LOAD_CPU });
  let app;
  try {
    const sinkUrl = `http://127.0.0.1:${sink.ready.port}`;
    app = await startChild(join(here, 'app.mjs'), [framework, variant, sinkUrl], { cpu: APP_CPU });
    const url = `http://127.0.0.1:${app.ready.port}`;
    const load = await loadGenerator();
    const base = { url, requests: REQUESTS, connections: LOAD.connections, rate };
    await load.ask('run', { ...base, durationS: LOAD.warmupS }, { timeoutMs: 60_000 });
    await app.ask('mark');
    const run = await load.ask(
      'run',
      { ...base, durationS: LOAD.durationS },
      { timeoutMs: 60_000 },
    );
    if (!run.ok) throw new Error(run.error);
    const usage = await app.ask('report');
    let delivered;
    if (deliver) {
      const fin = await app.ask('finish', {}, { timeoutMs: 30_000 });
      const stats = await sink.ask('stats');
      const got =
        variant === 'segment' ? stats.segment : variant === 'posthog' ? stats.posthog : stats.ours;
      delivered =
        fin.handled > 0 && variant !== 'bare' && variant !== 'ours-idle'
          ? got / fin.handled
          : undefined;
    }
    const r = run.result;
    return {
      rps: r.rps,
      p50: r.p50,
      p99: r.p99,
      errors: r.errors + r.non2xx + r.timeouts,
      cpuUsPerReq: usage.cpuUs / usage.handled,
      rssMb: usage.rss / 2 ** 20,
      delivered,
    };
  } finally {
    await app?.stop();
    await sink.stop();
  }
}

/** Runs `variants` interleaved for ROUNDS rounds; returns { name: [result per round] }. */
async function interleave(label, variants, runOne) {
  const results = Object.fromEntries(variants.map((v) => [v, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of variants) {
      process.stderr.write(`  ${label} round ${round}/${ROUNDS}: ${v} ... `);
      const r = await runOne(v);
      results[v].push(r);
      process.stderr.write(`${f0(r.rps ?? r.eventsPerS)}${r.rps ? ' req/s' : ' events/s'}\n`);
    }
  }
  return results;
}

const VARIANT_LABEL = {
  bare: 'bare app',
  'ours-idle': 'ours() mounted, tracks nothing',
  'ours-track': 'ours(): one event per request',
  segment: 'Segment analytics.track per request',
  posthog: 'PostHog capture per request',
  naive: 'naive: await fetch(/track) per request',
};

/**
 * req/s over the bare app's req/s of the same round, median over rounds: the
 * variants of a round run back to back, so this cancels drift that spans
 * rounds (on this VM the bare app alone swings by a third between rounds).
 */
function perRoundRatio(rounds, bareRounds) {
  return median(rounds.map((r, i) => r.rps / bareRounds[i].rps));
}

async function overhead() {
  print('## 1. Per-request overhead (trivial `GET /`, realistic browser requests)');
  print();
  const tool = (await loadGenerator()).ready.tool;
  print(
    `${tool === 'wrk' ? 'wrk (1 thread)' : 'autocannon'}, ${LOAD.connections} connections, ${LOAD.warmupS} s warm-up + ${LOAD.durationS} s measured per variant and round, ${ROUNDS} rounds interleaved. App on CPU ${APP_CPU}; load generator and sink on CPU ${LOAD_CPU}. Sink: bench/sink.mjs (answers 200 at once, counts events). Latency percentiles are per response (wrk: µs resolution; with autocannon, recorded per response rather than from its 1 ms buckets). "vs bare, per round" divides each round's req/s by the bare app's in that same round and takes the median over rounds. CPU/req is the app process's user+system CPU over the measured window divided by requests served. Delivered = events the sink received after the app flushed, over requests handled.`,
  );
  print();
  json.overhead = {};
  const variants = ['bare', 'ours-idle', 'ours-track', 'segment', 'posthog', 'naive'];
  for (const framework of ['express', 'koa']) {
    const results = await interleave(framework, variants, (v) => runApp(framework, v));
    json.overhead[framework] = results;
    const bare = median(results.bare.map((r) => r.rps));
    const bareCpu = median(results.bare.map((r) => r.cpuUsPerReq));
    print(`### ${framework === 'express' ? 'Express 5' : 'Koa 3'}`);
    print();
    table(
      [
        'variant',
        'req/s (median)',
        'vs bare',
        'vs bare, per round (median)',
        'p50 ms',
        'p99 ms',
        'CPU µs/req',
        'extra CPU µs/req',
        'delivered',
        'rounds (req/s)',
      ],
      variants.map((v) => {
        const rs = results[v];
        const rps = median(rs.map((r) => r.rps));
        const cpu = median(rs.map((r) => r.cpuUsPerReq));
        const del = rs.map((r) => r.delivered).filter((d) => d !== undefined);
        return [
          VARIANT_LABEL[v],
          f0(rps),
          pct(rps / bare),
          pct(perRoundRatio(rs, results.bare)),
          f2(median(rs.map((r) => r.p50))),
          f2(median(rs.map((r) => r.p99))),
          f1(cpu),
          v === 'bare' ? '' : f1(cpu - bareCpu),
          del.length ? pct(Math.min(...del)) : '',
          rs.map((r) => f0(r.rps)).join(' / '),
        ];
      }),
    );
  }
}

const PART_LABEL = {
  bare: 'bare app',
  mounted: 'ours() mounted, tracks nothing',
  context: 'reads the request, builds the event, drops it (`beforeSend: () => null`)',
  floor:
    '**floor**: the handler builds, stringifies and gzips the same event itself, nothing else (bench/lib/floor.mjs)',
  'track-nohttp':
    'tracks one event, checked, serialised, gzipped, but not sent (a `fetch` that answers 200 at once)',
  track: 'tracks one event (default options)',
  'track-nogzip': 'tracks one event, `gzip: false`',
};
const PART_PHASE_MS = 1000;
/** `PARTS_SECONDS=180` runs longer: more phases per variant, tighter medians (the Express 5 ratio needs them). */
const PART_SECONDS = Number(process.env.PARTS_SECONDS ?? (QUICK ? 30 : 60));
/** `PARTS_FRAMEWORKS=fastify,node` runs only those (each takes PART_SECONDS). */
const PART_FRAMEWORKS = process.env.PARTS_FRAMEWORKS?.split(',') ?? [
  'express',
  'koa',
  'fastify',
  'node',
  'hono',
  'fetch',
  'next',
];

/** Per phase of one variant: its CPU per request minus the mean of the bare phases just before and after. */
function pairedExtra(phases, variant) {
  const perReq = (p) => p.cpuUs / p.requests;
  const extra = [];
  phases.forEach((p, i) => {
    if (p.variant !== variant || p.requests < 100) return;
    const near = neighbours(phases, i, (q) => q.variant === 'bare');
    if (near.length === 2) extra.push(perReq(p) - (perReq(near[0]) + perReq(near[1])) / 2);
  });
  return extra;
}

const quartiles = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length
    ? [s[Math.floor(s.length / 4)], median(s), s[Math.floor((s.length * 3) / 4)]]
    : [NaN, NaN, NaN];
};

async function parts() {
  print("## 1b. Where a tracked request's CPU goes (one process, variants by phase)");
  print();
  print(
    `One app process per framework serves every variant below, switching every ${PART_PHASE_MS / 1000} s (in this order, round after round) while the load generator runs without a break for ${PART_SECONDS} s (${LOAD.connections} connections, the realistic requests); the first round is warm-up. Each phase's CPU per request is compared with the mean of the bare phases just before and after it, which cancels the machine's drift; the table gives the median of those differences over the phases and its quartiles. The sink answers at once; the delivery of a phase's events (gzip, send) lands mostly in that phase. The floor phase is the handler building, stringifying and gzipping (level 1, batches of 200) the event the tracker would send for that request, with nothing else: the ratio below is a tracked event's extra CPU over the floor's, both medians of the same run.`,
  );
  print();
  json.parts = {};
  const load = await loadGenerator();
  for (const framework of PART_FRAMEWORKS) {
    const sink = await startChild(join(here, 'sink.mjs'), [], { cpu: LOAD_CPU });
    let app;
    try {
      app = await startChild(
        join(here, 'parts-app.mjs'),
        [framework, `http://127.0.0.1:${sink.ready.port}`, String(PART_PHASE_MS)],
        { cpu: APP_CPU },
      );
      const base = {
        url: `http://127.0.0.1:${app.ready.port}`,
        requests: REQUESTS,
        connections: LOAD.connections,
      };
      await load.ask('run', { ...base, durationS: LOAD.warmupS }, { timeoutMs: 60_000 });
      const running = load.ask(
        'run',
        { ...base, durationS: PART_SECONDS + 2 },
        { timeoutMs: (PART_SECONDS + 60) * 1000 },
      );
      await sleep(500);
      await app.ask('start');
      process.stderr.write(`  parts ${framework}: ${PART_SECONDS} s ... `);
      await sleep(PART_SECONDS * 1000);
      const { phases, floor } = await app.ask('stop');
      await running;
      const names = Object.keys(PART_LABEL);
      const measured = phases.slice(names.length); // the first round warms up
      json.parts[framework] = { phases: measured, floor };
      process.stderr.write(`${measured.length} phases\n`);
      print(
        `### ${{ express: 'Express 5', koa: 'Koa 3', fastify: 'Fastify 5', node: 'node:http', hono: 'Hono 4 (@hono/node-server)', fetch: 'fetch handler (@hono/node-server)', next: process.env.PARTS_NEXT === 'platform' ? "Next.js route handler, withOurs, as on a platform's function: a delivery per request (@hono/node-server, no Next server)" : 'Next.js route handler, withOurs, as `next start` (15.1+) runs it: batched (@hono/node-server, no Next server)' }[framework]}`,
      );
      print();
      table(
        [
          'variant',
          'CPU µs/req (median of phases)',
          'extra vs bare, µs/req (median, quartiles)',
          'phases',
        ],
        names.map((v) => {
          const own = measured
            .filter((p) => p.variant === v && p.requests >= 100)
            .map((p) => p.cpuUs / p.requests);
          const [q1, med, q3] = quartiles(pairedExtra(measured, v));
          return [
            PART_LABEL[v],
            f1(median(own)),
            v === 'bare' ? '' : `${f1(med)} (${f1(q1)} – ${f1(q3)})`,
            String(own.length),
          ];
        }),
      );
      const floorExtra = median(pairedExtra(measured, 'floor'));
      const ratio = (v) => f2(median(pairedExtra(measured, v)) / floorExtra);
      print(
        `Extra CPU over the floor's (issue 19's goal: at most 1.5): one event ${ratio('track')}, not sent ${ratio('track-nohttp')}, \`gzip: false\` ${ratio('track-nogzip')}. Floor: ${f0(floor.events)} events gzipped, ${f1(floor.jsonBytes / floor.events)} bytes of JSON each, ${f1(floor.jsonBytes / floor.gzipBytes)}:1, ${floor.misses} requests without a template.`,
      );
      print();
    } finally {
      await app?.stop();
      await sink.stop();
    }
  }
}

/** Well below what Express 5 with tracking serves on this machine (2,400-2,900 req/s), so latency is the request's own. */
const SLOW_API_RATE = 800;

async function slowApi() {
  print('## 2. Slow or failing Ours API (tracking variant)');
  print();
  print(
    `Express 5 with \`ours()\` tracking one event per request, as in workload 1, while the sink answers at once, after 2 s, or 500; interleaved, ${ROUNDS} rounds. The load is a fixed ${SLOW_API_RATE} req/s (autocannon, ${LOAD.connections} connections, every response time recorded), about a third of what the app serves flat out here: at saturation, p99 is the length of the queue in front of the app and moves by tens of ms between rounds of the same variant, so it cannot show a 1 ms difference. No flush at the end (the slow and failing APIs never drain).`,
  );
  print();
  const variants = { ok: [], slow: ['--delay-ms', '2000'], failing: ['--status', '500'] };
  const label = {
    ok: 'API answers 200 at once',
    slow: 'API answers after 2 s',
    failing: 'API answers 500',
  };
  const results = await interleave('slow-api', Object.keys(variants), (v) =>
    runApp('express', 'ours-track', { sinkArgs: variants[v], deliver: false, rate: SLOW_API_RATE }),
  );
  json.slowApi = results;
  const okP99 = median(results.ok.map((r) => r.p99));
  const okRps = median(results.ok.map((r) => r.rps));
  table(
    [
      'API',
      'req/s',
      'vs API ok',
      'p50 ms',
      'p99 ms',
      'p99 − p99(ok) ms',
      'CPU µs/req',
      'app RSS',
      'rounds (p99 ms)',
    ],
    Object.keys(variants).map((v) => {
      const rs = results[v];
      const p99 = median(rs.map((r) => r.p99));
      const rps = median(rs.map((r) => r.rps));
      return [
        label[v],
        f0(rps),
        pct(rps / okRps),
        f2(median(rs.map((r) => r.p50))),
        f2(p99),
        v === 'ok' ? '' : f2(p99 - okP99),
        f1(median(rs.map((r) => r.cpuUsPerReq))),
        `${f0(median(rs.map((r) => r.rssMb)))} MB`,
        rs.map((r) => f2(r.p99)).join(' / '),
      ];
    }),
  );
}

// --- workload 3: delivery ------------------------------------------------------

/**
 * The runtime of the client under test: BENCH_RUNTIME, a binary and its
 * arguments separated by spaces (e.g. `bun`, `deno run --allow-all`), so the
 * same workload measures Bun and Deno; the sink stays on this Node.
 */
const DELIVERY_RUNTIME = process.env.BENCH_RUNTIME?.trim()
  ? process.env.BENCH_RUNTIME.trim().split(/\s+/)
  : [process.execPath];

/** Runs bench/delivery.mjs in its own process; resolves with its JSON report. */
function runDeliveryProcess(
  mode,
  extra = [],
  { cpu, count = DELIVERY_COUNT, timeoutMs = 120_000 } = {},
) {
  return new Promise((resolve, reject) => {
    const argv = [...DELIVERY_RUNTIME, join(here, 'delivery.mjs'), mode, String(count), ...extra];
    const [cmd, full] =
      PINNING && cpu !== undefined ? ['taskset', ['-c', cpu, ...argv]] : [argv[0], argv.slice(1)];
    const child = spawn(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`delivery ${mode} exited ${code}: ${out}\n${err}`));
      }
    });
  });
}

async function deliveryRound(mode) {
  if (mode === 'floor') return runDeliveryProcess('floor');
  const isAnchor = mode === 'segment' || mode === 'posthog';
  const sink = await startChild(join(here, 'sink.mjs'), isAnchor ? [] : ['--ids']);
  try {
    const base = `http://127.0.0.1:${sink.ready.port}`;
    const deadline = QUICK ? 5_000 : 15_000;
    const r = await runDeliveryProcess(
      mode,
      isAnchor ? [base, String(deadline)] : [`${base}/api/v1`],
      { count: isAnchor ? ANCHOR_COUNT : DELIVERY_COUNT },
    );
    const s = await sink.ask('stats');
    const all = mode === 'segment' ? s.segment : mode === 'posthog' ? s.posthog : s.ours;
    // The warm-up's events were delivered before the timed part began.
    const received = all - (r.warmup ?? 0);
    // Ours: time to the last acknowledgement is the client's flush(); anchors: until close() returned.
    return {
      ...r,
      received,
      duplicates: s.duplicates,
      unique: s.unique,
      deliveredPerS: (received / r.ms) * 1000,
      cpuUsPerEvent: r.cpuUs / r.count,
      sinkCpuUsPerEvent: s.cpuUs / all,
    };
  } finally {
    await sink.stop();
  }
}

async function delivery() {
  print(`## 3. Delivery throughput (${DELIVERY_COUNT.toLocaleString('en-US')} events)`);
  print();
  print(
    [
      `Client runtime: ${DELIVERY_RUNTIME.join(' ')}.`,
      "Each mode in a fresh process, not pinned (both cores: the client's gzip runs on the libuv pool); the sink (bench/sink.mjs, counting distinctIds) in another.",
      "**floor**: `JSON.stringify` + `gzipSync` (level 1, the client's level) of the same events in batches of 500, in a single-threaded tight loop.",
      'Each mode first runs 20,000 events the same way, untimed (the client sends them and waits for them): the rates are the steady ones, after the JIT has compiled the code on both sides.',
      `**burst**: \`client.track()\` ${DELIVERY_COUNT.toLocaleString('en-US')} times in a tight loop, then \`await client.flush()\` (resolves when the sink has acknowledged every event); the queue bound is raised to \`maxQueueSize: ${DELIVERY_COUNT}\` (the default 100,000 drops, and counts, what a burst that never yields puts beyond it).`,
      '**paced**: default options, 1,000 `track()` per event-loop turn, then `flush()`.',
      `**segment / posthog**: ${ANCHOR_COUNT.toLocaleString('en-US')} calls paced the same way, then \`closeAndFlush\` / \`shutdown\` with a ${QUICK ? 5 : 15} s deadline (fewer calls: at their cost per event, 200,000 would take minutes); their events/s are received events over wall time.`,
      'Events: a backend `track()` (event, externalId, 5 properties, ip, url), about 330 bytes of JSON each on the wire.',
      "CPU µs/event is the client process's user+system CPU (its libuv pool and V8's helper threads included) from the first timed call to the last acknowledgement (start-up, loading and warm-up left out) over the events it tracked, and the part of it its main thread (the event loop) spent, read from /proc at 10 ms resolution; sink CPU µs/event the same for the sink from when it listens, over every event it received (warm-up included) (one gunzip per body into a buffer of the size the gzip trailer gives, copying each `distinctId` out without parsing; duplicates are checked after the run), which shares the two cores.",
    ].join(' '),
  );
  print();
  const modes = ['floor', 'burst', 'paced', 'segment', 'posthog'];
  const results = await interleave('delivery', modes, deliveryRound);
  json.delivery = results;
  const floor = median(results.floor.map((r) => r.eventsPerS));
  table(
    [
      'mode',
      'events/s (to last ack)',
      'vs floor',
      'received',
      'duplicates',
      'wall ms',
      'track() ns/call',
      'CPU µs/event',
      'of it, main thread',
      'sink CPU µs/event',
      'peak RSS',
      'rounds (events/s)',
    ],
    modes.map((m) => {
      const rs = results[m];
      const eps =
        m === 'floor'
          ? median(rs.map((r) => r.eventsPerS))
          : median(rs.map((r) => r.deliveredPerS));
      const received =
        m === 'floor' ? '' : `${rs.map((r) => f0(r.received)).join(' / ')} of ${f0(rs[0].count)}`;
      return [
        m,
        f0(eps),
        pct(eps / floor),
        received,
        m === 'floor' || m === 'segment' || m === 'posthog'
          ? ''
          : rs.map((r) => r.duplicates).join(' / '),
        f0(median(rs.map((r) => r.ms))),
        m === 'burst' || m === 'paced' ? f0(median(rs.map((r) => r.trackNs))) : '',
        f2(median(rs.map((r) => r.cpuUs / r.count))),
        rs[0].mainThreadCpuUs === undefined
          ? ''
          : f2(median(rs.map((r) => r.mainThreadCpuUs / r.count))),
        m === 'floor' ? '' : f2(median(rs.map((r) => r.sinkCpuUsPerEvent))),
        mb(median(rs.map((r) => r.maxRssBytes))),
        rs.map((r) => f0(m === 'floor' ? r.eventsPerS : r.deliveredPerS)).join(' / '),
      ];
    }),
  );
  const f = results.floor[0];
  print(
    `Floor batches: ${f1(f.jsonBytesPerEvent)} bytes of JSON per event, gzip level 1 ratio ${f1(f.gzipRatio)}:1.`,
  );
  print();
}

// --- workload 4: micro -----------------------------------------------------------

async function micro() {
  print('## 4. Hot-path micro-costs');
  print();
  const result = await new Promise((resolve, reject) => {
    const argv = [join(here, 'micro.mjs'), '--json', ...(QUICK ? ['--quick'] : [])];
    const [cmd, full] = PINNING
      ? ['taskset', ['-c', APP_CPU, process.execPath, ...argv]]
      : [process.execPath, argv];
    const child = spawn(cmd, full, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`micro exited ${code}: ${out}`));
      }
    });
  });
  json.micro = result;
  const { formatMicro } = await import('./micro.mjs');
  print(
    `One process pinned to CPU ${APP_CPU}, the built package. Each case: 2 warm-up rounds, then ${QUICK ? 5 : 9} timed rounds of N calls (process.hrtime.bigint around a plain loop); median round in ns per call, with the fastest and slowest round. Between rounds the event loop runs, so queued events are sent outside the timed loop (a fetch stub answers 200 at once): \`track()\` is what the caller pays, delivery is workload 3.`,
  );
  print();
  print(formatMicro(result));
  print();
}

// --- main ------------------------------------------------------------------------

/** dist/ is missing, or older than a source file: the bench must measure the current code. */
function distIsStale() {
  let built;
  try {
    built = statSync(join(root, 'dist/cjs/src/index.js')).mtimeMs;
  } catch {
    return true;
  }
  const newer = (dir) =>
    readdirSync(join(root, dir), { withFileTypes: true }).some((e) =>
      e.isDirectory()
        ? newer(join(dir, e.name))
        : e.name.endsWith('.ts') && statSync(join(root, dir, e.name)).mtimeMs > built,
    );
  return newer('src') || newer('adapters');
}

const started = performance.now();
try {
  if (!args.includes('--no-build') && (args.includes('--build') || distIsStale())) {
    process.stderr.write('building dist/ (npm run build) ...\n');
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  // Run from a private copy of dist/: a build started elsewhere meanwhile (tests
  // rebuild dist/) must not pull the package out from under a running app.
  const snapshot = join(outDir, 'dist');
  rmSync(snapshot, { recursive: true, force: true });
  cpSync(join(root, 'dist'), snapshot, { recursive: true });
  for (const entry of ['cjs/src/index.js', 'cjs/adapters/express.js', 'cjs/adapters/koa.js']) {
    statSync(join(snapshot, entry)); // throws if a concurrent build left dist/ half-written: rerun with --build
  }
  process.env.BENCH_DIST = snapshot;
  const m = machine();
  json.machine = m;
  print(`# ours-middleware benchmark run${QUICK ? ' (--quick)' : ''}`);
  print();
  print(
    `${json.startedAt} · ${m.nproc} CPUs (${m.model}) · ${m.memGiB} GiB · Node ${m.node} · taskset pinning: ${m.pinning ? 'yes' : 'no (taskset missing or 1 CPU)'} · command: \`node bench/run.mjs ${args.join(' ')}\``,
  );
  print();
  for (const w of workloads) {
    process.stderr.write(`workload ${w}\n`);
    if (w === 'overhead') await overhead();
    else if (w === 'parts') await parts();
    else if (w === 'slow-api') await slowApi();
    else if (w === 'delivery') await delivery();
    else if (w === 'micro') await micro();
    await sleep(200);
  }
  print(`Total time: ${f0((performance.now() - started) / 1000)} s.`);
} finally {
  await loadGen?.stop();
  mkdirSync(outDir, { recursive: true });
  const stamp = json.startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(outDir, `run-${stamp}.json`), JSON.stringify(json, null, 1));
  writeFileSync(join(outDir, `run-${stamp}.md`), md.join('\n') + '\n');
  writeFileSync(join(outDir, 'last-run.md'), md.join('\n') + '\n');
  process.stderr.write(`results: bench/.out/run-${stamp}.md (and .json)\n`);
}
