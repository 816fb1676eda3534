import { AsyncResource } from 'node:async_hooks';
import { constants, createGzip, type Gzip, type ZlibOptions } from 'node:zlib';

/**
 * Level 1: on event JSON it already shrinks bodies most of what level 6
 * does, for a fraction of its CPU (bench/delivery.mjs, bench/RESULTS.md).
 * Output buffer per zlib round: a batch's gzip fits one or two, so the event
 * loop is woken once or twice, not once per 16 KB. Every write finishes a
 * gzip member (`Z_FINISH`): one trip to the thread pool per body, where a
 * write and then a finishing flush made two.
 */
const OPTIONS: ZlibOptions = { level: 1, chunkSize: 64 * 1024, flush: constants.Z_FINISH };

/**
 * Compressors kept between bodies. A one-shot `zlib.gzip` sets up zlib's
 * state (a few hundred KB) on the thread pool and frees it on the event
 * loop; malloc then hands those pages back to the kernel and faults them in
 * again for the next body, a cost in system time that grows with the
 * batches sent (bench/RESULTS.md, issue 19). A kept compressor is reset
 * instead (`deflateReset`: same memory, a fresh gzip member). Two cover the
 * bodies compressed at once in steady traffic; one beyond them is closed.
 */
const idle: ResettableGzip[] = [];
const KEPT = 2;

/**
 * `reset()` is on every zlib stream (Node documents it for "the deflate
 * algorithms", gzip among them; Bun and Deno follow), though @types/node
 * declares it only on Deflate and Inflate.
 */
type ResettableGzip = Gzip & { reset(): void };

/**
 * A new compressor, made in the async context this module was loaded in (as
 * a rule the app's start), not the caller's: a zlib stream holds the context
 * it was made in for its life, and a kept one would hold the first request's
 * AsyncLocalStorage stores, and all they reference, for the process's.
 */
const newCompressor = AsyncResource.bind(() => createGzip(OPTIONS) as ResettableGzip);

/** `input` as one complete gzip member, compressed on libuv's thread pool. */
export function gzipOnPool(input: Uint8Array | string): Promise<Buffer> {
  const compressor = idle.pop() ?? newCompressor();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
    };
    const fail = (err: Error): void => {
      compressor.off('data', collect);
      compressor.on('error', () => {}); // discarded: a later error has nowhere to go
      compressor.close(); // never reused after an error
      reject(err);
    };
    compressor.on('data', collect);
    compressor.once('error', fail);
    // Every output chunk is emitted before the write's callback runs.
    compressor.write(input, (err?: Error | null) => {
      if (err || compressor.destroyed) return fail(err ?? new Error('gzip compressor closed'));
      compressor.off('data', collect);
      compressor.off('error', fail);
      compressor.reset();
      if (idle.length < KEPT) idle.push(compressor);
      else compressor.close();
      // A copy: the chunks are views of the compressor's output buffer, which it goes on filling.
      resolve(Buffer.concat(chunks, size));
    });
  });
}

/** @internal Compressors kept now (tests: the bound holds). */
export const keptCompressors = (): number => idle.length;
