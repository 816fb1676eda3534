// Server-side experiments (issue 16): what `req.ours.experiment(key)` costs
// the request that awaits it, on the BUILT package (dist/cjs), against the
// package's own mock API on loopback, in one process. Run with
// `node --expose-gc bench/experiments.mjs [--quick]` (about 30 s; 10 s with --quick).
//
// Each call is timed alone (performance.now() before the call and after its
// promise resolves) and the table gives p50 / p99 / max over the calls:
//   warm cache          the answer is cached: a new request's tracker (its
//                       context extracted on first use, as track() would) asks again
//   warm, same request  a second call in one request (context already read)
//   cold cache, 20 ms   each call a new visitor, the mock answers after 20 ms
//   API hung, budget    the mock never answers: each call on a fresh client
//                       (closed circuit) waits out the 150 ms budget
//   API hung, circuit   the calls after that one: the circuit is open, no request
// Then the cache's memory: heap per entry with 10,000 realistic entries.
import { createRequire } from 'node:module';
import { Source } from './lib/source.mjs';

const require = createRequire(import.meta.url);
const DIST = process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname;
const { OursClient } = require(DIST + '/cjs/src/index.js');
const { resolveMiddlewareConfig } = require(DIST + '/cjs/src/request/middleware-config.js');
const { nodeResponse } = require(DIST + '/cjs/src/request/node-response.js');
const { RequestTracker } = require(DIST + '/cjs/src/request/tracker.js');
const { Experiments } = require(DIST + '/cjs/src/experiments/experiments.js');
const { resolveExperimentOptions } = require(DIST + '/cjs/src/experiments/options.js');
const { createMockOurs } = require(DIST + '/cjs/src/testing/index.js');

const quick = process.argv.includes('--quick');
const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/** A request of `visitor` to the checkout page, as the Express adapter's source reads it. */
const checkoutRequest = (visitor) => ({
  path: '/checkout?utm_source=meta&utm_campaign=spring',
  headers: {
    cookie: `ours_device_id=${visitor}`,
    'user-agent': UA,
    'accept-language': 'en-US,en;q=0.9',
  },
});
const res = { headersSent: false, getHeader() {}, setHeader() {}, on() {}, once() {} };

function percentiles(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] };
}

async function timeCalls(n, call) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(i);
    ms.push(performance.now() - t0);
  }
  return percentiles(ms);
}

function middleware(mock, options = {}) {
  const client = new OursClient({
    token: 'tok_bench_123456',
    apiUrl: mock.url,
    logger: false,
    experimentToken: 'exp_bench_123456',
    ...options,
  });
  client.on('error', () => {});
  return resolveMiddlewareConfig({ client }, nodeResponse);
}
const tracker = (config, visitor) =>
  new RequestTracker(config, (req) => new Source(req), res, checkoutRequest(visitor));

// Memory: what the cache holds per entry, filled through Experiments.assign() with a fetch that answers
// at once. Each visitor id is cut from its own 1 KB Cookie header, as the cookie parser gives it.
// A small fill first, so compiled code and inline caches are not counted.
const ENTRIES = 10_000;
const answer = JSON.stringify({
  success: true,
  in_experiment: true,
  experiment_id: 'exp_8c1f',
  variant_id: 'var_b',
  variant_name: 'one-page',
  is_control: false,
  experiment_key: 'checkout',
});
const answerAtOnce = async () => ({
  status: 200,
  headers: { get: () => null },
  text: async () => answer,
});
async function fillCache(entries) {
  const experiments = new Experiments({
    options: resolveExperimentOptions({
      experimentToken: 'exp_bench_123456',
      fetch: answerAtOnce,
      experimentCache: { maxEntries: ENTRIES },
    }),
    apiUrl: 'https://api.invalid',
    report() {},
  });
  const page = {
    url: 'https://shop.example.com/checkout?utm_source=meta&utm_campaign=spring',
    search: '?utm_source=meta&utm_campaign=spring',
  };
  for (let i = 0; i < entries; i++) {
    const header = `_ga=GA1.1.${'1'.repeat(900)}; ours_device_id=${crypto.randomUUID()}; _fbp=fb.1.1700000000000.123`;
    const visitor = header.slice(
      header.indexOf('ours_device_id=') + 15,
      header.indexOf(';', header.indexOf('ours_device_id=')),
    );
    await experiments.assign('checkout', {
      visitorId: () => visitor,
      page: () => page,
      mayRecord: () => true,
    });
  }
  return experiments;
}
await fillCache(1000);
globalThis.gc?.();
const before = process.memoryUsage().heapUsed;
const filled = await fillCache(ENTRIES);
globalThis.gc?.();
const perEntry = (process.memoryUsage().heapUsed - before) / ENTRIES;
void filled;

const mock = await createMockOurs();
mock.experiment('checkout', {
  variants: [
    { id: 'var_ctl', name: 'control', isControl: true },
    { id: 'var_b', name: 'one-page' },
  ],
});
const rows = [];

// Warm cache.
{
  const config = middleware(mock);
  await tracker(config, 'visitor-1').experiment('checkout');
  rows.push([
    'warm cache (a new request each call)',
    await timeCalls(quick ? 20_000 : 100_000, () =>
      tracker(config, 'visitor-1').experiment('checkout'),
    ),
  ]);
  const one = tracker(config, 'visitor-1');
  await one.experiment('checkout');
  rows.push([
    'warm cache, same request',
    await timeCalls(quick ? 20_000 : 100_000, () => one.experiment('checkout')),
  ]);
  await config.client.shutdown();
}

// Cold cache against a 20 ms API.
{
  mock.respondWith({ delayMs: 20, times: 'always', path: '/experiments/assignments' });
  const config = middleware(mock);
  rows.push([
    'cold cache, API answers in 20 ms',
    await timeCalls(quick ? 100 : 300, (i) => tracker(config, `cold-${i}`).experiment('checkout')),
  ]);
  await config.client.shutdown();
  mock.reset();
}

// API hung.
{
  mock
    .experiment('checkout', { variants: [{ id: 'var_b' }] })
    .respondWith({ hang: true, times: 'always', path: '/experiments/assignments' });
  const clients = [];
  rows.push([
    'API hung: waits the 150 ms budget',
    await timeCalls(quick ? 10 : 30, (i) => {
      const config = middleware(mock);
      clients.push(config.client);
      return tracker(config, `hung-${i}`).experiment('checkout');
    }),
  ]);
  const config = middleware(mock);
  clients.push(config.client);
  await tracker(config, 'hung-first').experiment('checkout');
  rows.push([
    'API hung: circuit open after that',
    await timeCalls(quick ? 2_000 : 10_000, (i) =>
      tracker(config, `hung-next-${i}`).experiment('checkout'),
    ),
  ]);
  await Promise.all(clients.map((c) => c.shutdown({ timeoutMs: 100 })));
}
await mock.close();

const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(1)} ms`);
console.log(
  `Node ${process.version}, ${quick ? 'quick' : 'full'} run, ${new Date().toISOString()}\n`,
);
console.log('| case | calls | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |');
for (const [name, p] of rows)
  console.log(`| ${name} | ${p.n} | ${fmt(p.p50)} | ${fmt(p.p99)} | ${fmt(p.max)} |`);
console.log(
  `\nCache memory: ${Math.round(perEntry)} bytes of heap per entry (${ENTRIES} entries, UUID visitor ids cut from 1 KB Cookie headers, a 70-character page URL${globalThis.gc ? '' : '; run with --expose-gc for a steadier figure'}).`,
);
