// What a durable store costs, against the memory store, measured in one run:
//
//   1. HTTP overhead: an Express 5 app that tracks one event per request
//      (`req.ours.track`), loaded by autocannon, once per store, in
//      interleaved rounds (the order rotates each round). Two API conditions:
//      `fast` answers at once (most events are delivered, and acked, before
//      their write window: little reaches the disk) and `slow` answers after
//      300 ms (every event outlives its window: all of them are written).
//   2. Delivery throughput: one process tracks a burst of events and awaits
//      flush() against the fast API; events per second.
//
// Stores: memory, file (fsync per window, the default), file-nofsync, redis
// (a local redis-server on loopback). Uses the BUILT package: `npm run build`.
//
//   node bench/stores.mjs [--rounds 5] [--seconds 5] [--events 50000] [--out bench/STORES.md]
//
// Processes: the app (or the delivering client) runs alone on CPU 0; autocannon
// (this process), the sinks and redis-server share CPU 1 (taskset, when there).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { neighbours } from './lib/phases.mjs';

const require = createRequire(import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, '../..');
const TOKEN = 'bench-token';
const STORES = ['memory', 'file', 'file-nofsync', 'redis'];
/** The stores of the in-process A/B section. */
const AB = ['memory', 'file', 'redis'];
/**
 * The build under test, copied once at the start so that a rebuild of dist/
 * during the run (npm test does one) cannot pull it away. Inside node_modules,
 * so that the copy still resolves the package's dependencies.
 */
const DIST =
  process.env.OURS_BENCH_DIST ??
  join(ROOT, 'node_modules/.cache/ours-stores-bench', String(process.pid));
const [role, ...rest] = process.argv.slice(2);
const flags = process.argv.slice(2);

// --- the store under test (app and deliver roles) --------------------------------

function makeClient({ store, sink, redisPort, dir }) {
  const core = require(join(DIST, 'cjs/src/index.js'));
  let redis;
  let made;
  if (store === 'file') made = core.fileStore({ dir });
  else if (store === 'file-nofsync') made = core.fileStore({ dir, fsync: false });
  else if (store === 'redis') {
    const Redis = require('ioredis');
    redis = new Redis({ host: '127.0.0.1', port: redisPort });
    made = core.redisStore({ redis, stream: `bench:${process.pid}` });
  }
  const client = new core.OursClient({
    token: TOKEN,
    apiUrl: `${sink}/api/v1`,
    logger: false,
    store: made,
  });
  let errors = 0;
  client.on('error', () => errors++);
  const close = async () => {
    const report = await client.shutdown({ timeoutMs: 30_000 });
    redis?.disconnect();
    return { report, stats: client.stats(), errors };
  };
  return { client, close };
}

async function appRole([store, sink, redisPort, dir]) {
  const express = require('express');
  const { ours } = require(join(DIST, 'cjs/adapters/express.js'));
  const { client, close } = makeClient({ store, sink, redisPort: Number(redisPort), dir });
  const app = express();
  app.use(ours({ client }));
  let handled = 0;
  app.get('/', (req, res) => {
    handled++;
    req.ours.track('Page Viewed', { plan: 'pro', section: 'home' });
    res.send('Hello World!');
  });
  const server = app.listen(0, '127.0.0.1');
  server.keepAliveTimeout = 60_000;
  await once(server, 'listening');
  let cpu = process.cpuUsage();
  let mark = 0;
  process.on('message', async (msg) => {
    if (msg === 'mark') {
      cpu = process.cpuUsage();
      mark = handled;
      process.send({ type: 'mark' });
    } else if (msg === 'finish') {
      const used = process.cpuUsage(cpu);
      const requests = handled - mark;
      server.close();
      server.closeAllConnections();
      const closed = await close();
      process.send({
        type: 'finish',
        cpuUsPerRequest: (used.user + used.system) / requests,
        ...closed,
      });
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: server.address().port });
}

async function deliverRole([store, sink, redisPort, dir, events]) {
  const { client, close } = makeClient({ store, sink, redisPort: Number(redisPort), dir });
  const n = Number(events);
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the store open
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    client.track({ event: 'Burst', userId: `u-${i % 1000}`, eventProperties: { plan: 'pro', i } });
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  const report = await client.flush();
  const ms = performance.now() - started;
  const closed = await close();
  process.send({ type: 'finish', eventsPerSecond: (report.delivered / ms) * 1000, ...closed });
  process.exit(0);
}

/** The API: 200 to everything, after `delayMs`. */
async function sinkRole([delayMs]) {
  let events = 0;
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      events++;
      setTimeout(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}'),
        Number(delayMs),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
  process.on('message', () => process.send({ type: 'count', events }));
}

// --- A/B in one process: the same app switches store every phase ---------------------

/**
 * One Express app with one client per store; a dispatcher sends each request
 * through the middleware of the store of the current phase. The orchestrator
 * switches phase every `phaseMs` while autocannon runs without a break, so
 * each store's phases sit between the others' and share their conditions
 * (this VM's CPU is shared and its speed drifts by tens of percent).
 */
async function abRole([sink, redisPort, dir]) {
  const express = require('express');
  const { ours } = require(join(DIST, 'cjs/adapters/express.js'));
  const made = Object.fromEntries(
    AB.map((store) => [
      store,
      makeClient({ store, sink, redisPort: Number(redisPort), dir: join(dir, store) }),
    ]),
  );
  const middleware = Object.fromEntries(
    AB.map((store) => [store, ours({ client: made[store].client })]),
  );
  let current = AB[0];
  let handled = 0;
  const app = express();
  app.use((req, res, next) => middleware[current](req, res, next));
  app.get('/', (req, res) => {
    handled++;
    req.ours.track('Page Viewed', { plan: 'pro', section: 'home' });
    res.send('Hello World!');
  });
  const server = app.listen(0, '127.0.0.1');
  server.keepAliveTimeout = 60_000;
  await once(server, 'listening');
  let cpu = process.cpuUsage();
  let mark = 0;
  process.on('message', async (msg) => {
    if (msg.type === 'phase') {
      const used = process.cpuUsage(cpu);
      process.send({
        type: 'phase',
        store: current,
        requests: handled - mark,
        cpuUs: used.user + used.system,
      });
      current = msg.store;
      cpu = process.cpuUsage();
      mark = handled;
    } else if (msg.type === 'finish') {
      server.close();
      server.closeAllConnections();
      const closed = await Promise.all(AB.map((store) => made[store].close()));
      process.send({
        type: 'finish',
        lost: closed.reduce((n, c) => n + c.stats.tracked - c.stats.delivered, 0),
      });
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: server.address().port });
}

/**
 * Each phase of a durable store against the memory phases just before and
 * after it (their mean): the drift of the machine over a few seconds cancels.
 */
function pairedRatios(sequence) {
  const ratios = {};
  sequence.forEach(([store, us], i) => {
    if (store === 'memory') return;
    const near = neighbours(sequence, i, ([s]) => s === 'memory').map(([, m]) => m);
    if (near.length)
      (ratios[store] ??= []).push(us / (near.reduce((a, b) => a + b, 0) / near.length));
  });
  return ratios;
}

async function abSection(sinks, redisPort, phases, phaseMs) {
  const autocannon = require('autocannon');
  const result = {};
  for (const cond of ['fast', 'slow']) {
    const dir = mkdtempSync(join(tmpdir(), 'ours-bench-'));
    const { child, ready } = await node('0', ['ab', sinks[cond], String(redisPort), dir]);
    const load = autocannon({
      url: `http://127.0.0.1:${ready.port}/`,
      connections: 10,
      headers: HEADERS,
      duration: Math.ceil((phases * AB.length * phaseMs) / 1000) + 5,
    });
    await new Promise((resolve) => setTimeout(resolve, 2000)); // warm-up, in phase AB[0], discarded
    const runs = Object.fromEntries(AB.map((store) => [store, []]));
    const sequence = []; // [store, µs/request] of every phase, in order
    for (let p = 0; p < phases * AB.length; p++) {
      // The order within each cycle rotates, so that no store always follows the same one.
      const cycle = Math.floor(p / AB.length);
      const store = AB[(p + cycle) % AB.length];
      child.send({ type: 'phase', store });
      const ended = await nextMessage(child, 'phase');
      if (p > 0) sequence.push([ended.store, ended.cpuUs / ended.requests]);
      await new Promise((resolve) => setTimeout(resolve, phaseMs));
    }
    child.send({ type: 'phase', store: AB[0] });
    const last = await nextMessage(child, 'phase');
    sequence.push([last.store, last.cpuUs / last.requests]);
    for (const [store, us] of sequence) runs[store].push(us);
    load.stop?.();
    child.send({ type: 'finish' });
    const { lost } = await nextMessage(child, 'finish');
    await load;
    rmSync(dir, { recursive: true, force: true });
    result[cond] = { runs, paired: pairedRatios(sequence), lost };
    for (const store of AB)
      console.error(
        `ab ${cond} ${store}: median ${median(runs[store]).toFixed(1)} µs CPU/req over ${runs[store].length} phases${result[cond].paired[store] ? `, paired × memory ${quartiles(result[cond].paired[store])}` : ''}`,
      );
  }
  return result;
}

// --- the orchestrator ---------------------------------------------------------------

const PIN = spawnSync('taskset', ['-c', '0', 'true']).status === 0 && cpus().length >= 2;
const children = new Set();
process.on('exit', () => {
  children.forEach((c) => c.kill('SIGKILL'));
  if (!process.env.OURS_BENCH_DIST) rmSync(DIST, { recursive: true, force: true });
});

function start(cpu, cmd, args, { ipc = true, stderr = 'inherit' } = {}) {
  const [file, argv] = PIN ? ['taskset', ['-c', cpu, cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, {
    stdio: ['ignore', 'pipe', stderr, ...(ipc ? ['ipc'] : [])],
    env: { ...process.env, OURS_BENCH_DIST: DIST },
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

const nextMessage = (child, type) =>
  new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`child exited (${code}) before '${type}'`));
    const onMessage = (msg) => {
      if (msg.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(msg);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });

async function node(cpu, args) {
  const child = start(cpu, process.execPath, [SELF, ...args]);
  return { child, ready: await nextMessage(child, 'ready') };
}

async function redisServer() {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  const child = start(
    '1',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { ipc: false },
  );
  let out = '';
  for await (const chunk of child.stdout) if ((out += chunk).includes('Ready to accept')) break;
  return port;
}

function option(name, fallback) {
  const i = flags.indexOf(`--${name}`);
  return i === -1 ? fallback : flags[i + 1];
}

/** A returning browser visitor: the visitor cookie (the event's userId), a real UA, a referrer. */
const HEADERS = {
  cookie: 'ours_device_id=3f0c8a52-8d0e-4b7a-9a3e-2f6c1d7b9e41; theme=dark',
  'user-agent':
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  referer: 'https://www.example.com/pricing?utm_source=newsletter&utm_medium=email',
  'accept-language': 'en-US,en;q=0.9',
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Median and quartiles, e.g. `1.012 (0.980–1.041)`. */
function quartiles(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `${at(0.5).toFixed(3)} (${at(0.25).toFixed(3)}–${at(0.75).toFixed(3)})`;
}
/** Median ratio and the range over rounds, e.g. `1.012 (0.951–1.080)`. */
const spread = (xs) =>
  `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;

async function httpRound(store, sink, redisPort, seconds) {
  const autocannon = require('autocannon');
  const dir = mkdtempSync(join(tmpdir(), 'ours-bench-'));
  const { child, ready } = await node('0', ['app', store, sink, String(redisPort), dir]);
  const url = `http://127.0.0.1:${ready.port}/`;
  const load = { url, connections: 10, headers: HEADERS };
  await autocannon({ ...load, duration: 1 }); // warm-up
  child.send('mark');
  await nextMessage(child, 'mark');
  const result = await autocannon({ ...load, duration: seconds });
  child.send('finish');
  const finish = await nextMessage(child, 'finish');
  rmSync(dir, { recursive: true, force: true });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    cpu: finish.cpuUsPerRequest,
    lost: finish.stats.tracked - finish.stats.delivered,
    errors: finish.errors,
  };
}

async function deliverRound(store, sink, redisPort, events) {
  const dir = mkdtempSync(join(tmpdir(), 'ours-bench-'));
  const child = start('0', process.execPath, [
    SELF,
    'deliver',
    store,
    sink,
    String(redisPort),
    dir,
    String(events),
  ]);
  const finish = await nextMessage(child, 'finish');
  rmSync(dir, { recursive: true, force: true });
  return {
    eps: finish.eventsPerSecond,
    lost: finish.stats.tracked - finish.stats.delivered,
    errors: finish.errors,
  };
}

/**
 * User-space instructions the app executes for `amount` requests (callgrind
 * counts them, whatever else the machine is doing; kernel work such as write
 * and fsync is not counted). Startup, warm-up and shutdown cancel out in the
 * difference of two amounts.
 */
async function instructionsRun(store, sink, redisPort, amount) {
  const autocannon = require('autocannon');
  const dir = mkdtempSync(join(tmpdir(), 'ours-bench-'));
  const child = start(
    store === 'memory' ? '0' : '1',
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      SELF,
      'app',
      store,
      sink,
      String(redisPort),
      dir,
    ],
    { stderr: 'pipe' },
  );
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  const exited = once(child, 'exit');
  const ready = await nextMessage(child, 'ready');
  await autocannon({
    url: `http://127.0.0.1:${ready.port}/`,
    connections: 4,
    amount,
    headers: HEADERS,
    timeout: 120,
  });
  child.send('finish');
  const finish = await nextMessage(child, 'finish');
  await exited;
  rmSync(dir, { recursive: true, force: true });
  const collected = /Collected : (\d+)/.exec(log);
  if (!collected) throw new Error(`no instruction count from callgrind:\n${log.slice(-2000)}`);
  return {
    instructions: Number(collected[1]),
    lost: finish.stats.tracked - finish.stats.delivered,
  };
}

/** memory against file, under both APIs; two callgrind runs at a time (one per core), each A/B pair together. */
const COUNTED = ['memory', 'file'];

async function instructionsSection(sinks, redisPort, [small, large]) {
  const result = { fast: {}, slow: {} };
  for (const cond of ['fast', 'slow']) {
    for (const amount of [small, large]) {
      const runs = await Promise.all(
        COUNTED.map((store) => instructionsRun(store, sinks[cond], redisPort, amount)),
      );
      COUNTED.forEach((store, i) => ((result[cond][store] ??= {})[amount] = runs[i]));
    }
    for (const store of COUNTED) {
      const { [small]: a, [large]: b } = result[cond][store];
      result[cond][store] = {
        perRequest: (b.instructions - a.instructions) / (large - small),
        lost: a.lost + b.lost,
      };
      console.error(
        `instructions ${cond} ${store}: ${result[cond][store].perRequest.toFixed(0)} per request`,
      );
    }
  }
  return result;
}

async function main() {
  if (!existsSync(join(ROOT, 'dist/cjs/src/index.js')))
    throw new Error('no build: run `npm run build` first');
  cpSync(join(ROOT, 'dist'), DIST, { recursive: true });
  const rounds = Number(option('rounds', 5));
  const seconds = Number(option('seconds', 5));
  const events = Number(option('events', 50_000));
  const out = option('out', join(ROOT, 'bench/STORES.md'));
  const redisPort = await redisServer();
  const sinks = {};
  for (const [name, delay] of [
    ['fast', 0],
    ['slow', 300],
  ])
    sinks[name] = `http://127.0.0.1:${(await node('1', ['sink', String(delay)])).ready.port}`;
  const sections = option('sections', 'ab,http,deliver,instructions').split(',');
  const amounts = option('instructions', '300,1200');
  const phases = Number(option('ab-phases', 10));
  const phaseMs = Number(option('ab-phase-ms', 2000));
  const ab = sections.includes('ab')
    ? await abSection(sinks, redisPort, phases, phaseMs)
    : undefined;
  const http = { fast: {}, slow: {} };
  const deliver = {};
  for (let r = 0; r < rounds && (sections.includes('http') || sections.includes('deliver')); r++) {
    const order = STORES.map((_, i) => STORES[(i + r) % STORES.length]);
    for (const cond of sections.includes('http') ? ['fast', 'slow'] : []) {
      for (const store of order) {
        const res = await httpRound(store, sinks[cond], redisPort, seconds);
        (http[cond][store] ??= []).push(res);
        console.error(
          `round ${r + 1} ${cond} ${store}: ${res.rps.toFixed(0)} req/s, ${res.cpu.toFixed(1)} µs CPU/req, p99 ${res.p99} ms, lost ${res.lost}, errors ${res.errors}`,
        );
      }
    }
    for (const store of sections.includes('deliver') ? order : []) {
      const res = await deliverRound(store, sinks.fast, redisPort, events);
      (deliver[store] ??= []).push(res);
      console.error(
        `round ${r + 1} deliver ${store}: ${res.eps.toFixed(0)} events/s, lost ${res.lost}, errors ${res.errors}`,
      );
    }
  }
  const instructions = sections.includes('instructions')
    ? await instructionsSection(sinks, redisPort, amounts.split(',').map(Number))
    : undefined;
  const command = `node bench/stores.mjs ${process.argv.slice(2).join(' ')}`.trim();
  writeFileSync(
    out,
    report({
      command,
      rounds,
      seconds,
      events,
      ab,
      phases,
      phaseMs,
      http: sections.includes('http') ? http : undefined,
      deliver: sections.includes('deliver') ? deliver : undefined,
      instructions,
      amounts,
    }),
  );
  console.error(`wrote ${out}`);
  process.exit(0);
}

const LABEL = { fast: 'answers at once', slow: 'answers in 300 ms' };

function report({
  command,
  rounds,
  seconds,
  events,
  ab,
  phases,
  phaseMs,
  http,
  deliver,
  instructions,
  amounts,
}) {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const redisVersion =
    spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2] ??
    '?';
  const lines = [
    '# Durable stores: cost against the memory store',
    '',
    `Machine: ${cpus().length} × ${cpu} (a shared VM: its speed drifts by tens of percent from one minute to the next), Node ${process.version}, redis-server ${redisVersion.replace('v=', '')} on loopback; ${PIN ? 'app on CPU 0, load, sinks and redis-server on CPU 1 (taskset)' : 'no CPU pinning'}.`,
    `Command: \`npm run build && ${command}\` (${new Date().toISOString().slice(0, 10)}). The app is Express 5 with the middleware, tracking one event per request with the default options; the "API" is a local sink that answers 200 at once (\`fast\`) or after 300 ms (\`slow\`: every event outlives its write window, so all of them reach the disk or Redis).`,
  ];
  if (ab) {
    lines.push(
      '',
      '## HTTP overhead, A/B in one process (the headline number)',
      '',
      `One app process holds one client per store; requests go through the store of the current phase, which changes every ${phaseMs / 1000} s (${phases} phases per store, order rotated, the first discarded) while autocannon (10 connections) runs without a break. CPU is the app process's user+system time per request in the phase, the store's background work (writes, fsync, acks, delivery) included. Each phase of a durable store is compared with the memory phases just before and after it, so that the machine's drift cancels; the median of those ratios, and its quartiles, over ${phases} phases.`,
      '',
      '| API | store | CPU µs/request (median of phases) | × memory, paired (median, quartiles) |',
      '| --- | --- | ---: | ---: |',
    );
    for (const cond of ['fast', 'slow']) {
      for (const store of AB) {
        const m = median(ab[cond].runs[store]);
        const paired = ab[cond].paired[store];
        lines.push(
          `| ${LABEL[cond]} | ${store} | ${m.toFixed(1)} | ${paired ? quartiles(paired) : '1'} |`,
        );
      }
    }
    lines.push(
      '',
      `Events lost (tracked minus delivered after shutdown, all three clients): ${ab.fast.lost} with the fast API, ${ab.slow.lost} with the slow one.`,
    );
  }
  if (http) {
    lines.push(
      '',
      '## HTTP overhead, one process per store',
      '',
      `autocannon, 10 connections, ${seconds} s per run after 1 s of warm-up; ${rounds} interleaved rounds (order rotated each round). Ratios are per round against the memory store of the same round: the median, and in brackets the lowest and highest round. On this shared VM the spread is wide: read the A/B table above for the cost.`,
      '',
      '| API | store | req/s | × memory (range) | CPU µs/req | × memory (range) | p99 ms | events lost |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const cond of ['fast', 'slow']) {
      const base = http[cond].memory;
      for (const store of STORES) {
        const runs = http[cond][store];
        const rpsRatio = spread(runs.map((x, i) => x.rps / base[i].rps));
        const cpuRatio = spread(runs.map((x, i) => x.cpu / base[i].cpu));
        lines.push(
          `| ${LABEL[cond]} | ${store} | ${median(runs.map((x) => x.rps)).toFixed(0)} | ${rpsRatio} | ${median(runs.map((x) => x.cpu)).toFixed(1)} | ${cpuRatio} | ${median(runs.map((x) => x.p99))} | ${runs.reduce((n, x) => n + x.lost, 0)} |`,
        );
      }
    }
  }
  if (deliver) {
    lines.push(
      '',
      `## Delivery throughput: a burst of ${events} events, then flush(), fast API`,
      '',
      `${rounds} interleaved rounds; the client with default options (4 requests in flight, 500 events each).`,
      '',
      '| store | events/s | × memory (range) | events lost |',
      '| --- | ---: | ---: | ---: |',
    );
    for (const store of STORES) {
      const runs = deliver[store];
      const ratio = spread(runs.map((x, i) => x.eps / deliver.memory[i].eps));
      lines.push(
        `| ${store} | ${median(runs.map((x) => x.eps)).toFixed(0)} | ${ratio} | ${runs.reduce((n, x) => n + x.lost, 0)} |`,
      );
    }
  }
  if (instructions) {
    const [small, large] = amounts.split(',').map(Number);
    lines.push(
      '',
      '## HTTP overhead in instructions (callgrind)',
      '',
      `valgrind --tool=callgrind on the app process; (instructions for ${large} requests − for ${small}) / ${large - small}, so startup and shutdown cancel out. User-space only (the kernel's write and fsync are not in it) and blind to other load. An upper bound for the durable store: under callgrind the app runs some 50 times slower, so each 100 ms write window holds one or two requests instead of a hundred, and the per-window work (a write, an fdatasync, an ack write) is counted per request.`,
      '',
      '| API | store | instructions/request | × memory | events lost |',
      '| --- | --- | ---: | ---: | ---: |',
    );
    for (const cond of ['fast', 'slow']) {
      for (const store of COUNTED) {
        const x = instructions[cond][store];
        lines.push(
          `| ${LABEL[cond]} | ${store} | ${x.perRequest.toFixed(0)} | ${(x.perRequest / instructions[cond].memory.perRequest).toFixed(3)} | ${x.lost} |`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const roles = { app: appRole, ab: abRole, deliver: deliverRole, sink: sinkRole };
(roles[role] ?? main)(rest).catch((err) => {
  console.error(err);
  process.exit(1);
});
