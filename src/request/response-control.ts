/**
 * What the tracker needs of a response, for one kind of response `Res`: an
 * adapter gives one such object (stateless, shared by every request) and
 * passes its response to each call, so a request costs no wrapper.
 *
 * Node's `ServerResponse` (Express, Koa, Fastify, node:http) is served by
 * `nodeResponse` (node-response.ts). A Web/fetch adapter (Hono, Next.js, a
 * Worker's `fetch`) supplies its own over a per-request object of its own:
 * for example, one that collects `Set-Cookie` lines to apply to the Web
 * `Response` the handler returns, and whose `onDone` callbacks the adapter
 * calls once the handler has returned (or thrown).
 */
export interface ResponseControl<Res> {
  /**
   * Whether the status and headers are already sent (or the response is
   * over): no cookie can be set and no redirect answered any more.
   */
  headersSent(res: Res): boolean;
  /**
   * Why this response cannot take a cookie (`cookie`: the visitor's or the
   * opt-out's), when it is not that its headers were sent: said when a
   * visitor could not be minted or an opt-out not kept (a Next.js server
   * component, where Next forbids cookie writes). @defaultValue the headers were sent
   */
  noCookieReason?(res: Res, cookie: 'visitor' | 'opt-out'): string;
  /**
   * Adds one `Set-Cookie` line (`cookie`: the serialised cookie) next to the
   * app's own. It must survive what the app or the framework does to the
   * headers later, up to sending them: Koa's error handling removes every
   * header set so far, and `writeHead(status, headers)` replaces a
   * `Set-Cookie` set before. Called only while `headersSent` is false.
   */
  addCookie(res: Res, cookie: string): void;
  /**
   * Takes back a cookie `addCookie` added (`cookie`: the same line), so the
   * browser never gets it: a visitor minted for this request who then opts
   * out. Called only while `headersSent` is false.
   */
  removeCookie(res: Res, cookie: string): void;
  /**
   * Answers the request with a 302 to `location` (already checked: a
   * same-site path or an `https://` URL), not cacheable, with a short text
   * body. Called only while `headersSent` is false.
   */
  redirect(res: Res, location: string): void;
  /**
   * Calls `done` when the response is over: sent, or the client went away
   * first. At once when it is over already. `done` tolerates being called
   * more than once; it must be called at least once for every response.
   */
  onDone(res: Res, done: () => void): void;
  /**
   * `flushOnResponse`: holds the end of the response until `beforeEnd()`
   * settles or `timeoutMs` passes, so delivery finishes while a serverless
   * function still runs. `beforeEnd` never rejects. A platform that keeps
   * running after the response (it has `waitUntil`) may end at once.
   */
  holdEnd(res: Res, beforeEnd: () => Promise<unknown>, timeoutMs: number): void;
  /**
   * The platform's `waitUntil` for this one request (a Worker's
   * `ctx.waitUntil`), where the response knows one: it wins over the
   * `waitUntil` option. Asked at the request's first `track()`.
   */
  waitUntil?(res: Res): ((promise: Promise<unknown>) => void) | undefined;
}
