import type { RequestSource } from './request-source';

/**
 * A request as the Web platform gives it: its `Headers` and its URL. The
 * source of every adapter on Web-standard APIs (fetch handlers, Hono, and
 * Next.js, whose server components have `headers()` but no `Request`).
 *
 * `socketAddress` is the peer's address where the server gives one (Bun's
 * `server.requestIP()`, Deno's `info.remoteAddr`, Hono's `getConnInfo`); a
 * Worker has none, and no address is ever guessed from headers here (the
 * `trustProxy` presets read the platform's own).
 *
 * @example
 * const source = webSource(request.headers, request.url, undefined);
 * source.header('user-agent');
 */
export class WebSource implements RequestSource {
  readonly url: string;
  readonly #headers: Headers;
  readonly #url: URL;

  constructor(
    headers: Headers,
    url: string | URL,
    readonly socketAddress: string | undefined,
  ) {
    this.#headers = headers;
    this.#url = typeof url === 'string' ? new URL(url) : url;
    this.url = this.#url.pathname + this.#url.search;
  }

  header(name: string): string | undefined {
    const value = this.#headers.get(name);
    if (value === null) return undefined;
    // Headers joins repeated fields with ", "; Node joins Cookie fields with "; ",
    // which is what the cookie parser splits on. A cookie value has no comma (RFC 6265).
    return name === 'cookie' ? value.replaceAll(', ', '; ') : value;
  }

  /** No framework trust to honour: the peer, when the server said who it is. */
  ip(): string | undefined {
    return this.socketAddress;
  }

  protocol(): string | undefined {
    return this.#url.protocol.slice(0, -1);
  }

  /**
   * The Host header, as the Node adapters read it; the URL's host where there
   * is none (HTTP/2, Workers' synthetic requests). Some servers build
   * `request.url` from their own address instead (`next start`).
   */
  host(): string | undefined {
    return this.#headers.get('host') ?? (this.#url.host || undefined);
  }
}

/** A `RequestSource` over Web `Headers` and a URL (absolute). */
export const webSource = (
  headers: Headers,
  url: string | URL,
  socketAddress: string | undefined,
): RequestSource => new WebSource(headers, url, socketAddress);
