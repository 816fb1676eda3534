import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ours } from '../../adapters/express';
import {
  fileStore,
  OursClient,
  OursConfigError,
  redisStore,
  type ClientOptions,
  type RedisLike,
} from '../../src/index';
import { clientFor, FAST_RETRY, TOKEN, withMock } from '../support/client';
import { sleep, until } from '../support/wait';

/** Past setTimeout's range: Node fires such a timer after 1 ms. */
const OVER_TIMER = 2 ** 31;
const MAX_TIMER = OVER_TIMER - 1;

/** Enough of an ioredis for a store to be made (never opened: no client uses it). */
const FAKE_REDIS = { call: () => Promise.resolve(null) } as unknown as RedisLike;

function configErrorOf(make: () => unknown): OursConfigError {
  try {
    make();
  } catch (err) {
    expect(err).to.be.instanceOf(OursConfigError);
    return err as OursConfigError;
  }
  throw new Error('no OursConfigError was thrown');
}

describe('options out of range, and stores that are not stores', () => {
  const t = withMock();

  it('a store that is not one (fileStore passed uncalled, an object) is refused at construction, never thrown from track()', () => {
    const uncalled = configErrorOf(
      () => new OursClient({ token: TOKEN, store: fileStore as never, handleSignals: false }),
    );
    expect(uncalled.option).to.equal('store');
    expect(uncalled.message).to.include('fileStore({ dir })');
    for (const store of [{}, 'file', { append: () => true }])
      expect(
        configErrorOf(() => ours({ token: TOKEN, store: store as never, handleSignals: false }))
          .option,
      ).to.equal('store');
  });

  it('a store already serving a client is refused by a second one, whose events the first would count and flush', async () => {
    const store = fileStore({ dir: mkdtempSync(join(tmpdir(), 'ours-shared-')) });
    const { client } = clientFor(t.mock, { store });
    try {
      const second = configErrorOf(() => ours({ token: TOKEN, store, flushAt: 10 }));
      expect(second.option).to.equal('store');
      expect(second.message).to.include('ours({ client })');
      client.track({ event: 'E', userId: 'v' });
      expect(await client.flush()).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    } finally {
      await client.shutdown();
      rmSync(store.dir, { recursive: true, force: true });
    }
  });

  it(`millisecond options past setTimeout's range (${OVER_TIMER} ms) are refused, naming the option`, () => {
    const cases: [string, () => unknown][] = [
      ['timeoutMs', () => new OursClient({ token: TOKEN, timeoutMs: OVER_TIMER })],
      ['flushIntervalMs', () => new OursClient({ token: TOKEN, flushIntervalMs: OVER_TIMER })],
      [
        'retry.maxDelayMs',
        () => new OursClient({ token: TOKEN, retry: { maxDelayMs: OVER_TIMER } }),
      ],
      [
        'retry.jitterMs',
        () => new OursClient({ token: TOKEN, retry: { jitterMs: [0, Infinity] } }),
      ],
      ['hookTimeoutMs', () => ours({ token: TOKEN, hookTimeoutMs: OVER_TIMER })],
      ['flushOnResponse', () => ours({ token: TOKEN, flushOnResponse: { timeoutMs: OVER_TIMER } })],
      ['flushOnResponse', () => ours({ token: TOKEN, flushOnResponse: null as never })],
      ['fileStore.flushMs', () => fileStore({ dir: '/tmp/never-made', flushMs: OVER_TIMER })],
      ['redisStore.flushMs', () => redisStore({ redis: FAKE_REDIS, flushMs: OVER_TIMER })],
      ['redisStore.claimIdleMs', () => redisStore({ redis: FAKE_REDIS, claimIdleMs: OVER_TIMER })],
    ];
    for (const [option, make] of cases) {
      const err = configErrorOf(make);
      expect(err.option, err.message).to.equal(option);
    }
  });

  it(`the stores' millisecond options: ${MAX_TIMER} is taken, one more is refused naming the option and the limit`, () => {
    expect(() => fileStore({ dir: '/tmp/never-made', flushMs: MAX_TIMER })).to.not.throw();
    expect(() =>
      redisStore({ redis: FAKE_REDIS, flushMs: MAX_TIMER, claimIdleMs: MAX_TIMER }),
    ).to.not.throw();
    const err = configErrorOf(() => redisStore({ redis: FAKE_REDIS, claimIdleMs: MAX_TIMER + 1 }));
    expect(err.message).to.include('redisStore.claimIdleMs').and.include(`from 30 to ${MAX_TIMER}`);
  });

  it('a backoff whose maxDelayMs plus jitter passes the timer range waits instead of re-arming every millisecond', async () => {
    // A timer past the range fires after 1 ms, with a TimeoutOverflowWarning. Only the warnings
    // raised by the client's own timers count: the event is process-wide.
    const overflows: string[] = [];
    const onWarning = (w: Error): void => {
      if (w.name === 'TimeoutOverflowWarning' && /src[\\/]client/.test(w.stack ?? '')) {
        overflows.push(w.stack ?? '');
      }
    };
    process.on('warning', onWarning);
    // `(now + max) - now` rounds past `max` for about one `now` in four: pin the clock to such
    // values (nudged by nanoseconds), so that a delay computed that way overflows every run.
    const realNow = performance.now.bind(performance);
    const max = 2 ** 31 - 1;
    performance.now = () => {
      let now = realNow();
      while (now + max - now <= max) now += 1e-6;
      return now;
    };
    const retry = { ...FAST_RETRY, initialDelayMs: 2 ** 31 - 1, maxDelayMs: 2 ** 31 - 1 };
    const { client } = clientFor(t.mock, { retry: { ...retry, jitterMs: [1, 1] } });
    try {
      t.mock.respondWith({ status: 503 });
      client.track({ event: 'E', userId: 'v' });
      await until(() => client.stats().retried === 1, 'the retry to be scheduled');
      await sleep(50); // a timer re-armed every millisecond would have warned by now
      expect(overflows).to.deep.equal([]);
      expect(t.mock.requests).to.have.length(1);
    } finally {
      process.off('warning', onWarning);
      performance.now = realNow;
      await client.shutdown({ timeoutMs: 0 });
    }
  });

  for (const timeoutMs of [Infinity, OVER_TIMER] as const) {
    it(`shutdown({ timeoutMs: ${timeoutMs} }) waits for delivery instead of giving up at once`, async () => {
      const options: ClientOptions = { flushIntervalMs: 60_000 };
      const { client, errors } = clientFor(t.mock, options);
      t.mock.respondWith({ delayMs: 100 });
      client.track({ event: 'E', userId: 'v' });
      expect(await client.shutdown({ timeoutMs })).to.deep.equal({
        delivered: 1,
        failed: 0,
        dropped: 0,
      });
      expect(errors).to.deep.equal([]);
    });
  }

  it('shutdown({ timeoutMs: NaN }) says so and uses the client timeoutMs, rather than giving up at once', async () => {
    const { client, errors } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    t.mock.respondWith({ delayMs: 100 });
    client.track({ event: 'E', userId: 'v' });
    const report = await client.shutdown({ timeoutMs: NaN });
    expect(report).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    expect(errors.map((e) => e.message)).to.deep.equal([
      "shutdown(): timeoutMs must be a number of milliseconds (Infinity: no deadline), got NaN; using the client's 10000 ms",
    ]);
  });
});
