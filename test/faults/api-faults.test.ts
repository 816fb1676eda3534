import { Agent } from 'node:http';
import { expect } from 'chai';
import { OursClient, OursDeliveryError, type ClientOptions, type OursError } from '../../src/index';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { captureLogger, TOKEN } from '../support/client';
import { freePort } from '../support/http';
import {
  batchIds,
  expectBalanced,
  FRAMEWORK_NAME,
  hit,
  idsOf,
  KINDS,
  processHooks,
  sleep,
  startApp,
  until,
  watchBalance,
  type AppOptions,
  type RunningApp,
} from './support';

/** Fast retries: a whole scenario takes well under a second. */
const retry = (
  maxAttempts: number,
  delays: { initialDelayMs?: number; maxDelayMs?: number } = {},
) => ({
  initialDelayMs: 5,
  maxDelayMs: 50,
  jitterMs: [0, 0] as const,
  maxAttempts,
  ...delays,
});

/** Every event the mock accepted, exactly once, and no other. */
function expectExactlyOnce(mock: MockOurs, ids: readonly string[]): void {
  const got = mock.events.map((e) => String(e.distinctId));
  expect([...got].sort()).to.deep.equal([...ids].sort());
  expect(mock.duplicates()).to.deep.equal([]);
}

/** Flushes, then nothing may be left queued or in flight. */
async function settle(client: OursClient): Promise<void> {
  await client.flush();
  expect(client.stats()).to.include({ queued: 0, inFlight: 0 });
}

const sum = (errors: OursError[]): number =>
  errors.reduce((n, e) => n + (e instanceof OursDeliveryError ? e.count : 0), 0);

for (const kind of KINDS) {
  describe(`faults of the Ours API, driven by a real ${FRAMEWORK_NAME[kind]} app`, function () {
    this.timeout(20_000);
    const hooks = processHooks();
    let mock: MockOurs;
    let agent: Agent;
    const clients: OursClient[] = [];
    const apps: RunningApp[] = [];

    before(async () => {
      hooks.install();
      mock = await createMockOurs({ token: TOKEN });
    });
    beforeEach(() => void (agent = new Agent({ keepAlive: true, maxSockets: 8 })));
    afterEach(async () => {
      agent.destroy();
      await Promise.all(apps.splice(0).map((a) => a.close()));
      await Promise.all(clients.splice(0).map((c) => c.shutdown({ timeoutMs: 500 })));
      expect(mock.violations.map((v) => v.message)).to.deep.equal([]);
      mock.reset();
    });
    after(async () => {
      await mock.close();
      hooks.check(); // no unhandled rejection or uncaught exception in the whole suite
    });

    /** A client on the mock (or `apiUrl`) with fast retries, errors and logs captured. */
    function makeClient(options: ClientOptions = {}) {
      const logger = captureLogger();
      const client = new OursClient({
        token: TOKEN,
        apiUrl: mock.url,
        flushAt: 20,
        maxBatchSize: 20,
        flushIntervalMs: 20,
        retry: retry(10),
        logger,
        ...options,
      });
      const errors: OursError[] = [];
      client.on('error', (err) => errors.push(err));
      clients.push(client);
      return { client, errors, logger };
    }

    async function app(client: OursClient, options?: AppOptions): Promise<RunningApp> {
      const a = await startApp(kind, client, options);
      apps.push(a);
      return a;
    }

    /** Requests, then waits until each response's events were handed to the client. */
    async function traffic(
      a: RunningApp,
      client: OursClient,
      ids: readonly string[],
    ): Promise<number[]> {
      const before = client.stats().tracked;
      const times = await hit(a, ids, agent);
      await until(
        () => client.stats().tracked >= before + ids.length,
        'events handed to the client',
      );
      return times;
    }

    it('API down with 500s, then back: every event delivered exactly once', async () => {
      const { client, errors } = makeClient();
      const a = await app(client);
      mock.respondWith({ status: 500, times: 4 });
      const ids = idsOf(`${kind}-500`, 80);
      const balance = watchBalance(client);
      await traffic(a, client, ids);
      await settle(client);
      balance.stop();
      expect(mock.requests.filter((r) => r.status === 500)).to.have.length(4);
      expectExactlyOnce(mock, ids);
      expect(client.stats()).to.include({
        tracked: 80,
        delivered: 80,
        failed: 0,
        dropped: 0,
        queued: 0,
        inFlight: 0,
      });
      expect(errors).to.deep.equal([]);
    });

    it('API down with connection refused, then a server comes up on that port: delivered exactly once', async () => {
      const port = await freePort();
      const { client, errors } = makeClient({
        apiUrl: `http://127.0.0.1:${port}/api/v1`,
        retry: retry(60),
      });
      const a = await app(client);
      const ids = idsOf(`${kind}-refused`, 50);
      const balance = watchBalance(client);
      await traffic(a, client, ids);
      await until(() => client.stats().retried >= 20, 'refused requests to be retried');
      expect(client.stats().delivered).to.equal(0);
      const revived = await createMockOurs({ token: TOKEN, port });
      try {
        await settle(client);
        balance.stop();
        expect(client.stats()).to.include({ tracked: 50, delivered: 50, failed: 0, dropped: 0 });
        expectExactlyOnce(revived, ids);
        expect(revived.violations).to.deep.equal([]);
        expect(errors).to.deep.equal([]);
      } finally {
        await revived.close();
      }
    });

    it('connection reset mid-response, then back: every event delivered, duplicates only from the reset requests', async () => {
      const { client, errors } = makeClient();
      const a = await app(client);
      mock.respondWith({ drop: 'mid-response', times: 2 });
      const ids = idsOf(`${kind}-reset`, 60);
      const balance = watchBalance(client);
      await traffic(a, client, ids);
      await settle(client);
      balance.stop();
      // The mock recorded the two reset requests as a server would, so their rows arrive twice:
      // the client could not know they had landed. distinctId lets Ours drop the repeats.
      const resetIds = mock.requests.slice(0, 2).flatMap((r) => batchIds(r.body));
      expect(resetIds.length).to.be.greaterThan(0);
      expect(new Set(mock.events.map((e) => e.distinctId))).to.deep.equal(new Set(ids));
      expect([...mock.duplicates()].sort()).to.deep.equal([...new Set(resetIds)].sort());
      expect(mock.events).to.have.length(ids.length + resetIds.length);
      expect(client.stats()).to.include({ delivered: 60, failed: 0 });
      expect(errors).to.deep.equal([]);
    });

    it('API never answering until the timeout, then back: responses never wait for it', async () => {
      const { client, errors } = makeClient({ timeoutMs: 4000 });
      const a = await app(client);
      mock.respondWith({ hang: true, times: 2 });
      const first = idsOf(`${kind}-hang-a`, 20);
      const second = idsOf(`${kind}-hang-b`, 60);
      const balance = watchBalance(client);
      await traffic(a, client, first); // 20 = flushAt: a request goes out and hangs
      await mock.waitFor(1, { of: 'requests' });
      await traffic(a, client, second);
      // Served while the API hangs: the first request has not even timed out yet.
      expect(client.stats().retried, 'requests retried after a timeout').to.equal(0);
      await settle(client);
      balance.stop();
      expect(mock.requests.filter((r) => r.status === null)).to.have.length(2);
      expect(client.stats()).to.include({ tracked: 80, delivered: 80, failed: 0, dropped: 0 });
      expectExactlyOnce(mock, [...first, ...second]);
      expect(errors).to.deep.equal([]);
    });

    it('429 with Retry-After on every request for a while: waits as told, then delivers exactly once', async () => {
      const { client, errors } = makeClient({ maxInFlight: 1, retry: retry(12) });
      const a = await app(client);
      mock.respondWith({ status: 429, retryAfter: '0.2', times: 4 });
      const ids = idsOf(`${kind}-429ra`, 90);
      const balance = watchBalance(client);
      await traffic(a, client, ids.slice(0, 30));
      await sleep(250); // still rate limited: keep serving and tracking
      await traffic(a, client, ids.slice(30));
      await settle(client);
      balance.stop();
      expect(client.stats()).to.include({ tracked: 90, delivered: 90, failed: 0, dropped: 0 });
      const reqs = mock.requests;
      expect(reqs.filter((r) => r.status === 429)).to.have.length(4);
      for (let i = 0; i < 4; i++)
        expect(
          reqs[i + 1]!.receivedAt - reqs[i]!.receivedAt,
          `gap after 429 #${i + 1}`,
        ).to.be.at.least(190);
      expectExactlyOnce(mock, ids);
      expect(errors).to.deep.equal([]);
    });

    it('429 without Retry-After on every request for a while: backs off, then delivers exactly once', async () => {
      const { client, errors } = makeClient({ retry: retry(15) });
      const a = await app(client);
      mock.respondWith({ status: 429, times: 10 });
      const ids = idsOf(`${kind}-429`, 90);
      const balance = watchBalance(client);
      await traffic(a, client, ids.slice(0, 45));
      await traffic(a, client, ids.slice(45));
      await settle(client);
      balance.stop();
      expect(client.stats()).to.include({ tracked: 90, delivered: 90, failed: 0, dropped: 0 });
      expect(mock.requests.filter((r) => r.status === 429)).to.have.length(10);
      expectExactlyOnce(mock, ids);
      expect(client.stats().retried).to.be.greaterThan(0);
      expect(errors).to.deep.equal([]);
    });

    it('207 with mixed rows: queue_failed rows retried alone, invalid_event rows reported, accepted rows never resent', async () => {
      const { client, errors } = makeClient();
      const a = await app(client);
      const ids = idsOf(`${kind}-207`, 60);
      const n = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));
      const invalid = ids.filter((id) => n(id) % 7 === 3);
      const flaky = ids.filter((id) => n(id) % 4 === 1 && !invalid.includes(id));
      const failedOnce = new Set<string>();
      mock.respondWith({
        times: 'always',
        rows: (e) => {
          const id = String(e.distinctId);
          if (invalid.includes(id)) return 'invalid_event';
          if (flaky.includes(id) && !failedOnce.has(id)) {
            failedOnce.add(id);
            return 'queue_failed';
          }
          return 'ok';
        },
      });
      const balance = watchBalance(client);
      await traffic(a, client, ids);
      await settle(client);
      balance.stop();
      const delivered = ids.filter((id) => !invalid.includes(id));
      expect(mock.requests.some((r) => r.status === 207)).to.equal(true);
      expectExactlyOnce(mock, delivered);
      // How often each event was sent: accepted and invalid rows once, queue_failed rows twice.
      const sent = new Map<string, number>();
      for (const r of mock.requests)
        for (const id of batchIds(r.body)) sent.set(id, (sent.get(id) ?? 0) + 1);
      for (const id of ids) expect(sent.get(id), id).to.equal(flaky.includes(id) ? 2 : 1);
      // Retries carry only the rows that failed the queue.
      const firstSends = new Set<string>();
      for (const r of mock.requests) {
        const rowIds = batchIds(r.body);
        const retried = rowIds.filter((id) => firstSends.has(id));
        if (retried.length) expect(rowIds).to.deep.equal(retried);
        rowIds.forEach((id) => firstSends.add(id));
      }
      expect(
        errors.every((e) => e instanceof OursDeliveryError && /invalid/.test(e.message)),
      ).to.equal(true);
      expect(sum(errors)).to.equal(invalid.length);
      expect(client.stats()).to.include({
        delivered: delivered.length,
        failed: invalid.length,
        queued: 0,
        inFlight: 0,
      });
    });

    it('413 above a size: batches bisected until delivered, a single oversized event reported', async () => {
      const { client, errors } = makeClient();
      const a = await app(client, {
        route: ({ ours, req }) => {
          const id = String(req.headers['x-id']);
          const pad = id.endsWith('-13') ? 'x'.repeat(6000) : 'y'.repeat(40);
          ours.track('Fault Test', { pad }, { distinctId: id, externalId: 'user-1' });
          return `app:${id}`;
        },
      });
      mock.respondWith({ maxBodyBytes: 3000, times: 'always' });
      const ids = idsOf(`${kind}-413`, 60);
      const balance = watchBalance(client);
      await traffic(a, client, ids);
      await settle(client);
      balance.stop();
      const big = `${kind}-413-13`;
      const small = ids.filter((id) => id !== big);
      expect(client.stats()).to.include({
        tracked: 60,
        delivered: small.length,
        failed: 1,
        dropped: 0,
      });
      expect(mock.requests.filter((r) => r.status === 413).length).to.be.greaterThan(1);
      expectExactlyOnce(mock, small);
      expect(errors).to.have.length(1);
      expect(errors[0]).to.be.instanceOf(OursDeliveryError);
      expect(errors[0]!.message).to.include('too large').and.include('413');
      expect((errors[0] as OursDeliveryError).count).to.equal(1);
    });

    it('401: reported once and clearly, events failed rather than retried forever', async () => {
      const { client, errors, logger } = makeClient({ token: 'tok_revoked_987' });
      const a = await app(client);
      const ids = idsOf(`${kind}-401`, 50);
      const balance = watchBalance(client);
      await traffic(a, client, ids);
      await settle(client);
      expect(client.stats()).to.include({ tracked: 50, delivered: 0, failed: 50, dropped: 0 });
      await traffic(a, client, idsOf(`${kind}-401-more`, 10));
      await settle(client);
      balance.stop();
      // Each event was sent once: no retry of a refused token.
      const sent = mock.requests.flatMap((r) => batchIds(r.body));
      expect(sent).to.have.length(60);
      expect(new Set(sent).size).to.equal(60);
      expect(mock.requests.every((r) => r.status === 401)).to.equal(true);
      expect(client.stats()).to.include({ tracked: 60, delivered: 0, failed: 60, retried: 0 });
      const loud = logger.lines.filter((l) => l.level === 'error');
      expect(loud).to.have.length(1);
      expect(loud[0]!.msg).to.include('refused the token').and.include('OURS_TOKEN');
      expect(sum(errors)).to.equal(60);
      expect(mock.events).to.have.length(0);
    });

    it('outage longer than the retry budget: events reported lost with a count, queue bound holds, then recovers', async () => {
      const maxQueueSize = 30;
      const { client, errors, logger } = makeClient({
        maxQueueSize,
        maxBatchSize: 10,
        flushAt: 10,
        retry: retry(3, { initialDelayMs: 100, maxDelayMs: 100 }),
      });
      const a = await app(client);
      mock.respondWith({ status: 503, times: 'always' });
      let maxHeld = 0;
      const sampler = setInterval(() => {
        const s = client.stats();
        maxHeld = Math.max(maxHeld, s.queued + s.inFlight);
      }, 1).unref();
      const balance = watchBalance(client);
      const ids = idsOf(`${kind}-outage`, 200);
      await traffic(a, client, ids);
      await settle(client);
      clearInterval(sampler);
      balance.stop();
      expect(maxHeld).to.be.greaterThan(0).and.at.most(maxQueueSize);
      const s = client.stats();
      expect(s.delivered).to.equal(0);
      expect(s.dropped).to.be.greaterThan(0);
      expect(s.failed + s.dropped).to.equal(200);
      expect(sum(errors)).to.equal(s.failed);
      expect(
        errors.every(
          (e) => /gave up after 3 attempts/.test(e.message) && /events lost/.test(e.message),
        ),
      ).to.equal(true);
      expect(
        logger.lines.some((l) => l.level === 'warn' && /queue full/.test(l.msg ?? '')),
      ).to.equal(true);
      expect(mock.events).to.have.length(0);
      // The API comes back: new events flow again, exactly once.
      expect(mock.violations).to.deep.equal([]);
      mock.reset();
      const later = idsOf(`${kind}-after-outage`, 20);
      await traffic(a, client, later);
      const failedBefore = client.stats().failed;
      await settle(client);
      expect(client.stats()).to.include({ delivered: 20, failed: failedBefore });
      expectExactlyOnce(mock, later);
      expectBalanced(client);
    });
  });
}
