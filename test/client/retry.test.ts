import { expect } from 'chai';
import { OursDeliveryError } from '../../src/index';
import { captureLogger, clientFor, withMock } from '../support/client';
import { until } from '../support/wait';

describe('client retries and status codes', () => {
  const t = withMock();

  const ids = (list: readonly { distinctId?: string | null }[]) => list.map((e) => e.distinctId);

  it('retries a 500 with the same distinctId and delivers once the API is back', async () => {
    const { client } = clientFor(t.mock);
    t.mock.respondWith({ status: 500, times: 2 });
    client.track({ event: 'E', userId: 'v', distinctId: 'order-1' });
    const report = await client.flush();
    expect(report.delivered).to.equal(1);
    expect(t.mock.requests.map((r) => r.status)).to.deep.equal([500, 500, 200]);
    const sent = t.mock.requests.map(
      (r) => (r.body as { events: { distinctId: string }[] }).events[0]!.distinctId,
    );
    expect(sent).to.deep.equal(['order-1', 'order-1', 'order-1']);
    expect(client.stats()).to.include({ delivered: 1, retried: 2, failed: 0 });
    await client.shutdown();
  });

  it('retries network errors: a connection dropped before the answer', async () => {
    const { client } = clientFor(t.mock);
    t.mock.respondWith({ drop: 'before-response' });
    client.track({ event: 'E', userId: 'v' });
    await client.flush();
    expect(t.mock.events).to.have.length(1);
    await client.shutdown();
  });

  it('times out a request that never answers, then retries it', async () => {
    const { client, errors } = clientFor(t.mock, { timeoutMs: 150 });
    t.mock.respondWith({ hang: true });
    client.track({ event: 'E', userId: 'v' });
    const started = performance.now();
    await client.flush();
    expect(performance.now() - started).to.be.at.least(140); // a lower bound: a timer never fires early
    expect(t.mock.events).to.have.length(1);
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  it('honours Retry-After on 429 as a minimum wait', async () => {
    const { client } = clientFor(t.mock);
    t.mock.respondWith({ status: 429, retryAfter: 1 });
    client.track({ event: 'E', userId: 'v' });
    await client.flush();
    const [first, second] = t.mock.requests;
    expect(second!.receivedAt - first!.receivedAt).to.be.at.least(950);
    expect(t.mock.events).to.have.length(1);
    await client.shutdown();
  });

  for (const [what, retryAfter] of [
    ['in seconds', '36000'],
    ['as an HTTP date', () => new Date(Date.now() + 10 * 3_600_000).toUTCString()],
  ] as const)
    it(`obeys a Retry-After of ten hours (${what}) for five minutes at most`, async () => {
      const logger = captureLogger();
      const { client } = clientFor(t.mock, {
        logger,
        retry: { initialDelayMs: 10, maxDelayMs: 10, jitterMs: [0, 0] },
      });
      t.mock.respondWith({
        status: 429,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : retryAfter(),
      });
      client.track({ event: 'E', userId: 'v' });
      const retrying = () => logger.lines.find((l) => /retrying in/.test(l.msg ?? ''));
      await until(() => retrying() !== undefined, 'the 429 to be retried');
      expect(retrying()!.obj).to.include({ delayMs: 300_000 });
      expect(await client.shutdown({ timeoutMs: 50 })).to.include({ delivered: 0, failed: 1 });
    });

  it('pauses every request behind one backoff gate', async () => {
    const { client } = clientFor(t.mock, {
      maxBatchSize: 1,
      flushAt: 1,
      maxInFlight: 4,
      retry: { initialDelayMs: 300, maxDelayMs: 300, jitterMs: [0, 0] },
    });
    t.mock.respondWith({ status: 503 });
    client.track({ event: 'A', userId: 'v' });
    await until(() => client.stats().retried === 1, 'the 503 to close the gate');
    client.track({ event: 'B', userId: 'v' }); // queued while the gate is closed
    await client.flush();
    const [failed, ...later] = t.mock.requests;
    for (const req of later) expect(req.receivedAt - failed!.receivedAt).to.be.at.least(280);
    expect(t.mock.events.map((e) => e.event).sort()).to.deep.equal(['A', 'B']);
    await client.shutdown();
  });

  it('requests that fail together double the backoff once, not once per request', async () => {
    const { client } = clientFor(t.mock, {
      maxBatchSize: 1,
      flushAt: 1,
      maxInFlight: 4,
      retry: { initialDelayMs: 200, maxDelayMs: 60_000, jitterMs: [0, 0] },
    });
    t.mock.respondWith({ status: 503, times: 4 });
    for (const event of ['A', 'B', 'C', 'D']) client.track({ event, userId: 'v' });
    await client.flush();
    const failed = t.mock.requests.filter((r) => r.status === 503);
    const retried = t.mock.requests.filter((r) => r.status === 200);
    expect(failed).to.have.length(4);
    expect(retried).to.have.length(4);
    // One round failed: the next wait is 200 ms. Counting each request would make it 200 × 2³ = 1.6 s.
    // The upper bound leaves a loaded machine 1.3 s of lateness and still tells the two apart.
    const gap = retried[0]!.receivedAt - Math.max(...failed.map((r) => r.receivedAt));
    expect(gap).to.be.within(150, 1500);
    await client.shutdown();
  });

  it('gives up after maxAttempts and reports how many events were lost', async () => {
    const { client, errors } = clientFor(t.mock, {
      retry: { initialDelayMs: 1, maxDelayMs: 2, jitterMs: [0, 0], maxAttempts: 3 },
    });
    t.mock.respondWith({ status: 500, times: 'always' });
    client.track({ event: 'A', userId: 'v' });
    client.track({ event: 'B', userId: 'v' });
    const report = await client.flush();
    expect(report).to.deep.equal({ delivered: 0, failed: 2, dropped: 0 });
    expect(t.mock.requests).to.have.length(3);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(OursDeliveryError);
    expect((errors[0] as OursDeliveryError).count).to.equal(2);
    expect(errors[0]!.message).to.include('gave up after 3 attempts').and.include('2 events lost');
    await client.shutdown();
  });

  it('207: resends only queue_failed rows, reports invalid rows, never resends accepted rows', async () => {
    const { client, errors } = clientFor(t.mock);
    t.mock.respondWith({
      rows: (e) =>
        e.event === 'Retry me' ? 'queue_failed' : e.event === 'Bad' ? 'invalid_event' : 'ok',
    });
    client.track({ event: 'OK', userId: 'v', distinctId: 'ok-1' });
    client.track({ event: 'Retry me', userId: 'v', distinctId: 'retry-1' });
    client.track({ event: 'Bad', userId: 'v', distinctId: 'bad-1' });
    const report = await client.flush();
    expect(report).to.deep.equal({ delivered: 2, failed: 1, dropped: 0 });
    expect(t.mock.requests.map((r) => r.status)).to.deep.equal([207, 200]);
    const second = (t.mock.requests[1]!.body as { events: { distinctId: string }[] }).events;
    expect(second.map((e) => e.distinctId)).to.deep.equal(['retry-1']);
    expect(ids(t.mock.events).sort()).to.deep.equal(['ok-1', 'retry-1']);
    expect(t.mock.duplicates()).to.deep.equal([]);
    expect(errors).to.have.length(1);
    expect(errors[0]!.message).to.include('row 2');
    await client.shutdown();
  });

  it('a row resent after a 207 (gzip) or split after a 413 (plain) goes out exactly as it went first', async () => {
    // Once encoded, a batch's events let go of their JSON; a resend reads it back from the body.
    const event = (i: number) => ({
      event: `Café ${i} 🚀 注文`,
      userId: 'v',
      distinctId: `e${i}`,
      eventProperties: { n: i, ok: true, none: null, lone: '\ud800', quote: '"\\' },
    });
    for (const gzip of [true, false]) {
      const { client, errors } = clientFor(t.mock, { gzip });
      t.mock.reset();
      if (gzip)
        t.mock.respondWith({ rows: (e) => (e.distinctId === 'e1' ? 'queue_failed' : 'ok') });
      else t.mock.respondWith({ maxBodyBytes: 400, times: 1 });
      for (let i = 0; i < 3; i++) client.track(event(i));
      await client.flush();
      const sent = t.mock.requests.map(
        (r) => (r.body as { events: Record<string, unknown>[] }).events,
      );
      const first = new Map(sent[0]!.map((e) => [e.distinctId, e]));
      for (const later of sent.slice(1).flat())
        expect(later).to.deep.equal(first.get(later.distinctId));
      expect(sent.slice(1).flat().length).to.be.above(0);
      expect(ids(t.mock.events).sort()).to.deep.equal(['e0', 'e1', 'e2']);
      expect(errors).to.deep.equal([]);
      await client.shutdown();
    }
  });

  it('413: halves the batch until it fits, and reports a single event that is too large', async () => {
    const { client, errors } = clientFor(t.mock, { gzip: false });
    t.mock.respondWith({ maxBodyBytes: 1500, times: 'always' });
    for (let i = 0; i < 8; i++)
      client.track({
        event: 'Small',
        userId: 'v',
        distinctId: `s${i}`,
        eventProperties: { pad: 'x'.repeat(100) },
      });
    client.track({ event: 'Huge', userId: 'v', eventProperties: { pad: 'x'.repeat(5000) } });
    const report = await client.flush();
    expect(report).to.deep.equal({ delivered: 8, failed: 1, dropped: 0 });
    expect(ids(t.mock.events).sort()).to.deep.equal([
      's0',
      's1',
      's2',
      's3',
      's4',
      's5',
      's6',
      's7',
    ]);
    expect(t.mock.requests.some((r) => r.status === 413)).to.equal(true);
    expect(errors).to.have.length(1);
    expect(errors[0]!.message).to.include('too large').and.include('413');
    await client.shutdown();
  });

  it('415: resends once without gzip and keeps gzip off after', async () => {
    const logger = captureLogger();
    const { client } = clientFor(t.mock, { logger });
    t.mock.respondWith({ rejectGzip: true, times: 'always' });
    client.track({ event: 'A', userId: 'v' });
    await client.flush();
    client.track({ event: 'B', userId: 'v' });
    await client.flush();
    expect(t.mock.requests.map((r) => [r.gzip, r.status])).to.deep.equal([
      [true, 415],
      [false, 200],
      [false, 200],
    ]);
    expect(logger.lines.filter((l) => l.level === 'warn')).to.have.length(1);
    await client.shutdown();
  });

  it('401: fails without retrying and says once, loudly, that the token is wrong', async () => {
    const logger = captureLogger();
    const { client, errors } = clientFor(t.mock, { token: 'wrong-token', logger });
    client.track({ event: 'A', userId: 'v' });
    await client.flush();
    client.track({ event: 'B', userId: 'v' });
    const report = await client.flush();
    expect(report.failed).to.equal(1);
    expect(t.mock.requests).to.have.length(2);
    expect(errors).to.have.length(2);
    expect(errors[0]!.message).to.include('refused the token');
    const loud = logger.lines.filter((l) => l.level === 'error');
    expect(loud).to.have.length(1);
    expect(JSON.stringify(logger.lines)).not.to.include('wrong-token');
    await client.shutdown();
  });
});
