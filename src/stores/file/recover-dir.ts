import { readdir } from 'node:fs/promises';
import type { QueuedEvent, StoreHooks } from '../event-store';
import { checkStored, GiveUps, storedEvent } from '../stored-event';
import { readSegment } from './read-segment';
import { Segment, segmentSeqs, type RecordKey } from './segment';
import type { SegmentWriter } from './segment-writer';

/**
 * Takes over what earlier processes left in the directory, segment by
 * segment, oldest first: each unsettled record becomes a waiting event
 * (`append`ed to the store's memory, then handed to `hooks.recovered`);
 * records past the 7-day window, and unreadable stretches, are counted and
 * reported once through `hooks.dropped`, and the expired ones acked so that
 * no later start reports them again. New segments are numbered past the last
 * one found. A segment that cannot be read is reported and left on disk,
 * untouched, for the next start. Yields to the event loop between segments.
 * Throws only when the directory cannot be listed.
 */
export async function recoverDir(
  writer: SegmentWriter,
  append: (event: QueuedEvent) => void,
  hooks: StoreHooks,
  report: (err: Error) => void,
): Promise<void> {
  const seqs = segmentSeqs(await readdir(writer.dir));
  writer.nextSeq = Math.max(writer.nextSeq, (seqs.at(-1) ?? 0) + 1);
  const now = Date.now();
  const giveUps = new GiveUps();
  for (const seq of seqs) {
    const seg = new Segment(writer.dir, seq);
    try {
      const { records, unreadable } = await readSegment(seg);
      giveUps.corrupt += unreadable;
      const events: QueuedEvent[] = [];
      for (const { offset, size, path, json } of records) {
        const state = checkStored(json, path, now);
        if (state !== 'ok') {
          giveUps[state]++;
          seg.acks.push(offset);
          continue;
        }
        seg.live++;
        events.push(
          storedEvent(json, path, { seg, offset, size, settled: false } satisfies RecordKey),
        );
      }
      writer.segments.set(seq, seg);
      writer.diskBytes += seg.diskBytes;
      events.forEach(append);
      if (events.length) hooks.recovered(events);
    } catch (err) {
      report(new Error(`segment ${seq} not read: ${(err as Error).message}`));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  giveUps.report((count, why, reason) => hooks.dropped(count, why, reason));
}
