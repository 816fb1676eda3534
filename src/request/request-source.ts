/**
 * The small contract every framework adapter fills: what the core needs to
 * know about one HTTP request, with no framework types. Each member is read
 * lazily, only when an event is tracked; adapters must keep them cheap and
 * side-effect free.
 */
export interface RequestSource {
  /** A request header by lower-case name; repeated headers as Node joins them. */
  header(name: string): string | undefined;
  /**
   * The end user's IP as the framework resolves it under its own proxy trust
   * (Express `req.ip`, Koa's walk over `X-Forwarded-For`), or the socket
   * address read at the start of the request. Not yet normalised.
   */
  ip(): string | undefined;
  /** The socket's peer address, read when the request started. */
  readonly socketAddress: string | undefined;
  /** `http` or `https`, as the framework decides it (honours its proxy trust). */
  protocol(): string | undefined;
  /** Host (with port when not default), as the framework decides it. */
  host(): string | undefined;
  /** The original request target: path plus raw query string, e.g. `/a?b=c`. */
  readonly url: string;
}
