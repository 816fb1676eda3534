import { setImmediate as nextTurn } from 'node:timers/promises';
import { expect } from 'chai';
import { tracker } from '../../adapters/fetch';
import type { FlushReport } from '../../src/index';
import { clientFor, expectBalanced, withMock } from '../support/client';

/** The events of each request the mock received, by name. */
const batches = (requests: readonly { body: unknown }[]): string[][] =>
  requests.map((r) => (r.body as { events: { event: string }[] }).events.map((e) => e.event));

/**
 * A flush's partial batch waits for the `/batch` request sent just before
 * it (up to 20 ms) and goes in the next one with what other flushes queue
 * meanwhile: serverless apps flush per request, and concurrent requests
 * then share an API request instead of sending one each.
 */
describe('partial batches join the next request', () => {
  const t = withMock();

  it('flushes made while a batch is in flight go out together, in one request; each reports its events', async () => {
    t.mock.respondWith({ delayMs: 200 }); // the first request only
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    client.track({ event: 'First', userId: 'v' });
    const flushes = [client.flush()];
    await nextTurn(); // the first batch is sent
    for (let i = 0; i < 5; i++) {
      client.track({ event: `Later ${i}`, userId: 'v' });
      flushes.push(client.flush());
      await nextTurn(); // each flush in a turn of its own, as requests' are
    }
    const reports = await Promise.all(flushes);
    expect(batches(t.mock.requests)).to.deep.equal([
      ['First'],
      ['Later 0', 'Later 1', 'Later 2', 'Later 3', 'Later 4'],
    ]);
    expect(reports.map((r) => r.delivered)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expectBalanced(client);
    await client.shutdown();
  });

  it('an API that does not answer holds a partial batch back only briefly: it goes out beside the hung request', async () => {
    t.mock.respondWith({ hang: true });
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000, timeoutMs: 60_000 });
    client.track({ event: 'Hung', userId: 'v' });
    void client.flush();
    await nextTurn();
    client.track({ event: 'Next', userId: 'v' });
    void client.flush();
    await t.mock.waitFor(2, { of: 'requests', timeoutMs: 5000 });
    expect(batches(t.mock.requests)).to.deep.equal([['Hung'], ['Next']]);
    expect(t.mock.requests[0]!.status).to.equal(null); // still hanging when the second arrived
    await client.shutdown({ timeoutMs: 0 });
  });

  it("identify calls and endpoint 'track' (one event per request) never wait: 8 go at once", async () => {
    t.mock.respondWith({ hang: true, times: 'always' });
    const { client } = clientFor(t.mock, { endpoint: 'track', flushIntervalMs: 60_000 });
    for (let i = 0; i < 8; i++) {
      client.track({ event: `T${i}`, userId: 'v' });
      client.identify({ userId: `v${i}`, userProperties: { custom_properties: { plan: 'pro' } } });
    }
    void client.flush();
    const requests = await t.mock.waitFor(8, { of: 'requests', timeoutMs: 5000 });
    expect(requests.map((r) => r.status)).to.deep.equal(Array(8).fill(null));
    await client.shutdown({ timeoutMs: 0 });
  });

  it("per-request delivery (a Worker's waitUntil), 20 requests in turns of their own against a 30 ms API: a few API requests, every event once, every request's promise settled with its event", async () => {
    t.mock.respondWith({ delayMs: 30, times: 'always' });
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const deliveries: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const ours = tracker(new Request(`https://shop.example/p/${i}`), {
        client,
        waitUntil: (p) => void deliveries.push(p),
      });
      ours.track('Viewed', { n: i }, { userId: `v${i}` });
      ours.respond(new Response('ok'));
      await nextTurn();
    }
    const reports = (await Promise.all(deliveries)) as FlushReport[];
    expect(reports.every((r) => r.delivered >= 1)).to.equal(true);
    expect(
      t.mock.events.map((e) => e.eventProperties?.n).sort((a, b) => Number(a) - Number(b)),
    ).to.deep.equal(Array.from({ length: 20 }, (_, i) => String(i)));
    // Without joining, each hand-off takes a request while one of maxInFlight's 8 is free: 9 or more.
    expect(t.mock.requests.length).to.be.at.most(6);
    expectBalanced(client);
    await client.shutdown();
  });
});
