import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DropInfo } from '../../src/index';
import { captureLogger, clientFor, TOKEN, withMock } from '../support/client';
import { until } from '../support/wait';

const run = promisify(execFile);

describe('client queue, flush and shutdown', () => {
  const t = withMock();

  it('drops new events when maxQueueSize is reached, counts them, and logs once', async () => {
    const logger = captureLogger();
    const { client } = clientFor(t.mock, { maxQueueSize: 5, logger, flushIntervalMs: 60_000 });
    const drops: DropInfo[] = [];
    client.on('drop', (d) => drops.push(d));
    for (let i = 0; i < 8; i++) client.track({ event: 'E', userId: `v${i}` });
    expect(client.stats()).to.include({ tracked: 8, queued: 5, dropped: 3 });
    expect(drops).to.deep.equal([1, 2, 3].map(() => ({ reason: 'queue_full', count: 1 })));
    expect(logger.lines.filter((l) => l.level === 'warn')).to.have.length(1);
    const report = await client.flush();
    expect(report).to.deep.equal({ delivered: 5, failed: 0, dropped: 3 });
    expect(t.mock.events.map((e) => e.userId)).to.deep.equal(['v0', 'v1', 'v2', 'v3', 'v4']);
    await client.shutdown();
  });

  it('bounds the queue by bytes, counting events that wait for a retry', async () => {
    const { client } = clientFor(t.mock, {
      maxQueueBytes: 4096,
      retry: { initialDelayMs: 200, maxDelayMs: 200, jitterMs: [0, 0] },
    });
    t.mock.respondWith({ status: 503 });
    const pad = 'x'.repeat(1000);
    client.track({ event: 'A', userId: 'v', eventProperties: { pad } });
    client.track({ event: 'B', userId: 'v', eventProperties: { pad } });
    await t.mock.waitFor(1, { of: 'requests' });
    await until(() => client.stats().retried === 2, 'A and B to wait for their retry');
    client.track({ event: 'C', userId: 'v', eventProperties: { pad } });
    client.track({ event: 'D', userId: 'v', eventProperties: { pad } }); // over 4096 bytes with A, B, C held
    expect(client.stats().dropped).to.equal(1);
    await client.flush();
    expect(t.mock.events.map((e) => e.event).sort()).to.deep.equal(['A', 'B', 'C']);
    await client.shutdown();
  });

  it('keeps tracked = delivered + failed + dropped + queued + inFlight at every step', async () => {
    const { client } = clientFor(t.mock, { maxQueueSize: 20 });
    t.mock.respondWith({ status: 500 }, { rows: (_e, i) => (i === 0 ? 'invalid_event' : 'ok') });
    const check = () => {
      const s = client.stats();
      expect(s.tracked).to.equal(
        s.delivered + s.failed + s.dropped + s.queued + s.inFlight + s.held,
      );
    };
    for (let i = 0; i < 30; i++) {
      client.track({ event: 'E', userId: `v${i}` });
      check();
    }
    client.track({ event: '', userId: 'v' });
    check();
    const interval = setInterval(check, 1);
    await client.flush();
    clearInterval(interval);
    check();
    expect(client.stats()).to.include({
      tracked: 31,
      delivered: 19,
      failed: 1,
      dropped: 11,
      queued: 0,
      inFlight: 0,
    });
    await client.shutdown();
  });

  it('flush waits only for events queued before it; concurrent calls share one flush', async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    t.mock.respondWith({ delayMs: 150, path: '/batch' });
    client.track({ event: 'A', userId: 'v' });
    const first = client.flush();
    expect(client.flush()).to.equal(first);
    const report = await first;
    expect(report.delivered).to.equal(1);
    expect(t.mock.events).to.have.length(1);
    expect(await client.flush()).to.deep.equal({ delivered: 0, failed: 0, dropped: 0 });
    await client.shutdown();
  });

  it('a later flush also waits for the events of an earlier one still in flight', async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    t.mock.respondWith({ delayMs: 200 });
    client.track({ event: 'A', userId: 'v' });
    const first = client.flush();
    await t.mock.waitFor(1, { of: 'requests' });
    expect(client.stats()).to.include({ inFlight: 1, queued: 0 }); // A is in flight (the mock holds it 200 ms)
    client.track({ event: 'B', userId: 'v' });
    const second = await client.flush();
    expect(second).to.deep.include({ delivered: 2 }); // B, and A, which it waited for
    expect(t.mock.events.map((e) => e.event)).to.have.members(['A', 'B']);
    expect((await first).delivered).to.equal(1);
    await client.shutdown();
  });

  it('shutdown delivers what is queued and in flight, then refuses new events', async () => {
    const { client, errors } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    t.mock.respondWith({ delayMs: 100 });
    client.track({ event: 'A', userId: 'v' });
    await client.flush();
    client.track({ event: 'B', userId: 'v' });
    client.track({ event: 'C', userId: 'v' });
    const report = await client.shutdown({ timeoutMs: 2000 });
    expect(report).to.deep.equal({ delivered: 2, failed: 0, dropped: 0 });
    client.track({ event: 'Late', userId: 'v' });
    expect(client.stats().dropped).to.equal(1);
    expect(await client.shutdown()).to.equal(report); // idempotent
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['A', 'B', 'C']);
    expect(errors).to.deep.equal([]);
  });

  it('shutdown gives up at its deadline and reports how many events were not delivered', async () => {
    const { client, errors } = clientFor(t.mock, { timeoutMs: 5000 });
    t.mock.respondWith({ hang: true });
    client.track({ event: 'A', userId: 'v' });
    client.track({ event: 'B', userId: 'v' });
    await t.mock.waitFor(1, { of: 'requests' });
    const started = Date.now();
    const report = await client.shutdown({ timeoutMs: 200 });
    expect(Date.now() - started).to.be.below(1000);
    expect(report).to.deep.equal({ delivered: 0, failed: 2, dropped: 0 });
    expect(errors.map((e) => e.message).join('\n')).to.include('2 events');
  });

  it('an idle client, and one that has delivered, never keep the process alive', async function () {
    this.timeout(20_000);
    const script = `
      const { OursClient } = require('./src/index');
      const client = new OursClient({ token: process.argv[2], apiUrl: process.argv[1] });
      client.track({ event: 'E', userId: 'v' });
      client.flush().then((r) => console.log(JSON.stringify(r)));`;
    const started = Date.now();
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '-e', script, t.mock.url, TOKEN],
      { timeout: 15_000 },
    );
    expect(JSON.parse(stdout)).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    expect(Date.now() - started).to.be.below(10_000);
  });
});
