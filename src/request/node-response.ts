import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { answerWithin } from '../deadline';
import type { ResponseControl } from './response-control';

/** Appends `cookie` to the response's `Set-Cookie`, next to the app's own cookies. */
function addSetCookie(res: ServerResponse, cookie: string): void {
  const existing = res.getHeader('set-cookie');
  const list =
    existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('set-cookie', [...list, cookie]);
}

/** The cookies the tracker added to a response, kept until its headers are written (see `keepCookiesOnWriteHead`). */
const kKept = Symbol('ours-middleware.keptCookies');
type WithKept = ServerResponse & { [kKept]?: string[] };

/**
 * Puts the tracker's cookies back if something removed them before the
 * headers are written. The event of a minted visitor carries its id, and an
 * opt-out must outlast the request, so the browser must get the cookie
 * whatever the response becomes: Koa's error handling (`ctx.throw` after a
 * `track()` or an `optOut()`) removes every header set so far, then writes
 * the error response. Installed only on a response that minted a visitor or
 * opted out, once; runs once.
 */
function keepCookiesOnWriteHead(res: WithKept): string[] {
  const existing = res[kKept];
  if (existing) return existing;
  const kept: string[] = (res[kKept] = []);
  const writeHead = res.writeHead;
  res.writeHead = function writeHeadWithOurCookies(this: ServerResponse, ...args: unknown[]) {
    res.writeHead = writeHead;
    const current = res.getHeader('set-cookie');
    const list = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
    const missing = kept.filter((cookie) => !list.includes(cookie));
    if (missing.length && !res.headersSent) res.setHeader('set-cookie', [...list, ...missing]);
    const headers = args.findIndex((a) => a !== null && typeof a === 'object' && !Array.isArray(a));
    if (headers !== -1) args[headers] = withCookies(args[headers] as Record<string, unknown>, kept);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  return kept;
}

/** Takes `cookie` back from the response's `Set-Cookie` and from what `writeHead` puts back. */
function removeCookie(res: WithKept, cookie: string): void {
  const kept = res[kKept];
  if (kept?.includes(cookie)) kept.splice(kept.indexOf(cookie), 1);
  const current = res.getHeader('set-cookie');
  if (current === undefined) return;
  const list = (Array.isArray(current) ? current : [String(current)]).filter((c) => c !== cookie);
  if (list.length) res.setHeader('set-cookie', list);
  else res.removeHeader('set-cookie');
}

/**
 * Headers given to `writeHead()` replace those set before by name, so the
 * app's own `Set-Cookie` there (Fastify writes every `reply.header()` this
 * way) would replace ours: it joins them instead, in a copy.
 */
function withCookies(
  headers: Record<string, unknown>,
  cookies: readonly string[],
): Record<string, unknown> {
  const name = Object.keys(headers).find((k) => k.toLowerCase() === 'set-cookie');
  if (name === undefined) return headers;
  const value = headers[name];
  const list = value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
  const missing = cookies.filter((cookie) => !list.includes(cookie));
  return missing.length ? { ...headers, [name]: [...list, ...missing] } : headers;
}

/**
 * Calls `done` when the response is over: at `close`, which Node's
 * ServerResponse emits once it was sent (just after `finish`) or when the
 * client went away first, for HTTP/1 and HTTP/2 responses alike, as Bun's
 * and Deno's do (bench/RESULTS.md, issue 19 round seven). HTTP/2's emits
 * both only once the stream closes: after the client's upload too. One
 * listener, not one per event: an
 * Express response has a hidden class of its own, so every `on()` on it
 * misses V8's caches (bench/RESULTS.md, issue 19). A plain listener:
 * `once()` wrappers cost more than the rest of the hand-off, and the
 * response is dropped right after. Every Node framework ends on Node's
 * ServerResponse, so this works for Koa too, where code after
 * `await next()` runs before the body is written.
 */
function onDone(res: ServerResponse, done: () => void): void {
  if (res.writableFinished || res.destroyed) return done();
  res.on('close', done);
}

/**
 * Holds the end of the response on the wire until `beforeEnd()` settles or
 * `timeoutMs` passes (see `ResponseControl.holdEnd`). `res.end()` itself runs
 * at once: the app and its framework must see the response ended (Express's
 * error handler after `res.send()`, Koa's own response after `ctx.res.end()`
 * and a second `end()` would each write more otherwise). What waits is what
 * it writes to the connection (HTTP/2: the stream), and its `finish` event,
 * which is what a serverless platform waits for.
 */
function holdEnd(res: ServerResponse, beforeEnd: () => Promise<unknown>, timeoutMs: number): void {
  const end = res.end;
  res.end = function endAfterFlush(this: ServerResponse, ...args: unknown[]) {
    res.end = end;
    const finish = holdFinish(res); // an end() with nothing left to write (Fastify 4) emits it at once
    const wire = (res as { stream?: Writable }).stream ?? res.socket;
    const release = holdWrites(wire, () => (end as (...a: unknown[]) => void).apply(this, args));
    void answerWithin(beforeEnd(), timeoutMs).then(() => {
      release();
      finish();
    });
    return this;
  } as ServerResponse['end'];
}

/** Holds back `res`'s `finish` event; the function returned lets it (and any later one) through. */
function holdFinish(res: ServerResponse): () => void {
  const { emit } = res;
  let held: unknown[] | undefined;
  res.emit = function emitUnlessFinish(
    this: ServerResponse,
    name: string | symbol,
    ...args: unknown[]
  ) {
    if (name !== 'finish') return emit.call(this, name, ...args);
    held = args;
    return true;
  } as ServerResponse['emit'];
  return () => {
    res.emit = emit;
    if (held) emit.call(res, 'finish', ...held);
  };
}

/**
 * Runs `run` with the `write`s and `end`s it makes on `wire` held; the
 * function returned sends them, in order, once. A `destroy()` meanwhile
 * (Express's error handler after a response) sends them first, as they
 * would have gone before it.
 */
function holdWrites(wire: Writable | null | undefined, run: () => void): () => void {
  if (!wire) {
    run(); // the client has gone: nothing to hold
    return () => undefined;
  }
  const { write, end, destroy } = wire;
  const held: [typeof write | typeof end, unknown[]][] = [];
  wire.write = (...args: unknown[]) => held.push([write, args]) > 0;
  wire.end = (...args: unknown[]) => (held.push([end, args]), wire);
  try {
    run();
  } finally {
    wire.write = write;
    wire.end = end;
  }
  const release = (): void => {
    if (wire.destroy !== destroy) wire.destroy = destroy;
    for (const [method, args] of held.splice(0))
      (method as (...a: unknown[]) => unknown).apply(wire, args);
  };
  if (held.length) wire.destroy = (...args) => (release(), destroy.apply(wire, args));
  return release;
}

/**
 * Answers with a 302 to `location`, not cacheable (the variant belongs to
 * this visitor only). Written on Node's response, so it works the same
 * under Express and Koa (Koa skips its own response once this one ended).
 */
function redirect(res: ServerResponse, location: string): void {
  const body = `Redirecting to ${location}\n`;
  res.statusCode = 302;
  res.setHeader('location', location);
  res.setHeader('cache-control', 'private, no-store');
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** The tracker's view of Node's `ServerResponse`: Express, Koa, Fastify (`reply.raw`) and node:http. */
export const nodeResponse: ResponseControl<ServerResponse> = {
  headersSent: (res) => res.headersSent || res.writableEnded,
  addCookie(res, cookie) {
    addSetCookie(res, cookie);
    keepCookiesOnWriteHead(res).push(cookie);
  },
  removeCookie,
  redirect,
  onDone,
  holdEnd,
};
