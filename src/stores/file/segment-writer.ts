import { mkdirSync, readdirSync } from 'node:fs';
import type { QueuedEvent } from '../../queue';
import { encodeAcks, encodeRecords } from './frame';
import { Segment, segmentSeqs } from './segment';
import { WriteQueue } from './write-queue';

/** Where an event's record is: the event's `key` in a file store. */
export interface RecordKey {
  /** Unset until the write window assigns the record a place. */
  seg: Segment | undefined;
  offset: number;
  /** Bytes of the record on disk. */
  size: number;
  settled: boolean;
}

export const isRecordKey = (key: unknown): key is RecordKey => typeof key === 'object' && key !== null && 'settled' in key;

/**
 * The disk side of a file store. Each window `assign()`s the records appended
 * since the last one to the active segment (rolling to a new one past
 * `segmentBytes`) and the acks to their segments' ack files, encoding each
 * file's share as one buffer for the {@link WriteQueue}; `clean()` deletes the segments whose every record is settled. A record
 * settled before its window never reaches the disk.
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
  async runWindow(): Promise<void> {
    this.assign();
    await this.#queue.drain();
    await this.clean();
  }

  /** Deletes every segment whose records are all settled and written. */
  async clean(): Promise<void> {
    for (const seg of [...this.segments.values()]) {
      if (seg.live > 0 || seg.unwritten > 0) continue;
      if (seg === this.#active) this.#active = undefined;
      this.segments.delete(seg.seq);
      this.diskBytes -= seg.diskBytes;
      await seg.remove();
    }
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
