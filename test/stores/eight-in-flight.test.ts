import { expect } from 'chai';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { TOKEN } from '../support/client';
import { forkTracker, type Tracker } from './support/fork';
import type { MiddlewareConfig } from './support/tracker-child';
import { ids, tempDirs } from './support/helpers';
import { startRedis, type RedisServer } from './support/redis-server';

/**
 * `maxInFlight` defaults to 8: a durable store has 8 batches leased at once
 * while the API hangs. A process killed (SIGKILL) then leaves all of them
 * leased and unacked; the next process delivers every event, once.
 */
describe('durable stores with 8 batches in flight, killed mid-flight (needs redis-server)', function () {
  this.timeout(60_000);
  let mock: MockOurs;
  let server: RedisServer;
  const dirs = tempDirs();
  const trackers: Tracker[] = [];
  /** 8 default batches (500 events each) and some left waiting in the store. */
  const COUNT = 4300;

  before(async () => {
    server = await startRedis();
    mock = await createMockOurs({ token: TOKEN });
  });
  afterEach(async () => {
    await Promise.all(trackers.splice(0).map((t) => t.kill()));
    expect(mock.violations.map((v) => v.message)).to.deep.equal([]);
    mock.reset();
  });
  after(async () => {
    await mock?.close();
    await server?.stop();
    dirs.cleanup();
  });

  const start = (config: Omit<MiddlewareConfig, 'apiUrl' | 'token'>): Tracker => {
    const tracker = forkTracker({ apiUrl: mock.url, token: TOKEN, ...config });
    trackers.push(tracker);
    return tracker;
  };

  const stores: [string, () => Pick<MiddlewareConfig, 'file' | 'redis'>][] = [
    ['fileStore', () => ({ file: { dir: dirs.make() } })],
    [
      'redisStore',
      () => ({
        redis: { port: server.port, stream: 'ours:eight', consumer: 'me', claimIdleMs: 60_000 },
      }),
    ],
  ];
  for (const [name, storeOf] of stores)
    it(`${name}: 8 batches leased at once against a hung API; after kill -9 a new process delivers all, once each`, async () => {
      const store = storeOf();
      mock.respondWith({ hang: true, times: 'always' });
      const first = start({ ...store, count: COUNT, prefix: 'e' });
      await first.next('tracked');
      await mock.waitFor(8, { of: 'requests', timeoutMs: 20_000 });
      const sent = mock.requests.map((r) => (r.body as { events: unknown[] }).events.length);
      expect(sent, 'events per hung request').to.deep.equal(Array(8).fill(500));
      await first.kill();
      expect((await first.exited)[1]).to.equal('SIGKILL');
      expect(mock.events).to.have.length(0);
      mock.reset(); // the API answers again

      const second = start({ ...store, count: 0, prefix: 'unused' });
      await mock.waitFor(COUNT, { timeoutMs: 30_000 });
      const done = await second.shutdown();
      expect(done.errors).to.deep.equal([]);
      expect(done.stats).to.include({ delivered: COUNT, failed: 0, dropped: 0, inFlight: 0 });
      const s = done.stats;
      expect(
        s.tracked,
        'tracked = delivered + failed + dropped + queued + inFlight + held',
      ).to.equal(s.delivered + s.failed + s.dropped + s.queued + s.inFlight + s.held);
      expect(mock.duplicates()).to.deep.equal([]);
      expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('e', COUNT).sort());
    });
});
