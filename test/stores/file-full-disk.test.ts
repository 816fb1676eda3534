import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fileStore, type DropInfo } from '../../src/index';
import { clientFor, withMock } from '../support/client';
import { PATIENT_RETRY, shutDownAfterEach, sleep, until } from './support/helpers';

/** Bytes of the store's files (segments and acks) as the disk has them. */
function filesBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.seg') || f.endsWith('.ack'))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

/** Fills the filesystem of `path` to the last byte. */
function fill(path: string): void {
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) appendFileSync(path, block);
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).to.equal('ENOSPC');
  }
}

/**
 * A failing disk costs durability, never delivery: with `fileStore` on a
 * real full filesystem (a 1 MiB tmpfs, mounted for the suite; needs root)
 * and the API answering, every event is delivered from memory.
 */
describe('fileStore on a full disk (tmpfs)', function () {
  const closing = shutDownAfterEach();
  this.timeout(60_000);
  const t = withMock();
  let mnt: string;

  before(function () {
    mnt = mkdtempSync(join(tmpdir(), 'ours-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  });
  after(() => {
    execFileSync('umount', ['-l', mnt]); // lazily: a failed test may leave a file open
    rmSync(mnt, { recursive: true, force: true });
  });

  it('delivers every event, drops none, counts only what reached the disk, and cleans the segments of failed writes', async () => {
    const dir = join(mnt, 'ours');
    const store = fileStore({ dir, flushMs: 10, maxBytes: 256 * 1024 });
    const { client, errors } = closing(
      clientFor(t.mock, {
        store,
        retry: PATIENT_RETRY,
        flushAt: 50,
        maxBatchSize: 50,
        flushIntervalMs: 10,
      }),
    );
    const dropped: DropInfo[] = [];
    client.on('drop', (d) => dropped.push(d));
    // The store is open (directory locked, lock written, recovery done) once a flush returns:
    // a disk filled before that would disable the store instead of testing its writes.
    await client.flush();
    expect(existsSync(join(dir, 'LOCK'))).to.equal(true);
    const filler = join(mnt, 'filler');
    fill(filler);

    // 3,000 events (~750 KB of records, three times maxBytes), paced by the delivery: at most
    // 400 (~100 KB) undelivered, so that only a bound counting failed writes could drop any.
    // (Paced by the clock instead, the API fell behind on a loaded machine: 553 dropped.)
    for (let i = 0; i < 3000; i++) {
      client.track({
        event: 'Full Disk',
        userId: `u-${i}`,
        distinctId: `full-${i}`,
        eventProperties: { pad: 'x'.repeat(100) },
      });
      if (i % 100 === 99)
        await until(() => client.stats().delivered > i - 400, 'the delivery to keep up');
    }
    expect(await client.flush(), JSON.stringify(dropped.slice(0, 3))).to.include({
      failed: 0,
      dropped: 0,
    });
    expect(client.stats()).to.include({ tracked: 3000, delivered: 3000, failed: 0, dropped: 0 });
    expect(dropped).to.deep.equal([]);
    expect(new Set(t.mock.events.map((e) => e.distinctId)).size).to.equal(3000);
    // The store reports when its window's writes are done: the delivery may be over before.
    await until(() => errors.length > 0, 'the write failure reported');
    expect(errors.map((e) => e.message).join('\n'))
      .to.match(/ENOSPC/)
      .and.to.include('delivered from memory');
    // Once the window is quiet, the bound counts what the disk holds, nothing that failed to reach it.
    await until(() => store.diskBytes === filesBytes(dir), 'the window quiet', 10_000);

    // Every event is settled: the segments whose writes failed are deleted, full disk or not.
    await until(
      () => readdirSync(dir).filter((f) => f.endsWith('.seg')).length === 0,
      'the segments cleaned',
      15_000,
    );
    expect(store.diskBytes).to.equal(filesBytes(dir));

    // Space again: new events reach the disk, and the store says nothing more.
    unlinkSync(filler);
    await sleep(5100); // past the window's longest backoff
    const reported = errors.length;
    t.mock.respondWith({ status: 503, times: 'always' });
    for (let i = 0; i < 10; i++)
      client.track({ event: 'Disk Back', userId: 'u', distinctId: `back-${i}` });
    await until(() => filesBytes(dir) > 0 && store.diskBytes === filesBytes(dir), 'written');
    await sleep(100);
    expect(errors.slice(reported).map((e) => e.message)).to.deep.equal([]);
    t.mock.reset();
    await client.shutdown();
    expect(readdirSync(dir).filter((f) => f !== 'LOCK')).to.deep.equal([]);
  });
});
