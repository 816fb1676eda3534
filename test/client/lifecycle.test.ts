import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { OursClient, type DropInfo } from '../../src/index';
import { captureLogger, clientFor, FAST_RETRY, TOKEN, withMock } from '../support/client';
import { until } from '../support/wait';

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
    expect(Date.now() - started).to.be.below(4000); // not the request's own 5 s timeout
    expect(report).to.deep.equal({ delivered: 0, failed: 2, dropped: 0 });
    expect(errors.map((e) => e.message).join('\n')).to.include('2 events');
  });

  it('at its deadline, shutdown logs one line with the total it gave up, in flight and waiting alike', async () => {
    const logger = captureLogger();
    const client = new OursClient({
      token: TOKEN,
      apiUrl: t.mock.url,
      logger, // and no 'error' listener: the failure goes to the log
      maxBatchSize: 25,
      flushAt: 25,
      maxInFlight: 8,
      flushIntervalMs: 60_000,
      retry: FAST_RETRY,
    });
    t.mock.respondWith({ hang: true, times: 'always' });
    for (let i = 0; i < 300; i++) client.track({ event: 'E', userId: `v${i}` });
    await t.mock.waitFor(8, { of: 'requests' }); // 200 in flight, 100 waiting
    const report = await client.shutdown({ timeoutMs: 200 });
    expect(report).to.deep.equal({ delivered: 0, failed: 300, dropped: 0 });
    expect(client.stats()).to.include({ failed: 300, inFlight: 0, queued: 0 });
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.msg)).to.have.length(1);
    expect(errors[0]!.msg).to.match(
      /^shutdown deadline of 200 ms passed; 300 events not delivered/,
    );
    expect(errors[0]!.obj).to.include({ count: 300 });
  });

  it('an idle client, and one that has delivered, never keep the process alive', async function () {
    this.timeout(90_000); // a child process under tsx: slow to start on a loaded machine
    const script = `
      const { OursClient } = require('./src/index');
      const client = new OursClient({ token: process.argv[2], apiUrl: process.argv[1] });
      client.track({ event: 'E', userId: 'v' });
      client.flush().then((r) => console.log(JSON.stringify(r)));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, t.mock.url, TOKEN], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    let flushedAt = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      flushedAt ||= Date.now();
    });
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).to.equal(0);
    expect(JSON.parse(stdout)).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    // From the flush to the exit, not from the start (which a loaded machine stretches):
    // the flush interval (1 s) or the kept-alive socket (4 s) would keep it alive.
    expect(Date.now() - flushedAt).to.be.below(3000);
  });
});
