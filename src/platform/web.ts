import { OursConfigError } from '../errors';
import type { FetchLike } from '../fetch-like';
import type { Platform } from './types';
import { batchText } from './batch-text';

const encoder = new TextEncoder();
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_CHARS = /^[0-9a-f:.]+$/i;
/**
 * `CompressionStream` where it works. Read off `globalThis`, not named:
 * Next.js refuses to build middleware that names it ("a Node.js API ... not
 * supported in the Edge Runtime"), and its edge sandbox (`next start`, `next
 * dev`) defines it as a constructor that throws, so it is tried. Tried when a
 * client is made, not at import: workerd refuses it at global scope. A
 * success is kept.
 */
const Stream = (globalThis as { CompressionStream?: typeof CompressionStream }).CompressionStream;
let works = false;

function compressionWorks(): boolean {
  if (works || typeof Stream !== 'function') return works;
  try {
    new Stream('gzip'); // constructing it is the test: Next's edge sandbox defines one that throws
    works = true;
  } catch {
    // this sandbox's stand-in, or a scope that forbids it: plain JSON
  }
  return works;
}

/**
 * Workers, Vercel's edge runtime and anything else without Node's APIs: the
 * global fetch, `CompressionStream` where present, no process. No timer is
 * relied on to deliver: `flush()` sends at once and returns the promise to
 * hand to `waitUntil`.
 */
export const platform: Platform = {
  runtime: 'web',
  randomUUID: () => crypto.randomUUID(),
  get gzip() {
    return compressionWorks() ? gzip : undefined;
  },
  plainBatch: batchText,
  bodyText: undefined, // CompressionStream has no synchronous way back
  gzipBatch: (head, events) => gzip(batchText(head, events)),
  defaultFetch: () => webFetch,
  // A microtask, not a timer: workerd drops the timers of a request that has
  // ended, and a dropped pump would never run again. Work queued in one
  // synchronous stretch (a handler's track() calls) still goes in one request.
  joinBatchesMs: 0,
  sharedDeliveries: false,
  defer: (fn) => queueMicrotask(fn), // unbound, workerd throws "Illegal invocation"
  outsideContext: (fn) => fn,
  isIP,
  hashKey,
  env: (name) =>
    (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name],
  watchSignals: undefined,
  fileStore: () => {
    throw new OursConfigError(
      'store',
      'cannot be fileStore() on this platform: it writes to the local disk (node:fs), which Workers and edge functions do not have. Use the default MemoryStore and hand `flush()` to `waitUntil`',
    );
  },
  redisStore: () => {
    throw new OursConfigError(
      'store',
      'cannot be redisStore() on this platform: ioredis needs TCP sockets (node:net), which Workers and edge functions do not have. Use the default MemoryStore and hand `flush()` to `waitUntil`',
    );
  },
};

async function gzip(body: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new Stream!('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The global fetch; `redirect: 'manual'` hands a 3xx back, for the client to report (never followed). */
const webFetch: FetchLike = (url, init) => fetch(url, { ...init, body: init.body as BodyInit });

function isIP(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  if (!text.includes(':') || !IPV6_CHARS.test(text)) return 0;
  try {
    new URL(`http://[${text}]/`); // the WHATWG URL parser is a complete IPv6 parser
    return 6;
  } catch {
    return 0;
  }
}

/**
 * Two 53-bit hashes (cyrb53) of a long cache key: Web Crypto's SHA-256 is
 * asynchronous, and a cache key needs no cryptographic strength, only few
 * collisions among a cache's entries (about 2^-100 per pair).
 */
function hashKey(text: string): string {
  return `${cyrb53(text, 0).toString(36)}.${cyrb53(text, 0x9e3779b9).toString(36)}.${text.length}`;
}

function cyrb53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
