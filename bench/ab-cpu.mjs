// CPU time per call of the client's and the request reader's hot paths, for
// A/B pairs of two builds on a loaded machine: each case is a fixed number of
// calls timed with process.cpuUsage() (this thread's CPU, not wall time, so
// other processes' load moves it less), median of rounds.
//   BENCH_DIST=/tmp/old/dist node bench/ab-cpu.mjs; node bench/ab-cpu.mjs
import { createRequire } from 'node:module';
import { setImmediate as tick } from 'node:timers/promises';
import { realisticRequests } from './user-agents.mjs';
import { answerAtOnce } from './lib/fetch-stub.mjs';
import { Source } from './lib/source.mjs';
import { backendEvent } from './lib/backend-event.mjs';

const require = createRequire(import.meta.url);
const DIST = process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname;
const { OursClient } = require(DIST + '/cjs/src/index.js');
const { extractContext } = require(DIST + '/cjs/src/request/extract-context.js');
const ROUNDS = 9;

/** Median CPU µs per call over ROUNDS rounds of n calls (2 warm-up rounds first). */
async function cpuPerCall(n, body, between) {
  const rounds = [];
  for (let r = -2; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) body(i);
    const c = process.cpuUsage(c0);
    if (r >= 0) rounds.push((c.user + c.system) / n);
    await between?.();
    await tick();
  }
  return rounds.sort((a, b) => a - b)[rounds.length >> 1];
}

const requests = realisticRequests().map((r) => new Source(r));
const extractOptions = { cookieName: 'ours_device_id', collectIp: true, ipResolver: (s) => s.ip() };
const context = extractContext(requests[0], extractOptions, Date.now());
const page = {
  event: 'Page Viewed',
  userId: context.userId,
  eventProperties: { plan: 'pro' },
  defaultProperties: context.defaultProperties,
  identityContext: context.identityContext,
};

const client = new OursClient({
  token: 'bench-token',
  apiUrl: 'http://127.0.0.1:9/api/v1',
  fetch: answerAtOnce,
  logger: false,
  maxQueueSize: 1e6,
});
const out = {};
out.extractContextCachedUs = await cpuPerCall(20_000, (i) =>
  extractContext(requests[i % requests.length], extractOptions, Date.now()),
);
out.trackBackendUs = await cpuPerCall(
  20_000,
  (i) => client.track(backendEvent(i)),
  () => client.flush(),
);
out.trackPageUs = await cpuPerCall(
  20_000,
  () => client.track(page),
  () => client.flush(),
);
await client.shutdown();
console.log(
  JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, +v.toFixed(3)]))),
);
