// What a one-pass context→JSON writer, and reusing the serialised device
// fields per User-Agent, could save at most (issue 19): CPU µs per event of
// the admission's parts on the realistic page events, measured apart.
//   node bench/writer-bound.mjs   (BENCH_DIST=/other/dist for another build)
// checkTrack (copy + contract checks + distinctId) is all a writer that
// checks while writing could remove: it must still produce the same JSON,
// which `JSON.stringify` writes in native code. The device fields' share of
// the stringify is all a per-User-Agent text cache could remove.
import { createRequire } from 'node:module';
import { realisticRequests } from './user-agents.mjs';
import { Source } from './lib/source.mjs';

const require = createRequire(import.meta.url);
const DIST = process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname;
const { extractContext } = require(DIST + '/cjs/src/request/extract-context.js');
const { checkTrack } = require(DIST + '/cjs/src/validate.js');
const ROUNDS = 9;
const N = 50_000;

const extractOptions = { cookieName: 'ours_device_id', collectIp: true, ipResolver: (s) => s.ip() };
/** What repeats per User-Agent: the device cache's fields and the UA itself. */
const DEVICE = [
  'browser_name',
  'browser_version',
  'os_name',
  'os_version',
  'engine_name',
  'engine_version',
  'cpu_architecture',
  'device_type',
  'device_vendor',
  'device_model',
  'uafvl',
  'user_agent',
];
const now = Date.now();
const events = realisticRequests().map((r) => {
  const context = extractContext(new Source(r), extractOptions, now);
  return {
    event: 'Page Viewed',
    userId: context.userId ?? 'f3a1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b',
    eventProperties: { plan: 'pro', section: 'home' },
    defaultProperties: context.defaultProperties,
    identityContext: context.identityContext,
    time: now,
  };
});
const bodies = events.map((e) => checkTrack(e, now).body);
const device = bodies.map((b) =>
  Object.fromEntries(
    DEVICE.filter((k) => k in b.defaultProperties).map((k) => [k, b.defaultProperties[k]]),
  ),
);

function cpuPerCall(body) {
  const rounds = [];
  let sink = 0;
  for (let r = -2; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) sink += body(i) ? 1 : 0;
    const c = process.cpuUsage(c0);
    if (r >= 0) rounds.push((c.user + c.system) / N);
  }
  if (sink < 0) console.log(sink);
  return +rounds.sort((a, b) => a - b)[ROUNDS >> 1].toFixed(3);
}

const n = events.length;
console.log(
  JSON.stringify({
    jsonBytes: Math.round(bodies.reduce((s, b) => s + JSON.stringify(b).length, 0) / n),
    deviceJsonBytes: Math.round(device.reduce((s, d) => s + JSON.stringify(d).length, 0) / n),
    checkTrackUs: cpuPerCall((i) => checkTrack(events[i % n], now).ok),
    stringifyUs: cpuPerCall((i) => JSON.stringify(bodies[i % n]).length),
    stringifyDeviceFieldsUs: cpuPerCall((i) => JSON.stringify(device[i % n]).length),
  }),
);
