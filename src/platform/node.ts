import { AsyncResource } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { httpFetch } from '../node-http-fetch';
import { watchSignals } from '../signals';
import { fileStore } from '../stores/file-store';
import { redisStore } from '../stores/redis-store';
import { randomUUID } from './buffered-uuid';
import { bodyText, gzip, gzipBatch, plainBatch } from './node-batch';
import type { Platform } from './types';

/**
 * The async context this module was loaded in: an app loads it at startup,
 * outside every request. Not `AsyncResource.bind(fn)` where `fn` is made:
 * that is inside a request when the app's first request makes it (the fetch
 * `tracker()`, `oursTracker()`), and that request's AsyncLocalStorage store
 * would then show in every later batch's hooks, and stay alive.
 */
const loaded = new AsyncResource('ours-middleware');

/** Node, and Bun and Deno through their Node APIs: node:http with kept-alive sockets, gzip on libuv's thread pool. */
export const platform: Platform = {
  runtime: runtimeName(),
  randomUUID,
  gzip,
  gzipBatch,
  plainBatch,
  bodyText,
  defaultFetch: httpFetch,
  joinBatchesMs: 20,
  sharedDeliveries: true,
  defer: setImmediate, // not unref'd: an unref'd immediate waits for other I/O to wake the loop
  outsideContext: (fn) => () => loaded.runInAsyncScope(fn),
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
