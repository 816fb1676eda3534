import { expect } from 'chai';
import type { IdentifyEvent, TrackEvent } from '../../src/index';
import { expectBalanced } from '../support/client';
import { failOnUnhandledRejections } from '../support/rejections';
import { adapterSuite, pendingStream, sleep } from './harness';

/** A visitor id as the browser SDK writes it (a UUID v4: other ids are no visitor). */
const V1 = '0b7c5a4e-2f1d-4c3b-8a9e-6d5f4e3c2b1a';
const VISITOR = {
  cookie: 'ours_device_id=0b7c5a4e-2f1d-4c3b-8a9e-6d5f4e3c2b1a',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0',
};
const never = (): Promise<never> => new Promise<never>(() => undefined);

adapterSuite('adapter: async hooks', (t) => {
  failOnUnhandledRejections();

  /** Tracks one event per request on the app; resolves with the flush report taken right after the response. */
  async function oneEvent(
    app: Awaited<ReturnType<typeof t.start>>,
    headers: Record<string, string> = VISITOR,
  ) {
    app.handle(({ ours }) => ours.track('E', { plan: 'pro' }));
    await app.get('/', { headers });
    return app.client.flush();
  }

  describe('identify', () => {
    it('async: the event carries what it resolved, and flush() waits for it', async () => {
      const app = await t.start({
        ours: { identify: async () => (await sleep(30), { externalId: 'u_async' }) },
      });
      const report = await oneEvent(app);
      expect(report.delivered).to.equal(1);
      expect(t.mock.events[0]).to.include({ userId: V1, externalId: 'u_async' });
    });

    for (const [how, identify, message] of [
      [
        'throwing',
        () => {
          throw new Error('session store down');
        },
        /identify threw: session store down/,
      ],
      [
        'rejecting',
        async () => {
          throw new Error('session store down');
        },
        /identify rejected: session store down/,
      ],
      ['never settling', () => never(), /identify did not settle within 50 ms/],
    ] as const) {
      it(`${how}: reported, the request's events dropped as hook_failed, no unhandled rejection`, async () => {
        const app = await t.start({ ours: { identify, hookTimeoutMs: 50 } });
        const drops: unknown[] = [];
        app.client.on('drop', (d) => drops.push(d));
        const report = await oneEvent(app);
        expect(report).to.deep.equal({ delivered: 0, failed: 0, dropped: 1 });
        expect(t.mock.events).to.deep.equal([]);
        expect(app.clientErrors.map((e) => e.message)).to.satisfy(
          (m: string[]) => m.length === 1 && message.test(m[0]!),
        );
        expect(drops).to.deep.equal([{ reason: 'hook_failed', count: 1 }]);
        expect(app.client.stats()).to.include({ tracked: 1, dropped: 1, held: 0 });
        expectBalanced(app.client);
      });
    }
  });

  describe('skip', () => {
    it('async resolving false sends the events; resolving true sends none (counted as filtered)', async () => {
      const app = await t.start({
        ours: { skip: async (r: unknown) => (await sleep(5), t.fw.pathOf(r) === '/health') },
      });
      const drops: unknown[] = [];
      app.client.on('drop', (d) => drops.push(d));
      app.handle(({ ours }) => ours.track('E'));
      await app.get('/health', { headers: VISITOR });
      await app.get('/page', { headers: VISITOR });
      const report = await app.client.flush();
      expect(report).to.deep.equal({ delivered: 1, failed: 0, dropped: 1 });
      expect(t.mock.events.map((e) => e.defaultProperties!.pathname)).to.deep.equal(['/page']);
      expect(drops).to.deep.equal([{ reason: 'filtered', count: 1 }]);
      expectBalanced(app.client);
    });

    for (const [how, skip, message] of [
      [
        'throwing',
        () => {
          throw new Error('flag service down');
        },
        /skip threw: flag service down/,
      ],
      [
        'rejecting',
        () => Promise.reject(new Error('flag service down')),
        /skip rejected: flag service down/,
      ],
      ['never settling', () => never(), /skip did not settle within 50 ms/],
    ] as const) {
      it(`${how}: reported, the events dropped, no unhandled rejection`, async () => {
        const app = await t.start({ ours: { skip, hookTimeoutMs: 50 } });
        const report = await oneEvent(app);
        expect(report).to.deep.equal({ delivered: 0, failed: 0, dropped: 1 });
        expect(app.clientErrors).to.have.length(1);
        expect(app.clientErrors[0]!.message).to.match(message);
        expectBalanced(app.client);
      });
    }
  });

  describe('beforeSend', () => {
    it('async resolving an event sends it; null drops it; undefined sends the event as the hook left it', async () => {
      const beforeSend = async (
        event: TrackEvent | IdentifyEvent,
      ): Promise<TrackEvent | IdentifyEvent | null | undefined> => {
        await sleep(5);
        if (!('event' in event)) return event;
        if (event.event === 'Drop') return null;
        if (event.event === 'In Place') {
          event.eventProperties = { ...event.eventProperties, touched: 'yes' };
          return undefined;
        }
        return { ...event, eventProperties: { replaced: 'yes' } };
      };
      const app = await t.start({ ours: { beforeSend } });
      app.handle(({ ours }) => {
        ours.track('Drop');
        ours.track('In Place', { a: '1' });
        ours.track('Replaced', { a: '1' });
      });
      await app.get('/', { headers: VISITOR });
      const report = await app.client.flush();
      expect(report).to.deep.equal({ delivered: 2, failed: 0, dropped: 1 });
      const byName = Object.fromEntries(t.mock.events.map((e) => [e.event, e.eventProperties]));
      expect(byName).to.deep.equal({
        'In Place': { a: '1', touched: 'yes' },
        Replaced: { replaced: 'yes' },
      });
      expect(app.clientErrors).to.deep.equal([]);
    });

    for (const [how, fail, message] of [
      [
        'throwing',
        () => {
          throw new Error('vault sealed');
        },
        /beforeSend threw: vault sealed/,
      ],
      [
        'rejecting',
        () => Promise.reject(new Error('vault sealed')),
        /beforeSend rejected: vault sealed/,
      ],
      ['never settling', () => never(), /beforeSend did not settle within 50 ms/],
    ] as const) {
      it(`${how} for one event: only that event is lost and reported, no unhandled rejection`, async () => {
        const beforeSend = (
          event: TrackEvent | IdentifyEvent,
        ): TrackEvent | IdentifyEvent | Promise<TrackEvent | null> =>
          'event' in event && event.event === 'Bad' ? fail() : event;
        const app = await t.start({ ours: { beforeSend, hookTimeoutMs: 50 } });
        app.handle(({ ours }) => {
          ours.track('Bad');
          ours.track('Good');
        });
        await app.get('/', { headers: VISITOR });
        const report = await app.client.flush();
        expect(report).to.deep.equal({ delivered: 1, failed: 0, dropped: 1 });
        expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Good']);
        expect(app.clientErrors).to.have.length(1);
        expect(app.clientErrors[0]!.message).to.match(message);
        expectBalanced(app.client);
      });
    }
  });

  describe('the other hooks of the package', () => {
    for (const [how, clientIp, message] of [
      [
        'throwing',
        () => {
          throw new Error('no edge header');
        },
        /clientIp threw: no edge header/,
      ],
      ['async', async () => '203.0.113.9', /clientIp returned a Promise/],
    ] as const) {
      it(`a ${how} clientIp is reported and the event goes without an IP`, async () => {
        const app = await t.start({ ours: { clientIp: clientIp as () => string } });
        await oneEvent(app);
        expect(t.mock.events).to.have.length(1);
        expect(t.mock.events[0]!.defaultProperties).not.to.have.property('ip');
        expect(app.clientErrors.map((e) => e.message)).to.satisfy(
          (m: string[]) => m.length === 1 && message.test(m[0]!),
        );
      });
    }

    it('a waitUntil that rejects is reported, not an unhandled rejection', async () => {
      const app = await t.start({
        ours: { waitUntil: async () => Promise.reject(new Error('platform refused')) },
      });
      await oneEvent(app);
      await sleep(5);
      expect(t.mock.events).to.have.length(1);
      expect(app.clientErrors.map((e) => e.message).join()).to.match(/platform refused/);
    });

    it('a logger that throws never reaches the request (here: the debug line of a second ours())', async () => {
      const fail = (): never => {
        throw new Error('log sink down');
      };
      const client = t.client({ logger: { debug: fail, info: fail, warn: fail, error: fail } });
      const app = await t.start({
        ours: { client },
        mountAgain: { ours: { client, gpc: 'drop' } },
      });
      app.handle(({ ours }) => ours.track('E'));
      const reply = await app.get('/', { headers: VISITOR });
      expect(reply.status).to.equal(200);
      await t.mock.waitFor(1);
      expect(app.appErrors).to.deep.equal([]);
    });
  });

  it('shutdown() waits for pending async hooks, within its deadline', async () => {
    const app = await t.start({
      ours: { identify: async () => (await sleep(40), { externalId: 'u_s' }) },
    });
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', { headers: VISITOR });
    const report = await app.client.shutdown({ timeoutMs: 2000 });
    expect(report).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    expect(t.mock.events[0]).to.include({ externalId: 'u_s' });
  });

  it('a hook still pending at the shutdown deadline: its events are counted as dropped in the report, never sent after', async () => {
    const app = await t.start({
      ours: {
        identify: async () => (await sleep(300), { externalId: 'late' }),
        hookTimeoutMs: 1000,
      },
    });
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', { headers: VISITOR });
    const report = await app.client.shutdown({ timeoutMs: 50 });
    expect(report).to.deep.equal({ delivered: 0, failed: 0, dropped: 1 });
    await sleep(350);
    expect(t.mock.events).to.deep.equal([]);
    expect(app.client.stats()).to.include({ tracked: 1, dropped: 1, held: 0 });
    expectBalanced(app.client);
  });

  // Node's response only: a fetch or Hono handler cannot write before it returns (see web.test.ts).
  if (t.fw.nodeResponse)
    it('flushOnResponse holds the response until the events of its async hooks are delivered', async () => {
      const app = await t.start({
        ours: {
          identify: async () => (await sleep(30), { externalId: 'u_f' }),
          flushOnResponse: { timeoutMs: 2000 },
        },
      });
      let atFinish: Promise<unknown> | undefined;
      app.handle(({ ours, res }) => {
        ours.track('E');
        // At `finish`, not at the client's last byte: Fastify 4 writes a Content-Length body before end().
        atFinish = new Promise((resolve) =>
          res.on('finish', () => resolve(t.mock.events.map((e) => e.externalId))),
        );
      });
      await app.get('/', { headers: VISITOR });
      expect(await atFinish).to.deep.equal(['u_f']); // already there when the response ended
    });

  it('all at once: mounted twice, a minted visitor, an async identify, downloads still streaming, a hung API, shutdown with a deadline', async () => {
    const app = await t.start({
      ours: {
        client: t.client({ timeoutMs: 5000 }),
        setVisitorCookie: true,
        identify: async () => (await sleep(20), { externalId: 'u_all' }),
      },
      mountAgain: { ours: 'same' },
    });
    t.mock.respondWith({ hang: true, times: 'always' });
    const bodies = [pendingStream(), pendingStream(), pendingStream()];
    let started = 0;
    app.handle(({ ours }) => {
      ours.track('Download Started');
      return bodies[started++];
    });
    const replies = bodies.map(() =>
      app.get('/file', { headers: { 'user-agent': VISITOR['user-agent'] } }).catch(() => undefined),
    );
    while (started < 3) await sleep(5);
    expect(app.client.stats()).to.include({ tracked: 3, delivered: 0, failed: 0 });
    // On Node's response the calls are held until the body ends; fetch and Hono hand them off
    // when the handler returns its (still streaming) Response, and the async identify may be done by now.
    if (t.fw.nodeResponse) expect(app.client.stats()).to.include({ held: 3 });
    const began = performance.now();
    const report = await app.client.shutdown({ timeoutMs: 300 });
    expect(performance.now() - began).to.be.below(4000); // not the client's 5 s timeout, nor the streams' end
    expect(report).to.deep.equal({ delivered: 0, failed: 3, dropped: 0 }); // cut off by the deadline, reported
    expect(app.client.stats()).to.include({ tracked: 3, held: 0, queued: 0, inFlight: 0 });
    expectBalanced(app.client);
    for (const body of bodies) body.finish();
    await Promise.all(replies);
  });

  it('waitUntil receives a delivery that includes the async hooks of its request', async () => {
    const promises: Promise<unknown>[] = [];
    const app = await t.start({
      ours: {
        identify: async () => (await sleep(30), { externalId: 'u_w' }),
        waitUntil: (p) => void promises.push(p),
      },
    });
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', { headers: VISITOR });
    while (promises.length === 0) await sleep(2);
    await promises[0];
    expect(t.mock.events.map((e) => e.externalId)).to.deep.equal(['u_w']);
  });
});
