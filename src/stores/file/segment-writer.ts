import { mkdirSync, readdirSync } from 'node:fs';
import type { QueuedEvent } from '../event-store';
import { encodeAcks, encodeRecords } from './frame';
import { NOT_STORED, PENDING, Segment, segmentSeqs, type RecordKey } from './segment';
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
 *
 * A failing disk costs durability, never delivery: the records of a failed
 * write stay in memory only (their events are delivered as usual), their
 * bytes no longer count against the bound, and their segment takes no more
 * records (the next ones start a new segment, never after a gap).
 */
export class SegmentWriter {
  readonly segments = new Map<number, Segment>();
  nextSeq = 1;
  /** Bytes on disk, counting records waiting for their window and what the window is writing. */
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
    for (const event of this.#pending) (event.key as RecordKey).offset = NOT_STORED;
    this.#pending = [];
    this.#queue.clear();
    this.diskBytes = 0;
  }

  add(event: QueuedEvent & { key: RecordKey }): void {
    if (this.disabled) {
      event.key.offset = NOT_STORED;
      return;
    }
    this.#pending.push(event);
    this.diskBytes += event.key.size;
  }

  settle(key: RecordKey): void {
    if (key.settled) return;
    key.settled = true;
    if (!key.seg) {
      if (key.offset === PENDING) this.diskBytes -= key.size; // never to be written: assign() skips it
      return;
    }
    key.seg.acks.push(key.offset);
    key.seg.live--;
  }

  /** Gives the window's records and acks their place and bytes. Synchronous. */
  assign(): void {
    if (!this.ready || this.disabled) return;
    const groups = new Map<
      Segment,
      { events: QueuedEvent[]; sizes: number[]; pos: number; total: number }
    >();
    for (const event of this.#pending) {
      const key = event.key as RecordKey;
      if (key.settled) continue;
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
    for (const [seg, { events, sizes, pos, total }] of groups) {
      this.#queue.push(seg, 'seg', pos, encodeRecords(events, sizes, total), () =>
        this.#unstore(seg, pos, total, events),
      );
    }
    for (const seg of this.segments.values()) {
      if (!seg.acks.length) continue;
      // A segment with nothing live is about to be deleted: its acks need no writing.
      if (seg.live > 0 || seg.unwritten > 0) {
        const { acks, ackSize: pos } = seg;
        const buf = encodeAcks(acks);
        this.#queue.push(seg, 'ack', pos, buf, () => this.#unack(seg, pos, buf.length, acks));
        seg.ackSize += buf.length;
        this.diskBytes += buf.length;
      }
      seg.acks = [];
    }
  }

  /** Records whose write failed: in memory only from now on, their segment closed to new ones. */
  async #unstore(
    seg: Segment,
    pos: number,
    bytes: number,
    events: readonly QueuedEvent[],
  ): Promise<void> {
    this.diskBytes -= bytes;
    seg.size = pos; // what the file holds (once cut back); the segment takes no more records, so no offset is reused
    if (this.#active === seg) this.#active = undefined;
    for (const { key } of events as (QueuedEvent & { key: RecordKey })[]) {
      if (key.seg !== seg) continue;
      key.seg = undefined;
      key.offset = NOT_STORED;
      if (!key.settled) seg.live--; // a settled one was counted out when it settled
    }
    await seg.truncate('seg', pos); // a torn tail would read back as corrupt records
  }

  /** Acks whose write failed: written again with the next window's, at the same place. */
  async #unack(seg: Segment, pos: number, bytes: number, acks: number[]): Promise<void> {
    this.diskBytes -= bytes;
    seg.ackSize = pos;
    seg.acks = acks.concat(seg.acks);
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
    try {
      await this.#queue.drain();
    } catch (err) {
      throw new Error(
        `${(err as Error).message}; the events not written are delivered from memory, without a copy on disk`,
        { cause: err },
      );
    } finally {
      await this.clean(final); // also when writes failed: deleting settled segments is what frees a full disk
    }
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
