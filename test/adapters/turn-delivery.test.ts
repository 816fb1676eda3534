import { setImmediate as nextTurn } from 'node:timers/promises';
import { expect } from 'chai';
import { tracker } from '../../adapters/fetch';
import { withOurs } from '../../adapters/next';
import type { FlushReport, OursClient } from '../../src/index';
import { clientFor, expectBalanced, withMock } from '../support/client';

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
