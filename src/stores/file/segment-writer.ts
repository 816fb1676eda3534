import { mkdirSync, readdirSync } from 'node:fs';
import type { QueuedEvent } from '../../queue';
import { encodeAcks, encodeRecords } from './frame';
import { Segment, segmentSeqs, type RecordKey } from './segment';
import { WriteQueue } from './write-queue';

/** How long a settled active segment is kept for new records before it is deleted. */
export const IDLE_MS = 1000;

/**
 * The disk side of a file store. Each window `assign()`s the records appended
 * since the last one to the active segment (rolling to a new one past
 * `segmentBytes`) and the acks to their segments' ack files, encoding each
 * file's share as one buffer for the {@link WriteQueue}; `clean()` deletes
 * the segments whose every record is settled. A record settled before its
 * window never reaches the disk.
 */
export class SegmentWriter {
  readonly segments = new Map<number, Segment>();
  nextSeq = 1;
  /** Bytes on disk, counting records and acks assigned but not yet written. */
  diskBytes = 0;
  /** False until recovery has found the last segment number. */
  ready = false;
  /** Set when the directory cannot be used: events then live in memory only. */
  disabled = false;
  #active: Segment | undefined;
  /** When the active segment last got a record. */
  #activeAt = 0;
  #pending: QueuedEvent[] = [];
  readonly #queue: WriteQueue;

  constructor(
    readonly dir: string,
    readonly segmentBytes: number,
    fsync: boolean,
  ) {
    this.#queue = new WriteQueue(dir, fsync);
  }

  /** From now on events live in memory only: nothing is written, nothing counts against the disk bound. */
  disable(): void {
    this.disabled = true;
    this.#pending = [];
    this.#queue.clear();
    this.diskBytes = 0;
  }

  add(event: QueuedEvent & { key: RecordKey }): void {
    if (this.disabled) return;
    this.#pending.push(event);
    this.diskBytes += event.key.size;
  }

  settle(key: RecordKey): void {
    if (key.settled) return;
    key.settled = true;
    if (!key.seg) return; // not written yet: assign() skips it
    key.seg.acks.push(key.offset);
    key.seg.live--;
  }

  /** Gives the window's records and acks their place and bytes. Synchronous. */
  assign(): void {
    if (!this.ready || this.disabled) return;
    const groups = new Map<Segment, { events: QueuedEvent[]; sizes: number[]; pos: number; total: number }>();
    for (const event of this.#pending) {
      const key = event.key as RecordKey;
      if (key.settled) {
        this.diskBytes -= key.size;
        continue;
      }
      let seg = this.#active;
      if (!seg || (seg.size > 0 && seg.size + key.size > this.segmentBytes)) seg = this.#roll();
      let group = groups.get(seg);
      if (!group) groups.set(seg, (group = { events: [], sizes: [], pos: seg.size, total: 0 }));
      group.events.push(event);
      group.sizes.push(key.size);
      group.total += key.size;
      this.#activeAt = performance.now();
      key.seg = seg;
      key.offset = seg.size;
      seg.size += key.size;
      seg.live++;
    }
    this.#pending = [];
    for (const [seg, { events, sizes, pos, total }] of groups) this.#queue.push(seg, 'seg', pos, encodeRecords(events, sizes, total));
    for (const seg of this.segments.values()) {
      if (!seg.acks.length) continue;
      // A segment with nothing live is about to be deleted: its acks need no writing.
      if (seg.live > 0 || seg.unwritten > 0) {
        const buf = encodeAcks(seg.acks);
        this.#queue.push(seg, 'ack', seg.ackSize, buf);
        seg.ackSize += buf.length;
        this.diskBytes += buf.length;
      }
      seg.acks = [];
    }
  }

  #roll(): Segment {
    const seg = new Segment(this.dir, this.nextSeq++);
    this.segments.set(seg.seq, seg);
    this.#active = seg;
    return seg;
  }

  /** One window: place what came since the last, put it on disk, delete what is all settled. */
  async runWindow(final = false): Promise<void> {
    this.assign();
    await this.#queue.drain();
    await this.clean(final);
  }

  /**
   * Deletes every segment whose records are all settled and written. The
   * active one goes only once it has had no new record for {@link IDLE_MS}
   * (or at close): under steady traffic it is all settled between most
   * windows, and creating and deleting a file each window costs more than
   * the rest of the store.
   */
  async clean(final = false): Promise<void> {
    const now = performance.now();
    for (const seg of [...this.segments.values()]) {
      if (seg.live > 0 || seg.unwritten > 0) continue;
      if (seg === this.#active) {
        if (!final && now - this.#activeAt < IDLE_MS) continue;
        this.#active = undefined;
      }
      this.segments.delete(seg.seq);
      this.diskBytes -= seg.diskBytes;
      await seg.remove();
    }
  }

  /** A settled active segment waits for {@link IDLE_MS} without records before it is deleted. */
  get idleActive(): boolean {
    return this.#active !== undefined && this.#active.live === 0;
  }

  /** At process exit: the same writes, synchronously (positional, so a write also in flight is harmless). */
  writeSync(): void {
    if (!this.ready && !this.disabled) {
      // Exit before recovery finished: number the segment past every one on disk.
      mkdirSync(this.dir, { recursive: true });
      this.nextSeq = Math.max(this.nextSeq, (segmentSeqs(readdirSync(this.dir)).at(-1) ?? 0) + 1);
      this.ready = true;
    }
    this.assign();
    this.#queue.drainSync();
  }

  async closeFiles(): Promise<void> {
    for (const seg of this.segments.values()) await seg.close();
  }
}
