import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClientStats } from '../../src/index';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { runFixture } from '../faults/child';

const TOKEN = 'next-token-123456';

/*
 * Where Next runs a route handler decides its delivery (adapters/next/long-running.ts):
 * in Next's own long-running server (`next start`, standalone server.js; the
 * process is named `next-server (vX)`) with the stable after() (15.1+), the
 * events join the client's batches, as on Express; elsewhere (a platform's
 * function, Next 14) delivery starts at the hand-off, one for the requests
 * whose responses ended in the same turn. The
 * fixture loads the real `next/server` of test/next/next<N> through NODE_PATH;
 * test/next/next.test.ts runs the real `next start`.
 */
describe('Next.js route handlers: batched on a long-running server, delivered per request elsewhere', function () {
  this.timeout(60_000);
  let mock: MockOurs;
  beforeEach(async () => (mock = await createMockOurs({ token: TOKEN })));
  afterEach(async () => mock.close());

  async function run(
    major: number,
    title: string,
  ): Promise<{ stats: ClientStats; requests: number }> {
    const modules = resolve(__dirname, `next${major}/node_modules`);
    if (!existsSync(resolve(modules, 'next')))
      throw new Error(`npm ci --prefix test/next/next${major}`);
    const child = runFixture(
      'next-route-child.ts',
      { apiUrl: mock.url, token: TOKEN, title },
      { NODE_PATH: modules },
    );
    const stats = JSON.parse(await child.line('STATS ')) as ClientStats;
    const flushed = JSON.parse(await child.line('FLUSHED ')) as Record<string, number>;
    expect(await child.exited).to.include({ code: 0 });
    expect(flushed).to.include({ failed: 0, dropped: 0 });
    expect(mock.events).to.have.length(3);
    return { stats, requests: mock.requests.length };
  }

  it('next start (`next-server`) on Next 16: the three requests wait in the queue and go in one API request', async () => {
    const { stats, requests } = await run(16, 'next-server (v16.0.0)');
    expect(stats).to.include({ tracked: 3, queued: 3, inFlight: 0, delivered: 0 });
    expect(requests).to.equal(1);
  });

  it("a dev server's render worker (`next-render-worker-app`) batches too", async () => {
    const { stats } = await run(15, 'next-render-worker-app');
    expect(stats).to.include({ tracked: 3, queued: 3 });
  });

  it('any other process (a platform function, a custom server): delivery starts at the hand-off, one for the requests that ended together', async () => {
    const { stats, requests } = await run(16, 'node');
    expect(stats).to.include({ tracked: 3, queued: 0 });
    expect(stats.inFlight + stats.delivered).to.equal(3);
    expect(requests).to.equal(1); // the three requests' shared delivery (see HandOffBatch.turnDelivery)
  });

  /** Three route requests run in Next 16's own request scope (test/faults/fixtures/next-after-child.ts). */
  async function inNextScope(
    title: string,
    requestContext: boolean,
  ): Promise<{ afterCalls: number; waitUntil: number; stats: ClientStats }> {
    const child = runFixture(
      'next-after-child.ts',
      { apiUrl: mock.url, token: TOKEN, title, requestContext },
      { NODE_PATH: resolve(__dirname, 'next16/node_modules') },
    );
    const result = JSON.parse(await child.line('RESULT ')) as {
      afterCalls: number;
      waitUntil: number;
      stats: ClientStats;
    };
    expect(await child.exited).to.include({ code: 0 });
    expect(mock.events).to.have.length(3);
    expect(result.stats).to.include({ tracked: 3, delivered: 3 });
    return result;
  }

  it("in Next's request scope: next start calls after() once for the requests of a batch window, not per request", async () => {
    const { afterCalls, waitUntil } = await inNextScope('next-server (v16.0.0)', false);
    expect(afterCalls).to.equal(1);
    expect(waitUntil).to.equal(1); // Next's own, for that one after()
  });

  it("in Next's request scope on a platform (Vercel's request context has a waitUntil): no after(), each request hands the turn's delivery to waitUntil", async () => {
    const { afterCalls, waitUntil } = await inNextScope('node', true);
    expect(afterCalls).to.equal(0);
    expect(waitUntil).to.equal(3);
  });

  it("in Next's request scope with no waitUntil anywhere: after() per request keeps each delivery alive", async () => {
    const { afterCalls, waitUntil } = await inNextScope('node', false);
    expect(afterCalls).to.equal(3);
    expect(waitUntil).to.equal(3); // each request's AfterContext hands its callbacks' promise to Next's waitUntil
  });

  it('next start on Next 14 (no after(): it exits at SIGTERM without waiting): delivery starts at the hand-off', async () => {
    const { stats } = await run(14, 'next-server (v14.2.0)');
    expect(stats).to.include({ tracked: 3, queued: 0 });
  });
});
