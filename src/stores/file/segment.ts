import { closeSync, constants, openSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** `NNNNNNNNNNNN.seg` holds records, `NNNNNNNNNNNN.ack` the offsets of those settled. */
const NAME = /^(\d{12})\.seg$/;
/** Written at known offsets, never truncated: a repeated write is harmless. */
const FLAGS = constants.O_WRONLY | constants.O_CREAT;

export function segmentName(seq: number): string {
  return `${String(seq).padStart(12, '0')}.seg`;
}

/** The sequence numbers of a directory's segments, oldest first. */
export function segmentSeqs(names: readonly string[]): number[] {
  return names
    .map((name) => NAME.exec(name)?.[1])
    .filter((seq): seq is string => seq !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

export type FileKind = 'seg' | 'ack';

/** Where an event's record is: the event's `key` in a file store. */
export interface RecordKey {
  /** Unset until the write window assigns the record a place, and again if its write failed. */
  seg: Segment | undefined;
  /** {@link PENDING} until assigned, {@link NOT_STORED} once its write failed. */
  offset: number;
  /** Bytes of the record on disk. */
  size: number;
  settled: boolean;
}

/** A record's offset until its window assigns it a place. */
export const PENDING = -1;
/** A record's offset once its write failed: the event lives in memory only. */
export const NOT_STORED = -2;

export const isRecordKey = (key: unknown): key is RecordKey =>
  typeof key === 'object' && key !== null && 'settled' in key;

/**
 * One segment: its two files, their logical sizes (what has been assigned,
 * written or not), and how many of its records are still unsettled. Files are
 * opened on first write and written at explicit positions, so a write retried
 * after an error, or repeated synchronously at exit, lands on the same bytes.
 */
export class Segment {
  readonly paths: Record<FileKind, string>;
  size = 0;
  ackSize = 0;
  /** Records not yet acked. */
  live = 0;
  /** Offsets acked since the last window, to be written as one ack frame. */
  acks: number[] = [];
  /** Writes assigned to this segment and not yet done. */
  unwritten = 0;
  #handles: Partial<Record<FileKind, Promise<FileHandle>>> = {};
  #syncFds: Partial<Record<FileKind, number>> = {};

  constructor(
    readonly dir: string,
    readonly seq: number,
  ) {
    const seg = join(dir, segmentName(seq));
    this.paths = { seg, ack: seg.replace(/\.seg$/, '.ack') };
  }

  /** Bytes both files take on disk. */
  get diskBytes(): number {
    return this.size + this.ackSize;
  }

  /** The open file; `created` is called once when the file is new (its directory entry needs a sync). */
  handle(kind: FileKind, created?: () => void): Promise<FileHandle> {
    let handle = this.#handles[kind];
    if (!handle) {
      handle = open(this.paths[kind], FLAGS, 0o600);
      this.#handles[kind] = handle;
      // A failed open is tried again on the next write; `close()` may have let go of it already.
      const opened = handle;
      opened.then(created, () => {
        if (this.#handles[kind] === opened) delete this.#handles[kind];
      });
    }
    return handle;
  }

  /** A descriptor for the synchronous write at process exit (the async open may still be pending). */
  fdSync(kind: FileKind): number {
    return (this.#syncFds[kind] ??= openSync(this.paths[kind], FLAGS, 0o600));
  }

  async close(): Promise<void> {
    const handles = Object.values(this.#handles);
    this.#handles = {};
    for (const fd of Object.values(this.#syncFds)) closeSync(fd);
    this.#syncFds = {};
    await Promise.all(
      handles.map((h) =>
        h.then(
          (fh) => fh.close(),
          () => undefined,
        ),
      ),
    );
  }

  /** Cuts a file back to `size` (what a failed write may have left past it); best effort. */
  async truncate(kind: FileKind, size: number): Promise<void> {
    await this.handle(kind)
      .then((fh) => fh.truncate(size))
      .catch(() => undefined);
  }

  /** Closes and deletes both files; a file that is already gone is fine. */
  async remove(): Promise<void> {
    await this.close();
    await Promise.all(
      Object.values(this.paths).map((path) =>
        unlink(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        }),
      ),
    );
  }
}
