import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { EventStore, QueuedEvent, StoreHooks } from './event-store';
import { MemoryStore } from './memory-store';
import { recordSize } from './file/frame';
import { lockDir } from './file/lock';
import { resolveFileStoreOptions, type FileStoreOptions } from './file/options';
import { recoverDir } from './file/recover-dir';
import { isRecordKey, PENDING, type RecordKey } from './file/segment';
import { IDLE_MS, SegmentWriter } from './file/segment-writer';
import { WriteWindow } from './window';

export type { FileStoreOptions } from './file/options';

/**
 * Stores of this process still closing, by directory: a shutdown deadline
 * may resolve before its store is closed, and a new store on the same
 * directory then waits for it rather than find it locked.
 */
const closingDirs = new Map<string, Promise<void>>();

/**
 * The embedded durable store: events wait in memory (so leasing a batch costs
 * what it costs in the memory store) and reach append-only segment files in
 * one write per window; a restarted process delivers what the last one left.
 * See {@link fileStore}.
 */
export class FileStore implements EventStore {
  readonly durable = true;
  readonly dir: string;
  readonly #mirror = new MemoryStore();
  readonly #maxBytes: number;
  readonly #writer: SegmentWriter;
  readonly #window: WriteWindow;
  #hooks: StoreHooks | undefined;
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #release: (() => Promise<void>) | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** The directory's inode once locked: another (or none) at that path means it was deleted. */
  #dirIno: number | undefined;

  constructor(options: FileStoreOptions) {
    const { dir, flushMs, maxBytes, fsync, segmentBytes } = resolveFileStoreOptions(options);
    this.dir = dir;
    this.#maxBytes = maxBytes;
    this.#writer = new SegmentWriter(dir, segmentBytes, fsync);
    this.#window = new WriteWindow(
      flushMs,
      () => this.#runWindow(),
      (err) => this.#error(err),
    );
  }

  get count(): number {
    return this.#mirror.count;
  }

  get bytes(): number {
    return this.#mirror.bytes;
  }

  /** Bytes the store's files take, counting what the current window will write (not what failed to). */
  get diskBytes(): number {
    return this.#writer.diskBytes;
  }

  append(event: QueuedEvent): boolean {
    const size = recordSize(event.json);
    if (!this.#writer.disabled && this.#writer.diskBytes + size > this.#maxBytes) return false;
    const key: RecordKey = { seg: undefined, offset: PENDING, size, settled: false };
    event.key = key;
    this.#mirror.append(event);
    this.#writer.add(event as QueuedEvent & { key: RecordKey });
    this.#window.arm();
    return true;
  }

  lease(maxCount: number, maxBytes: number): QueuedEvent[] {
    return this.#mirror.lease(maxCount, maxBytes);
  }

  ack(events: readonly QueuedEvent[]): void {
    for (const { key } of events) if (isRecordKey(key)) this.#writer.settle(key);
    this.#window.arm();
  }

  forEach(visit: (event: QueuedEvent) => void): void {
    this.#mirror.forEach(visit);
  }

  open(hooks: StoreHooks): Promise<void> {
    if (!this.#hooks) {
      this.#hooks = hooks;
      process.on('exit', this.#onExit);
      this.#opening = this.#open(hooks);
    }
    return this.#opening!;
  }

  /** Writes what the window holds, deletes settled segments, closes the files and frees the directory. */
  close(): Promise<void> {
    if (!this.#closing) {
      const key = resolve(this.dir);
      this.#closing = this.#close().finally(() => closingDirs.delete(key));
      closingDirs.set(key, this.#closing);
    }
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#opening;
    clearTimeout(this.#idleTimer);
    await this.#window.close();
    try {
      await this.#writer.closeFiles();
      await this.#release?.();
    } catch (err) {
      this.#error(err as Error);
    }
    process.off('exit', this.#onExit);
  }

  async #open(hooks: StoreHooks): Promise<void> {
    try {
      await closingDirs.get(resolve(this.dir));
      // lockDir claims the directory within this process before its first
      // await, so of two stores on one directory the first made wins.
      const lock = await lockDir(this.dir);
      if (typeof lock === 'string') {
        this.#disable(`${this.dir} is in use (${lock}); give each process its own directory`);
        return;
      }
      this.#release = lock;
      this.#dirIno = (await stat(this.dir)).ino;
      await recoverDir(
        this.#writer,
        (event) => this.#mirror.append(event),
        hooks,
        (err) => this.#error(err),
      );
    } catch (err) {
      // No directory, or no listing of it: writing could clobber segments not seen.
      this.#disable(`${this.dir} cannot be used: ${(err as Error).message}`);
    } finally {
      this.#writer.ready = true;
      this.#window.arm();
    }
  }

  async #runWindow(): Promise<void> {
    if (await this.#dirGone()) return;
    await this.#writer.runWindow(this.#closing !== undefined);
    // A settled active segment is deleted once idle: look again then, without holding the process.
    if (this.#writer.idleActive && !this.#idleTimer) {
      this.#idleTimer = setTimeout(() => {
        this.#idleTimer = undefined;
        this.#window.arm();
      }, IDLE_MS + 10).unref();
    }
  }

  /**
   * Whether the directory was deleted (a cleaner of /tmp, an `rm -rf`) while
   * segments are open in it: their writes would go on succeeding into files
   * no longer anywhere, lost in a crash without a word. Then the store keeps
   * events in memory only, and says so.
   */
  async #dirGone(): Promise<boolean> {
    if (this.#writer.disabled || this.#writer.segments.size === 0) return false;
    const ino = await stat(this.dir).then(
      (s) => s.ino,
      () => undefined,
    );
    if (ino === this.#dirIno) return false;
    this.#disable(`${this.dir} was deleted while in use: the events written since are not on disk`);
    return true;
  }

  /** A `process.exit()` (or the end of the event loop without `shutdown()`) still writes the window. */
  #onExit = (): void => {
    try {
      this.#writer.writeSync();
    } catch {
      // The process is ending; there is no one left to tell.
    }
  };

  #disable(message: string): void {
    this.#writer.disable();
    this.#error(new Error(`${message}; events are kept in memory only`));
  }

  #error(err: Error): void {
    this.#hooks?.error(new Error(`fileStore: ${err.message}`));
  }
}

/** The Node implementation of the public `fileStore()` (`stores/factories.ts`). */
export function fileStore(options: FileStoreOptions): FileStore {
  return new FileStore(options);
}
