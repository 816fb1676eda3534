// The load generator, in its own process (pinned to the other core by
// bench/run.mjs), kept alive across runs. wrk when it is installed (C, much
// lighter than the app under test, µs latency percentiles), else autocannon.
// autocannon's own latency histogram has whole-millisecond resolution, too
// coarse for "p99 within 1 ms", so with it every response time (a float in
// ms, from process.hrtime) is recorded here and percentiles computed exactly.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guardChild } from './lib/proc.mjs';

guardChild();
const autocannon = createRequire(import.meta.url)('autocannon');

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function run({ url, requests, connections, durationS, rate }) {
  return new Promise((resolve, reject) => {
    let lat = new Float64Array(1 << 16);
    let n = 0;
    let non2xx = 0;
    const instance = autocannon(
      {
        url,
        connections,
        duration: durationS,
        requests,
        ...(rate ? { overallRate: rate } : {}),
      },
      (err, result) => {
        if (err) return reject(err);
        const sorted = lat.subarray(0, n).sort();
        resolve({
          requests: result.requests.total,
          rps: result.requests.total / (result.duration || durationS),
          durationS: result.duration,
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: percentile(sorted, 100),
          samples: n,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode > 299) non2xx++;
      if (n === lat.length) {
        const bigger = new Float64Array(lat.length * 2);
        bigger.set(lat);
        lat = bigger;
      }
      lat[n++] = responseTime;
    });
  });
}

/** wrk, if installed and BENCH_LOAD is not `autocannon`. */
export const WRK =
  process.env.BENCH_LOAD !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined;

const luaStr = (s) => `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
let scriptFor = new Map();
/** A wrk Lua script cycling through `requests` and printing a JSON summary. */
function wrkScript(requests) {
  const key = JSON.stringify(requests);
  if (scriptFor.has(key)) return scriptFor.get(key);
  const dir = join(dirname(fileURLToPath(import.meta.url)), '.out');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `wrk-requests-${process.pid}-${scriptFor.size}.lua`);
  const lines = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {})
      .map(([k, v]) => `[${luaStr(k)}]=${luaStr(v)}`)
      .join(',');
    return `  wrk.format(${luaStr(r.method ?? 'GET')}, ${luaStr(r.path)}, {${headers}}),`;
  });
  writeFileSync(
    file,
    `local reqs
local i = 0
init = function(args)
  reqs = {
${lines.join('\n')}
  }
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nWRKJSON {"requests":%d,"durationUs":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"errors":%d,"timeouts":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write, e.timeout, e.status))
end
`,
  );
  scriptFor.set(key, file);
  return file;
}

/** One wrk run: 1 thread (it shares its core with the sink), latencies in µs, returned in ms. */
function runWrk({ url, requests, connections, durationS }) {
  return new Promise((resolve, reject) => {
    const argv = [
      '-t1',
      `-c${connections}`,
      `-d${durationS}s`,
      '--timeout',
      '10s',
      '-s',
      wrkScript(requests),
      url,
    ];
    execFile('wrk', argv, { timeout: (durationS + 30) * 1000 }, (err, stdout, stderr) => {
      const m = /WRKJSON (\{.*\})/.exec(stdout);
      if (!m) return reject(new Error(`wrk failed: ${err?.message ?? ''}\n${stdout}\n${stderr}`));
      const r = JSON.parse(m[1]);
      const s = r.durationUs / 1e6;
      resolve({
        requests: r.requests,
        rps: r.requests / s,
        durationS: s,
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
        p50: r.p50 / 1000,
        p90: r.p90 / 1000,
        p99: r.p99 / 1000,
        max: r.max / 1000,
        tool: 'wrk',
      });
    });
  });
}

process.on('message', async (msg) => {
  if (msg.type !== 'run') return;
  try {
    // wrk cannot hold a fixed rate: a run at a given rate is autocannon's.
    process.send({
      type: 'run',
      ok: true,
      result: WRK && !msg.rate ? await runWrk(msg) : { ...(await run(msg)), tool: 'autocannon' },
    });
  } catch (err) {
    process.send({ type: 'run', ok: false, error: String(err?.stack ?? err) });
  }
});
process.send({ type: 'ready', tool: WRK ? 'wrk' : 'autocannon' });
