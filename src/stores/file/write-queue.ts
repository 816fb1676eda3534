import { writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { FileKind, Segment } from './segment';

interface Write {
  seg: Segment;
  kind: FileKind;
  pos: number;
  buf: Buffer;
}

/**
 * The encoded buffers of the windows, in order, until they are on disk. Each
 * is one positional write; a write that fails stays first in line and is
 * issued again, to the same offset, by the next window. With `fsync`, each
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

  push(seg: Segment, kind: FileKind, pos: number, buf: Buffer): void {
    seg.unwritten++;
    this.#writes.push({ seg, kind, pos, buf });
  }

  clear(): void {
    this.#writes = [];
  }

  async drain(): Promise<void> {
    while (this.#writes.length) {
      const w = this.#writes[0]!;
      const fh = await w.seg.handle(w.kind, () => (this.#dirCreated = true));
      for (let done = 0; done < w.buf.length; ) {
        done += (await fh.write(w.buf, done, w.buf.length - done, w.pos + done)).bytesWritten;
      }
      this.#writes.shift();
      w.seg.unwritten--;
      if (w.kind === 'seg' && this.fsync) this.#unsynced.add(fh);
    }
    if (!this.fsync) return;
    for (const fh of this.#unsynced) {
      await fh.datasync();
      this.#unsynced.delete(fh);
    }
    if (this.#dirCreated) {
      this.#dirCreated = false;
      const dir = await open(this.dir, 'r');
      await dir.sync().finally(() => dir.close());
    }
  }

  /**
   * At process exit: every write still queued, synchronously. One that is in
   * flight on the thread pool may land too; both put the same bytes at the
   * same offset.
   */
  drainSync(): void {
    for (const w of this.#writes) {
      const fd = w.seg.fdSync(w.kind);
      for (let done = 0; done < w.buf.length; ) done += writeSync(fd, w.buf, done, w.buf.length - done, w.pos + done);
    }
  }
}
