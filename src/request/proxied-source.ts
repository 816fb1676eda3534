import type { OursClient } from '../client';
import { kReport } from '../client/side-channels';
import { OursConfigError, OursError } from '../errors';
import {
  compileTrust,
  forwardedIp,
  presetIp,
  type TrustFunction,
  type TrustPreset,
  type TrustSetting,
} from './client-ip';
import type { RequestSource } from './request-source';

/** An adapter's source with its URL, socket address and headers; what a proxy says is the subclass's. */
abstract class Over implements RequestSource {
  readonly url: string;
  readonly socketAddress: string | undefined;
  constructor(protected readonly inner: RequestSource) {
    this.url = inner.url;
    this.socketAddress = inner.socketAddress;
  }
  header(name: string): string | undefined {
    return this.inner.header(name);
  }
  abstract ip(): string | undefined;
  abstract protocol(): string | undefined;
  abstract host(): string | undefined;
}

/**
 * The request as the `trustProxy` option sees it: IP, protocol and host from
 * the forwarding headers when the proxy in front is trusted, as Express
 * reads them under `trust proxy` (`X-Forwarded-For` walked with proxy-addr,
 * the first value of `X-Forwarded-Proto` and `X-Forwarded-Host`), else the
 * adapter's own answers. Only `X-Forwarded-*`: Express and Koa do not read
 * RFC 7239 `Forwarded` either. Without the option the framework decides
 * (Express's `trust proxy`, Koa's `app.proxy`); node:http, fetch handlers and
 * Hono have no trust of their own, so there the option is the only way a
 * TLS-terminating proxy's `https` reaches `current_url` and the visitor
 * cookie's `Secure`.
 */
class ProxiedSource extends Over {
  #peerTrusted: boolean | undefined;
  constructor(
    inner: RequestSource,
    private readonly trust: TrustFunction,
  ) {
    super(inner);
  }
  ip(): string | undefined {
    return forwardedIp(this.socketAddress, this.header('x-forwarded-for'), this.trust);
  }
  protocol(): string | undefined {
    const forwarded = this.#trusted() ? this.header('x-forwarded-proto') : undefined;
    return forwarded ? firstValue(forwarded).trim() : this.inner.protocol();
  }
  /** Express 5's `req.host`: a forwarded host keeps its port; an empty first value is no host. */
  host(): string | undefined {
    const forwarded = this.#trusted() ? this.header('x-forwarded-host') : undefined;
    return forwarded ? firstValue(forwarded).trimEnd() || undefined : this.inner.host();
  }
  /**
   * Whether the socket's peer is a trusted proxy: asked once, as Express asks
   * it. No peer address (a Worker, a fetch handler not told it), no trust: the
   * IP walk cannot start there either.
   */
  #trusted(): boolean {
    this.#peerTrusted ??=
      this.socketAddress !== undefined && Boolean(this.trust(this.socketAddress, 0));
    return this.#peerTrusted;
  }
}

/**
 * Behind a platform preset the edge is the peer, and it sets
 * `X-Forwarded-Proto` itself (Cloudflare and Vercel both do); the host is the
 * Host header, which both pass through, so a client's `X-Forwarded-Host` is
 * not read.
 */
class PresetSource extends Over {
  constructor(
    inner: RequestSource,
    private readonly preset: TrustPreset,
  ) {
    super(inner);
  }
  ip(): string | undefined {
    return presetIp(this.preset, (name) => this.header(name));
  }
  protocol(): string | undefined {
    const forwarded = this.header('x-forwarded-proto');
    return forwarded ? firstValue(forwarded).trim() : this.inner.protocol();
  }
  host(): string | undefined {
    return this.inner.host();
  }
}

/** Up to the first comma, as Express reads X-Forwarded-Proto and X-Forwarded-Host. */
export const firstValue = (value: string): string => {
  const comma = value.indexOf(',');
  return comma === -1 ? value : value.slice(0, comma);
};

/** What `trustProxy` makes of the adapter's source (see `MiddlewareConfig.viaProxy`). */
export function proxyReader(
  trustProxy: TrustSetting | TrustPreset | undefined,
  client: OursClient,
): ((source: RequestSource) => RequestSource) | undefined {
  if (trustProxy === undefined) return undefined;
  if (trustProxy === 'cloudflare' || trustProxy === 'vercel') return proxiedSource(trustProxy);
  if (typeof trustProxy === 'function') return proxiedSource(reportingTrust(trustProxy, client));
  let trust: TrustFunction;
  try {
    trust = compileTrust(trustProxy);
  } catch (err) {
    throw new OursConfigError(
      'trustProxy',
      `is not 'cloudflare', 'vercel', a hop count, CIDR list or function: ${(err as Error).message}`,
    );
  }
  return proxiedSource(trust);
}

/** The app's trust function; one that throws trusts nothing, and is reported (the event goes on). */
function reportingTrust(trust: TrustFunction, client: OursClient): TrustFunction {
  const threw = trustThrew(client, 'trustProxy');
  return (addr, i) => {
    try {
      return Boolean(trust(addr, i));
    } catch (err) {
      threw(err);
      return false;
    }
  };
}

/**
 * Reports a throw of the app's trust function (`what`: the option, or the
 * framework's setting, which the Express and Fastify adapters ask): the
 * event goes on as if the proxy were untrusted, never the host's error.
 */
export const trustThrew =
  (client: OursClient, what: string) =>
  (err: unknown): void =>
    client[kReport](
      new OursError(
        `${what} threw: ${(err as Error)?.message ?? String(err)}; the event goes on as if the proxy were untrusted`,
      ),
    );

/** Wraps an adapter's source so the `trustProxy` option governs IP, protocol and host. */
const proxiedSource =
  (trust: TrustFunction | TrustPreset) =>
  (source: RequestSource): RequestSource =>
    typeof trust === 'function'
      ? new ProxiedSource(source, trust)
      : new PresetSource(source, trust);
