import { expect } from 'chai';
import type { OursError, TrackEvent } from '../../src/index';
import { clientFor, expectBalanced, withMock } from '../support/client';

/** What the break-it round of 2026-11-30 tried on the client against the mock; each held. */
describe('client: edge cases against the mock API', () => {
  const t = withMock();

  it('a 200 that comes after the timeout: resent with the same distinctId, counted delivered once', async () => {
    const { client, errors } = clientFor(t.mock, { timeoutMs: 1000 });
    t.mock.respondWith({ delayMs: 2500 }); // accepted, but answered too late
    client.track({ event: 'Late', userId: 'v', distinctId: 'late-1' });
    expect(await client.flush()).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    await t.mock.waitFor(2, { timeoutMs: 10_000 }); // the late copy lands too
    expect(new Set(t.mock.events.map((e) => e.distinctId))).to.deep.equal(new Set(['late-1']));
    expect(client.stats()).to.include({ tracked: 1, delivered: 1, failed: 0 });
    expect(client.stats().retried).to.be.at.least(1);
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  it('429 on /track and /identify: both backed off and retried, then delivered', async () => {
    const { client, errors } = clientFor(t.mock, { endpoint: 'track' });
    t.mock.respondWith({ status: 429, path: '/track', times: 2 });
    t.mock.respondWith({ status: 429, path: '/identify', times: 2 });
    client.track({ event: 'T', userId: 'v' });
    client.identify({ userId: 'v', userProperties: { email: 'ada@example.com' } });
    expect(await client.flush()).to.deep.equal({ delivered: 2, failed: 0, dropped: 0 });
    const statuses = (path: string) =>
      t.mock.requests.filter((r) => r.path.endsWith(path)).map((r) => r.status);
    expect(statuses('/track')).to.deep.equal([429, 429, 200]);
    expect(statuses('/identify')).to.deep.equal([429, 429, 200]);
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  for (const maxInFlight of [1, 64])
    it(`endpoint 'track' with maxInFlight ${maxInFlight}: 300 events, one request each, every one delivered once`, async () => {
      const { client, errors } = clientFor(t.mock, { endpoint: 'track', maxInFlight });
      for (let i = 0; i < 300; i++) client.track({ event: 'E', userId: 'v', distinctId: `e-${i}` });
      expect(await client.flush()).to.deep.equal({ delivered: 300, failed: 0, dropped: 0 });
      expect(t.mock.requests).to.have.length(300);
      expect(new Set(t.mock.events.map((e) => e.distinctId)).size).to.equal(300);
      expect(errors).to.deep.equal([]);
      expectBalanced(client);
      await client.shutdown();
    });

  it('flush() called 1,000 times at once: one flush, every call gets its report', async () => {
    const { client } = clientFor(t.mock);
    for (let i = 0; i < 50; i++) client.track({ event: 'E', userId: 'v' });
    const reports = await Promise.all(Array.from({ length: 1000 }, () => client.flush()));
    expect(new Set(reports.map((r) => JSON.stringify(r)))).to.deep.equal(
      new Set([JSON.stringify({ delivered: 50, failed: 0, dropped: 0 })]),
    );
    expect(t.mock.requests).to.have.length(1);
    await client.shutdown();
  });

  it('shutdown() twice at once: one shutdown, both get its report; a track() after is dropped and counted', async () => {
    const { client, errors } = clientFor(t.mock);
    for (let i = 0; i < 5; i++) client.track({ event: 'E', userId: 'v' });
    const [first, second] = await Promise.all([client.shutdown(), client.shutdown()]);
    expect(first).to.deep.equal({ delivered: 5, failed: 0, dropped: 0 });
    expect(second).to.deep.equal(first);
    client.track({ event: 'After', userId: 'v' });
    expect(client.stats()).to.include({ tracked: 6, delivered: 5, dropped: 1 });
    expect(t.mock.events).to.have.length(5);
    expect(errors).to.deep.equal([]);
  });

  it('an event of 1,000 properties is sent whole (the contract sets no count)', async () => {
    const { client, errors } = clientFor(t.mock);
    const eventProperties = Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [`p${i}`, 'v'.repeat(100)]),
    );
    client.track({ event: 'Wide', userId: 'v', eventProperties });
    expect(await client.flush()).to.include({ delivered: 1 });
    expect(t.mock.events[0]!.eventProperties).to.deep.equal(eventProperties);
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  const limits: [string, number, (n: number) => Partial<TrackEvent>][] = [
    ['event', 1000, (n) => ({ event: 'e'.repeat(n) })],
    ['distinctId', 400, (n) => ({ distinctId: 'd'.repeat(n) })],
    ['userId', 400, (n) => ({ userId: 'u'.repeat(n) })],
    ['email', 1000, (n) => ({ email: `${'a'.repeat(n - 10)}@b.example` })],
    [
      'defaultProperties.referrer',
      5000,
      (n) => ({ defaultProperties: { referrer: 'r'.repeat(n) } }),
    ],
  ];
  for (const [field, limit, make] of limits)
    it(`${field} at the contract's ${limit} characters, and one under: sent; one over: dropped, naming the field and the limit`, async () => {
      const { client, errors } = clientFor(t.mock);
      for (const n of [limit - 1, limit, limit + 1])
        client.track({ event: 'E', userId: 'v', ...make(n) } as TrackEvent);
      const report = await client.flush();
      expect(report).to.deep.equal({ delivered: 2, failed: 0, dropped: 1 });
      expect(errors.map((e: OursError) => e.message)).to.deep.equal([
        `track dropped: ${field} is ${limit + 1} characters, over the maximum (limit: ${limit})`,
      ]);
      expectBalanced(client);
      await client.shutdown();
    });
});
