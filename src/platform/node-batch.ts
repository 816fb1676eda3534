import { gunzipSync } from 'node:zlib';
import { gzipOnPool } from './gzip-compressors';

/** gzip on libuv's thread pool, never on the event loop. */
export const gzip = (body: Uint8Array | string): Promise<Uint8Array> => gzipOnPool(body);

/**
 * Input buffers kept between batches. A batch is a few hundred KB: allocated
 * afresh each time, its pages are faulted in anew and freed by the next GC,
 * which cost more than writing the events into it (bench/RESULTS.md, issue
 * 19). A buffer is free again as soon as zlib has read it, well before the
 * request's answer, so two cover the batches compressed at once; none above
 * `KEPT_BYTES` is kept: an idle process holds at most 2 MB for them.
 */
const spare: Buffer[] = [];
const KEPT = 2;
const KEPT_BYTES = 1024 * 1024;

/**
 * A `/batch` body (`head`, the events' JSON joined by commas, `]}`) as UTF-8,
 * in a buffer of its own (a request keeps its body for retries). Joining the
 * events into one string first costs several times more: a string of a few
 * hundred KB is allocated apart from V8's young generation, its pages faulted
 * in and its bytes encoded again when written (bench/RESULTS.md, issue 19).
 */
export function plainBatch(head: string, events: readonly { json: string }[]): Buffer {
  return writeBatch(Buffer.allocUnsafe(batchSize(head, events)), head, events);
}

/**
 * The same body, gzipped: written as UTF-8 into a reused buffer, compressed
 * on the pool, and the buffer given back once zlib has read it.
 */
export async function gzipBatch(
  head: string,
  events: readonly { json: string }[],
): Promise<Uint8Array> {
  const size = batchSize(head, events);
  const buffer = takeSpare(size);
  try {
    return await gzipOnPool(writeBatch(buffer, head, events));
  } finally {
    if (spare.length < KEPT && buffer.length <= KEPT_BYTES) spare.push(buffer);
  }
}

/** Exact UTF-8 size of the body. */
function batchSize(head: string, events: readonly { json: string }[]): number {
  let size = Buffer.byteLength(head) + events.length + 1; // the commas between events, then "]}"
  for (const event of events) size += Buffer.byteLength(event.json);
  return size;
}

function takeSpare(size: number): Buffer {
  const i = spare.findIndex((b) => b.length >= size);
  if (i !== -1) return spare.splice(i, 1)[0]!;
  return Buffer.allocUnsafe(Math.max(size, 64 * 1024));
}

/** The body written into `out` (large enough); the written part, never a byte beyond it. */
function writeBatch(out: Buffer, head: string, events: readonly { json: string }[]): Buffer {
  let at = out.write(head, 0);
  for (let i = 0; i < events.length; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    at += out.write(events[i]!.json, at);
  }
  out[at++] = 0x5d; // ]
  out[at++] = 0x7d; // }
  return out.subarray(0, at);
}

/** A body as text again, gunzipped when `gzip` (see `restoreJson`: a rare path, synchronous). */
export function bodyText(body: Uint8Array | string, gzip: boolean): string {
  if (typeof body === 'string') return body;
  const bytes = gzip ? gunzipSync(body) : body;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
