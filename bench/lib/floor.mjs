// The in-situ floor of a tracked request (issue 19): what building,
// serialising and compressing the event the tracker produces must cost, with
// nothing else. `parts-app.mjs` runs it as a phase of the live app, so the
// floor is measured in the same process, caches and run as the real path.
//
// Per request: a fresh event object with the fields and values the tracker
// sends for that request (read once per distinct request at start-up, with the
// package's own extractContext, so its size and shape are the real ones), a
// new distinctId and time, `JSON.stringify`; every `flushAt` events (the
// client's default, 200) the batch body is assembled and gzipped (level 1,
// the client's level) synchronously. No checks, no queue, no I/O.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { requireFirst } from './dist.mjs';
import { Source } from './source.mjs';

const FLUSH_AT = 200;
const GZIP_LEVEL = 1;

/** A realistic request as the live app sees it (plain HTTP on loopback), for `extractContext`. */
class LiveSource extends Source {
  constructor(request, host) {
    super(request);
    this.liveHost = host;
  }
  ip() {
    return '127.0.0.1';
  }
  protocol() {
    return 'http';
  }
  host() {
    return this.liveHost;
  }
}

export class Floor {
  #templates = new Map();
  #batch = [];
  #head;
  /** Bytes gzipped and produced, for the record. */
  stats = { events: 0, jsonBytes: 0, gzipBytes: 0, misses: 0 };

  /**
   * @param dist the built package (its extractContext reads the templates)
   * @param requests the realistic requests `{ path, headers }` the load cycles through
   * @param host the Host header they arrive with
   * @param token the body's token, as the client writes it
   */
  constructor(dist, requests, host, token) {
    const { extractContext } = requireFirst(dist, 'src/request/extract-context.js');
    const options = { cookieName: 'ours_device_id', collectIp: true, ipResolver: (s) => s.ip() };
    for (const r of requests) {
      const ctx = extractContext(new LiveSource(r, host), options, Date.now());
      this.#templates.set(key(r.headers['user-agent'], r.path), ctx);
    }
    this.#head = `{"token":${JSON.stringify(token)},"events":[`;
  }

  /** Builds, serialises and (every FLUSH_AT events) compresses the event of one live request. */
  track(event, properties, headers, url) {
    const ctx = this.#templates.get(key(headers['user-agent'], url));
    if (!ctx) return void this.stats.misses++; // a request the load does not send: reported by parts
    const json = JSON.stringify({
      event,
      userId: ctx.userId,
      distinctId: randomUUID(),
      time: Date.now(),
      eventProperties: { ...properties },
      defaultProperties: { ...ctx.defaultProperties },
      identityContext: ctx.identityContext && { ...ctx.identityContext },
    });
    this.#batch.push(json);
    if (this.#batch.length === FLUSH_AT) this.#compress();
  }

  #compress() {
    const body = `${this.#head}${this.#batch.join(',')}]}`;
    this.stats.events += this.#batch.length;
    this.stats.jsonBytes += body.length;
    this.stats.gzipBytes += gzipSync(body, { level: GZIP_LEVEL }).length;
    this.#batch = [];
  }
}

const key = (ua, url) => `${ua}\n${url}`;
