import { expect } from 'chai';
import type { EventPath, QueuedEvent } from '../../../src/stores/event-store';
import { MemoryStore } from '../../../src/stores/memory-store';

const event = (name: string, path: EventPath = '/batch', bytes = 10): QueuedEvent => ({
  json: `{"event":"${name}"}`,
  bytes,
  path,
});

describe('stores/memory-store: the default store', () => {
  it('leases oldest first, up to the count, and counts what waits', () => {
    const store = new MemoryStore();
    const events = ['a', 'b', 'c'].map((n) => event(n));
    for (const e of events) expect(store.append(e)).to.equal(true);
    expect([store.count, store.bytes]).to.deep.equal([3, 30]);
    expect(store.lease(2, Infinity)).to.deep.equal(events.slice(0, 2));
    expect([store.count, store.bytes]).to.deep.equal([1, 10]);
    expect(store.lease(10, Infinity)).to.deep.equal(events.slice(2));
    expect(store.lease(10, Infinity)).to.deep.equal([]);
    expect(store.durable).to.equal(false);
  });

  it('hands back the objects it was given (the client keeps its bookkeeping on them)', () => {
    const store = new MemoryStore();
    const given = event('a');
    store.append(given);
    const seen: QueuedEvent[] = [];
    store.forEach((e) => seen.push(e));
    expect(seen[0]).to.equal(given);
    expect(store.lease(1, Infinity)[0]).to.equal(given);
  });

  it('a lease holds events of one path; /track and /identify go alone', () => {
    const store = new MemoryStore();
    store.append(event('t1', '/track'));
    store.append(event('t2', '/track'));
    store.append(event('b1'));
    store.append(event('i1', '/identify'));
    expect(store.lease(10, Infinity).map((e) => e.json)).to.deep.equal(['{"event":"t1"}']);
    expect(store.lease(10, Infinity).map((e) => e.json)).to.deep.equal(['{"event":"t2"}']);
    expect(store.lease(10, Infinity).map((e) => e.json)).to.deep.equal(['{"event":"b1"}']);
    expect(store.lease(10, Infinity).map((e) => e.path)).to.deep.equal(['/identify']);
  });

  it('stops at maxBytes, but always leases the first event', () => {
    const store = new MemoryStore();
    store.append(event('big', '/batch', 100));
    store.append(event('a', '/batch', 30));
    store.append(event('b', '/batch', 30));
    expect(store.lease(10, 50).map((e) => e.bytes)).to.deep.equal([100]);
    expect(store.lease(10, 50).map((e) => e.bytes)).to.deep.equal([30]);
    expect(store.count).to.equal(1);
  });

  it('stays a FIFO across many appends and leases (compaction keeps the order)', () => {
    const store = new MemoryStore();
    const out: string[] = [];
    for (let i = 0; i < 5000; i++) {
      store.append(event(String(i)));
      if (i % 3 === 2) out.push(...store.lease(2, Infinity).map((e) => e.json));
    }
    while (store.count) out.push(...store.lease(7, Infinity).map((e) => e.json));
    expect(out).to.deep.equal(Array.from({ length: 5000 }, (_, i) => `{"event":"${i}"}`));
  });
});
