#!/usr/bin/env node
// The GC effect behind the request-path regression of issues 13/14, without
// the package: 1,000,000 "requests" (a closure over ~1 KB of fresh objects),
// 16 in flight, each registered while it runs in a long-lived collection and
// removed when it ends, as HandOffBatch did with a Set.
//   node --expose-gc bench/gc-set-churn.mjs none|set|list
// Prints the CPU time; add --trace-gc to see the scavenges keep what the
// finished requests allocated (set) or not (none, list).
const mode = process.argv[2] ?? 'set';
const IN_FLIGHT = 16;
const open = new Set();
let head;
const inFlight = new Array(IN_FLIGHT);
globalThis.gc?.(); // the collection in the old generation, as after an app's start-up
const start = process.cpuUsage();
for (let i = 0; i < 1_000_000; i++) {
  const request = {
    headers: new Array(30).fill(`h${i}`),
    body: `${'x'.repeat(200)}${i}`,
    res: { chunks: [i, i + 1] },
  };
  const handOff = () => request.headers.length;
  if (mode === 'set') open.add(handOff);
  else if (mode === 'list') {
    const entry = { handOff, prev: undefined, next: head };
    if (head) head.prev = entry;
    head = entry;
    handOff.entry = entry;
  }
  const done = inFlight[i % IN_FLIGHT];
  if (done && mode === 'set') open.delete(done);
  else if (done && mode === 'list') {
    const { entry } = done;
    if (entry.prev) entry.prev.next = entry.next;
    else head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    entry.prev = entry.next = undefined;
  }
  inFlight[i % IN_FLIGHT] = handOff;
}
const cpu = process.cpuUsage(start);
console.log(`${mode}: ${Math.round((cpu.user + cpu.system) / 1000)} ms of CPU`);
