import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { fileStore, type ClientStats, type FlushReport } from '../../src/index';
import { exitWithin, runFixture } from '../faults/child';
import { clientFor, TOKEN, withMock } from '../support/client';
import { leftBehind as leftBehindIn } from './support/fork';
import {
  ids,
  PATIENT_RETRY,
  segments,
  shutDownAfterEach,
  tempDirs,
  until,
} from './support/helpers';

/**
 * Draining a directory a dead process left: `flush()` covers what the store
 * is still recovering, a closed client starts no delivery, and what was
 * delivered is recorded, so that a second start sends nothing again.
 */
describe('fileStore: draining a directory', function () {
  const closing = shutDownAfterEach();
  this.timeout(60_000);
  const t = withMock();
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  const leftBehind = (prefix: string, n: number): Promise<string> =>
    leftBehindIn(t.mock, TOKEN, dirs.make(), prefix, n);

  /** Runs the README's recipe (flush, then shutdown) in a child process on `dir`. */
  async function drainInChild(
    dir: string,
  ): Promise<{ flushed: FlushReport; stats: ClientStats; shutdown: FlushReport }> {
    const child = runFixture(join(__dirname, 'support', 'drain-child.ts'), {
      apiUrl: t.mock.url,
      token: TOKEN,
      dir,
    });
    const [flushed, stats] = (await child.line('FLUSHED', 30_000))
      .split(' ')
      .map((json) => JSON.parse(json));
    const [shutdown] = (await child.line('SHUTDOWN', 30_000))
      .split(' ')
      .map((json) => JSON.parse(json));
    expect((await exitWithin(child, 10_000)).code).to.equal(0);
    return { flushed, stats, shutdown };
  }

  it("the README's recipe in a real process: flush() delivers all 500, and a second start sends nothing again", async () => {
    const dir = await leftBehind('drain', 500);
    const first = await drainInChild(dir);
    expect(first.flushed).to.deep.equal({ delivered: 500, failed: 0, dropped: 0 });
    expect(first.stats).to.include({
      tracked: 500,
      delivered: 500,
      queued: 0,
      inFlight: 0,
      recovering: false,
    });
    expect(first.shutdown).to.deep.equal({ delivered: 0, failed: 0, dropped: 0 });
    expect(t.mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('drain', 500));
    expect(segments(dir)).to.deep.equal([]);

    const second = await drainInChild(dir);
    expect(second.flushed).to.deep.equal({ delivered: 0, failed: 0, dropped: 0 });
    expect(second.stats).to.include({ tracked: 0 });
    expect(t.mock.events, 'events sent again').to.have.length(500);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('stats() says recovering until the store has read the directory', async () => {
    const dir = await leftBehind('rec', 50);
    const { client } = closing(
      clientFor(t.mock, {
        store: fileStore({ dir, flushMs: 20 }),
        retry: PATIENT_RETRY,
      }),
    );
    expect(client.stats()).to.include({ recovering: true, tracked: 0 });
    expect(await client.flush()).to.deep.equal({ delivered: 50, failed: 0, dropped: 0 });
    expect(client.stats()).to.include({ recovering: false, tracked: 50, delivered: 50 });
    await client.shutdown();
  });

  it('a client shut down before recovery ends starts no delivery; the events stay for the next start', async () => {
    const dir = await leftBehind('late', 200);
    const { client } = closing(
      clientFor(t.mock, {
        store: fileStore({ dir, flushMs: 20 }),
        retry: PATIENT_RETRY,
      }),
    );
    const report = await client.shutdown({ timeoutMs: 0 });
    expect(report).to.deep.equal({ delivered: 0, failed: 0, dropped: 0 });
    // Recovery ends meanwhile: what it finds must not be sent (nor, below, twice).
    await until(() => !client.stats().recovering, 'the recovery to end');
    expect(t.mock.requests, 'requests after shutdown').to.have.length(0);
    expect(client.stats()).to.include({ delivered: 0, inFlight: 0, recovering: false });
    expect(await client.flush(), 'a flush after shutdown resolves at once').to.deep.equal({
      delivered: 0,
      failed: 0,
      dropped: 0,
    });

    const next = closing(
      clientFor(t.mock, {
        store: fileStore({ dir, flushMs: 20 }),
        retry: PATIENT_RETRY,
      }),
    );
    expect(await next.client.flush()).to.deep.equal({ delivered: 200, failed: 0, dropped: 0 });
    expect(t.mock.duplicates()).to.deep.equal([]);
    await next.client.shutdown();
    expect(segments(dir)).to.deep.equal([]);
  });
});
