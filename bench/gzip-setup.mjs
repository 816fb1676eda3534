#!/usr/bin/env node
// What reusing zlib state across batches could save (issue 19): the fixed
// cost of one gzip call (state set up and torn down, measured on a 1-byte
// body) beside the cost of compressing a realistic batch (200 events of
// ~1.2 KB, the client's default flushAt), both level 1, sync and async.
// Per event, the fixed part is what reuse would save at most.
//   node bench/gzip-setup.mjs            # or with test/runtimes/bin's node18/node22
import { randomUUID } from 'node:crypto';
import { gzip, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { realisticRequests } from './user-agents.mjs';

const gzipAsync = promisify(gzip);
const LEVEL = { level: 1, chunkSize: 64 * 1024 };
const events = realisticRequests(200).map((r, i) => ({
  event: 'Page Viewed',
  userId: `0b7c${i}`,
  distinctId: randomUUID(),
  time: Date.now(),
  eventProperties: { plan: 'pro', section: 'home' },
  defaultProperties: {
    user_agent: r.headers['user-agent'],
    current_url: `https://shop.example.com${r.path}`,
    referrer: r.headers.referer,
    browser_language: r.headers['accept-language'],
    accept: r.headers.accept,
    cookie: r.headers.cookie,
  },
}));
const batch = Buffer.from(JSON.stringify({ token: 'bench-token', events }));
const tiny = Buffer.from('x');

function cpuUs(fn) {
  const c = process.cpuUsage();
  fn();
  const d = process.cpuUsage(c);
  return d.user + d.system;
}
async function cpuUsAsync(n, body) {
  const c = process.cpuUsage();
  for (let i = 0; i < n; i++) await gzipAsync(body, LEVEL);
  const d = process.cpuUsage(c); // the libuv pool's CPU too: it is this process's
  return (d.user + d.system) / n;
}
const N = 400;
for (let i = 0; i < 50; i++) (gzipSync(batch, LEVEL), gzipSync(tiny, LEVEL)); // warm-up
const syncBatch =
  cpuUs(() => {
    for (let i = 0; i < N; i++) gzipSync(batch, LEVEL);
  }) / N;
const syncTiny =
  cpuUs(() => {
    for (let i = 0; i < N * 5; i++) gzipSync(tiny, LEVEL);
  }) /
  (N * 5);
const asyncBatch = await cpuUsAsync(N, batch);
const asyncTiny = await cpuUsAsync(N * 5, tiny);
const per = (us) => (us / events.length).toFixed(2);
console.log(`${process.version}: batch of ${events.length} events, ${batch.length} bytes of JSON`);
console.log(
  `  gzipSync : ${syncBatch.toFixed(0)} µs CPU per batch (${per(syncBatch)} per event); fixed cost of a call ${syncTiny.toFixed(1)} µs (${per(syncTiny)} per event)`,
);
console.log(
  `  gzip     : ${asyncBatch.toFixed(0)} µs CPU per batch (${per(asyncBatch)} per event); fixed cost of a call ${asyncTiny.toFixed(1)} µs (${per(asyncTiny)} per event)`,
);
