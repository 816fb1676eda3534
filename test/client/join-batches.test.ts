import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { ours } from '../../adapters/express';
import { tracker } from '../../adapters/fetch';
import type { FlushReport, OursClient } from '../../src/index';
import { clientFor, expectBalanced, TOKEN, withMock } from '../support/client';
import { send } from '../support/http';
import { withJoinWindow } from '../support/join-window';
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

/**
 * A serverless request's delivery (which only the platform's `waitUntil`
 * waits for) waits for the `/batch` request sent just before it, 20 ms at
 * most, and goes in the next one with what other requests queued meanwhile:
 * concurrent requests of an instance share an API request instead of
 * sending one each. `flush()` never waits.
 */
describe('serverless deliveries join the batch in flight', () => {
  const t = withMock();

  it('deliveries handed off while a batch is in flight go out together, in one request; each settles with its event (window widened to a minute)', async () =>
    withJoinWindow(60_000, async () => {
      t.mock.respondWith({ delayMs: 500 }); // the first request only
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
    }));

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

  it('a shutdown sends a partial batch at once, beside the hung one: nothing more can join it, and the deadline is for delivering', async () => {
    t.mock.respondWith({ hang: true }); // the first request only
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000, timeoutMs: 60_000 });
    client.track({ event: 'Hung', userId: 'v' });
    void client.flush();
    await nextTurn(); // the first batch is sent
    client.track({ event: 'Last', userId: 'v' });
    const report = client.shutdown({ timeoutMs: 300 });
    await nextTurn(); // the pump's turn: a wait to join would keep 'Last' queued here
    expect(client.stats()).to.include({ queued: 0, inFlight: 2 });
    const { delivered, failed } = await report;
    expect(delivered + failed).to.equal(2);
    expectBalanced(client);
  });

  it('a flush does not wait for its own requests: the last, partial batch of a large flush goes beside the full ones', async () => {
    t.mock.respondWith({ hang: true, times: 'always' });
    const { client } = clientFor(t.mock, {
      flushIntervalMs: 60_000,
      maxBatchSize: 100,
      flushAt: 100,
    });
    for (let i = 0; i < 110; i++) client.track({ event: `E${i}`, userId: 'v' });
    void client.flush();
    await nextTurn(); // one pass of the pump: 100 and 10
    expect(client.stats()).to.include({ queued: 0, inFlight: 110 });
    await client.shutdown({ timeoutMs: 0 });
  });

  it('track and identify calls in turn: a flush sends all of them in one pass, the identify calls waiting for no /batch sent beside them', async () => {
    t.mock.respondWith({ hang: true, times: 'always' });
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      client.track({ event: `T${i}`, userId: 'v' });
      client.identify({ userId: `v${i}`, userProperties: { custom_properties: { plan: 'pro' } } });
    }
    void client.flush();
    await nextTurn(); // nothing was in flight before this flush: all six go in one pass
    expect(client.stats()).to.include({ queued: 0, inFlight: 6 });
    await client.shutdown({ timeoutMs: 0 });
  });

  it("a script whose second event waits to join the batch in flight (the interval's, nobody awaits it) delivers both and exits by itself", async function () {
    this.timeout(90_000); // a child process under tsx: slow to start on a loaded machine
    t.mock.respondWith({ delayMs: 100 }); // the first request: the interval's batch waits for it
    const script = `
      const { OursClient } = require('./src/index');
      const client = new OursClient({ token: process.argv[2], apiUrl: process.argv[1], flushIntervalMs: 5 });
      client.track({ event: 'First', userId: 'v' });
      client.flush().then((r) => console.log(JSON.stringify(r)));
      setImmediate(() => client.track({ event: 'Second', userId: 'v' }));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, t.mock.url, TOKEN], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).to.equal(0);
    expect(JSON.parse(stdout.trim())).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    expect(t.mock.events.map((e) => e.event).sort()).to.deep.equal(['First', 'Second']);
  });

  it("per-request delivery (a Worker's waitUntil), 20 requests in turns of their own while a batch is in flight: two API requests, every event once, every request's promise settled with its event (window widened to a minute)", async () =>
    withJoinWindow(60_000, async () => {
      t.mock.respondWith({ delayMs: 500 }); // the first request only
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
      expect(batches(t.mock.requests).map((b) => b.length)).to.deep.equal([1, 19]);
      expectBalanced(client);
      await client.shutdown();
    }));

  for (const maxInFlight of [1, 64])
    it(`per-request delivery with maxInFlight: ${maxInFlight} against an API that answers 500, then 429 (Retry-After: 0), then slowly: every event once, every request's promise settled with it`, async () => {
      t.mock.respondWith(
        { status: 500, delayMs: 10 },
        { status: 429, retryAfter: 0 },
        { delayMs: 15, times: 'always' },
      );
      const { client, errors } = clientFor(t.mock, { flushIntervalMs: 60_000, maxInFlight });
      const deliveries: Promise<FlushReport>[] = [];
      for (let i = 0; i < 20; i++) {
        const ours = tracker(new Request(`https://shop.example/p/${i}`), {
          client,
          waitUntil: (p) => void deliveries.push(p as Promise<FlushReport>),
        });
        ours.track('Viewed', { n: i }, { userId: `v${i}` });
        ours.respond(new Response('ok'));
        await nextTurn();
      }
      const reports = await Promise.all(deliveries);
      expect(reports.map((r) => r.failed + r.dropped)).to.deep.equal(Array(20).fill(0));
      expect(
        t.mock.events.map((e) => Number(e.eventProperties?.n)).sort((a, b) => a - b),
      ).to.deep.equal([...Array(20).keys()]);
      expect(t.mock.duplicates()).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
      expectBalanced(client);
      await client.shutdown();
    });
});
