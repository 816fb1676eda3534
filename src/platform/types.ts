import type { FetchLike } from '../fetch-like';
import type { FileStore, FileStoreOptions } from '../stores/file-store';
import type { RedisStore, RedisStoreOptions } from '../stores/redis-store';
import type { SignalClient } from '../signals';

/**
 * What the core needs from the runtime it runs on. Two implementations:
 * `node.ts` (Node, Bun, Deno: node:http, libuv gzip, process signals, the
 * durable stores) and `web.ts` (Workers, the edge runtime: fetch,
 * CompressionStream, no process). The package's export conditions pick one
 * (`#platform` in package.json); the core imports it only through that seam.
 */
export interface Platform {
  /** For the User-Agent: `node/20.11.0`, `bun/1.1.0`, `web`. */
  readonly runtime: string;
  /** A random v4 UUID. */
  randomUUID(): string;
  /** gzip, or `undefined` where the runtime has none (bodies then go as plain JSON). */
  readonly gzip: ((body: Uint8Array | string) => Promise<Uint8Array>) | undefined;
  /** `head`, the events' JSON joined by commas, then `]}`: a `/batch` request's body. */
  plainBatch(head: string, events: readonly { json: string }[]): Uint8Array | string;
  /** The same, gzipped; only called where `gzip` is defined. */
  gzipBatch(head: string, events: readonly { json: string }[]): Promise<Uint8Array>;
  /** A body as text again (gunzipped when `gzip`), where it can be done at once; undefined elsewhere. */
  readonly bodyText: ((body: Uint8Array | string, gzip: boolean) => string) | undefined;
  /** The fetch the client uses when the app gives none; `maxSockets` bounds its connections where it can. */
  defaultFetch(maxSockets: number): FetchLike;
  /**
   * How long a partial batch waits for the `/batch` request in flight, to go
   * with it in the next one (see `JoinWindow`); 0 where a request's I/O must
   * start from that request: on Workers a fetch started from another
   * request's continuation is cancelled when that request ends.
   */
  readonly joinBatchesMs: number;
  /**
   * Whether one request's delivery may carry other requests' events: then
   * the deliveries a platform's `waitUntil` waits on, of the requests that
   * end in one turn, are one (see `HandOffBatch.turnDelivery`). Not on
   * Workers, for the reason above.
   */
  readonly sharedDeliveries: boolean;
  /** Runs `fn` after this turn's I/O (once per turn batching). */
  defer(fn: () => void): void;
  /**
   * `fn`, bound to run outside the caller's async context (no request's
   * AsyncLocalStorage store), wherever it is made: in the context the
   * platform module loaded in.
   */
  outsideContext(fn: () => void): () => void;
  /** 4 or 6 for an IP address, else 0 (like `net.isIP`). */
  isIP(text: string): 0 | 4 | 6;
  /** A short, stable key for a long string (cache keys). */
  hashKey(text: string): string;
  /** An environment variable, where the runtime has them. */
  env(name: string): string | undefined;
  /** Installs the process signal/exit listeners; `undefined` where there is no process. */
  readonly watchSignals: ((client: SignalClient) => () => void) | undefined;
  fileStore(options: FileStoreOptions): FileStore;
  redisStore(options: RedisStoreOptions): RedisStore;
}
