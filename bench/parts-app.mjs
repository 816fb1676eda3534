// Workload 1b, "where the time goes": ONE app process serves every variant,
// switching variant every phase while the load runs without a break, and
// measures its own CPU per request in each phase. Neighbouring phases see the
// same machine, so comparing each phase with the bare phases around it
// cancels the drift that separate processes suffer on a shared VM.
// Run by bench/run.mjs:  node bench/parts-app.mjs <express|koa|fastify|node|hono|fetch|next> <sinkUrl> <phaseMs>
// PARTS_ONLY=<variant> serves that variant alone (to profile one part with --cpu-prof).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { answerAtOnce } from './lib/fetch-stub.mjs';
import { Floor } from './lib/floor.mjs';
import { guardChild } from './lib/proc.mjs';
import { realisticRequests } from './user-agents.mjs';

guardChild();
const require = createRequire(import.meta.url);
const DIST = process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname;
const [framework, sinkUrl, phaseMsArg] = process.argv.slice(2);
const PHASE_MS = Number(phaseMsArg);
const PROPS = { plan: 'pro', section: 'home' };
/** Set by `loadNext()`: Next's request scope around a route handler's call. */
let nextScope = (_outgoing, handle) => handle();
if (framework === 'next') loadNext();
const BODY = 'Hello World!';

/**
 * The variants, in phase order. Each `ours()` has its own client, all on the
 * same sink. `floor` is no middleware: the handler builds, serialises and
 * gzips the request's event itself (bench/lib/floor.mjs), the least a tracked
 * event can cost.
 */
const PARTS = ['bare', 'mounted', 'context', 'floor', 'track-nohttp', 'track', 'track-nogzip'];
const adapter = require(
  `${DIST}/cjs/adapters/${framework === 'next' ? 'next/index' : framework}.js`,
);
const base = { token: 'bench-token', apiUrl: `${sinkUrl}/api/v1`, logger: false };
/** The adapter's `ours(options)`; for Fastify, the plugin's onRequest hook, so one app can switch it per phase. */
const ours =
  { fastify: fastifyHook, node: adapter.oursNode, fetch: adapter.oursFetch, next: nextRoute }[
    framework
  ] ?? adapter.ours;
const middleware = {
  bare: undefined,
  mounted: ours(base),
  context: ours({ ...base, beforeSend: () => null }), // reads the request and builds the event, then drops it
  'track-nohttp': ours({ ...base, fetch: answerAtOnce }),
  track: ours(base),
  'track-nogzip': ours({ ...base, gzip: false }),
};

/** Registers the plugin on a stand-in instance and keeps the hook it adds: what Fastify runs per request. */
function fastifyHook(options) {
  let hook;
  const instance = {
    hasRequestDecorator: () => true,
    decorateRequest() {},
    addHook: (name, fn) => name === 'onRequest' && (hook = fn),
  };
  adapter.ours(instance, options, (err) => {
    if (err) throw err;
  });
  return hook;
}
const tracks = (v) => v === 'context' || v.startsWith('track');
/** Made once the server listens: the events' URLs name its host. */
let floor;
const trackFloor = (headers, url) => floor.track('Page Viewed', PROPS, headers, url);
/** The floor for a Web `Request` (Hono, fetch, Next): the same lookup by User-Agent and path. */
const trackWebFloor = (request) => {
  const url = new URL(request.url);
  trackFloor(
    { 'user-agent': request.headers.get('user-agent') ?? undefined },
    url.pathname + url.search,
  );
};

let phase = 0;
let handled = 0;
/** Read once: `process.env` is a C++ lookup on every access, and this runs per request. */
const ONLY = process.env.PARTS_ONLY;
const current = () => ONLY || PARTS[phase % PARTS.length];

function expressApp() {
  const app = require('express')();
  app.use((req, res, next) => {
    const mw = middleware[current()];
    return mw ? mw(req, res, next) : next();
  });
  app.get('/', (req, res) => {
    handled++;
    const v = current();
    if (req.ours && tracks(v)) req.ours.track('Page Viewed', PROPS);
    else if (v === 'floor') trackFloor(req.headers, req.url);
    res.send(BODY);
  });
  return app.listen(0, '127.0.0.1');
}

function koaApp() {
  const Koa = require('koa');
  const app = new Koa();
  app.use((ctx) => {
    const v = current();
    const handler = () => {
      handled++;
      if (tracks(v)) ctx.ours.track('Page Viewed', PROPS);
      else if (v === 'floor') trackFloor(ctx.req.headers, ctx.url);
      ctx.body = BODY;
    };
    const mw = middleware[v];
    return mw ? mw(ctx, handler) : handler();
  });
  return app.listen(0, '127.0.0.1');
}

function fastifyApp() {
  const app = require('fastify')();
  app.decorateRequest('ours', null);
  app.addHook('onRequest', (request, reply, done) => {
    const hook = middleware[current()];
    return hook ? hook(request, reply, done) : done();
  });
  app.get('/', (request, reply) => {
    handled++;
    const v = current();
    if (request.ours && tracks(v)) request.ours.track('Page Viewed', PROPS);
    else if (v === 'floor') trackFloor(request.headers, request.url);
    reply.send(BODY);
  });
  app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

/** `mounted`: `track(req, res)` made the tracker and nothing was tracked (an app calls it only to track). */
function nodeApp() {
  return require('node:http')
    .createServer((req, res) => {
      handled++;
      const v = current();
      const ours = middleware[v]?.(req, res);
      if (ours && tracks(v)) ours.track('Page Viewed', PROPS);
      else if (v === 'floor') trackFloor(req.headers, req.url);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(BODY);
    })
    .listen(0, '127.0.0.1');
}

/** Hono 4 on @hono/node-server, as `serve()` sets it up (its own Request and Response on Node). */
function honoApp() {
  const { Hono } = require('hono');
  const app = new Hono();
  app.use((c, next) => {
    const mw = middleware[current()];
    return mw ? mw(c, next) : next();
  });
  app.get('/', (c) => {
    handled++;
    if (tracks(current())) c.get('ours').track('Page Viewed', PROPS);
    else if (current() === 'floor') trackWebFloor(c.req.raw);
    return c.html(BODY);
  });
  return require('@hono/node-server')
    .createAdaptorServer({ fetch: app.fetch })
    .listen(0, '127.0.0.1');
}

/** A fetch handler on @hono/node-server; `mounted`: the tracker made and `respond()` called, nothing tracked. */
function fetchApp() {
  const fetch = (request, env) => {
    handled++;
    const v = current();
    const ours = middleware[v]?.(request, { remoteAddress: env.incoming.socket.remoteAddress });
    if (ours && tracks(v)) ours.track('Page Viewed', PROPS);
    else if (v === 'floor') trackWebFloor(request);
    const response = new Response(BODY, {
      headers: { 'content-type': 'text/html; charset=UTF-8' },
    });
    return ours ? ours.respond(response) : response;
  };
  return require('@hono/node-server').createAdaptorServer({ fetch }).listen(0, '127.0.0.1');
}

/** A Next.js route handler (`GET`), as `next start` calls it, here on @hono/node-server: the adapter's cost without Next's server. */
function nextPage(request, ctx) {
  handled++;
  if (ctx.ours && tracks(current())) ctx.ours.track('Page Viewed', PROPS);
  else if (current() === 'floor') trackWebFloor(request);
  return new Response(BODY, { headers: { 'content-type': 'text/html; charset=UTF-8' } });
}
/**
 * Next 16's server side (test/next/next16, from `npm ci --prefix
 * test/next/next16`), loaded as Next's server loads it: every request, of
 * every phase, runs in a request scope made as Next's route module makes one
 * (`nextScope`: a work store with Next's own `AfterContext`, whose callbacks
 * run once the response has closed, and a request work unit), so the
 * adapter's `after()` is Next's own, with its cost.
 * As `next start` runs a route (15.1+): the process named as Next names its
 * server, so the adapter batches as on a long-running server
 * (adapters/next/long-running.ts).
 * `PARTS_NEXT=platform`: as Vercel runs one (minimal mode): not named so,
 * and the request context that the platform keeps (`@next/request-context`)
 * has the request's `waitUntil`.
 */
function loadNext() {
  const modules = new URL('../test/next/next16/node_modules', import.meta.url).pathname;
  if (!existsSync(`${modules}/next`)) throw new Error('npm ci --prefix test/next/next16');
  if (process.env.PARTS_NEXT !== 'platform') process.title = 'next-server (bench)';
  process.env.NODE_PATH = modules;
  require('node:module').Module._initPaths(); // NODE_PATH is read at start-up otherwise
  const { AsyncLocalStorage } = require('node:async_hooks');
  globalThis.AsyncLocalStorage = AsyncLocalStorage; // as Next's server sets it
  const server = 'next/dist/server';
  const { workAsyncStorage } = require(`${server}/app-render/work-async-storage.external`);
  const { workUnitAsyncStorage } = require(`${server}/app-render/work-unit-async-storage.external`);
  const { AfterContext } = require(`${server}/after/after-context`);
  /** What the server (or the platform) keeps of the after() work it waits for. */
  const pending = new Set();
  const waitUntil = (promise) => {
    pending.add(promise);
    promise.finally(() => pending.delete(promise));
  };
  const platform = new AsyncLocalStorage();
  globalThis[Symbol.for('@next/request-context')] = { get: () => platform.getStore() };
  const inPlatform = process.env.PARTS_NEXT === 'platform';
  nextScope = (outgoing, handle) => {
    const afterContext = new AfterContext({
      waitUntil,
      onClose: (callback) => outgoing.once('close', callback),
    });
    const unit = { type: 'request', phase: 'action' };
    const route = () =>
      workAsyncStorage.run({ afterContext }, () => workUnitAsyncStorage.run(unit, handle));
    return inPlatform ? platform.run({ waitUntil }, route) : route();
  };
}
/** `withOurs(GET, options)` per variant. */
function nextRoute(options) {
  return adapter.withOurs(nextPage, options);
}
function nextApp() {
  const fetch = (request, env) => {
    void request.headers; // Next builds every route's request, headers included, before the handler runs
    return nextScope(env.outgoing, () => (middleware[current()] ?? nextPage)(request, {}));
  };
  return require('@hono/node-server').createAdaptorServer({ fetch }).listen(0, '127.0.0.1');
}

const apps = {
  express: expressApp,
  koa: koaApp,
  fastify: fastifyApp,
  node: nodeApp,
  hono: honoApp,
  fetch: fetchApp,
  next: nextApp,
};
const server = apps[framework]();
server.keepAliveTimeout = 60_000;

const phases = [];
let timer;
let mark;
function endPhase() {
  const cpu = process.cpuUsage(mark.cpu);
  phases.push({
    variant: current(),
    cpuUs: cpu.user + cpu.system,
    requests: handled - mark.handled,
  });
  phase++;
  mark = { cpu: process.cpuUsage(), handled };
}

process.on('message', (msg) => {
  if (msg.type === 'start') {
    phase = 0;
    phases.length = 0;
    mark = { cpu: process.cpuUsage(), handled };
    timer = setInterval(endPhase, PHASE_MS);
    process.send({ type: 'start' });
  } else if (msg.type === 'stop') {
    clearInterval(timer);
    phase = 0; // bare until exit
    process.send({ type: 'stop', phases, floor: floor.stats });
  }
  // 'exit' is guardChild's.
});

server.on('listening', () => {
  const { port } = server.address();
  floor = new Floor(DIST, realisticRequests(), `127.0.0.1:${port}`, base.token);
  process.send({ type: 'ready', port });
});
