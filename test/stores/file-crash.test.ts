import { expect } from 'chai';
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileStore } from '../../src/index';
import { clientFor, TOKEN, withMock } from '../support/client';
import { forkTracker, killTrackers, leftBehind as leftBehindIn } from './support/fork';
import {
  balanced,
  drops,
  ids,
  PATIENT_RETRY,
  segments,
  sleep,
  shutDownAfterEach,
  tempDirs,
  until,
} from './support/helpers';

describe('fileStore: crashes', () => {
  const closing = shutDownAfterEach();
  afterEach(killTrackers);
  const t = withMock();
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  const leftBehind = (prefix: string, n: number): Promise<string> =>
    leftBehindIn(t.mock, TOKEN, dirs.make(), prefix, n);

  function recoveringClient(dir: string) {
    return closing(
      clientFor(t.mock, { store: fileStore({ dir, flushMs: 20 }), retry: PATIENT_RETRY }),
    );
  }

  it('SIGKILL with 1,000 events tracked and the API down: a new process delivers all 1,000, once each', async () => {
    const dir = dirs.make();
    t.mock.respondWith({ status: 503, times: 'always' });
    const first = forkTracker({
      apiUrl: t.mock.url,
      token: TOKEN,
      count: 1000,
      prefix: 'k',
      file: { dir },
    });
    const tracked = await first.next('tracked');
    expect(tracked.stats).to.include({ tracked: 1000, dropped: 0, delivered: 0 });
    expect(t.mock.requests.length).to.be.above(0); // it did try, and the API said 503
    expect(t.mock.events).to.have.length(0);
    await first.kill();
    expect((await first.exited)[1]).to.equal('SIGKILL');
    t.mock.reset();

    const second = forkTracker({
      apiUrl: t.mock.url,
      token: TOKEN,
      count: 0,
      prefix: 'unused',
      file: { dir },
    });
    await t.mock.waitFor(1000, { timeoutMs: 20_000 });
    await sleep(200); // a duplicate would arrive now
    const done = await second.shutdown();
    expect(done.stats).to.include({ tracked: 1000, delivered: 1000, failed: 0, dropped: 0 });
    expect(done.errors).to.deep.equal([]);
    expect(t.mock.events).to.have.length(1000);
    expect(t.mock.duplicates()).to.deep.equal([]);
    expect(t.mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('k', 1000));
    expect(segments(dir)).to.deep.equal([]);
  });

  it('process.exit() right after track() still writes the window (at exit, synchronously)', async () => {
    const dir = dirs.make();
    const tracker = forkTracker({
      apiUrl: t.mock.url,
      token: TOKEN,
      count: 5,
      prefix: 'x',
      file: { dir, flushMs: 60_000 },
      exitAtOnce: true,
    });
    expect((await tracker.exited)[0]).to.equal(0);
    expect(t.mock.events).to.have.length(0);
    const { client } = recoveringClient(dir);
    await t.mock.waitFor(5);
    expect(t.mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('x', 5));
    await client.shutdown();
  });

  it('a torn last record is detected, skipped and reported; the rest are delivered', async () => {
    const dir = await leftBehind('t', 20);
    const [segment] = segments(dir);
    const path = join(dir, segment!);
    truncateSync(path, statSync(path).size - 10); // the crash cut the last write mid-record
    const { client, errors } = recoveringClient(dir);
    const dropped = drops(client);
    await t.mock.waitFor(19);
    await sleep(100);
    expect(t.mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('t', 19));
    expect(dropped).to.deep.equal([{ reason: 'corrupt', count: 1 }]);
    expect(errors).to.deep.equal([]);
    await until(() => client.stats().delivered === 19 && balanced(client), 'balanced stats');
    await client.shutdown();
    expect(segments(dir)).to.deep.equal([]);
  });

  it('a corrupt record mid-segment costs that record only; a zero-filled tail costs nothing more', async () => {
    const dir = await leftBehind('c', 20);
    const path = join(dir, segments(dir)[0]!);
    const data = readFileSync(path);
    const at = data.indexOf('"c-10"');
    expect(at).to.be.above(0);
    data[at + 2] = data[at + 2]! ^ 0x20; // c-10 becomes C-10 on disk: the CRC no longer matches
    writeFileSync(path, data);
    appendFileSync(path, Buffer.alloc(4096)); // what a power cut can leave after the last write
    const { client, errors } = recoveringClient(dir);
    const dropped = drops(client);
    await t.mock.waitFor(19);
    await sleep(100);
    expect(t.mock.events.map((e) => e.distinctId).sort()).to.deep.equal(
      ids('c', 20).filter((id) => id !== 'c-10'),
    );
    expect(dropped).to.deep.equal([{ reason: 'corrupt', count: 2 }]); // the corrupt record, and the zeroed stretch
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  it('a segment that is not ours (garbage throughout) is reported as unreadable, never fatal', async () => {
    const dir = dirs.make();
    writeFileSync(
      join(dir, '000000000007.seg'),
      Buffer.from('this is not a segment at all'.repeat(10)),
    );
    const { client, errors } = recoveringClient(dir);
    const dropped = drops(client);
    await until(() => dropped.length > 0, 'the report');
    client.track({ event: 'After', userId: 'v', distinctId: 'after-1' });
    expect(await client.flush()).to.include({ delivered: 1 });
    expect(errors).to.deep.equal([]);
    await client.shutdown();
    expect(segments(dir)).to.deep.equal([]);
  });
});
