import { sleep } from '../support/wait';
import { expect } from 'chai';
import type { FlushReport } from '../../src/index';
import { clientFor, withMock } from '../support/client';

/** Every report adds up with `stats()`: each drop is in exactly one flush or shutdown report. */
describe('flush and shutdown reports', function () {
  this.timeout(15_000);
  const t = withMock();

  it('count every drop once, also those counted while a flush or the shutdown is pending (concurrent tracking)', async () => {
    // A slow API and a small queue: most events are dropped (queue full) while flushes wait.
    const { client } = clientFor(t.mock, {
      maxQueueSize: 30,
      flushAt: 10,
      maxBatchSize: 10,
      maxInFlight: 1,
    });
    t.mock.respondWith({ delayMs: 40, times: 'always' });
    const reports: FlushReport[] = [];
    let n = 0;
    const track = (): void => {
      client.track({ event: 'Report', externalId: 'u', distinctId: `rep-${n++}` });
      if (n % 7 === 0) client.track({ event: '', externalId: 'u' }); // invalid: dropped too
    };
    let tracking = true;
    const producer = (async () => {
      while (tracking) {
        for (let i = 0; i < 20; i++) track();
        await sleep(3);
      }
    })();
    // One flush after the other (a flush made while another is pending includes that one's report).
    for (let round = 0; round < 8; round++) reports.push(await client.flush());
    const shutdown = client.shutdown({ timeoutMs: 5000 });
    await sleep(30); // tracked after shutdown(): dropped, while the shutdown is still pending
    tracking = false;
    await producer;
    const all = [...reports, await shutdown];
    const s = client.stats();
    expect(s.dropped, 'some drops (the test needs them)').to.be.greaterThan(100);
    expect(
      all.reduce((sum, r) => sum + r.dropped, 0),
      `dropped in reports, of ${JSON.stringify(s)}`,
    ).to.equal(s.dropped);
    expect(s.tracked).to.equal(s.delivered + s.failed + s.dropped + s.queued + s.inFlight);
  });

  it('a shutdown that joins a pending flush reports the drops counted since that flush began', async () => {
    const { client } = clientFor(t.mock, { maxQueueSize: 5, flushAt: 5, maxBatchSize: 5 });
    t.mock.respondWith({ delayMs: 200 });
    for (let i = 0; i < 5; i++)
      client.track({ event: 'Full', externalId: 'u', distinctId: `full-${i}` });
    const flushed = client.flush();
    for (let i = 0; i < 11; i++)
      client.track({ event: 'Full', externalId: 'u', distinctId: `over-${i}` }); // queue full: dropped
    const [flush, shutdown] = await Promise.all([flushed, client.shutdown()]);
    expect(client.stats()).to.include({ tracked: 16, delivered: 5, dropped: 11 });
    expect(flush).to.deep.equal({ delivered: 5, failed: 0, dropped: 11 }); // the drops came while it was pending
    expect(shutdown).to.deep.equal({ delivered: 5, failed: 0, dropped: 11 });
  });
});
