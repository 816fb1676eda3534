#!/usr/bin/env node
// CPU profile of one `parts` variant under the realistic load, to attribute a
// tracked request's cost per function (profiles hold up on a shared machine
// where wall-clock figures do not).
//
//   node bench/profile-parts.mjs <express|koa|fastify|node> <variant> [seconds] [outDir] [--gc]
//
// Runs bench/parts-app.mjs with PARTS_ONLY=<variant> and --cpu-prof, on the
// dist/ in BENCH_DIST (default: this checkout's dist/), under load for
// `seconds` (default 10) after a 2 s warm-up, and prints the top functions by
// self time. Summarise two profiles (old and new) side by side with
// `node bench/profile-summary.mjs a.cpuprofile b.cpuprofile`.
// --gc also runs the app with --trace-gc and prints its last young-generation
// GCs (scavenges): their mean pause and the heap left after them. Objects
// that outlive their request show there as a heap that grows from one
// scavenge to the next and pauses of several ms; CPU shares hide them in
// "(garbage collector)".
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_CPU, LOAD_CPU, startChild, sleep } from './lib/proc.mjs';
import { realisticRequests } from './user-agents.mjs';
import { summarise, formatSummary } from './profile-summary.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const GC = process.argv.includes('--gc');
const [framework = 'koa', variant = 'track', secondsArg = '10', outArg] = process.argv
  .slice(2)
  .filter((a) => a !== '--gc');
const seconds = Number(secondsArg);
const outDir = resolve(outArg ?? join(here, '.out', 'profiles'));
mkdirSync(outDir, { recursive: true });
const before = new Set(readdirSync(outDir));
const REQUESTS = realisticRequests().map((r) => ({
  method: 'GET',
  path: r.path,
  headers: r.headers,
}));

const sink = await startChild(join(here, 'sink.mjs'), [], { cpu: LOAD_CPU });
const load = await startChild(join(here, 'load.mjs'), [], { cpu: LOAD_CPU });
let app;
try {
  app = await startChild(
    join(here, 'parts-app.mjs'),
    [framework, `http://127.0.0.1:${sink.ready.port}`, '1000'],
    {
      cpu: APP_CPU,
      nodeArgs: [
        '--cpu-prof',
        `--cpu-prof-dir=${outDir}`,
        '--cpu-prof-interval=200',
        ...(GC ? ['--trace-gc'] : []),
      ],
      env: { PARTS_ONLY: variant },
    },
  );
  const base = { url: `http://127.0.0.1:${app.ready.port}`, requests: REQUESTS, connections: 16 };
  await load.ask('run', { ...base, durationS: 2 }, { timeoutMs: 60_000 });
  const run = await load.ask(
    'run',
    { ...base, durationS: seconds },
    { timeoutMs: (seconds + 60) * 1000 },
  );
  process.stderr.write(`${framework} ${variant}: ${Math.round(run.result.rps)} req/s\n`);
  await sleep(200);
  const sunk = await sink.ask('stats');
  // Events per API request: what batching made of the load (a delivery per request or per turn is a few).
  process.stderr.write(`sink: ${sunk.ours} events in ${sunk.requests} API requests\n`);
  if (GC) console.log(scavenges(app.log()));
} finally {
  await app?.stop(10_000);
  await load.stop();
  await sink.stop();
}
const written = readdirSync(outDir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
for (const f of written) {
  const path = join(outDir, f);
  console.log(path);
  console.log(formatSummary(summarise(path), 30));
}

/** The scavenges in the (last 8 kB of the) app's --trace-gc output: count, mean pause, mean heap after. */
function scavenges(log) {
  const rows = [...log.matchAll(/Scavenge [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, ([\d.]+)/g)];
  const mean = (i) => rows.reduce((sum, m) => sum + Number(m[i]), 0) / rows.length;
  return `last ${rows.length} scavenges: mean pause ${mean(2).toFixed(2)} ms, mean heap after ${mean(1).toFixed(1)} MB`;
}
