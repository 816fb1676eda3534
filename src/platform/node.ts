import { AsyncResource } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { httpFetch } from '../node-http-fetch';
import { watchSignals } from '../signals';
import { fileStore } from '../stores/file-store';
import { redisStore } from '../stores/redis-store';
import type { Platform } from './types';

const gzipAsync = promisify(gzipCb);

/**
 * Level 1: on event JSON it already shrinks bodies about 6x, at a third of
 * the CPU of the default level 6 (bench/delivery). Runs on libuv's thread
 * pool, never on the event loop.
 */
const GZIP_LEVEL = 1;
/**
 * Output buffer per zlib round: a batch's gzip (at most ~75 KB) fits one or
 * two, so the event loop is woken once or twice, not once per 16 KB (bench:
 * 290 → 110 µs of main-thread time per 150 KB batch).
 */
const GZIP_CHUNK = 64 * 1024;

/** Node, and Bun and Deno through their Node APIs: node:http with kept-alive sockets, gzip on libuv's thread pool. */
export const platform: Platform = {
  runtime: runtimeName(),
  randomUUID,
  gzip: (body) => gzipAsync(body, { level: GZIP_LEVEL, chunkSize: GZIP_CHUNK }),
  batchBytes,
  defaultFetch: httpFetch,
  defer: setImmediate, // not unref'd: an unref'd immediate waits for other I/O to wake the loop
  outsideContext: (fn) => AsyncResource.bind(fn),
  isIP: (text) => isIP(text) as 0 | 4 | 6,
  hashKey: (text) => createHash('sha256').update(text).digest('base64'),
  env: (name) => process.env[name],
  watchSignals,
  fileStore,
  redisStore,
};

function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions['bun']) return `bun/${versions['bun']}`;
  if (versions['deno']) return `deno/${versions['deno']}`;
  return `node/${process.versions.node}`;
}

/**
 * A `/batch` body as UTF-8, written event by event into one buffer of the
 * exact size: zlib needs bytes anyway, and joining the events into one string
 * first, then encoding it, copies everything twice (bench: 450 → 150 µs of
 * main-thread time per 500 events).
 */
function batchBytes(head: string, events: readonly { json: string }[]): Buffer {
  let size = Buffer.byteLength(head) + events.length + 1; // the commas between events, then "]}"
  for (const event of events) size += Buffer.byteLength(event.json);
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0);
  for (let i = 0; i < events.length; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    at += out.write(events[i]!.json, at);
  }
  out[at++] = 0x5d; // ]
  out[at++] = 0x7d; // }
  return out.subarray(0, at); // never a byte of the unzeroed buffer beyond what was written
}
