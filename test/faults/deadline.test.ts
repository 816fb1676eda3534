import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { OursClient, type FetchLike } from '../../src/index';
import { createMockOurs } from '../../src/testing';
import { exitWithin, runFixture, type Child } from './child';

/**
 * A shutdown deadline holds whatever else the process does: nothing is sent
 * after it, and `shutdown()` resolves on time, even when libuv's thread pool
 * (where the gzip of a batch runs) is busy with the app's own work.
 */
describe('shutdown deadline', function () {
  this.timeout(60_000);
  let api: Server;
  let apiUrl: string;
  /** Requests the hung API received (it never answers). */
  let received = 0;
  const children: Child[] = [];

  before(async () => {
    api = createServer(() => void received++);
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/v1`;
  });
  beforeEach(() => void (received = 0));
  afterEach(() => {
    for (const c of children.splice(0))
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  });
  after(async () => {
    api.closeAllConnections();
    await new Promise((resolve) => api.close(resolve));
  });

  it('holds with the thread pool busy (UV_THREADPOOL_SIZE=1, pbkdf2 queued): on time, nothing sent after it', async () => {
    const timeoutMs = 600;
    const child = runFixture(
      'pool-child.ts',
      { apiUrl, token: 'pool-token', timeoutMs, busyMs: 3000 },
      { UV_THREADPOOL_SIZE: '1' },
    );
    children.push(child);
    const [ms, report, jobs] = (await child.line('SHUTDOWN')).split(' ');
    // The event loop is free (the work is on the pool): the deadline's timer fires, not
    // later than the pool's work (order, not a bound in ms: a loaded machine delays timers).
    expect(Number(ms), 'shutdown took (ms)').to.be.at.least(timeoutMs - 1);
    expect(Number(jobs), "the pool's jobs left when shutdown() resolved").to.be.greaterThan(0);
    expect(JSON.parse(report!)).to.deep.equal({ delivered: 0, failed: 50, dropped: 0 });
    await child.line('POOL FREE'); // the gzip the client queued has run by now
    child.proc.kill('SIGTERM');
    await exitWithin(child, 5000);
    expect(received, 'requests that reached the API').to.equal(0);
  });

  it('batches still waiting for their gzip at the deadline: nothing sent; new clients in the process then deliver every event once, in their own bodies', async () => {
    const mock = await createMockOurs();
    try {
      const child = runFixture(
        'pool-reuse-child.ts',
        { hungUrl: apiUrl, apiUrl: mock.url, timeoutMs: 300, busyMs: 1500 },
        { UV_THREADPOOL_SIZE: '1' },
      );
      children.push(child);
      const [report, jobs] = (await child.line('SHUTDOWN')).split(' ');
      expect(JSON.parse(report!)).to.deep.equal({ delivered: 0, failed: 200, dropped: 0 });
      expect(Number(jobs), "the pool's jobs left at the deadline").to.be.greaterThan(0);
      const after = JSON.parse(await child.line('AFTER')) as unknown[];
      expect(after).to.deep.equal(Array(4).fill({ delivered: 200, failed: 0, dropped: 0 }));
      await exitWithin(child, 10_000);
      expect(received, 'requests that reached the hung API').to.equal(0);
      expect(mock.violations.map((v) => v.message)).to.deep.equal([]);
      expect(mock.duplicates()).to.deep.equal([]);
      for (const name of ['a', 'b', 'c', 'd']) {
        const mine = mock.events.filter((e) => e.event === `Next ${name}`);
        expect(mine.map((e) => e.distinctId).sort(), name).to.deep.equal(
          Array.from({ length: 200 }, (_, i) => `${name}-${i}`).sort(),
        );
      }
      expect(mock.events).to.have.length(800);
    } finally {
      await mock.close();
    }
  });

  it('an already-aborted shutdown sends nothing, even through a fetch that ignores its signal', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    // A fetch that never looks at `signal`: only the client can hold the deadline.
    const deaf: FetchLike = () => {
      calls++;
      return new Promise(
        (resolve) =>
          (release = () =>
            resolve({
              status: 200,
              headers: { get: () => null },
              text: async () => '{"success":true}',
            })),
      );
    };
    const client = new OursClient({
      token: 'deaf-token',
      apiUrl,
      fetch: deaf,
      logger: false,
      timeoutMs: 5000,
      flushAt: 1,
      maxInFlight: 1,
    });
    client.on('error', () => undefined);
    client.track({ event: 'Deaf', externalId: 'u', distinctId: 'deaf-1' });
    client.track({ event: 'Deaf', externalId: 'u', distinctId: 'deaf-2' });
    while (calls === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const t0 = performance.now();
    const report = await client.shutdown({ timeoutMs: 100 });
    // The fetch never answers by itself: only the deadline can end the shutdown.
    expect(performance.now() - t0, 'shutdown took (ms)').to.be.below(5000);
    release(); // the answer comes after the deadline: too late to count
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls, 'requests after the deadline').to.equal(1);
    expect(report).to.deep.equal({ delivered: 0, failed: 2, dropped: 0 });
    expect(client.stats()).to.include({
      tracked: 2,
      delivered: 0,
      failed: 2,
      queued: 0,
      inFlight: 0,
    });
  });
});
