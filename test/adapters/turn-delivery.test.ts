import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { tracker } from '../../adapters/fetch';
import { withOurs } from '../../adapters/next';
import type { FlushReport, OursClient } from '../../src/index';
import { clientFor, expectBalanced, withMock } from '../support/client';
import { withJoinWindow } from '../support/join-window';
import { failOnUnhandledRejections } from '../support/rejections';
import { until } from '../support/wait';

/** The events of each request the mock received, by name. */
const batches = (requests: readonly { body: unknown }[]): string[][] =>
  requests.map((r) => (r.body as { events: { event: string }[] }).events.map((e) => e.event));

/** One request through the fetch tracker, as on a platform's function: its delivery goes to `waitUntil`. */
function platformRequest(
  client: OursClient,
  name: string,
  waitUntil: (promise: Promise<unknown>) => void,
  options: Parameters<typeof tracker>[1] = {},
): void {
  const ours = tracker(new Request(`https://shop.example/${name}`), {
    client,
    waitUntil,
    ...options,
  });
  ours.track(name, undefined, { userId: 'v' });
  ours.respond(new Response('ok'));
}

/**
 * On Node (and Bun, Deno), the requests a platform's function serves at once
 * (Vercel's concurrency, a Lambda's, Next.js there) hand their events off at
 * the end of the turn in which their responses ended, together, and the
 * delivery each hands to `waitUntil` is the turn's: one build pass, one flush,
 * one API request for all of them. Workers keep one delivery per request
 * (test/runtimes/worker-runtimes.test.ts).
 */
describe('deliveries a platform waits on: one per turn, shared by the requests that end in it', () => {
  const t = withMock();

  it('requests ending in one turn hand the same delivery to waitUntil; it settles once all their events are accepted, in one API request', async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const handed: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) platformRequest(client, `Request ${i}`, (p) => handed.push(p));
    expect(handed).to.have.length(20);
    expect(new Set(handed).size).to.equal(1);
    expect(t.mock.requests).to.have.length(0); // built and sent at the end of the turn
    const report = (await handed[0]) as FlushReport;
    expect(report.delivered).to.equal(20);
    expect(batches(t.mock.requests)).to.deep.equal([
      Array.from({ length: 20 }, (_, i) => `Request ${i}`),
    ]);
    expectBalanced(client);
    await client.shutdown();
  });

  it('a request in the next turn gets a delivery of its own turn', async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const handed: Promise<unknown>[] = [];
    platformRequest(client, 'First', (p) => handed.push(p));
    await nextTurn();
    platformRequest(client, 'Second', (p) => handed.push(p));
    expect(handed[0]).to.not.equal(handed[1]);
    const reports = (await Promise.all(handed)) as FlushReport[];
    expect(reports.map((r) => r.delivered)).to.deep.equal([1, 2]); // a flush reports what was queued before it too
    expect(batches(t.mock.requests).flat()).to.deep.equal(['First', 'Second']);
    await client.shutdown();
  });

  it("the turn's delivery waits for a request's async identify hook, and settles after its event is accepted", async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const handed: Promise<unknown>[] = [];
    platformRequest(client, 'Quick', (p) => handed.push(p));
    platformRequest(client, 'Slow', (p) => handed.push(p), {
      identify: async () => {
        await slow;
        return { externalId: 'member-1' };
      },
    });
    expect(handed[0]).to.equal(handed[1]);
    let settled = false;
    void handed[0]!.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).to.equal(false);
    release();
    await handed[0];
    const names = batches(t.mock.requests).flat();
    expect(names).to.have.members(['Quick', 'Slow']);
    const slowEvent = t.mock.events.find((e) => e.event === 'Slow');
    expect(slowEvent?.externalId).to.equal('member-1');
    await client.shutdown();
  });

  it('a waitUntil that throws or rejects is reported; every event of the turn is still delivered', async () => {
    const { client, errors } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    let kept: Promise<unknown> | undefined;
    platformRequest(client, 'Throws', () => {
      throw new Error('waitUntil broke');
    });
    platformRequest(client, 'Rejects', () => Promise.reject(new Error('waitUntil rejected')));
    platformRequest(client, 'Kept', (p) => (kept = p));
    await kept;
    expect(batches(t.mock.requests)).to.deep.equal([['Throws', 'Rejects', 'Kept']]);
    await nextTurn();
    expect(errors.map((e) => e.message).join('\n'))
      .to.match(/waitUntil broke/)
      .and.to.match(/waitUntil rejected/);
    await client.shutdown();
  });

  it('flush() before the end of the turn delivers the waiting requests, and their delivery still settles', async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const handed: Promise<unknown>[] = [];
    platformRequest(client, 'Waiting', (p) => handed.push(p));
    const report = await client.flush();
    expect(report.delivered).to.equal(1);
    await handed[0];
    expect(batches(t.mock.requests)).to.deep.equal([['Waiting']]);
    await client.shutdown();
  });

  it('a call made after the response ended is delivered through its own waitUntil', async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const handed: Promise<unknown>[] = [];
    const ours = tracker(new Request('https://shop.example/late'), {
      client,
      waitUntil: (p) => void handed.push(p),
    });
    ours.track('On time', undefined, { userId: 'v' });
    ours.respond(new Response('ok'));
    await handed[0];
    ours.track('Late', undefined, { userId: 'v' }); // after the hand-off (from after(), say)
    expect(handed).to.have.length(2);
    await handed[1];
    expect(batches(t.mock.requests).flat()).to.deep.equal(['On time', 'Late']);
    await client.shutdown();
  });

  it('Next.js route handlers on a platform (waitUntil in their context) that end together share one API request', async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const handed: Promise<unknown>[] = [];
    const GET = withOurs(
      (request, ctx) => {
        ctx.ours.track(new URL(request.url).pathname.slice(1), undefined, { userId: 'v' });
        return new Response('ok');
      },
      { client },
    );
    const ctx = (): { waitUntil: (p: Promise<unknown>) => void } => ({
      waitUntil: (p) => void handed.push(p),
    });
    const responses = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) => GET(new Request(`https://shop.example/${name}`), ctx())),
    );
    expect(responses.map((r) => r.status)).to.deep.equal([200, 200, 200, 200]);
    expect(handed).to.have.length(4);
    await Promise.all(handed);
    expect(batches(t.mock.requests)).to.deep.equal([['a', 'b', 'c', 'd']]);
    await client.shutdown();
  });
});

/** The path of a request as the hooks get it. */
const pathOf = (req: Request): string => new URL(req.url).pathname;

describe('deliveries a platform waits on, attacked: hooks, drops, flush and shutdown in the turn, async context, memory', () => {
  const t = withMock();
  failOnUnhandledRejections();

  it("a client first used inside a request (the fetch tracker() made at the app's first request): no later request's hooks see that request's AsyncLocalStorage store", async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const als = new AsyncLocalStorage<{ request: number }>();
    const seen: unknown[] = [];
    const identify = (req: Request): undefined => void seen.push([pathOf(req), als.getStore()]);
    const handed: Promise<unknown>[] = [];
    // The first request makes the options' config, and with it the client's hand-off batch.
    als.run({ request: 1 }, () =>
      platformRequest(client, 'first', (p) => handed.push(p), { identify }),
    );
    await handed[0];
    als.run({ request: 2 }, () =>
      platformRequest(client, 'second', (p) => handed.push(p), { identify }),
    );
    platformRequest(client, 'outside', (p) => handed.push(p), { identify });
    await handed[1];
    expect(seen).to.deep.equal([
      ['/first', undefined],
      ['/second', undefined],
      ['/outside', undefined],
    ]);
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['first', 'second', 'outside']);
    await client.shutdown();
  });

  it("flush() awaited inside a request, while another request waits for the end of the turn and a third still runs: their hooks do not see the flushing request's store", async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const als = new AsyncLocalStorage<{ request: string }>();
    const seen: unknown[] = [];
    const identify = (req: Request): undefined => void seen.push([pathOf(req), als.getStore()]);
    platformRequest(client, 'waiting', () => undefined, { identify });
    const running = tracker(new Request('https://shop.example/running'), { client, identify });
    running.track('running', undefined, { userId: 'v' }); // its response has not ended: the flush takes it
    const report = await als.run({ request: 'flushing' }, () => client.flush());
    expect(report.delivered).to.equal(2);
    expect(seen).to.deep.equal([
      ['/waiting', undefined],
      ['/running', undefined],
    ]);
    running.respond(new Response('ok'));
    await client.shutdown();
  });

  it("flush() in the turn a platform's request ended in, while a batch is in flight: the flush sends at once, beside it, rather than joining it (window widened to a minute)", async () =>
    withJoinWindow(60_000, async () => {
      t.mock.respondWith({ hang: true }); // the first request only
      const { client } = clientFor(t.mock, { flushIntervalMs: 60_000, timeoutMs: 60_000 });
      client.track({ event: 'Hung', userId: 'v' });
      void client.flush();
      await t.mock.waitFor(1, { of: 'requests' });
      platformRequest(client, 'Waiting', () => undefined); // its delivery only a platform waits for: it may join
      void client.flush(); // this one the app awaits (a route, a job's end): it never waits to join
      await t.mock.waitFor(2, { of: 'requests', timeoutMs: 5000 });
      expect(batches(t.mock.requests)).to.deep.equal([['Hung'], ['Waiting']]);
      expect(t.mock.requests[0]!.status).to.equal(null); // still hanging when the flush's request arrived
      await client.shutdown({ timeoutMs: 0 });
    }));

  it('identify hooks that resolve late, reject or never settle (hookTimeoutMs), in one turn and the next: each delivery settles once the events of its turn are accepted or counted as dropped', async () => {
    const { client, errors } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const identify = (req: Request): Promise<{ externalId: string }> | undefined => {
      const path = pathOf(req);
      if (path === '/late') return gate.then(() => ({ externalId: 'member-late' }));
      if (path === '/rejects') return Promise.reject(new Error('session store down'));
      if (path === '/never') return new Promise<never>(() => undefined);
      return undefined;
    };
    const options = { identify, hookTimeoutMs: 300 };
    const first: Promise<unknown>[] = [];
    for (const name of ['sync', 'late', 'rejects', 'never'])
      platformRequest(client, name, (p) => first.push(p), options);
    expect(new Set(first).size).to.equal(1);
    await nextTurn(); // the turn's hand-offs ran; 'late' still waits for its hook
    const second: Promise<unknown>[] = [];
    platformRequest(client, 'next turn', (p) => second.push(p), options);
    expect(second[0]).to.not.equal(first[0]);
    let settled = false;
    void first[0]!.then(() => (settled = true));
    await nextTurn();
    expect(settled).to.equal(false); // 'late' is not accepted yet
    release();
    const [report] = (await Promise.all([first[0], second[0]])) as FlushReport[];
    expect(client.stats()).to.include({
      held: 0,
      queued: 0,
      inFlight: 0,
      delivered: 3,
      dropped: 2,
    });
    expect(report).to.include({ dropped: 2 });
    expect(report!.delivered).to.be.at.least(2); // 'sync' and 'late' (and 'next turn' if it joined)
    expect(t.mock.events.map((e) => e.event)).to.have.members(['sync', 'late', 'next turn']);
    expect(t.mock.events.find((e) => e.event === 'late')?.externalId).to.equal('member-late');
    expect(errors.map((e) => e.message).join('\n'))
      .to.match(/identify rejected: session store down/)
      .and.to.match(/identify did not settle within 300 ms/);
    expectBalanced(client);
    await client.shutdown();
  });

  it('a turn with skip, optOut(), an invalid event and a full queue: its delivery settles, every drop counted with its reason', async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000, maxQueueSize: 2 });
    const drops: string[] = [];
    client.on('drop', (info) => drops.push(info.reason));
    const handed: Promise<unknown>[] = [];
    const waitUntil = (p: Promise<unknown>): void => void handed.push(p);
    const skip = (req: Request): boolean => pathOf(req) === '/skipped';
    for (const name of ['a', 'b', 'skipped']) platformRequest(client, name, waitUntil, { skip });
    platformRequest(client, 'x'.repeat(1001), waitUntil, { skip }); // over the API's 1000 characters
    const optedOut = tracker(new Request('https://shop.example/opted-out'), {
      client,
      skip,
      waitUntil,
    });
    optedOut.track('opted out', undefined, { userId: 'v' });
    optedOut.optOut();
    optedOut.respond(new Response('ok'));
    platformRequest(client, 'c', waitUntil, { skip }); // the queue holds two
    expect(new Set(handed).size).to.equal(1);
    const report = (await handed[0]) as FlushReport;
    expect(report).to.deep.equal({ delivered: 2, failed: 0, dropped: 4 });
    expect(drops.sort()).to.deep.equal(['filtered', 'filtered', 'invalid', 'queue_full']);
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['a', 'b']);
    expect(client.stats()).to.include({ held: 0, queued: 0, inFlight: 0 });
    expectBalanced(client);
    await client.shutdown();
  });

  for (const timeoutMs of [0, 10, 50])
    it(`shutdown({ timeoutMs: ${timeoutMs} }) in the turn a platform's requests ended in, the API hung and a hook pending: shutdown keeps its deadline, every delivery settles, every event counted once`, async () => {
      t.mock.respondWith({ hang: true, times: 'always' });
      const { client } = clientFor(t.mock, { flushIntervalMs: 60_000, timeoutMs: 60_000 });
      const handed: Promise<unknown>[] = [];
      const identify = (req: Request): Promise<undefined> | undefined =>
        pathOf(req) === '/pending' ? new Promise<undefined>(() => undefined) : undefined;
      for (const name of ['sync', 'pending'])
        platformRequest(client, name, (p) => handed.push(p), { identify, hookTimeoutMs: 300 });
      const began = performance.now();
      const report = await client.shutdown({ timeoutMs });
      expect(performance.now() - began).to.be.below(5000); // not the client's minute, nor the hook's wait
      expect(report.delivered + report.failed + report.dropped).to.equal(2);
      await Promise.all(handed); // the pending hook's bound ends them
      expect(client.stats()).to.include({
        tracked: 2,
        held: 0,
        queued: 0,
        inFlight: 0,
        delivered: 0,
      });
      expectBalanced(client);
    });

  it("a turn's delivery kept by the platform (Vercel keeps waitUntil's promises) does not keep its requests alive", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const kept: Promise<unknown>[] = [];
    const requests: WeakRef<Request>[] = [];
    // A function of its own: this async function's frame would keep its last request across the awaits below.
    const serve = (i: number): void => {
      const request = new Request(`https://shop.example/${i}`, {
        headers: { 'user-agent': `Agent ${i} ${'x'.repeat(10_000)}` },
      });
      requests.push(new WeakRef(request));
      const ours = tracker(request, { client, waitUntil: (p) => void kept.push(p) });
      ours.track('Viewed', undefined, { userId: 'v' });
      ours.respond(new Response('ok'));
    };
    for (let i = 0; i < 20; i++) serve(i);
    await kept[0];
    const alive = (): number => requests.filter((r) => r.deref() !== undefined).length;
    await until(async () => {
      await nextTurn(); // a WeakRef keeps its target until the end of the job that read it
      gc();
      return alive() === 0;
    }, 'the requests collected while their delivery is kept');
    expect(kept).to.have.length(20);
    await client.shutdown();
  });

  it('10,000 requests ending in one turn: one delivery handed to each, every event delivered once', async function () {
    this.timeout(60_000);
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const handed = new Set<Promise<unknown>>();
    let calls = 0;
    const waitUntil = (p: Promise<unknown>): void => {
      calls++;
      handed.add(p);
    };
    for (let i = 0; i < 10_000; i++) platformRequest(client, `E${i}`, waitUntil);
    expect(calls).to.equal(10_000);
    expect(handed.size).to.equal(1);
    const report = (await [...handed][0]) as FlushReport;
    expect(report).to.deep.equal({ delivered: 10_000, failed: 0, dropped: 0 });
    expect(new Set(t.mock.events.map((e) => e.event)).size).to.equal(10_000);
    expect(t.mock.events).to.have.length(10_000);
    expectBalanced(client);
    await client.shutdown();
  });
});
