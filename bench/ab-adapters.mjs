// CPU time per tracked request through the Express and Koa adapters, on real
// framework requests without the HTTP stack, for A/B pairs of two builds on
// a loaded machine (as bench/ab-cpu.mjs). One real request per realistic
// User-Agent is served on loopback and its framework objects kept; each call
// then mounts the adapter's middleware on one of them again and reads
// `req.ours.context` (the adapter's reading of the request), or tracks one
// event and has it handed off, checked, serialised and queued (the sink is a
// `fetch` that answers at once). Median CPU µs per call of 9 rounds.
//   BENCH_DIST=/tmp/old/dist node bench/ab-adapters.mjs; node bench/ab-adapters.mjs
//   AB_ONLY=express node --cpu-prof bench/ab-adapters.mjs   # one adapter alone, to profile it
import { createRequire } from 'node:module';
import { request } from 'node:http';
import { setImmediate as tick } from 'node:timers/promises';
import { answerAtOnce } from './lib/fetch-stub.mjs';
import { realisticRequests } from './user-agents.mjs';

const require = createRequire(import.meta.url);
const DIST = process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname;
const ROUNDS = 9;
const CALLS = 10_000;
const PROPS = { plan: 'pro', section: 'home' };
const base = { token: 'bench-token', apiUrl: 'http://127.0.0.1:9/api/v1', logger: false };

/**
 * Median CPU µs per call over ROUNDS rounds of n calls (2 warm-up rounds
 * first), `settle` (the flush that hands off, sends and waits) included: the
 * process's CPU, so gzip on libuv's pool counts too.
 */
async function cpuPerCall(n, body, settle) {
  const rounds = [];
  for (let r = -2; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) body(i);
    await settle?.();
    const c = process.cpuUsage(c0);
    if (r >= 0) rounds.push((c.user + c.system) / n);
    await tick();
  }
  return rounds.sort((a, b) => a - b)[rounds.length >> 1];
}

/** A figure counts only if every tracked event was delivered (none dropped or invalid). */
function allDelivered(client) {
  const { tracked, delivered } = client.stats();
  if (delivered !== tracked) throw new Error(`${delivered} of ${tracked} events delivered`);
}

/** Serves every realistic request once on `server` and resolves with what `keep` kept of each. */
async function capture(server, kept) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  for (const r of realisticRequests()) {
    await new Promise((resolve, reject) => {
      const req = request({ port, path: r.path, headers: r.headers }, (res) => {
        res.resume().on('end', resolve);
      });
      req.on('error', reject).end();
    });
  }
  server.close();
  server.closeAllConnections?.();
  return kept;
}

async function expressRequests() {
  const app = require('express')();
  const kept = [];
  app.get('/', (req, res) => {
    kept.push({ req, res });
    res.send('ok');
  });
  return capture(require('node:http').createServer(app), kept);
}

async function koaContexts() {
  const Koa = require('koa');
  const app = new Koa();
  const kept = [];
  app.use((ctx) => {
    kept.push(ctx);
    ctx.body = 'ok';
  });
  return capture(require('node:http').createServer(app.callback()), kept);
}

/** AB_ONLY=express|koa runs one adapter alone (to profile it). */
const ONLY = process.env.AB_ONLY;
const out = {};
if (ONLY !== 'koa') {
  const { ours } = require(`${DIST}/cjs/adapters/express.js`);
  const reqs = await expressRequests();
  const reading = ours({ ...base, fetch: answerAtOnce });
  const tracking = ours({ ...base, fetch: answerAtOnce, maxQueueSize: 1e6 });
  const next = () => undefined;
  out.expressContextUs = await cpuPerCall(CALLS, (i) => {
    const { req, res } = reqs[i % reqs.length];
    req.ours = undefined; // a new request's tracker, not the one of the last call
    reading(req, res, next);
    return req.ours.context;
  });
  out.expressTrackUs = await cpuPerCall(
    CALLS,
    (i) => {
      const { req, res } = reqs[i % reqs.length];
      req.ours = undefined;
      tracking(req, res, next);
      req.ours.track('Page Viewed', PROPS);
    },
    () => tracking.client.flush(),
  );
  allDelivered(tracking.client);
  await reading.client.shutdown();
  await tracking.client.shutdown();
}
if (ONLY !== 'express') {
  const { ours } = require(`${DIST}/cjs/adapters/koa.js`);
  const contexts = await koaContexts();
  const reading = ours({ ...base, fetch: answerAtOnce });
  const tracking = ours({ ...base, fetch: answerAtOnce, maxQueueSize: 1e6 });
  const next = async () => undefined;
  out.koaContextUs = await cpuPerCall(CALLS, (i) => {
    const ctx = contexts[i % contexts.length];
    ctx.ours = undefined;
    void reading(ctx, next);
    return ctx.ours.context;
  });
  out.koaTrackUs = await cpuPerCall(
    CALLS,
    (i) => {
      const ctx = contexts[i % contexts.length];
      ctx.ours = undefined;
      void tracking(ctx, next);
      ctx.ours.track('Page Viewed', PROPS);
    },
    () => tracking.client.flush(),
  );
  allDelivered(tracking.client);
  await reading.client.shutdown();
  await tracking.client.shutdown();
}
console.log(
  JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, +v.toFixed(3)]))),
);
