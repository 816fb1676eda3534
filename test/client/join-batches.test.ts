import { setImmediate as nextTurn } from 'node:timers/promises';
import { platform } from '#platform';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { ours } from '../../adapters/express';
import { tracker } from '../../adapters/fetch';
import type { FlushReport, OursClient } from '../../src/index';
import { clientFor, expectBalanced, withMock } from '../support/client';
import { send } from '../support/http';
import { until } from '../support/wait';

/** The events of each request the mock received, by name. */
const batches = (requests: readonly { body: unknown }[]): string[][] =>
  requests.map((r) => (r.body as { events: { event: string }[] }).events.map((e) => e.event));

/** One request's event through the fetch tracker, its delivery handed to `waitUntil` (as on a platform's function). */
function serverlessRequest(client: OursClient, name: string, deliveries: Promise<unknown>[]): void {
  const ours = tracker(new Request(`https://shop.example/${name}`), {
    client,
    waitUntil: (p) => void deliveries.push(p),
  });
  ours.track(name, undefined, { userId: 'v' });
  ours.respond(new Response('ok'));
}

/** Runs `body` with the platform's join window at `ms` (the default, 20 ms, is too short to tell apart from "at once" in a test). */
async function withJoinWindow(ms: number, body: () => Promise<void>): Promise<void> {
  const own = platform as { joinBatchesMs: number };
  const before = own.joinBatchesMs;
  own.joinBatchesMs = ms;
  try {
    await body();
  } finally {
    own.joinBatchesMs = before;
  }
}

/**
 * A serverless request's delivery (which only the platform's `waitUntil`
 * waits for) waits for the `/batch` request sent just before it, 20 ms at
 * most, and goes in the next one with what other requests queued meanwhile:
 * concurrent requests of an instance share an API request instead of
 * sending one each. `flush()` never waits.
 */
describe('serverless deliveries join the batch in flight', () => {
  const t = withMock();

  it('deliveries handed off while a batch is in flight go out together, in one request; each settles with its event', async () => {
    t.mock.respondWith({ delayMs: 200 }); // the first request only
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const deliveries: Promise<unknown>[] = [];
    serverlessRequest(client, 'First', deliveries);
    await nextTurn(); // the first batch is sent
    for (let i = 0; i < 5; i++) {
      serverlessRequest(client, `Later ${i}`, deliveries);
      await nextTurn(); // each request in a turn of its own
    }
    const reports = (await Promise.all(deliveries)) as FlushReport[];
    expect(batches(t.mock.requests)).to.deep.equal([
      ['First'],
      ['Later 0', 'Later 1', 'Later 2', 'Later 3', 'Later 4'],
    ]);
    expect(reports.map((r) => r.delivered)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expectBalanced(client);
    await client.shutdown();
  });

  it('an API that does not answer holds a delivery back only briefly: it goes out beside the hung request', async () => {
    t.mock.respondWith({ hang: true });
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000, timeoutMs: 60_000 });
    const deliveries: Promise<unknown>[] = [];
    serverlessRequest(client, 'Hung', deliveries);
    await nextTurn();
    serverlessRequest(client, 'Next', deliveries);
    await t.mock.waitFor(2, { of: 'requests', timeoutMs: 5000 });
    expect(batches(t.mock.requests)).to.deep.equal([['Hung'], ['Next']]);
    expect(t.mock.requests[0]!.status).to.equal(null); // still hanging when the second arrived
    await client.shutdown({ timeoutMs: 0 });
  });

  it('flush() never waits for the batch in flight; a serverless delivery waits for it to land (window widened to a minute)', async () =>
    withJoinWindow(60_000, async () => {
      t.mock.respondWith({ delayMs: 500 }, { delayMs: 0 }, { delayMs: 500 }); // 'First', 'Flushed', 'Slow'
      const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
      client.track({ event: 'First', userId: 'v' });
      const first = client.flush();
      await t.mock.waitFor(1, { of: 'requests' });
      client.track({ event: 'Flushed', userId: 'v' });
      await client.flush(); // waits for 'First' too (queued before it), but its own request went at once
      await first;
      const deliveries: Promise<unknown>[] = [];
      client.track({ event: 'Slow', userId: 'v' });
      const slow = client.flush();
      await t.mock.waitFor(3, { of: 'requests' });
      serverlessRequest(client, 'Joined', deliveries);
      await nextTurn();
      expect(t.mock.requests).to.have.length(3); // 'Joined' waits while 'Slow' is in flight
      await until(() => t.mock.requests.length === 4, "'Joined' sent once 'Slow' landed");
      await slow;
      await Promise.all(deliveries);
      expect(batches(t.mock.requests)).to.deep.equal([
        ['First'],
        ['Flushed'],
        ['Slow'],
        ['Joined'],
      ]);
      // 'Flushed' went while 'First' was still in flight (answered 500 ms after it arrived).
      expect(t.mock.requests[1]!.receivedAt).to.be.below(t.mock.requests[0]!.receivedAt + 500);
      expect(t.mock.requests[3]!.receivedAt).to.be.at.least(t.mock.requests[2]!.receivedAt + 450);
      await client.shutdown();
    }));

  it('a held response (flushOnResponse) is not kept waiting for the batch in flight (window widened to a minute)', async () =>
    withJoinWindow(60_000, async () => {
      t.mock.respondWith({ delayMs: 500 }); // 'First' only
      const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
      const app = express();
      app.use(ours({ client, flushOnResponse: true }));
      app.get('/', (req, res) => {
        req.ours.track('Held', undefined, { userId: 'v' });
        res.send('ok');
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        client.track({ event: 'First', userId: 'v' });
        const first = client.flush();
        await t.mock.waitFor(1, { of: 'requests' });
        const reply = await send((server.address() as AddressInfo).port, '/');
        expect(reply.body).to.equal('ok');
        expect(batches(t.mock.requests)).to.deep.equal([['First'], ['Held']]);
        // 'Held' went while 'First' was in flight (answered 500 ms after it arrived); the response then
        // waits for both, as a flush waits for what was queued before it.
        expect(t.mock.requests[1]!.receivedAt).to.be.below(t.mock.requests[0]!.receivedAt + 500);
        await first;
      } finally {
        server.close();
        await client.shutdown();
      }
    }));

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
      serverlessRequest(client, `Viewed ${i}`, deliveries);
      await nextTurn();
    }
    const reports = (await Promise.all(deliveries)) as FlushReport[];
    expect(reports.every((r) => r.delivered >= 1)).to.equal(true);
    expect(
      t.mock.events.map((e) => e.event).sort((a, b) => Number(a.slice(7)) - Number(b.slice(7))),
    ).to.deep.equal(Array.from({ length: 20 }, (_, i) => `Viewed ${i}`));
    // Without joining, each hand-off takes a request while one of maxInFlight's 8 is free: 9 or more.
    expect(t.mock.requests.length).to.be.at.most(6);
    expectBalanced(client);
    await client.shutdown();
  });
});
