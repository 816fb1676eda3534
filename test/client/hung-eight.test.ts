import { expect } from 'chai';
import { OursClient } from '../../src/index';
import { clientFor, expectBalanced, withMock } from '../support/client';
import { until } from '../support/wait';

/**
 * `maxInFlight` defaults to 8. Against an API that never answers, exactly 8
 * requests hang, the queue stays within its bound (what is over it is
 * dropped, counted), the stats balance, and a shutdown deadline settles all 8.
 */
describe('8 requests in flight against a hung API', () => {
  const t = withMock();

  it('8 hang, the queue stays bounded, stats balance, the shutdown deadline cancels all 8', async () => {
    t.mock.respondWith({ hang: true, times: 'always' });
    const { client, errors } = clientFor(t.mock, {
      maxBatchSize: 10,
      flushAt: 10,
      maxQueueSize: 500,
      timeoutMs: 60_000,
    });
    const drops: string[] = [];
    client.on('drop', (d) => drops.push(d.reason));
    const track = (from: number, to: number) => {
      for (let i = from; i < to; i++)
        client.track({ event: 'Hung', userId: 'u', distinctId: `h-${i}` });
    };
    track(0, 300);
    await t.mock.waitFor(8, { of: 'requests' });
    await until(() => client.stats().inFlight === 80, '80 events in flight');
    expect(client.stats()).to.include({ tracked: 300, inFlight: 80, queued: 220, dropped: 0 });
    expectBalanced(client);

    track(300, 1000); // 80 in flight and 500 queued at most: the rest is dropped
    const s = client.stats();
    expect(s.inFlight + s.queued).to.be.at.most(80 + 500);
    expect(s.dropped).to.be.at.least(1000 - 80 - 500);
    expect(drops.length).to.equal(s.dropped);
    expectBalanced(client);
    expect(t.mock.requests).to.have.length(8); // the 9th waits for a free slot

    const report = await client.shutdown({ timeoutMs: 200 });
    expect(report.delivered).to.equal(0);
    expect(report.failed + report.dropped).to.equal(1000);
    expect(client.stats()).to.include({ inFlight: 0, queued: 0, delivered: 0 });
    expectBalanced(client);
    expect(t.mock.requests, 'nothing sent after the deadline').to.have.length(8);
    expect(errors.length).to.be.above(0);
  });

  it('eight clients, each with 8 hung requests: 64 at once, none crosses to another client', async () => {
    t.mock.respondWith({ hang: true, times: 'always' });
    const clients: OursClient[] = [];
    for (let c = 0; c < 8; c++) {
      const { client } = clientFor(t.mock, { maxBatchSize: 5, flushAt: 5, timeoutMs: 60_000 });
      clients.push(client);
      for (let i = 0; i < 50; i++)
        client.track({ event: `Client ${c}`, userId: 'u', distinctId: `c${c}-${i}` });
    }
    await t.mock.waitFor(64, { of: 'requests' });
    for (const r of t.mock.requests) {
      const names = new Set((r.body as { events: { event: string }[] }).events.map((e) => e.event));
      expect(names.size, 'one client per body').to.equal(1);
    }
    const reports = await Promise.all(clients.map((c) => c.shutdown({ timeoutMs: 200 })));
    for (const [c, report] of reports.entries()) {
      expect(report, `client ${c}`).to.deep.equal({ delivered: 0, failed: 50, dropped: 0 });
      expect(clients[c]!.stats()).to.include({ inFlight: 0, queued: 0 });
    }
  });
});
