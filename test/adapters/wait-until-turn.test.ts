import { expect } from 'chai';
import { expectBalanced } from '../support/client';
import { until } from '../support/wait';
import { adapterSuite, pendingStream, type Tracker } from './harness';

const VISITOR = {
  cookie: 'ours_device_id=0b7c5a4e-2f1d-4c3b-8a9e-6d5f4e3c2b1a',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0',
};

/**
 * The `waitUntil` option on Node (a Lambda, Vercel's Node.js runtime behind
 * any framework): each request's promise is its turn's delivery (see
 * test/adapters/turn-delivery.test.ts), handed over at the response's end,
 * and it settles only once that request's events are accepted or counted.
 */
adapterSuite('adapter: the waitUntil option on Node, one delivery per turn', (t) => {
  it("each request's promise settles only once its event is accepted or dropped: identify hooks that answer at once, late, reject or never settle", async () => {
    const promises: Promise<unknown>[] = [];
    const identify = (target: unknown): Promise<{ externalId: string }> | undefined => {
      const path = t.fw.pathOf(target);
      if (path === '/late')
        return new Promise<{ externalId: string }>((r) =>
          setTimeout(r, 30, { externalId: 'u_late' }),
        );
      if (path === '/rejects') return Promise.reject(new Error('session store down'));
      if (path === '/never') return new Promise<never>(() => undefined);
      return undefined;
    };
    const app = await t.start({
      ours: {
        client: t.client({ flushIntervalMs: 60_000 }), // only the turn's delivery sends
        identify,
        hookTimeoutMs: 300,
        waitUntil: (p) => void promises.push(p),
      },
    });
    app.handle(({ ours }) => ours.track('E'));
    const paths = ['/now', '/late', '/rejects', '/never'];
    for (const [i, path] of paths.entries()) {
      await app.get(path, { headers: VISITOR });
      await until(() => promises.length === i + 1, `${path} handed its delivery`);
      await promises[i];
      expect(app.client.stats(), path).to.include({ held: 0, queued: 0, inFlight: 0 });
    }
    expect(app.client.stats()).to.include({ tracked: 4, delivered: 2, dropped: 2 });
    expect(t.mock.events.map((e) => e.externalId)).to.deep.equal([undefined, 'u_late']);
    expectBalanced(app.client);
  });

  if (t.fw.nodeResponse)
    it("a streamed response: waitUntil gets the delivery at the stream's end, with the calls made while it streamed; a call after it, a delivery of its own", async () => {
      const promises: Promise<unknown>[] = [];
      const app = await t.start({
        ours: {
          client: t.client({ flushIntervalMs: 60_000 }),
          waitUntil: (p) => void promises.push(p),
        },
      });
      const body = pendingStream();
      const handler: { ours?: Tracker } = {};
      app.handle((h) => {
        handler.ours = h.ours;
        h.ours.track('Download Started');
        return body;
      });
      const reply = app.get('/file', { headers: VISITOR });
      await until(() => handler.ours !== undefined, 'the handler ran');
      handler.ours!.track('Download Progress');
      expect(promises).to.have.length(0); // the body still streams
      body.finish();
      await reply;
      await until(() => promises.length === 1, "the hand-off at the stream's end");
      await promises[0];
      expect(t.mock.events.map((e) => e.event)).to.deep.equal([
        'Download Started',
        'Download Progress',
      ]);
      handler.ours!.track('Download Verified'); // after the hand-off: delivered through its own waitUntil
      expect(promises).to.have.length(2);
      await promises[1];
      expect(t.mock.events.map((e) => e.event)).to.include('Download Verified');
      expectBalanced(app.client);
    });
});
