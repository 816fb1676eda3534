import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { expect } from 'chai';
import { tracker } from '../../adapters/fetch';
import type { FlushReport } from '../../src/index';
import { clientFor, expectBalanced, TOKEN, withMock } from '../support/client';

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

  it('a script whose second flush waits to join the first (neither awaited) delivers both and exits by itself', async function () {
    this.timeout(90_000); // a child process under tsx: slow to start on a loaded machine
    t.mock.respondWith({ delayMs: 100 }); // the first request: the second flush's batch waits for it
    const script = `
      const { OursClient } = require('./src/index');
      const client = new OursClient({ token: process.argv[2], apiUrl: process.argv[1] });
      client.track({ event: 'First', userId: 'v' });
      client.flush().then((r) => console.log(JSON.stringify(r)));
      setImmediate(() => {
        client.track({ event: 'Second', userId: 'v' });
        client.flush().then((r) => console.log(JSON.stringify(r)));
      });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, t.mock.url, TOKEN], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).to.equal(0);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).to.deep.equal([
      { delivered: 1, failed: 0, dropped: 0 },
      { delivered: 2, failed: 0, dropped: 0 },
    ]);
    expect(t.mock.events.map((e) => e.event).sort()).to.deep.equal(['First', 'Second']);
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
