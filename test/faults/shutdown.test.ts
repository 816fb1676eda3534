import { Agent, request, type ClientRequest } from 'node:http';
import { expect } from 'chai';
import { OursClient, OursDeliveryError, type OursError } from '../../src/index';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { TOKEN } from '../support/client';
import { exitWithin, runFixture, type Child } from './child';
import type { ChildConfig } from './fixtures/app-child';
import {
  expectBalanced,
  FRAMEWORK_NAME,
  hit,
  idsOf,
  KINDS,
  pool,
  processHooks,
  send,
  startApp,
  until,
  type RunningApp,
} from './support';

/** A GET whose body never ends: resolves `firstChunk` once the first bytes arrive. */
function openDownload(port: number, path: string): { firstChunk: Promise<void>; abort(): void } {
  let req: ClientRequest | undefined;
  const firstChunk = new Promise<void>((resolve, reject) => {
    req = request(
      { host: '127.0.0.1', port, path, agent: false, headers: { 'user-agent': 'curl/8' } },
      (res) => res.once('data', () => resolve()),
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    req.end();
  });
  return { firstChunk, abort: () => req?.destroy() };
}

describe('shutdown', function () {
  this.timeout(90_000); // child processes: slow to start on a loaded machine
  const hooks = processHooks();
  let mock: MockOurs;
  const children: Child[] = [];
  before(async () => {
    hooks.install();
    mock = await createMockOurs({ token: TOKEN });
  });
  afterEach(() => {
    for (const c of children.splice(0))
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    expect(mock.violations.map((v) => v.message)).to.deep.equal([]);
    mock.reset();
  });
  after(async () => {
    await mock.close();
    hooks.check();
  });

  for (const kind of KINDS) {
    describe(`client.shutdown() behind a ${FRAMEWORK_NAME[kind]} app`, () => {
      let agent: Agent;
      let app: RunningApp | undefined;
      const clients: OursClient[] = [];
      beforeEach(() => void (agent = new Agent({ keepAlive: true, maxSockets: 8 })));
      afterEach(async () => {
        agent.destroy();
        await app?.close();
        app = undefined;
        // A test that failed before its shutdown() must not send into the next one.
        await Promise.all(clients.splice(0).map((c) => c.shutdown({ timeoutMs: 100 })));
        await until(
          () => mock.requests.every((r) => r.status !== null),
          'the mock to answer what was sent',
        );
      });

      function makeClient(options: ConstructorParameters<typeof OursClient>[0] = {}) {
        const client = new OursClient({
          token: TOKEN,
          apiUrl: mock.url,
          flushAt: 20,
          maxBatchSize: 20,
          maxInFlight: 2,
          flushIntervalMs: 20,
          logger: false,
          ...options,
        });
        clients.push(client);
        const errors: OursError[] = [];
        client.on('error', (err) => errors.push(err));
        return { client, errors };
      }

      it('delivers events queued and in flight within timeoutMs', async () => {
        const { client, errors } = makeClient();
        app = await startApp(kind, client);
        // Slow enough that the first two batches are still in flight once every
        // request has been answered, however loaded the machine: 3 s of work.
        mock.respondWith({ delayMs: 1000, times: 'always' });
        const ids = idsOf(`${kind}-shut`, 100);
        await hit(app, ids, agent);
        await until(
          () => client.stats().tracked === 100 && client.stats().held === 0,
          'events handed off',
        );
        const s = client.stats();
        expect(s.inFlight).to.be.greaterThan(0); // some in flight...
        expect(s.queued).to.be.greaterThan(0); // ...and some still waiting
        const started = performance.now();
        const report = await client.shutdown({ timeoutMs: 10_000 });
        expect(performance.now() - started).to.be.below(10_000);
        expect(report.failed).to.equal(0);
        expect(client.stats()).to.include({
          tracked: 100,
          delivered: 100,
          failed: 0,
          queued: 0,
          inFlight: 0,
        });
        expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal([...ids].sort());
        expect(mock.duplicates()).to.deep.equal([]);
        expect(errors).to.deep.equal([]);
        // Closed: later events are dropped and counted, never sent.
        await hit(app, [`${kind}-late`], agent);
        await until(
          () => client.stats().tracked === 101 && client.stats().held === 0,
          'late event handed off',
        );
        expect(client.stats().dropped).to.equal(1);
        expectBalanced(client);
      });

      it('what cannot be delivered in time is reported with a count', async () => {
        const { client, errors } = makeClient({ maxInFlight: 1 });
        app = await startApp(kind, client);
        // The first batch is answered at once, the other four one at a time, slowly:
        // 8 s of work that cannot be done by the deadline, however slow the requests.
        mock.respondWith({}, { delayMs: 2000, times: 'always' });
        const ids = idsOf(`${kind}-late`, 100);
        await hit(app, ids, agent);
        await until(
          () => client.stats().tracked === 100 && client.stats().held === 0,
          'events handed off',
        );
        // On a loaded machine a batch may land before shutdown() is called: the report covers only the rest.
        const deliveredBefore = client.stats().delivered;
        const started = performance.now();
        const report = await client.shutdown({ timeoutMs: 700 });
        const took = performance.now() - started;
        // Not before the deadline; after it, only what a loaded machine adds (the failed events below show it did not wait for the work).
        expect(took).to.be.at.least(650).and.below(5000);
        expect(deliveredBefore + report.delivered).to.be.greaterThan(0);
        expect(report.failed).to.be.greaterThan(0);
        expect(deliveredBefore + report.delivered + report.failed).to.equal(100);
        const s = client.stats();
        expect(s).to.include({
          tracked: 100,
          delivered: deliveredBefore + report.delivered,
          failed: report.failed,
          queued: 0,
          inFlight: 0,
        });
        const counted = errors.reduce((n, e) => n + (e as OursDeliveryError).count, 0);
        expect(counted).to.equal(report.failed);
        expect(errors.map((e) => e.message).join('\n')).to.match(/shutdown deadline/);
        expect(errors.some((e) => /\d+ events not delivered/.test(e.message))).to.equal(true);
        // The mock may have accepted the cancelled request's rows; none twice, none unknown.
        expect(mock.duplicates()).to.deep.equal([]);
        for (const e of mock.events) expect(ids).to.include(e.distinctId);
      });
    });
  }

  it('handleSignals: SIGTERM with 1,000 events queued in a real Express app delivers all of them, then the process exits by itself', async () => {
    // Slow enough that the API still holds some when the stats are read, however loaded the machine.
    mock.respondWith({ delayMs: 2000, times: 'always' });
    const config: ChildConfig = {
      framework: 'express',
      apiUrl: mock.url,
      token: TOKEN,
      handleSignals: true,
    };
    const child = runFixture('app-child.ts', config);
    children.push(child);
    const port = Number(await child.line('READY'));
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    try {
      const ids = idsOf('sigterm', 1000);
      const replies = await pool(ids.length, 16, (i) => send(port, `/t?id=${ids[i]}`, { agent }));
      expect(replies.every((r, i) => r.status === 200 && r.body === `app:${ids[i]}`)).to.equal(
        true,
      );
      const stats = JSON.parse((await send(port, '/stats', { agent })).body) as ReturnType<
        OursClient['stats']
      >;
      expect(stats.tracked).to.equal(1000);
      expect(stats.delivered).to.be.below(1000); // the slow API still holds some
      expect(mock.events.length).to.be.below(1000);
      agent.destroy();
      const signalledAt = Date.now();
      child.proc.kill('SIGTERM');
      const { code, signal, at } = await exitWithin(child, 15_000);
      // The flush ran, then the signal was raised again and ended the process as SIGTERM does.
      expect({ code, signal }).to.deep.equal({ code: null, signal: 'SIGTERM' });
      expect(at - signalledAt).to.be.below(10_000);
      expect(mock.events).to.have.length(1000);
      expect(new Set(mock.events.map((e) => e.distinctId))).to.deep.equal(new Set(ids));
      expect(child.stderr).to.equal('');
    } finally {
      agent.destroy();
    }
  });

  for (const kind of KINDS) {
    it(`SIGTERM with the README's handler while four downloads still stream in a real ${FRAMEWORK_NAME[kind]} app: their four events are delivered and the report adds up`, async () => {
      const config: ChildConfig = {
        framework: kind,
        apiUrl: mock.url,
        token: TOKEN,
        handleSignals: false,
        readmeHandler: true,
      };
      const child = runFixture('app-child.ts', config);
      children.push(child);
      const port = Number(await child.line('READY'));
      const ids = idsOf(`${kind}-download`, 4);
      const downloads = ids.map((id) => openDownload(port, `/stream?id=${id}`));
      await Promise.all(downloads.map((d) => d.firstChunk));
      const stats = JSON.parse((await send(port, '/stats')).body) as ReturnType<
        OursClient['stats']
      >;
      expect(stats).to.include({ tracked: 4, held: 4, delivered: 0 });
      child.proc.kill('SIGTERM');
      const { report, stats: after } = JSON.parse(await child.line('REPORT')) as {
        report: unknown;
        stats: ReturnType<OursClient['stats']>;
      };
      await exitWithin(child, 15_000);
      expect(report).to.deep.equal({ delivered: 4, failed: 0, dropped: 0 });
      expect(after).to.include({
        tracked: 4,
        delivered: 4,
        failed: 0,
        dropped: 0,
        queued: 0,
        inFlight: 0,
        held: 0,
      });
      expect(new Set(mock.events.map((e) => e.distinctId))).to.deep.equal(new Set(ids));
      expect(child.stderr).to.equal('');
      for (const d of downloads) d.abort();
    });
  }

  it('handleSignals with the core client alone: SIGTERM with 1,000 events queued delivers all of them, then the process exits', async () => {
    // Slow enough that the API still holds some when the stats are read, however loaded the machine.
    mock.respondWith({ delayMs: 2000, times: 'always' });
    const child = runFixture('core-child.ts', { apiUrl: mock.url, token: TOKEN, count: 1000 });
    children.push(child);
    const stats = JSON.parse(await child.line('QUEUED')) as ReturnType<OursClient['stats']>;
    expect(stats.tracked).to.equal(1000);
    expect(stats.delivered).to.equal(0);
    const signalledAt = Date.now();
    child.proc.kill('SIGTERM');
    const { code, signal, at } = await exitWithin(child, 15_000);
    expect({ code, signal }).to.deep.equal({ code: null, signal: 'SIGTERM' });
    expect(at - signalledAt).to.be.below(10_000);
    expect(new Set(mock.events.map((e) => e.distinctId)).size).to.equal(1000);
    expect(mock.duplicates()).to.deep.equal([]);
  });

  for (const [kind, handleSignals] of [
    ['express', false],
    ['koa', true],
  ] as const) {
    it(`an idle ${FRAMEWORK_NAME[kind]} process with the middleware mounted exits by itself when its server closes (handleSignals: ${handleSignals})`, async () => {
      const config: ChildConfig = {
        framework: kind,
        apiUrl: mock.url,
        token: TOKEN,
        handleSignals,
      };
      const child = runFixture('app-child.ts', config);
      children.push(child);
      const port = Number(await child.line('READY'));
      const id = `idle-${kind}-${handleSignals}`;
      expect((await send(port, `/t?id=${id}`)).body).to.equal(`app:${id}`);
      await mock.waitFor(1, { timeoutMs: 5000 }); // delivered: now idle
      expect((await send(port, '/close')).body).to.equal('closing');
      // A ref'd timer or socket would keep it alive for good: 15 s tells them apart on a loaded machine.
      const { code, signal } = await exitWithin(child, 15_000);
      expect({ code, signal }).to.deep.equal({ code: 0, signal: null });
      expect(mock.events.map((e) => e.distinctId)).to.deep.equal([id]);
    });
  }
});
