/**
 * Issue 11: Ctrl-C (SIGINT) and `docker stop` (SIGTERM) must not lose queued
 * events in silence. Real child processes, stopped with real signals, in
 * front of the mock API; the client keeps its defaults (`handleSignals` on).
 */
import { expect } from 'chai';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { TOKEN } from '../support/client';
import { exitWithin, runFixture, type Child } from './child';
import type { ChildConfig } from './fixtures/app-child';
import { idsOf, send } from './support';

describe('signals: a clean stop delivers what is queued', function () {
  this.timeout(90_000); // child processes: slow to start on a loaded machine
  let mock: MockOurs;
  const children: Child[] = [];
  before(async () => void (mock = await createMockOurs({ token: TOKEN })));
  afterEach(() => {
    for (const c of children.splice(0))
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    expect(mock.violations.map((v) => v.message)).to.deep.equal([]);
    mock.reset();
  });
  after(() => mock.close());

  /** Starts the app child, tracks five events that stay queued (a minute's flush interval), and returns it. */
  async function appWithFiveQueued(
    config: Partial<ChildConfig> = {},
  ): Promise<{ child: Child; ids: string[] }> {
    const child = runFixture('app-child.ts', {
      framework: 'express',
      apiUrl: mock.url,
      token: TOKEN,
      flushIntervalMs: 60_000,
      ...config,
    });
    children.push(child);
    const port = Number(await child.line('READY'));
    const ids = idsOf(`sig-${children.length}`, 5);
    for (const id of ids) expect((await send(port, `/t?id=${id}`)).status).to.equal(200);
    const stats = JSON.parse((await send(port, '/stats')).body) as {
      tracked: number;
      queued: number;
    };
    expect(stats).to.include({ tracked: 5, queued: 5 });
    expect(mock.events).to.deep.equal([]);
    return { child, ids };
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}, no handler of the app's own: all 5 events are delivered, then the process ends by ${signal} (exit code ${signal === 'SIGINT' ? 130 : 143} in a shell)`, async () => {
      const { child, ids } = await appWithFiveQueued();
      child.proc.kill(signal);
      const { code, signal: endedBy } = await exitWithin(child, 15_000);
      expect({ code, signal: endedBy }).to.deep.equal({ code: null, signal });
      expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids);
      expect(child.stderr).to.equal('');
    });
  }

  it('SIGTERM, the app has its own handler that closes its server: the app keeps control (exit code 0, not killed) and the events are delivered', async () => {
    const { child, ids } = await appWithFiveQueued({ onSignal: 'close' });
    child.proc.kill('SIGTERM');
    const { code, signal } = await exitWithin(child, 15_000);
    expect(child.stdout).to.include('APP GOT SIGTERM');
    expect({ code, signal }).to.deep.equal({ code: 0, signal: null });
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids);
    expect(child.stderr).to.equal('');
  });

  it('SIGINT, the app handler calls process.exit(0) at once: one line says how many events were lost and how to keep them', async () => {
    const { child } = await appWithFiveQueued({ onSignal: 'exit' });
    child.proc.kill('SIGINT');
    const { code } = await exitWithin(child, 15_000);
    expect(code).to.equal(0);
    const lines = child.stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /^\[client error\] 5 events were not delivered before the process exited: they are lost\. To deliver them, `await client\.shutdown\(\)`/,
    );
  });

  it('a second SIGINT while delivering to a stalled API is not swallowed: the process ends at once, saying what it leaves', async () => {
    mock.respondWith({ delayMs: 20_000, times: 'always' });
    const { child } = await appWithFiveQueued();
    child.proc.kill('SIGINT');
    // The first one is delivering (the API does not answer): a second signal sent before
    // the child handled the first could merge with it (signals do not queue).
    await mock.waitFor(1, { of: 'requests', timeoutMs: 30_000 });
    expect(child.proc.exitCode).to.equal(null);
    child.proc.kill('SIGINT');
    // At once: well before the flush's 10 s deadline, let alone the API's 20 s.
    const { signal } = await exitWithin(child, 8_000);
    expect(signal).to.equal('SIGINT');
    expect(child.stderr).to.match(/5 events were not delivered before the process exited/);
  });

  it('handleSignals: false leaves the signals alone: SIGTERM ends the process at once, with nothing delivered', async () => {
    mock.respondWith({ delayMs: 0, times: 'always' });
    const { child } = await appWithFiveQueued({ handleSignals: false });
    child.proc.kill('SIGTERM');
    const { code, signal } = await exitWithin(child, 5_000);
    expect({ code, signal }).to.deep.equal({ code: null, signal: 'SIGTERM' });
    expect(mock.events).to.deep.equal([]);
  });
});
