// Workload 4, hot-path micro-costs, on the BUILT package (dist/cjs). Run alone
// with `node bench/micro.mjs [--quick] [--json]` or through bench/run.mjs.
//
// Method: each case runs a warm-up (so V8 has optimised it), then R timed
// rounds of N calls each; a round is timed with process.hrtime.bigint around
// a plain loop, and the reported figure is the median round's ns per call
// (min and max rounds beside it). Between rounds the event loop is let run,
// so a client can send what it queued outside the timed region: `track()`
// is timed for what it costs the caller, its delivery is workload 3's.
import { createRequire } from 'node:module';
import { setImmediate as tick } from 'node:timers/promises';
import { realisticRequests, USER_AGENTS } from './user-agents.mjs';
import { requireFirst, requireOptional } from './lib/dist.mjs';
import { answerAtOnce } from './lib/fetch-stub.mjs';
import { Source } from './lib/source.mjs';

const require = createRequire(import.meta.url);
/** The built package: bench/run.mjs's snapshot of dist/, or dist/ itself when run alone. */
const DIST = process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname;
const { OursClient } = require(DIST + '/cjs/src/index.js');
const { extractContext } = require(DIST + '/cjs/src/request/extract-context.js');
// Older builds (bench/README.md, "Before and after"): tracker-config.js, no node-response.js, no redact-url.js.
const configModule = requireFirst(
  DIST,
  'src/request/middleware-config.js',
  'src/request/tracker-config.js',
);
const resolveMiddlewareConfig =
  configModule.resolveMiddlewareConfig ?? configModule.resolveTrackerConfig;
const { nodeResponse } = requireOptional(DIST, 'src/request/node-response.js') ?? {};
const { RequestTracker } = require(DIST + '/cjs/src/request/tracker.js');
const { redactUrl } = requireOptional(DIST, 'src/request/redact-url.js') ?? {};
const { ours: expressOurs } = require(DIST + '/cjs/adapters/express.js');
/** A client that answers every request at once, so nothing is measured but the package's own work. */
const BENCH_OPTIONS = {
  token: 'bench-token',
  apiUrl: 'http://127.0.0.1:9/api/v1',
  fetch: answerAtOnce,
  logger: false,
};
const noop = () => undefined;

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 9;

/** A fetch that answers 200 at once, so the client under test never waits on I/O. */

async function measure(name, n, setup, body) {
  const state = setup ? await setup() : undefined;
  const rounds = [];
  for (let r = -2; r < ROUNDS; r++) {
    // r < 0: warm-up rounds, not recorded.
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) body(i, state);
    const ns = Number(process.hrtime.bigint() - t0) / n;
    if (r >= 0) rounds.push(ns);
    await state?.between?.();
    await tick();
  }
  rounds.sort((a, b) => a - b);
  return {
    name,
    n,
    rounds: ROUNDS,
    median: rounds[rounds.length >> 1],
    min: rounds[0],
    max: rounds[rounds.length - 1],
  };
}

const requests = realisticRequests().map((r) => new Source(r));
/** The adapters' `sourceOf`: the tracker builds the request view on first use. */
const sourceOf = (req) => new Source(req);
const extractOptions = { cookieName: 'ours_device_id', collectIp: true, ipResolver: (s) => s.ip() };
const context = extractContext(requests[0], extractOptions, Date.now());

const PROPS = { plan: 'pro', section: 'home' };

/** The event the middleware produces for one realistic request. */
const event = {
  event: 'Page Viewed',
  userId: context.userId,
  time: Date.now(),
  eventProperties: PROPS,
  defaultProperties: context.defaultProperties,
  identityContext: context.identityContext,
};

export async function runMicro() {
  const results = [];
  const N = quick ? 2000 : 5000;

  // 1. client.track(): validate, stamp, serialise, enqueue.
  results.push(
    await measure(
      'client.track() (realistic event)',
      N,
      async () => {
        const client = new OursClient(BENCH_OPTIONS);
        return { client, between: () => client.flush() };
      },
      (i, { client }) => {
        event.time = Date.now();
        client.track(event);
      },
    ),
  );

  // 2. extractContext with a User-Agent already in the cache (383 real UAs, all seen).
  for (const s of requests) extractContext(s, extractOptions, Date.now());
  results.push(
    await measure('extractContext, cached UA', N, undefined, (i) => {
      extractContext(requests[i % requests.length], extractOptions, Date.now());
    }),
  );

  // 3. extractContext with a User-Agent never seen: a fresh string each call (parse + isbot + hints).
  let fresh = 0;
  const uncachedSources = requests.map(
    (s) => new Source({ path: s.url, headers: { ...s.req.headers } }),
  );
  results.push(
    await measure('extractContext, uncached UA', quick ? 300 : 1000, undefined, (i) => {
      const s = uncachedSources[i % uncachedSources.length];
      s.req.headers['user-agent'] = `${USER_AGENTS[i % USER_AGENTS.length].ua} bench/${fresh++}`;
      extractContext(s, extractOptions, Date.now());
    }),
  );

  // 3b. URL redaction (issue 13): the realistic requests' URLs (UTM and click ids, nothing
  //     sensitive: the fast path), and the same with a token and an email to redact.
  const plainUrls = requests.map((s) => `https://shop.example.com${s.url}`);
  const secretUrls = plainUrls.map(
    (u) => `${u}${u.includes('?') ? '&' : '?'}token=abc123&email=ada%40example.com`,
  );
  if (redactUrl) {
    results.push(
      await measure('redactUrl, URL without sensitive keys', N * 4, undefined, (i) => {
        redactUrl(plainUrls[i % plainUrls.length]);
      }),
    );
    results.push(
      await measure('redactUrl, URL with a token and an email', N, undefined, (i) => {
        redactUrl(secretUrls[i % secretUrls.length]);
      }),
    );
  }

  // 4. The middleware's whole share of tracked requests, without the framework:
  //    tracker, context (cached UA), track() calls, hand-off to the client after the response.
  //    4b: three events through a sync beforeSend, each built with its own
  //    defaultProperties, identityContext and eventProperties (issue 18).
  const trackedRequest = (name, options, names) =>
    measure(
      name,
      N,
      async () => {
        const config = resolveMiddlewareConfig({ ...BENCH_OPTIONS, ...options }, nodeResponse);
        const res = { writableFinished: true, destroyed: false };
        return { config, res, between: () => config.client.flush() };
      },
      (i, { config, res }) => {
        const source = requests[i % requests.length];
        const tracker = new RequestTracker(config, sourceOf, res, source.req, '127.0.0.1');
        for (const name of names) tracker.track(name, PROPS);
        config.handOffs.drain(); // the hand-off waits for the end of the turn; run it here, inside the timed loop
      },
    );
  results.push(await trackedRequest('tracker: req.ours.track() + hand-off', {}, ['Page Viewed']));
  results.push(
    await trackedRequest(
      'tracker: 3 × track() + hand-off, sync beforeSend',
      { beforeSend: (e) => e },
      ['Page Viewed', 'Product Viewed', 'Added To Cart'],
    ),
  );

  // 5. Mounted but unused: the tracker a request gets when it tracks nothing.
  results.push(
    await measure(
      'tracker: created, nothing tracked',
      N * 4,
      async () => {
        const config = resolveMiddlewareConfig(BENCH_OPTIONS, nodeResponse);
        return { config, res: {} };
      },
      (i, { config, res }) => {
        const source = requests[i % requests.length];
        new RequestTracker(config, sourceOf, res, source.req, '127.0.0.1');
      },
    ),
  );

  // 6. The Express middleware on a request that tracks nothing (a fresh request object each call).
  results.push(
    await measure(
      'express ours() middleware, nothing tracked',
      N * 4,
      async () => {
        const mw = expressOurs(BENCH_OPTIONS);
        return { mw, res: {} };
      },
      (i, { mw, res }) => {
        mw({ headers: requests[i % requests.length].req.headers }, res, noop);
      },
    ),
  );
  return results;
}

export function formatMicro(results) {
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${fmt(r.median)} | ${fmt(r.min)} – ${fmt(r.max)} | ${r.rounds} × ${r.n} |`,
  );
  return [
    '| operation | median ns/call | range of rounds | rounds × calls |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

const fmt = (ns) => (ns >= 10_000 ? Math.round(ns).toLocaleString('en-US') : ns.toFixed(0));

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runMicro();
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
  else console.log(formatMicro(results));
}
