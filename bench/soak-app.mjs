// The app under soak (bench/soak.mjs starts it): an Express 5 app with
// `ours({ client })` mounted from the BUILT package, the client on its
// defaults (real backoff: 2 s doubling to 60 s, 10 attempts, 1-5 s jitter).
// Every second it samples RSS, heap and event-loop delay and sends them to
// the parent over IPC, with the client's stats. It exits when the parent
// says so, or when the parent goes away.
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { ours } = await import(join(root, 'dist/esm/express.mjs'));
const { OursClient } = await import(join(root, 'dist/esm/index.mjs'));

const [apiUrl, token] = process.argv.slice(2);
const logged = { warn: 0, error: 0 };
const client = new OursClient({
  token,
  apiUrl,
  logger: {
    debug() {},
    info() {},
    warn: () => void logged.warn++,
    error: () => void logged.error++,
  },
});

const app = express();
app.use(ours({ client }));
app.get('/t', (req, res) => {
  const id = String(req.query.id);
  req.ours.track('Soak Event', { id }, { distinctId: id });
  res.send(`ok:${id}`);
});
const server = createServer(app);

/** The sampling timer's own interval is part of every value: subtract it. */
const RESOLUTION_MS = 10;
const perSecond = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
const perMinute = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
perSecond.enable();
perMinute.enable();
const ms = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
const eld = (h) => ({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) });

const sampler = setInterval(() => {
  const mem = process.memoryUsage();
  process.send({
    type: 'sample',
    at: Date.now(),
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    eld: eld(perSecond),
    stats: client.stats(),
    logged: { ...logged },
  });
  perSecond.reset();
}, 1000);

process.on('message', async (msg) => {
  if (msg.type === 'minute') {
    process.send({ type: 'minute', index: msg.index, eld: eld(perMinute) });
    perMinute.reset();
  } else if (msg.type === 'gc') {
    globalThis.gc?.();
    const mem = process.memoryUsage();
    process.send({
      type: 'gc',
      tag: msg.tag,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      stats: client.stats(),
    });
  } else if (msg.type === 'drain') {
    // Wait (bounded) for every tracked event to be settled, through the real backoff.
    const deadline = Date.now() + msg.timeoutMs;
    while (Date.now() < deadline) {
      const s = client.stats();
      if (s.queued === 0 && s.inFlight === 0) break;
      await client.flush();
      await new Promise((r) => setTimeout(r, 200));
    }
    process.send({ type: 'drained', stats: client.stats(), logged: { ...logged } });
  } else if (msg.type === 'stop') {
    clearInterval(sampler);
    perSecond.disable();
    perMinute.disable();
    const report = await client.shutdown({ timeoutMs: 10_000 });
    server.close();
    server.closeAllConnections();
    process.send({ type: 'stopped', report, stats: client.stats() }, () => process.disconnect());
  }
});
process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());

server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
