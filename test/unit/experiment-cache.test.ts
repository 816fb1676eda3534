import { expect } from 'chai';
import { Circuit } from '../../src/experiments/circuit';
import { InFlight } from '../../src/experiments/in-flight';
import { TtlCache } from '../../src/experiments/ttl-cache';
import { answerWithin } from '../../src/deadline';

/** A clock the test moves by hand. */
function fakeClock(): { now: () => number; advance(ms: number): void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('experiments: TtlCache', () => {
  it('returns what was stored until the TTL passes, then nothing', () => {
    const clock = fakeClock();
    const cache = new TtlCache<string>(10, 100, clock.now);
    cache.set('a', 'A');
    clock.advance(99);
    expect(cache.get('a')).to.equal('A');
    clock.advance(1);
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.size).to.equal(0); // an expired entry is dropped when found
  });

  it('evicts the least recently used entry when full (a hit counts as a use)', () => {
    const cache = new TtlCache<number>(2, 1000, fakeClock().now);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a'); // now b is the least recently used
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).to.deep.equal([1, undefined, 3]);
    expect(cache.size).to.equal(2);
  });

  it('stores nothing when sized 0 or with a TTL of 0 (the cache turned off)', () => {
    for (const cache of [new TtlCache<number>(0, 1000), new TtlCache<number>(10, 0)]) {
      cache.set('a', 1);
      expect(cache.get('a')).to.equal(undefined);
    }
  });

  it('a wall-clock jump does not touch it (monotonic time by default)', () => {
    const cache = new TtlCache<number>(10, 60_000);
    cache.set('a', 1);
    const realNow = Date.now;
    Date.now = () => realNow() + 3_600_000; // an NTP step of an hour
    try {
      expect(cache.get('a')).to.equal(1);
    } finally {
      Date.now = realNow;
    }
  });
});

describe('experiments: Circuit', () => {
  it('after a failure allows nothing for the cool-down, then one probe per cool-down, until a success', () => {
    const clock = fakeClock();
    const circuit = new Circuit(1000, clock.now);
    expect(circuit.allows()).to.equal(true);
    circuit.failure();
    expect(circuit.allows()).to.equal(false);
    clock.advance(1000);
    expect([circuit.allows(), circuit.allows()]).to.deep.equal([true, false]); // the probe, then wait again
    circuit.success();
    expect([circuit.allows(), circuit.allows()]).to.deep.equal([true, true]);
  });
});

describe('experiments: InFlight and answerWithin', () => {
  it('concurrent askers of one key share one start, and the key is free once it settles', async () => {
    const inFlight = new InFlight<number>();
    let starts = 0;
    const start = (): Promise<number> => new Promise((resolve) => setTimeout(resolve, 5, ++starts));
    const answers = await Promise.all([
      inFlight.share('k', start),
      inFlight.share('k', start),
      inFlight.share('other', start),
    ]);
    expect(answers).to.deep.equal([1, 1, 2]);
    expect(inFlight.size).to.equal(0);
    expect(await inFlight.share('k', start)).to.equal(3);
  });

  it('answerWithin() gives the value when it comes first, undefined at the deadline otherwise', async () => {
    expect(await answerWithin(Promise.resolve('fast'), 50)).to.equal('fast');
    const never = new Promise<string>(() => {});
    const started = performance.now();
    expect(await answerWithin(never, 20)).to.equal(undefined);
    expect(performance.now() - started).to.be.at.least(19);
  });
});
