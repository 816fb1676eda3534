#!/usr/bin/env node
// Soak (issue 4): a long run at a steady request rate against an Express app
// with the middleware, in a child process, while the mock Ours API flaps
// between healthy and failing every 30 s (503, 429 + Retry-After, connections
// reset, hanging until the client's timeout, in turn). The app samples RSS,
// heap and event-loop delay every second. At the end the API stays healthy
// until every event is settled, and the run asserts: nothing lost (every
// request's event delivered, none failed or dropped) and no growth after
// warm-up (heap after GC at the end of each healthy phase, RSS per minute).
// The table goes to bench/RESULTS.md under "## Soak" (only that section).
//
//   node bench/soak.mjs                # 10 minutes (the full soak)
//   node bench/soak.mjs --minutes 3    # shorter
//   options: --rate <req/s> (200), --flap <s> (30), --warmup <min> (1), --no-write, --build
//
// Loopback only; every loop is bounded in count and time; the child is
// killed on any exit. Not part of `npm test`.
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const MINUTES = opt('minutes', 10);
const RATE = opt('rate', 200);
const FLAP_S = opt('flap', 30);
const WARMUP_MIN = opt('warmup', 1);
const WRITE = !args.includes('--no-write');
const TOKEN = 'soak-token-0123456789';
if (
  !(MINUTES >= 2) ||
  !(RATE > 0 && RATE <= 2000) ||
  !(FLAP_S >= 5) ||
  !(WARMUP_MIN >= 0 && WARMUP_MIN < MINUTES)
) {
  console.error(
    'usage: node bench/soak.mjs [--minutes N>=2] [--rate 1..2000] [--flap S>=5] [--warmup M<N] [--no-write] [--build]',
  );
  process.exit(2);
}

// --- the built package ---------------------------------------------------------
function newest(dir) {
  return readdirSync(dir).reduce((m, name) => {
    const p = join(dir, name);
    const s = statSync(p);
    return Math.max(m, s.isDirectory() ? newest(p) : s.mtimeMs);
  }, 0);
}
const built = join(root, 'dist/cjs/src/index.js');
const stale =
  !existsSync(built) ||
  statSync(built).mtimeMs < Math.max(newest(join(root, 'src')), newest(join(root, 'adapters')));
if (args.includes('--build') || !existsSync(built)) {
  console.log('building dist/ ...');
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
} else if (stale) {
  console.log('note: dist/ is older than src/; pass --build to soak the current source');
}
const { createMockOurs } = await import(join(root, 'dist/esm/testing.mjs'));

// --- the mock, flapping ----------------------------------------------------------
const mock = await createMockOurs({ token: TOKEN });
const FAILURES = [
  { name: '503', script: { status: 503, times: 'always' } },
  { name: '429 + Retry-After 5', script: { status: 429, retryAfter: 5, times: 'always' } },
  { name: 'connection reset', script: { drop: 'before-response', times: 'always' } },
  { name: 'hang until timeout', script: { hang: true, times: 'always' } },
];
const received = new Map(); // distinctId -> times accepted
const mockStatuses = {};
/** Moves what the mock recorded into our totals, so its lists stay small; then applies `script`. */
function rescript(script) {
  for (const e of mock.events) received.set(e.distinctId, (received.get(e.distinctId) ?? 0) + 1);
  for (const r of mock.requests)
    mockStatuses[r.status ?? 'none'] = (mockStatuses[r.status ?? 'none'] ?? 0) + 1;
  const violations = mock.violations.length;
  if (violations)
    console.error(`mock saw ${violations} contract violation(s): ${mock.violations[0].message}`);
  totals.violations += violations;
  mock.reset(); // same tick as the copy above: nothing recorded in between is lost
  if (script) mock.respondWith(script);
}

// --- the app ---------------------------------------------------------------------
const child = spawn(
  process.execPath,
  ['--expose-gc', join(here, 'soak-app.mjs'), mock.url, TOKEN],
  { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);
const killChild = () =>
  child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
process.on('exit', killChild);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
const waiters = new Map();
const samples = [];
const minuteEld = [];
const gcPoints = [];
child.on('message', (msg) => {
  if (msg.type === 'sample') samples.push(msg);
  else if (msg.type === 'minute') minuteEld[msg.index] = msg.eld;
  else if (msg.type === 'gc') gcPoints.push(msg);
  waiters.get(msg.type)?.(msg);
});
child.on('exit', (code, signal) => {
  if (!finished) {
    console.error(`the app exited early (${code ?? signal})`);
    process.exit(1);
  }
});
const next = (type, timeoutMs = 30_000) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no '${type}' from the app within ${timeoutMs} ms`)),
      timeoutMs,
    );
    waiters.set(type, (msg) => {
      clearTimeout(timer);
      waiters.delete(type);
      resolve(msg);
    });
  });
let finished = false;
const { port } = await next('ready');

// --- steady load -----------------------------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const totals = { sent: 0, ok: 0, bad: 0, skipped: 0, violations: 0 };
const okIds = new Set();
let inFlight = 0;
const latencies = []; // per minute: response times (ms)
const UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
function fire(id, minute) {
  inFlight++;
  totals.sent++;
  const started = performance.now();
  const req = request(
    {
      host: '127.0.0.1',
      port,
      path: `/t?id=${id}&utm_source=soak`,
      agent,
      headers: { 'user-agent': UA, cookie: `ours_device_id=v-${id % 5000}` },
    },
    (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        inFlight--;
        (latencies[minute] ??= []).push(performance.now() - started);
        if (res.statusCode === 200 && body === `ok:${id}`) {
          totals.ok++;
          okIds.add(String(id));
        } else totals.bad++;
      });
    },
  );
  req.on('error', () => {
    inFlight--;
    totals.bad++;
  });
  req.end();
}

const runMs = MINUTES * 60_000;
const total = Math.round((runMs / 1000) * RATE);
const phases = []; // { at, name }
console.log(
  `soak: ${MINUTES} min at ${RATE} req/s (${total} requests), API flapping every ${FLAP_S} s, app pid ${child.pid}, ${cpus().length} cores`,
);
const start = Date.now();
const startLoad = loadavg()[0]; // the 1-minute load average before the run: how quiet the machine was
let seq = 0;
let phase = -1;
let minute = 0;
await new Promise((resolve) => {
  const tick = setInterval(() => {
    const elapsed = Date.now() - start;
    const p = Math.floor(elapsed / (FLAP_S * 1000));
    if (p !== phase && elapsed < runMs) {
      phase = p;
      const failing = p % 2 === 1;
      const failure = FAILURES[Math.floor(p / 2) % FAILURES.length];
      phases.push({ at: elapsed, name: failing ? failure.name : 'healthy' });
      // End of a healthy phase: heap after a full GC, a flat line if nothing leaks.
      if (failing)
        child.send({ type: 'gc', tag: `before phase ${p} (t=${Math.round(elapsed / 1000)} s)` });
      rescript(failing ? failure.script : undefined);
      console.log(
        `  t=${String(Math.round(elapsed / 1000)).padStart(4)} s  API ${failing ? `failing: ${failure.name}` : 'healthy'}  sent ${totals.sent}, in flight ${inFlight}`,
      );
    }
    const m = Math.min(Math.floor(elapsed / 60_000), MINUTES);
    if (m !== minute) {
      child.send({ type: 'minute', index: minute }); // the app's histogram of the minute that ended
      minute = m;
    }
    const due = Math.min(total, Math.floor((elapsed / 1000) * RATE));
    while (seq < due) {
      if (inFlight >= 256) {
        totals.skipped += due - seq; // the app stopped answering: counted, and it fails the run
        seq = due;
        break;
      }
      fire(seq++, Math.min(minute, MINUTES - 1));
    }
    if (elapsed >= runMs + 200) {
      clearInterval(tick);
      resolve();
    }
  }, 5);
});
for (let i = 0; i < 500 && minuteEld[MINUTES - 1] === undefined; i++)
  await new Promise((r) => setTimeout(r, 20));

// --- drain with the API healthy, then check ------------------------------------
rescript(undefined);
const settle = Date.now();
while (inFlight > 0 && Date.now() - settle < 30_000) await new Promise((r) => setTimeout(r, 50));
child.send({ type: 'drain', timeoutMs: 180_000 });
const drained = await next('drained', 200_000);
const drainS = ((Date.now() - settle) / 1000).toFixed(1);
await new Promise((r) => setTimeout(r, 200));
rescript(undefined);
child.send({ type: 'gc', tag: 'after the final drain' });
await next('gc');
finished = true;
child.send({ type: 'stop' });
const stopped = await next('stopped', 20_000);
await new Promise((r) =>
  child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r),
);
agent.destroy();
await mock.close();

// --- report --------------------------------------------------------------------
const MB = (b) => (b / 1048576).toFixed(1);
const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);
const pct = (list, p) => {
  const s = [...list].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] : 0;
};
const rows = [];
for (let m = 0; m < MINUTES; m++) {
  const inMin = samples.filter(
    (s) => s.at - start >= m * 60_000 && s.at - start < (m + 1) * 60_000,
  );
  if (!inMin.length) continue;
  const last = inMin[inMin.length - 1].stats;
  const e = minuteEld[m] ?? { p50: 0, p99: 0, max: 0 };
  const lat = latencies[m] ?? [];
  const api = phases
    .filter((ph) => ph.at < (m + 1) * 60_000 && ph.at >= m * 60_000 - FLAP_S * 1000 + 1)
    .map((ph) => ph.name);
  rows.push({
    m: m + 1,
    api: [...new Set(api)].join(', '),
    rssMin: Math.min(...inMin.map((s) => s.rss)),
    rssMax: Math.max(...inMin.map((s) => s.rss)),
    eld: e,
    respP99: pct(lat, 99),
    respMax: Math.max(0, ...lat),
    stats: last,
    maxHeld: Math.max(...inMin.map((s) => s.stats.queued + s.stats.inFlight)),
  });
}
const final = drained.stats;
const missing = [...okIds].filter((id) => !received.has(id));
const duplicates = [...received.values()].filter((n) => n > 1).length;
const warmupMs = WARMUP_MIN * 60_000;
const healthyEnds = gcPoints.filter(
  (g) => /before phase/.test(g.tag) && Number(/t=(\d+)/.exec(g.tag)[1]) * 1000 >= warmupMs,
);
const firstPost = rows.find((r) => r.m > WARMUP_MIN);
const lastRow = rows[rows.length - 1];
const heapFirst = healthyEnds[0]?.heapUsed;
const heapLast = healthyEnds[healthyEnds.length - 1]?.heapUsed;
const checks = [
  [
    'every request answered 200 by the app',
    totals.ok === total && totals.bad === 0 && totals.skipped === 0,
    `${totals.ok}/${total} ok, ${totals.bad} bad, ${totals.skipped} skipped`,
  ],
  ['tracked = requests', final.tracked === totals.ok, `${final.tracked} tracked`],
  [
    'nothing lost: delivered = tracked, none failed or dropped',
    final.delivered === final.tracked && final.failed === 0 && final.dropped === 0,
    `delivered ${final.delivered}, failed ${final.failed}, dropped ${final.dropped}`,
  ],
  [
    'every event at the mock',
    missing.length === 0,
    `${received.size} distinct received, ${missing.length} missing, ${duplicates} duplicated`,
  ],
  ['no contract violation', totals.violations === 0, `${totals.violations}`],
  [
    `no heap growth after warm-up (heap after GC at the end of healthy phases, t >= ${WARMUP_MIN} min)`,
    heapFirst === undefined || heapLast <= heapFirst * 1.25 + 4 * 1048576,
    healthyEnds.map((g) => `${MB(g.heapUsed)}`).join(' → ') + ' MB',
  ],
  [
    'no RSS growth after warm-up (last minute max vs first minute after warm-up)',
    !firstPost || lastRow.rssMax <= firstPost.rssMax * 1.2 + 16 * 1048576,
    firstPost ? `${MB(firstPost.rssMax)} → ${MB(lastRow.rssMax)} MB` : 'n/a',
  ],
];
const ok = checks.every(([, pass]) => pass);

const lines = [
  '## Soak',
  '',
  `Run by \`node bench/soak.mjs --minutes ${MINUTES}\` on ${new Date(start).toISOString().slice(0, 10)} (Node ${process.versions.node}, ${cpus().length} cores, 1-minute load average ${startLoad.toFixed(2)} at the start).`,
  `The full soak is 10 minutes: \`node bench/soak.mjs\` (options: \`--minutes N\`, \`--rate R\`, \`--flap S\`, \`--warmup M\`, \`--no-write\`, \`--build\`). Not part of \`npm test\`.`,
  '',
  `An Express 5 app with \`ours({ client })\` (the built package, client on its defaults: backoff 2 s doubling to 60 s, 10 attempts, 10 s timeout) in a child process takes a steady ${RATE} req/s, each tracking one event, while the mock API flaps every ${FLAP_S} s between healthy and failing, the failure changing each time: ${FAILURES.map((x) => x.name).join(', ')}. The app samples RSS and event-loop delay (\`monitorEventLoopDelay\`, 10 ms resolution, the resolution subtracted) every second. After the last minute the API stays healthy until every event is settled (${drainS} s here), then the checks run.`,
  '',
  '| min | API during the minute | RSS min / max (MB) | ELD p50 / p99 / max (ms) | app response p99 / max (ms) | tracked | delivered | failed | dropped | held at most |',
  '| --: | --- | --: | --: | --: | --: | --: | --: | --: | --: |',
  ...rows.map(
    (r) =>
      `| ${r.m} | ${r.api} | ${MB(r.rssMin)} / ${MB(r.rssMax)} | ${f2(r.eld.p50)} / ${f2(r.eld.p99)} / ${f1(r.eld.max)} | ${f1(r.respP99)} / ${f1(r.respMax)} | ${r.stats.tracked} | ${r.stats.delivered} | ${r.stats.failed} | ${r.stats.dropped} | ${r.maxHeld} |`,
  ),
  `| end | healthy (drain) | | | | ${final.tracked} | ${final.delivered} | ${final.failed} | ${final.dropped} | ${final.queued + final.inFlight} |`,
  '',
  `Counters are cumulative at the end of each minute. Mock answers: ${Object.entries(mockStatuses)
    .map(([s, n]) => `${s === 'none' ? 'no answer' : s} × ${n}`)
    .join(
      ', ',
    )}. Client log lines (rate-limited): ${drained.logged.warn} warnings, ${drained.logged.error} errors. Heap after GC at the end of each healthy phase: ${gcPoints
    .filter((g) => /before phase/.test(g.tag))
    .map((g) => MB(g.heapUsed))
    .join(', ')} MB; after the final drain ${MB(gcPoints[gcPoints.length - 1].heapUsed)} MB.`,
  '',
  `Result: **${ok ? 'pass' : 'FAIL'}**`,
  '',
  ...checks.map(([name, pass, detail]) => `- ${pass ? 'pass' : 'FAIL'}: ${name} (${detail})`),
  '',
];
const section = lines.join('\n');
console.log(`\n${section}`);
if (stopped.stats.tracked !== final.tracked)
  console.error('warning: events tracked after the drain');

if (WRITE) {
  const file = join(here, 'RESULTS.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n\n';
  const startAt = text.search(/^## Soak\s*$/m);
  let out;
  if (startAt === -1) out = `${text.replace(/\n*$/, '\n\n')}${section}`;
  else {
    const rest = text.slice(startAt + 1);
    const nextAt = rest.search(/^## /m);
    out = text.slice(0, startAt) + section + (nextAt === -1 ? '' : `\n${rest.slice(nextAt)}`);
  }
  const tmp = `${file}.soak-${process.pid}`;
  writeFileSync(tmp, out);
  renameSync(tmp, file); // replaced whole, never half-written
  console.log(`wrote the Soak section of ${file}`);
}
process.exit(ok ? 0 : 1);
