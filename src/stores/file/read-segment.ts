import { readFile } from 'node:fs/promises';
import type { EventPath } from '../event-store';
import { pathOf } from '../stored-event';
import { plausibleRecord, scanFrames } from './frame';
import type { Segment } from './segment';

/** A record an earlier process wrote and never settled. */
export interface UnsettledRecord {
  offset: number;
  size: number;
  path: EventPath;
  json: string;
}

/** What one segment holds after a crash or a shutdown. */
export interface SegmentContents {
  /** Records not acked, oldest first. */
  records: UnsettledRecord[];
  /** Stretches of the segment that could not be read (a torn tail, a corrupt record). */
  unreadable: number;
}

const plausibleAcks = (_buf: Buffer, _start: number, length: number): boolean =>
  length > 0 && length % 4 === 0;

async function readIfAny(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  }
}

/**
 * Reads a segment left by an earlier process: its records less those its ack
 * file settles. Sets the segment's sizes from the files, so that new acks are
 * written after the last valid ack frame (over a torn one, if any).
 */
export async function readSegment(seg: Segment): Promise<SegmentContents> {
  const [data, ackData] = await Promise.all([readIfAny(seg.paths.seg), readIfAny(seg.paths.ack)]);
  const acked = new Set<number>();
  const acks = scanFrames(ackData, plausibleAcks, false);
  for (const { start, end } of acks.frames) {
    for (let i = start; i < end; i += 4) acked.add(ackData.readUInt32LE(i));
  }
  seg.size = data.length;
  seg.ackSize = acks.frames.at(-1)?.end ?? 0;
  const { frames, bad } = scanFrames(data, plausibleRecord, true);
  const records: UnsettledRecord[] = [];
  for (const { offset, start, end } of frames) {
    if (acked.has(offset)) continue;
    const path = pathOf(String.fromCharCode(data[start]!));
    // plausibleRecord admits only known path codes; the check keeps the types honest.
    if (path)
      records.push({
        offset,
        size: end - offset,
        path,
        json: data.toString('utf8', start + 1, end),
      });
  }
  return { records, unreadable: bad };
}
