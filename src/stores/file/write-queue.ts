import { writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { FileKind, Segment } from './segment';

interface Write {
  seg: Segment;
  kind: FileKind;
  pos: number;
  buf: Buffer;
  /** Takes back what the write stood for, when it failed (see {@link SegmentWriter}). */
  undo: () => Promise<void>;
}

/**
 * The encoded buffers of a window, in order, until they are on disk. Each is
 * one positional write. A write that fails (a full disk, an I/O error) is
 * undone rather than kept for later: kept, it would hold its bytes against
 * the disk bound, and every buffer after it in memory, for as long as the
 * disk stays full. The others are still tried; the first error is thrown
 * once all are done, and the window backs off. With `fsync`, each
 * segment file written is `fdatasync`ed once per window, and the directory
 * once after a segment file was created (so a power cut keeps its name). Ack
 * files are not synced: a lost ack only means a harmless resend.
 */
export class WriteQueue {
  #writes: Write[] = [];
  #unsynced = new Set<FileHandle>();
  #dirCreated = false;

  constructor(
    readonly dir: string,
    readonly fsync: boolean,
  ) {}

  push(seg: Segment, kind: FileKind, pos: number, buf: Buffer, undo: () => Promise<void>): void {
    seg.unwritten++;
    this.#writes.push({ seg, kind, pos, buf, undo });
  }

  clear(): void {
    this.#writes = [];
  }

  async drain(): Promise<void> {
    let failure: unknown;
    while (this.#writes.length) {
      const w = this.#writes[0]!; // first in line until done: the write at exit repeats it
      try {
        await this.#write(w);
      } catch (err) {
        failure ??= err;
        await w.undo();
      }
      this.#writes.shift();
      w.seg.unwritten--;
    }
    if (failure) throw failure;
    if (!this.fsync) return;
    for (const fh of this.#unsynced) {
      // Closed: its segment was deleted after a failed window, all settled; there is nothing left to keep.
      if (fh.fd !== -1) await fh.datasync();
      this.#unsynced.delete(fh);
    }
    if (this.#dirCreated) {
      this.#dirCreated = false;
      const dir = await open(this.dir, 'r');
      await dir.sync().finally(() => dir.close());
    }
  }

  async #write(w: Write): Promise<void> {
    const fh = await w.seg.handle(w.kind, () => (this.#dirCreated = true));
    for (let done = 0; done < w.buf.length;) {
      done += (await fh.write(w.buf, done, w.buf.length - done, w.pos + done)).bytesWritten;
    }
    if (w.kind === 'seg' && this.fsync) this.#unsynced.add(fh);
  }

  /**
   * At process exit: every write still queued, synchronously. One that is in
   * flight on the thread pool may land too; both put the same bytes at the
   * same offset.
   */
  drainSync(): void {
    for (const w of this.#writes) {
      const fd = w.seg.fdSync(w.kind);
      for (let done = 0; done < w.buf.length;)
        done += writeSync(fd, w.buf, done, w.buf.length - done, w.pos + done);
    }
  }
}
