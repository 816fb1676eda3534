#!/usr/bin/env node
// Self time per function of a V8 .cpuprofile (from `node --cpu-prof`), as a
// share of the profile's non-idle samples, so profiles taken under different
// loads compare.
//
//   node bench/profile-summary.mjs a.cpuprofile [b.cpuprofile]   # top 40, side by side
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** { total, byFunction: Map<"name file:line", selfShare> } of one profile. */
export function summarise(path) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const byFunction = new Map();
  let busy = 0;
  let gc = 0;
  for (const [id, count] of counts) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(garbage collector)') gc += count;
    if (IDLE.has(functionName) && functionName !== '(garbage collector)') continue;
    busy += count;
    const key =
      `${functionName || '(anonymous)'} ${url ? `${shorten(url)}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  }
  for (const [k, v] of byFunction) byFunction.set(k, v / busy);
  return { busy, gcShare: gc / busy, byFunction };
}

const shorten = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/(node_modules\/)/, '$1')
    .replace(/^.*\/dist\/cjs\//, '')
    .replace(/^node:/, 'node:');

export function formatSummary(s, top = 40) {
  const rows = [...s.byFunction].sort((a, b) => b[1] - a[1]).slice(0, top);
  return (
    rows.map(([k, v]) => `${(v * 100).toFixed(2).padStart(6)}%  ${k}`).join('\n') +
    `\n(${s.busy} busy samples, GC ${(s.gcShare * 100).toFixed(1)}%)`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const paths = process.argv.slice(2);
  const sums = paths.map(summarise);
  if (sums.length === 1) console.log(formatSummary(sums[0]));
  else {
    const keys = new Set(
      sums.flatMap((s) =>
        [...s.byFunction]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 40)
          .map(([k]) => k),
      ),
    );
    const rows = [...keys]
      .map((k) => [k, ...sums.map((s) => s.byFunction.get(k) ?? 0)])
      .sort((a, b) => Math.max(...b.slice(1)) - Math.max(...a.slice(1)));
    console.log(paths.map((p) => basename(p)).join(' | '));
    for (const [k, ...v] of rows)
      console.log(`${v.map((x) => (x * 100).toFixed(2).padStart(6) + '%').join(' ')}  ${k}`);
    console.log(sums.map((s) => `${s.busy} busy, GC ${(s.gcShare * 100).toFixed(1)}%`).join(' | '));
  }
}
