import { platform } from '#platform';
import { OursConfigError } from '../errors';
import type { ResponseControl } from './response-control';

/**
 * Refuses `flushOnResponse` where the app returns a `Response`, which cannot
 * be held back: `waitUntil` is the way there.
 */
export function refuseFlushOnResponse(options: object | undefined, adapter: string): void {
  const value = (options as { flushOnResponse?: unknown } | undefined)?.flushOnResponse;
  if (value === undefined || value === false) return;
  throw new OursConfigError(
    'flushOnResponse',
    `does not apply to ${adapter}: the app returns a Response, which cannot be held back. Give \`waitUntil\` (a Worker's ctx.waitUntil), which keeps the platform alive until delivery`,
  );
}

/** What the tracker adds to a Web response (see `WebResponse.end`): cookies, or a redirect in its place. */
export interface AddedToResponse {
  readonly cookies: readonly string[];
  readonly redirect: string | undefined;
}

/** A platform's `waitUntil`: keeps the request's isolate alive until `promise` settles. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * The response side of a request on Web-standard APIs, where the app builds
 * a `Response` and returns it: cookies and a redirect are collected while the
 * handler runs, and the adapter puts them on the response it returns
 * (`respond()` for fetch handlers, after `await next()` for Hono; the
 * Next.js adapter through `cookies()`). That moment is the response's end for
 * the hand-off: the calls held so far go to the client, and later ones (a
 * streamed body still being written) go at once.
 *
 * @example
 * const res = new WebResponse(() => (promise) => ctx.waitUntil(promise), request);
 * const ours = new RequestTracker(resolveMiddlewareConfig(options, webResponse), source, res, request, undefined);
 * // ... the route tracks; then, as it returns:
 * return withCookies(response, res.end()?.cookies ?? []);
 */
export class WebResponse {
  #cookies: string[] | undefined;
  #redirect: string | undefined;
  #done: (() => void) | undefined;
  #ended = false;
  #waitUntil: WaitUntil | null | undefined;
  readonly #waitUntilOf: () => WaitUntil | undefined;
  readonly #request: { readonly signal?: AbortSignal } | undefined;

  /**
   * `waitUntilOf`: the platform's `waitUntil` for this request, if any;
   * asked when the request first tracks. `request`: its `signal` says when
   * the client went away before the app answered.
   */
  constructor(
    waitUntilOf: () => WaitUntil | undefined,
    request?: { readonly signal?: AbortSignal },
  ) {
    this.#waitUntilOf = waitUntilOf;
    this.#request = request;
  }

  /** The platform's `waitUntil` for this request (a Worker's `ctx.waitUntil`), if any. */
  get waitUntil(): WaitUntil | undefined {
    if (this.#waitUntil === undefined) this.#waitUntil = this.#waitUntilOf() ?? null;
    return this.#waitUntil ?? undefined;
  }

  /** Whether the response is decided: a cookie or redirect now would never reach the browser. */
  get headersSent(): boolean {
    return this.#ended;
  }

  addCookie(cookie: string): void {
    (this.#cookies ??= []).push(cookie);
  }

  removeCookie(cookie: string): void {
    this.#cookies = this.#cookies?.filter((c) => c !== cookie);
  }

  /** Answer with a 302 to `location` instead of what the app returns. */
  redirect(location: string): void {
    this.#redirect = location;
  }

  /**
   * Runs `done` when the response is decided (at once if it is), or when
   * the client goes away first (the request's signal aborts: Bun, Deno,
   * @hono/node-server): a handler still waiting on something then hands its
   * calls off as Node's `close` does. `done` tolerates a second call.
   */
  onDone(done: () => void): void {
    if (this.#ended) return done();
    this.#done = done;
    // Watched from the end of this turn: most responses are decided by then,
    // and reading `signal` makes @hono/node-server build an AbortController.
    if (this.#request) watchSoon(this);
  }

  /** Still undecided: the request's signal hands the calls off if the client goes away first. @internal */
  watchSignal(): void {
    const done = this.#done;
    if (this.#ended || !done) return;
    const signal = this.#request?.signal;
    if (signal?.aborted) return done();
    signal?.addEventListener('abort', done, { once: true });
  }

  /** The response is decided: what to add to it, once; the hand-off runs. */
  end(): AddedToResponse | undefined {
    if (this.#ended) return undefined;
    this.#ended = true;
    this.#done?.();
    if (!this.#cookies && this.#redirect === undefined) return undefined;
    return { cookies: this.#cookies ?? [], redirect: this.#redirect };
  }
}

/** Responses that tracked during this turn, whose signal to watch at its end if still undecided. */
let toWatch: WebResponse[] = [];

function watchSoon(response: WebResponse): void {
  if (toWatch.push(response) === 1) platform.defer(watchUndecided);
}

function watchUndecided(): void {
  const responses = toWatch;
  toWatch = [];
  for (const response of responses) response.watchSignal();
}

/**
 * The tracker's view of a `WebResponse` (see `ResponseControl`). No
 * `holdEnd`: `flushOnResponse` is refused where the app returns a Response.
 */
export const webResponse: ResponseControl<WebResponse> = {
  headersSent: (res) => res.headersSent,
  addCookie: (res, cookie) => res.addCookie(cookie),
  removeCookie: (res, cookie) => res.removeCookie(cookie),
  redirect: (res, location) => res.redirect(location),
  onDone: (res, done) => res.onDone(done),
  holdEnd: () => undefined,
  waitUntil: (res) => res.waitUntil,
};

/**
 * The response to return for `response` (none: `orElse()`'s) with what the
 * tracker `added`: the 302 of a split-URL redirect in place of the app's
 * (whose body is cancelled), and the cookies. Hono does not use it: there the
 * cookies and the redirect go through Hono's own `c.header()` and `c.res`,
 * so later middleware sees them.
 */
export function respondWith(response: Response, added: AddedToResponse): Response;
export function respondWith(
  response: Response | undefined,
  added: AddedToResponse,
  orElse: () => Response,
): Response;
export function respondWith(
  response: Response | undefined,
  added: AddedToResponse,
  orElse?: () => Response,
): Response {
  let out = response;
  if (added.redirect !== undefined) {
    void out?.body?.cancel().catch(() => undefined);
    out = redirectResponse(added.redirect);
  }
  return withCookies(out ?? orElse!(), added.cookies);
}

/**
 * `response` with `cookies` appended to its `Set-Cookie`. A response whose
 * headers are immutable (one from `fetch()` or `Response.redirect()`) is
 * copied first; one that cannot be copied (`Response.error()`) is returned as is.
 */
export function withCookies(response: Response, cookies: readonly string[]): Response {
  if (cookies.length === 0) return response;
  let out = response;
  try {
    out.headers.append('set-cookie', cookies[0]!);
  } catch {
    try {
      out = new Response(response.body, response);
    } catch {
      return response;
    }
    out.headers.append('set-cookie', cookies[0]!);
  }
  for (let i = 1; i < cookies.length; i++) out.headers.append('set-cookie', cookies[i]!);
  return out;
}

/** The 302 of a split-URL variant, not cacheable (the variant belongs to this visitor). */
export function redirectResponse(location: string): Response {
  return new Response(`Redirecting to ${location}\n`, {
    status: 302,
    headers: {
      location,
      'cache-control': 'private, no-store',
      'content-type': 'text/plain; charset=utf-8',
    },
  });
}
