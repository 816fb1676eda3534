// One app under load: Express 5 or Koa 3 with a trivial `GET /`, in one of the
// variants of the overhead workload. Uses the BUILT package (dist/cjs), i.e.
// the JavaScript users run. Run by bench/run.mjs:
//   node bench/app.mjs <express|koa> <variant> <sinkUrl>
// Variants: bare, ours-idle (mounted, tracks nothing), ours-track (one event),
// segment (analytics.track), posthog (capture), naive (awaits fetch to /track).
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { guardChild } from './lib/proc.mjs';

guardChild();
const require = createRequire(import.meta.url);
/** The built package: bench/run.mjs's snapshot of dist/, or dist/ itself when run alone. */
const DIST = process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname;
const [framework, variant, sinkUrl] = process.argv.slice(2);
const TOKEN = 'bench-token';
const BODY = 'Hello World!';
const PROPS = { plan: 'pro', section: 'home' };

let handled = 0;
let flushAll = async () => ({});

/** The visitor id from the cookie, the way a Segment or PostHog user would get it. */
function visitorOf(cookie) {
  const m = /(?:^|;\s*)ours_device_id=([^;]+)/.exec(cookie ?? '');
  return m ? m[1] : 'anonymous';
}

/** Per-request tracking for the comparison variants: (headers, url, ip) => void | Promise. */
function comparisonTracker() {
  if (variant === 'segment') {
    const { Analytics } = require('@segment/analytics-node');
    const analytics = new Analytics({ writeKey: 'bench-write-key', host: sinkUrl });
    flushAll = async () => {
      await analytics.closeAndFlush({ timeout: 10_000 });
      return {};
    };
    return (h, url, ip) =>
      analytics.track({
        anonymousId: visitorOf(h.cookie),
        event: 'Page Viewed',
        properties: PROPS,
        context: { ip, userAgent: h['user-agent'], page: { url, referrer: h.referer } },
      });
  }
  if (variant === 'posthog') {
    const { PostHog } = require('posthog-node');
    const posthog = new PostHog('phc_bench_key', { host: sinkUrl });
    flushAll = async () => {
      await posthog.shutdown(10_000);
      return {};
    };
    return (h, url, ip) =>
      posthog.capture({
        distinctId: visitorOf(h.cookie),
        event: 'Page Viewed',
        properties: {
          ...PROPS,
          $current_url: url,
          $ip: ip,
          $raw_user_agent: h['user-agent'],
          $referrer: h.referer,
        },
      });
  }
  if (variant === 'naive') {
    const endpoint = `${sinkUrl}/api/v1/track`;
    return (h, url, ip) =>
      fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token: TOKEN,
          event: 'Page Viewed',
          distinctId: randomUUID(),
          userId: visitorOf(h.cookie),
          eventProperties: PROPS,
          defaultProperties: {
            current_url: url,
            user_agent: h['user-agent'],
            referrer: h.referer,
            ip,
          },
        }),
      }).then((r) => r.arrayBuffer());
  }
  return undefined;
}

function oursOptions() {
  // Defaults everywhere, as a user would mount it; only the API URL points here.
  return { token: TOKEN, apiUrl: `${sinkUrl}/api/v1`, logger: false };
}

function expressApp() {
  const express = require('express');
  const app = express();
  const tracking = variant.startsWith('ours')
    ? require(DIST + '/cjs/adapters/express.js').ours(oursOptions())
    : undefined;
  if (tracking) {
    app.use(tracking);
    flushAll = () => tracking.client.flush();
  }
  const other = comparisonTracker();
  if (variant === 'ours-track') {
    app.get('/', (req, res) => {
      handled++;
      req.ours.track('Page Viewed', PROPS);
      res.send(BODY);
    });
  } else if (variant === 'naive') {
    app.get('/', async (req, res) => {
      handled++;
      await other(req.headers, req.originalUrl, req.ip);
      res.send(BODY);
    });
  } else if (other) {
    app.get('/', (req, res) => {
      handled++;
      other(req.headers, req.originalUrl, req.ip);
      res.send(BODY);
    });
  } else {
    app.get('/', (req, res) => {
      handled++;
      res.send(BODY);
    });
  }
  return app.listen(0, '127.0.0.1');
}

function koaApp() {
  const Koa = require('koa');
  const app = new Koa();
  const tracking = variant.startsWith('ours')
    ? require(DIST + '/cjs/adapters/koa.js').ours(oursOptions())
    : undefined;
  if (tracking) {
    app.use(tracking);
    flushAll = () => tracking.client.flush();
  }
  const other = comparisonTracker();
  if (variant === 'ours-track') {
    app.use((ctx) => {
      handled++;
      ctx.ours.track('Page Viewed', PROPS);
      ctx.body = BODY;
    });
  } else if (variant === 'naive') {
    app.use(async (ctx) => {
      handled++;
      await other(ctx.headers, ctx.originalUrl, ctx.ip);
      ctx.body = BODY;
    });
  } else if (other) {
    app.use((ctx) => {
      handled++;
      other(ctx.headers, ctx.originalUrl, ctx.ip);
      ctx.body = BODY;
    });
  } else {
    app.use((ctx) => {
      handled++;
      ctx.body = BODY;
    });
  }
  return app.listen(0, '127.0.0.1');
}

const server = framework === 'koa' ? koaApp() : expressApp();
server.keepAliveTimeout = 60_000;

let markCpu = process.cpuUsage();
let markHandled = 0;
let markAt = performance.now();
process.on('message', async (msg) => {
  if (msg.type === 'mark') {
    markCpu = process.cpuUsage();
    markHandled = handled;
    markAt = performance.now();
    process.send({ type: 'mark' });
  } else if (msg.type === 'report') {
    const cpu = process.cpuUsage(markCpu);
    process.send({
      type: 'report',
      cpuUs: cpu.user + cpu.system,
      handled: handled - markHandled,
      wallMs: performance.now() - markAt,
      rss: process.memoryUsage.rss(),
    });
  } else if (msg.type === 'finish') {
    // Stop taking requests, deliver what was tracked, and say how many were.
    server.close();
    server.closeAllConnections?.();
    const report = await flushAll();
    process.send({ type: 'finish', handled, report });
  }
});

server.on('listening', () => process.send({ type: 'ready', port: server.address().port }));
