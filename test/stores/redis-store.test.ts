import { expect } from 'chai';
import Redis from 'ioredis';
import { redisStore, type RedisStoreOptions } from '../../src/index';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { clientFor, TOKEN } from '../support/client';
import {
  balanced,
  drops,
  ids,
  PATIENT_RETRY,
  shutDownAfterEach,
  sleep,
  until,
} from './support/helpers';
import { startRedis, type RedisServer } from './support/redis-server';

describe('redisStore (needs redis-server)', function () {
  const closing = shutDownAfterEach();
  this.timeout(60_000);
  let mock: MockOurs;
  let server: RedisServer;
  const connections: Redis[] = [];
  let n = 0;
  let stream = '';

  before(async () => {
    server = await startRedis();
    mock = await createMockOurs({ token: TOKEN });
  });
  beforeEach(() => (stream = `ours:test:${++n}`));
  afterEach(() => {
    expect(mock.violations.map((v) => v.message)).to.deep.equal([]);
    mock.reset();
  });
  after(async () => {
    for (const redis of connections) redis.disconnect();
    await mock?.close();
    await server?.stop();
  });

  function connect(options: { port?: number; maxRetriesPerRequest?: number } = {}): Redis {
    const redis = new Redis({ host: '127.0.0.1', port: server.port, ...options });
    redis.on('error', () => undefined); // connection errors reach the store's calls
    connections.push(redis);
    return redis;
  }

  function durableClient(options: Partial<RedisStoreOptions> = {}) {
    const store = redisStore({
      redis: connect(),
      stream,
      consumer: 'me',
      claimIdleMs: 60_000,
      ...options,
    });
    return closing({ store, ...clientFor(mock, { store, retry: PATIENT_RETRY }) });
  }

  function trackAll(
    client: { track: (e: { event: string; userId: string; distinctId: string }) => void },
    prefix: string,
    count: number,
  ): void {
    for (let i = 0; i < count; i++)
      client.track({ event: 'Streamed', userId: `u-${i}`, distinctId: `${prefix}-${i}` });
  }

  /** Entries in the stream, and entries pending in the group. */
  async function leftInRedis(): Promise<{ length: number; pending: number }> {
    const redis = connect();
    const length = await redis.xlen(stream);
    const summary = (await redis.xpending(stream, 'ours').catch(() => [0])) as [number];
    return { length, pending: Number(summary[0]) };
  }

  it('delivers like the memory store and leaves the stream empty', async () => {
    const { client, errors } = durableClient();
    // The API is down until every entry is seen pending in Redis (a fixed number of 503s
    // can all pass between two polls on a loaded machine).
    mock.respondWith({ status: 503, times: 'always' });
    trackAll(client, 'a', 100);
    client.identify({ externalId: 'x', userProperties: { email: 'a@b.co' } });
    await until(async () => (await leftInRedis()).pending === 101, 'entries in Redis');
    mock.reset(); // the API is back
    expect(await client.flush()).to.deep.equal({ delivered: 101, failed: 0, dropped: 0 });
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('a', 100));
    await client.shutdown();
    expect(await leftInRedis()).to.deep.equal({ length: 0, pending: 0 });
    expect(errors).to.deep.equal([]);
  });

  it('207 rows: resends only the failed rows, with the same distinctId', async () => {
    const { client } = durableClient();
    mock.respondWith({ rows: (_e, i) => (i === 0 ? 'queue_failed' : 'ok') });
    trackAll(client, 'r', 3);
    expect(await client.flush()).to.deep.equal({ delivered: 3, failed: 0, dropped: 0 });
    expect(mock.events.map((e) => e.distinctId)).to.deep.equal(['r-1', 'r-2', 'r-0']);
    await client.shutdown();
    expect(await leftInRedis()).to.deep.equal({ length: 0, pending: 0 });
  });

  it('after a shutdown deadline, a restart under the same consumer name delivers at once (no idle wait)', async () => {
    const first = durableClient();
    mock.respondWith({ status: 503, times: 'always' });
    trackAll(first.client, 'd', 20);
    await until(async () => (await leftInRedis()).pending === 20, 'entries in Redis');
    expect(await first.client.shutdown({ timeoutMs: 50 })).to.include({ failed: 20 });
    mock.reset();
    const again = durableClient();
    await mock.waitFor(20, { timeoutMs: 3000 });
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('d', 20));
    await until(() => again.client.stats().delivered === 20 && balanced(again.client), 'settled');
    await again.client.shutdown();
    expect(await leftInRedis()).to.deep.equal({ length: 0, pending: 0 });
  });

  it("another instance claims a stopped instance's entries once they are idle for claimIdleMs", async () => {
    const gone = durableClient({ consumer: 'gone', claimIdleMs: 300 });
    mock.respondWith({ status: 503, times: 'always' });
    trackAll(gone.client, 'g', 50);
    await until(async () => (await leftInRedis()).pending === 50, 'entries in Redis');
    await gone.client.shutdown({ timeoutMs: 50 });
    mock.reset();
    const started = Date.now();
    const live = durableClient({ consumer: 'live', claimIdleMs: 300 });
    await mock.waitFor(50, { timeoutMs: 5000 });
    expect(Date.now() - started).to.be.at.least(100); // and within the wait above
    expect(mock.duplicates()).to.deep.equal([]);
    await until(() => live.client.stats().delivered === 50, 'settled');
    await live.client.shutdown();
    expect(await leftInRedis()).to.deep.equal({ length: 0, pending: 0 });
  });

  it('live instances keep their entries through an outage far longer than claimIdleMs: no duplicates', async () => {
    const a = durableClient({ consumer: 'a', claimIdleMs: 300 });
    const b = durableClient({ consumer: 'b', claimIdleMs: 300 });
    mock.respondWith({ status: 503, times: 'always' });
    trackAll(a.client, 'a', 100);
    trackAll(b.client, 'b', 100);
    await sleep(1500);
    mock.reset();
    await mock.waitFor(200, { timeoutMs: 10_000 });
    // Every event acknowledged by its client: a duplicate, had one been sent, has arrived by now.
    await until(
      () => a.client.stats().delivered === 100 && b.client.stats().delivered === 100,
      'both clients to count their events delivered',
    );
    expect(mock.events).to.have.length(200);
    expect(mock.duplicates()).to.deep.equal([]);
    expect(a.client.stats()).to.include({ tracked: 100, delivered: 100 });
    await Promise.all([a.client.shutdown(), b.client.shutdown()]);
  });

  it('entries older than the 7-day window are dropped with a report and removed', async () => {
    const redis = connect();
    await redis.xgroup('CREATE', stream, 'ours', '$', 'MKSTREAM');
    const old = JSON.stringify({
      event: 'Old',
      userId: 'u',
      distinctId: 'old-1',
      time: Date.now() - 8 * 86_400_000,
    });
    const fresh = JSON.stringify({
      event: 'New',
      userId: 'u',
      distinctId: 'new-1',
      time: Date.now(),
    });
    const ids = [
      await redis.xadd(stream, '*', 'p', 'b', 'j', old),
      await redis.xadd(stream, '*', 'p', 'b', 'j', fresh),
    ];
    await redis.xclaim(stream, 'ours', 'dead', 0, ...(ids as string[]), 'FORCE', 'JUSTID');
    await sleep(60);
    const { client } = durableClient({ claimIdleMs: 50 });
    const dropped = drops(client);
    await mock.waitFor(1);
    await until(() => dropped.length > 0, 'the report');
    expect(dropped).to.deep.equal([{ reason: 'expired', count: 1 }]);
    expect(mock.events.map((e) => e.distinctId)).to.deep.equal(['new-1']);
    await until(() => client.stats().delivered === 1 && balanced(client), 'settled');
    await client.shutdown();
    expect(await leftInRedis()).to.deep.equal({ length: 0, pending: 0 });
  });

  it('unreadable entries are dropped as corrupt (not expired) and removed', async () => {
    const redis = connect();
    await redis.xgroup('CREATE', stream, 'ours', '$', 'MKSTREAM');
    const fresh = JSON.stringify({
      event: 'New',
      userId: 'u',
      distinctId: 'new-2',
      time: Date.now(),
    });
    const ids = [
      await redis.xadd(stream, '*', 'p', 'b', 'j', '{"event":"Torn'), // JSON cut short
      await redis.xadd(stream, '*', 'x', 'not one of ours'), // fields of another writer
      await redis.xadd(stream, '*', 'p', 'b', 'j', fresh),
    ];
    await redis.xclaim(stream, 'ours', 'me', 0, ...(ids as string[]), 'FORCE', 'JUSTID');
    const { client } = durableClient();
    const dropped = drops(client);
    await mock.waitFor(1);
    await until(() => dropped.length > 0, 'the report');
    expect(dropped).to.deep.equal([{ reason: 'corrupt', count: 2 }]);
    expect(mock.events.map((e) => e.distinctId)).to.deep.equal(['new-2']);
    await until(() => client.stats().delivered === 1 && balanced(client), 'settled');
    await client.shutdown();
    expect(await leftInRedis()).to.deep.equal({ length: 0, pending: 0 });
  });

  it('with Redis unreachable, failures are reported and events are still delivered from memory', async () => {
    const redis = new Redis({
      host: '127.0.0.1',
      port: 1,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    redis.on('error', () => undefined);
    connections.push(redis);
    const store = redisStore({ redis, stream });
    const { client, errors } = closing(clientFor(mock, { store }));
    trackAll(client, 'm', 5);
    expect(await client.flush()).to.deep.equal({ delivered: 5, failed: 0, dropped: 0 });
    await until(() => errors.length > 0, 'the error');
    expect(errors[0]!.message).to.match(/event store: redisStore\(ours:test:\d+\): /);
    await client.shutdown();
  });

  it('rejects bad options at construction', () => {
    expect(() => redisStore({ redis: {} as never })).to.throw(/redisStore\.redis/);
    expect(() => redisStore({ redis: connect(), claimIdleMs: 1 })).to.throw(
      /redisStore\.claimIdleMs/,
    );
    expect(() => redisStore({ redis: connect(), stream: '' })).to.throw(/redisStore\.stream/);
  });
});
