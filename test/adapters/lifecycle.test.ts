import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import { abortAfterFirstChunk, adapterSuite, pendingStream, sleep, type Tracker } from './harness';

/** When the response finished (from its handler) and what `look()` saw then. */
interface Finish {
  ms: number;
  seen: unknown;
}

/**
 * Resolves at the response's `finish`, where `flushOnResponse` holds it: what a
 * serverless platform waits for. Not the client's last byte: Fastify 4 writes a
 * Content-Length body before `end()`, so the client has it all before then.
 */
function finished(res: ServerResponse, look: () => unknown): Promise<Finish> {
  const started = performance.now();
  return new Promise((resolve) =>
    res.on('finish', () => resolve({ ms: performance.now() - started, seen: look() })),
  );
}

const VISITOR = {
  cookie: 'ours_device_id=00000000-0000-4000-8000-000000000001',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0',
};

adapterSuite('adapter: when events leave', (t) => {
  it('never delays the response while the Ours API hangs, and delivers after', async () => {
    const app = await t.start({ ours: { client: t.client({ timeoutMs: 1500 }) } });
    t.mock.respondWith({ hang: true });
    app.handle(({ ours }) => ours.track('Checkout Completed', { orderId: '42' }));
    const reply = await app.get('/checkout', { headers: VISITOR });
    expect(reply.status).to.equal(200);
    // Order, not milliseconds: answered before the hung attempt even timed out.
    expect(app.client.stats().retried, 'attempts timed out before the response').to.equal(0);
    expect(t.mock.events).to.have.length(0);
    const [event] = await t.mock.waitFor(1, { timeoutMs: 6000 }); // after the client's timeout and a retry
    expect(event!.event).to.equal('Checkout Completed');
    expect(t.mock.requests[0]!.status).to.equal(null); // the hung one
  });

  it('never delays the response while the Ours API is slow to answer', async () => {
    const app = await t.start();
    t.mock.respondWith({ delayMs: 1500 });
    app.handle(({ ours }) => ours.track('Slow'));
    await app.get('/', { headers: VISITOR });
    // Order, not milliseconds: the response is over, and the API has not answered yet.
    await t.mock.waitFor(1, { of: 'requests' }); // the request reached the mock...
    expect(t.mock.events).to.have.length(0); // ...which has not answered yet
    const [event] = await t.mock.waitFor(1, { timeoutMs: 5000 });
    expect(event!.event).to.equal('Slow');
  });

  it('holds events until the response has finished (fetch, Hono: until the handler returns), then hands them over', async () => {
    const app = await t.start();
    const body = pendingStream();
    app.handle(({ ours }) => {
      ours.track('During');
      return body;
    });
    const reply = app.get('/', { headers: VISITOR });
    await sleep(60); // a dozen flush intervals of the client while the response streams
    // fetch and Hono hand off at the handler's end (the Response returned), while the body still streams.
    if (t.fw.nodeResponse) expect(t.mock.requests).to.have.length(0);
    else expect((await t.mock.waitFor(1)).map((e) => e.event)).to.deep.equal(['During']);
    body.finish();
    expect((await reply).body).to.equal('first chunk\n');
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('During');
  });

  it('hands events over when the client aborts mid-response (close without finish)', async () => {
    const app = await t.start();
    let state: { finished: boolean; ended: boolean } | undefined;
    app.handle(({ ours, res }) => {
      ours.track('Before Abort', { step: 1 });
      res.on('close', () => (state = { finished: res.writableFinished, ended: res.writableEnded }));
      return pendingStream(); // never ends
    });
    await abortAfterFirstChunk(app.port, '/download', { headers: VISITOR });
    const [event] = await t.mock.waitFor(1);
    expect(state).to.deep.equal({ finished: false, ended: false });
    expect(event!.event).to.equal('Before Abort');
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000001');
    expect(event!.defaultProperties!.ip).to.equal('127.0.0.1'); // read at the start, still known
    expect(event!.identityContext).to.deep.equal({
      ip: '127.0.0.1',
      userAgent: VISITOR['user-agent'],
    });
  });

  it('a shutdown() called as the response finishes still delivers its events: waiting hand-offs go first', async () => {
    const app = await t.start();
    let shutdown: Promise<unknown> | undefined;
    app.handle(({ ours, res }) => {
      ours.track('Last One');
      // Registered after the tracker's own listener, so its hand-off already waits for the end of the turn.
      res.on('finish', () => (shutdown = app.client.shutdown()));
    });
    await app.get('/', { headers: VISITOR });
    await shutdown;
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Last One']);
    expect(app.client.stats()).to.include({ tracked: 1, delivered: 1, dropped: 0 });
  });

  it("runs the hooks outside the request's AsyncLocalStorage context (hand-offs run in one batch)", async () => {
    const als = new AsyncLocalStorage<{ requestId: string }>();
    const seen: unknown[] = [];
    const app = await t.start({
      ours: { beforeSend: (event) => (seen.push(als.getStore()), event) },
    });
    app.handle(({ ours }) => {
      als.enterWith({ requestId: 'r1' });
      ours.track('In Context');
    });
    await app.get('/', { headers: VISITOR });
    await t.mock.waitFor(1);
    expect(seen).to.deep.equal([undefined]);
  });

  it('hands events over once only, even with several calls and both finish and close', async () => {
    const app = await t.start();
    app.handle(({ ours }) => {
      ours.track('A');
      ours.track('B');
      ours.identify({ first_name: 'Ada' });
    });
    await app.get('/', { headers: VISITOR });
    await t.mock.waitFor(2);
    await t.mock.waitFor(1, { of: 'identifies' });
    await app.client.flush();
    await sleep(30);
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['A', 'B']);
    expect(t.mock.identifies).to.have.length(1);
    expect(t.mock.duplicates()).to.deep.equal([]);
  });

  it("delivers what a handler tracked before it threw, through the framework's error handling", async () => {
    const app = await t.start();
    app.handle(({ ours }) => {
      ours.track('Tracked Before Throw');
      throw new Error('handler failed');
    });
    const reply = await app.get('/', { headers: VISITOR });
    expect(reply.status).to.equal(500);
    expect(app.appErrors.map((e) => (e as Error).message)).to.deep.equal(['handler failed']);
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('Tracked Before Throw');
  });

  it('delivers what an async handler tracked before it rejected', async () => {
    const app = await t.start();
    app.handle(async ({ ours }) => {
      ours.track('Tracked Before Reject');
      await sleep(5);
      throw new Error('async failure');
    });
    const reply = await app.get('/', { headers: VISITOR });
    expect(reply.status).to.equal(500);
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('Tracked Before Reject');
  });

  it('sends a call made after the response has finished straight to the client, with the request context', async () => {
    const app = await t.start();
    let tracker: Tracker | undefined;
    app.handle(({ ours }) => {
      tracker = ours;
      ours.track('In Request');
    });
    await app.get('/page', { headers: VISITOR });
    await t.mock.waitFor(1);
    tracker!.track('After Response');
    const events = await t.mock.waitFor(2);
    expect(events[1]!.event).to.equal('After Response');
    expect(events[1]!.userId).to.equal('00000000-0000-4000-8000-000000000001');
    expect(events[1]!.defaultProperties!.pathname).to.equal('/page');
  });

  it('sends a first call made only after the response has finished', async () => {
    const app = await t.start();
    let tracker: Tracker | undefined;
    app.handle(({ ours }) => void (tracker = ours));
    await app.get('/late', { headers: VISITOR });
    tracker!.track('Only After');
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('Only After');
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000001');
  });

  // Node's response only: a fetch or Hono handler cannot write before it returns (see web.test.ts).
  if (t.fw.nodeResponse)
    it('attaches listeners on the first track() only, and a request that tracks nothing sends and reads nothing', async () => {
      const app = await t.start();
      const counts: Record<string, number[]> = {};
      const headerReads: string[] = [];
      app.handle(({ ours, req, res }) => {
        const count = () => res.listenerCount('finish') + res.listenerCount('close');
        // Spy on the header reads of the rest of this request.
        const headers = req.headers;
        req.headers = new Proxy(headers, {
          get: (target, name) => (
            typeof name === 'string' && headerReads.push(name),
            Reflect.get(target, name)
          ),
        });
        const path = req.url ?? '';
        counts[path] = [count()];
        if (path.startsWith('/tracked')) {
          ours.track('E');
          counts[path]!.push(count());
          ours.track('F');
        }
        counts[path]!.push(count());
      });
      const headers = { ...VISITOR, referer: 'https://example.com/', 'sec-gpc': '1' };
      await app.get('/silent', { headers });
      await sleep(40); // eight flush intervals of the client
      expect(t.mock.requests).to.have.length(0);
      expect(counts['/silent']![0]).to.equal(counts['/silent']![1]);
      expect(
        headerReads.filter((h) =>
          ['cookie', 'user-agent', 'referer', 'sec-gpc', 'accept-language'].includes(h),
        ),
      ).to.deep.equal([]);
      // The control: a request that tracks attaches one close listener, once, and reads the request.
      await app.get('/tracked', { headers });
      await t.mock.waitFor(2);
      const [start, afterFirst, afterSecond] = counts['/tracked']!;
      expect([afterFirst! - start!, afterSecond! - start!]).to.deep.equal([1, 1]);
      expect(headerReads).to.include.members(['cookie', 'user-agent', 'referer', 'sec-gpc']);
    });

  it('gives waitUntil a promise that resolves once the events are delivered', async () => {
    const promises: Promise<unknown>[] = [];
    // No interval flush: only the flush behind the promise can deliver.
    const app = await t.start({
      ours: {
        client: t.client({ flushIntervalMs: 60_000 }),
        waitUntil: (p) => void promises.push(p),
      },
    });
    app.handle(({ ours, req }) => (req.url === '/silent' ? undefined : ours.track('Serverless')));
    await app.get('/', { headers: VISITOR });
    await app.get('/silent', { headers: VISITOR });
    expect(promises).to.have.length(1); // only the request that tracked
    expect(await promises[0]).to.deep.include({ delivered: 1 });
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Serverless']);
  });

  // fetch and Hono refuse flushOnResponse (a Response cannot be held back): they take waitUntil.
  if (t.fw.nodeResponse)
    it('flushOnResponse: holds res.end until the mock has the event', async () => {
      const app = await t.start({ ours: { flushOnResponse: true } });
      let finish: Promise<Finish> | undefined;
      app.handle(({ ours, res }) => {
        ours.track('Before End');
        finish = finished(res, () => t.mock.events.map((e) => e.event));
      });
      const reply = await app.get('/', { headers: VISITOR });
      expect(reply.status).to.equal(200);
      expect(reply.body).to.equal('ok');
      const { ms, seen } = await finish!;
      expect(ms).to.be.below(2000); // released by the delivery, not by the 2 s deadline
      expect(seen).to.deep.equal(['Before End']);
    });

  if (t.fw.nodeResponse)
    it('flushOnResponse: holds a streamed response too', async () => {
      const app = await t.start({ ours: { flushOnResponse: true } });
      app.handle(({ ours }) => {
        ours.track('Streamed');
        const body = pendingStream('streamed\n');
        setTimeout(() => body.finish(), 20);
        return body;
      });
      const reply = await app.get('/', { headers: VISITOR });
      expect(reply.body).to.equal('streamed\n');
      expect(reply.ms).to.be.below(2000); // released by the delivery, not by the 2 s deadline
      expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Streamed']);
    });

  if (t.fw.nodeResponse)
    it('flushOnResponse: is bounded by its timeout when the Ours API hangs', async () => {
      const app = await t.start({
        ours: { client: t.client({ timeoutMs: 1000 }), flushOnResponse: { timeoutMs: 100 } },
      });
      t.mock.respondWith({ hang: true });
      let finish: Promise<Finish> | undefined;
      app.handle(({ ours, res }) => {
        ours.track('Hung');
        finish = finished(res, () => t.mock.events.length);
      });
      const reply = await app.get('/', { headers: VISITOR });
      expect(reply.status).to.equal(200);
      const { ms, seen } = await finish!;
      expect(ms).to.be.within(95, 1000); // the deadline, before the client's own timeout
      expect(seen).to.equal(0);
      await t.mock.waitFor(1, { timeoutMs: 5000 }); // delivered later, on the retry
    });

  if (t.fw.nodeResponse)
    it('flushOnResponse: a request that tracks nothing is not held', async () => {
      const app = await t.start({
        ours: { client: t.client({ timeoutMs: 600 }), flushOnResponse: { timeoutMs: 1000 } },
      });
      t.mock.respondWith({ hang: true, times: 'always' });
      const reply = await app.get('/', { headers: VISITOR });
      expect(reply.ms).to.be.below(1000); // not held until its flushOnResponse timeout
      expect(t.mock.requests).to.have.length(0);
    });
});
