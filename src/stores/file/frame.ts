import { pathCode } from '../stored-event';
import type { EventPath } from '../event-store';
import { crc32 } from './crc32';

/**
 * The on-disk framing shared by segment and ack files:
 *
 *     [crc32: u32 LE][length: u32 LE][payload: length bytes]
 *
 * The CRC covers the length and the payload, so a torn write (the tail of a
 * file cut by a crash) or a flipped bit is detected, never parsed as an event.
 * A segment record's payload is one path character then the event's JSON; an
 * ack frame's payload is the u32 LE offsets of the records it settles.
 */
export const HEADER = 8;
/** No event comes near this; a larger length is corruption. */
const MAX_PAYLOAD = 64 * 1024 * 1024;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const CODES = new Set(['b', 't', 'i'].map((c) => c.charCodeAt(0)));

/** Bytes one event takes in a segment. */
export function recordSize(json: string): number {
  return HEADER + 1 + Buffer.byteLength(json, 'utf8');
}

function seal(buf: Buffer, pos: number, length: number): void {
  buf.writeUInt32LE(length, pos + 4);
  buf.writeUInt32LE(crc32(buf, pos + 4, pos + HEADER + length), pos);
}

/** Encodes events as consecutive frames; `sizes[i]` is `recordSize(events[i].json)`. */
export function encodeRecords(
  events: readonly { json: string; path: EventPath }[],
  sizes: readonly number[],
  total: number,
): Buffer {
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  events.forEach(({ json, path }, i) => {
    const size = sizes[i]!;
    buf[pos + HEADER] = pathCode(path).charCodeAt(0);
    buf.write(json, pos + HEADER + 1, 'utf8');
    seal(buf, pos, size - HEADER);
    pos += size;
  });
  return buf;
}

/** One ack frame settling the records at these offsets of its segment. */
export function encodeAcks(offsets: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + offsets.length * 4);
  offsets.forEach((offset, i) => buf.writeUInt32LE(offset, HEADER + i * 4));
  seal(buf, 0, offsets.length * 4);
  return buf;
}

/** A frame found by {@link scanFrames}: its offset in the file and its payload's bounds. */
export interface Frame {
  offset: number;
  start: number;
  end: number;
}

/** Whether a payload can be a segment record: a path code, then a JSON object. */
export function plausibleRecord(buf: Buffer, start: number, length: number): boolean {
  return (
    length >= 3 &&
    CODES.has(buf[start]!) &&
    buf[start + 1] === OPEN_BRACE &&
    buf[start + length - 1] === CLOSE_BRACE
  );
}

function frameAt(
  buf: Buffer,
  pos: number,
  plausible: (buf: Buffer, start: number, length: number) => boolean,
): Frame | undefined {
  if (buf.length - pos < HEADER) return undefined;
  const length = buf.readUInt32LE(pos + 4);
  const end = pos + HEADER + length;
  if (length > MAX_PAYLOAD || end > buf.length || !plausible(buf, pos + HEADER, length))
    return undefined;
  if (crc32(buf, pos + 4, end) !== buf.readUInt32LE(pos)) return undefined;
  return { offset: pos, start: pos + HEADER, end };
}

/**
 * Every valid frame of a file, and how many stretches of it were unreadable.
 * With `resync`, scanning goes on past a bad stretch at the next offset where
 * a plausible frame with a matching CRC starts (a bit flipped mid-file costs
 * that record only); without it, the first bad frame ends the file.
 */
export function scanFrames(
  buf: Buffer,
  plausible: (buf: Buffer, start: number, length: number) => boolean,
  resync: boolean,
): { frames: Frame[]; bad: number } {
  const frames: Frame[] = [];
  let bad = 0;
  let pos = 0;
  while (pos < buf.length) {
    const frame = frameAt(buf, pos, plausible);
    if (frame) {
      frames.push(frame);
      pos = frame.end;
      continue;
    }
    bad++;
    if (!resync) break;
    let next = pos + 1;
    while (next < buf.length && !frameAt(buf, next, plausible)) next++;
    pos = next;
  }
  return { frames, bad };
}
