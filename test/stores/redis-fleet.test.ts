import { expect } from 'chai';
import Redis from 'ioredis';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { TOKEN } from '../support/client';
import { forkTracker, type Tracker } from './support/fork';
import { ids, until } from './support/helpers';
import { startRedis, type RedisServer } from './support/redis-server';

describe('redisStore: a fleet on one stream (needs redis-server)', function () {
  this.timeout(60_000);
  let mock: MockOurs;
  let server: RedisServer;
  let redis: Redis;
  const trackers: Tracker[] = [];

  before(async () => {
    server = await startRedis();
    redis = new Redis({ host: '127.0.0.1', port: server.port });
    mock = await createMockOurs({ token: TOKEN });
  });
  after(async () => {
    await Promise.all(trackers.map((t) => t.kill()));
    redis?.disconnect();
    await mock?.close();
    await server?.stop();
  });

  function instance(consumer: string, stream: string, count: number): Tracker {
    const tracker = forkTracker({
      apiUrl: mock.url,
      token: TOKEN,
      count,
      prefix: consumer,
      redis: { port: server.port, stream, consumer, claimIdleMs: 1000 },
    });
    trackers.push(tracker);
    return tracker;
  }

  it('two processes, one killed (SIGKILL) mid-outage: the other delivers its events too, once each', async () => {
    const stream = 'ours:fleet';
    mock.respondWith({ status: 503, times: 'always' });
    const doomed = instance('doomed', stream, 300);
    const survivor = instance('survivor', stream, 300);
    await Promise.all([doomed.next('tracked'), survivor.next('tracked')]);
    const pending = (await redis.xpending(stream, 'ours')) as [
      number,
      string,
      string,
      [string, string][],
    ];
    expect(Object.fromEntries(pending[3])).to.deep.equal({ doomed: '300', survivor: '300' });
    await doomed.kill();
    expect((await doomed.exited)[1]).to.equal('SIGKILL');
    expect(mock.events).to.have.length(0);

    mock.reset(); // the API is back
    await mock.waitFor(600, { timeoutMs: 20_000 });
    await until(
      async () => Number(((await redis.xpending(stream, 'ours')) as [number])[0]) === 0,
      'the survivor to settle what it claimed',
    );
    const done = await survivor.shutdown();
    expect(done.stats).to.include({ tracked: 600, delivered: 600, failed: 0, dropped: 0 });
    expect(mock.events).to.have.length(600);
    expect(mock.duplicates()).to.deep.equal([]);
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(
      [...ids('doomed', 300), ...ids('survivor', 300)].sort(),
    );
    expect(await redis.xlen(stream)).to.equal(0);
  });
});
