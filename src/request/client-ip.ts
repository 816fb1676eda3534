import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { platform } from '#platform';
import proxyaddr from 'proxy-addr';

/** A proxy-addr trust function: is the address at hop `i` (0 = socket) trusted? */
export type TrustFunction = (addr: string, i: number) => boolean;

/** Express's `trust proxy` setting, in every form Express accepts. */
export type TrustSetting = boolean | number | string | readonly string[] | TrustFunction;

/**
 * Platforms whose edge sets the client's address in a header of its own,
 * overwriting what the client sent: `'cloudflare'` reads `CF-Connecting-IP`;
 * `'vercel'` reads `X-Real-IP`, then `X-Forwarded-For` (Vercel overwrites
 * both with the client's address). Only behind that platform: elsewhere any
 * client can set these headers.
 */
export type TrustPreset = 'cloudflare' | 'vercel';

/** The client address a platform's edge put in its headers (see `TrustPreset`). */
export function presetIp(
  preset: TrustPreset,
  header: (name: string) => string | undefined,
): string | undefined {
  if (preset === 'cloudflare') return header('cf-connecting-ip');
  return header('x-real-ip') ?? header('x-forwarded-for')?.split(',', 1)[0];
}

/**
 * Longest `X-Forwarded-For` tail we walk. Trusted proxies append on the
 * right, so a capped header keeps its rightmost part (from a comma on).
 */
const MAX_XFF_LENGTH = 4096;

/**
 * Normalises one address as it arrives from a socket, `X-Forwarded-For` or
 * `Forwarded`: trims, drops quotes, brackets, a port (`[::1]:443`,
 * `1.2.3.4:80`), a zone id (`%eth0`) and the `::ffff:` of an IPv4-mapped
 * IPv6 address. Returns undefined unless the result is a valid IP.
 */
export function normalizeIp(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let s = raw.trim();
  if (s.length === 0 || s.length > 100) return undefined;
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).trim();
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close === -1) return undefined;
    s = s.slice(1, close); // anything after ']' is a port
  } else {
    const colon = s.indexOf(':');
    // Exactly one ':' can only be IPv4 with a port; IPv6 has at least two.
    if (colon !== -1 && colon === s.lastIndexOf(':')) s = s.slice(0, colon);
  }
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  const mapped = s.length > 7 && s.slice(0, 7).toLowerCase() === '::ffff:';
  if (mapped && platform.isIP(s.slice(7)) === 4) s = s.slice(7);
  return platform.isIP(s) === 0 ? undefined : s;
}

/**
 * Compiles a trust setting exactly as Express does for `trust proxy`: a
 * function is used as is, `true` trusts every hop (so the leftmost,
 * client-chosen address wins), a number trusts that many hops from the
 * socket, a string or list is comma-separated CIDRs or proxy-addr names
 * (`loopback`, `linklocal`, `uniquelocal`). Throws on an invalid CIDR.
 */
export function compileTrust(value: TrustSetting): TrustFunction {
  if (typeof value === 'function') return value;
  if (value === true) return () => true;
  if (typeof value === 'number') return (_addr, i) => i < value;
  const list = typeof value === 'string' ? value.split(',').map((v) => v.trim()) : value || [];
  return proxyaddr.compile([...list]);
}

/**
 * The client address under proxy-addr semantics (what Express's `req.ip`
 * returns): walk from the socket leftwards through `X-Forwarded-For` while
 * each hop is trusted. Normalised; undefined when unknown or invalid.
 */
export function forwardedIp(
  socketAddress: string | undefined,
  xff: string | undefined,
  trust: TrustFunction,
): string | undefined {
  if (socketAddress === undefined) return undefined;
  const req = {
    headers: { 'x-forwarded-for': capXff(xff) ?? '' },
    socket: { remoteAddress: socketAddress },
    connection: { remoteAddress: socketAddress },
  };
  return normalizeIp(proxyaddr(req as unknown as IncomingMessage, trust));
}

/**
 * Koa's `ctx.ip`, computed as Koa computes it but from a socket address read
 * earlier (Koa reads the socket, which is empty once the client has gone):
 * `forwarded` is the value of `app.proxyIpHeader`, given only when
 * `app.proxy` is on. Koa splits it on commas and trims, keeps the last
 * `maxIpsCount` entries when that is above 0, and takes the first one, else
 * the socket address. With `maxIpsCount` 0 that is the leftmost entry, which
 * the client chooses: the adapter warns about it. Normalised.
 */
export function koaIp(
  socketAddress: string | undefined,
  forwarded: string | undefined,
  maxIpsCount: number,
): string | undefined {
  let first: string | undefined;
  if (forwarded && maxIpsCount > 0) {
    first = (capXff(forwarded) ?? '').split(',').slice(-maxIpsCount)[0];
  } else if (forwarded) {
    const comma = forwarded.indexOf(','); // only the leftmost entry counts: no need to split a long header
    first = comma === -1 ? forwarded : forwarded.slice(0, comma);
  }
  return normalizeIp(first?.trim() || socketAddress);
}

function capXff(xff: string | undefined): string | undefined {
  if (typeof xff !== 'string' || xff.length <= MAX_XFF_LENGTH) return xff;
  const tail = xff.slice(-MAX_XFF_LENGTH);
  const comma = tail.indexOf(',');
  return comma === -1 ? '' : tail.slice(comma + 1);
}

type RequestIp = { getClientIp(req: object): string | null };
let requestIp: RequestIp | undefined;

/**
 * Loads the optional `request-ip` peer now, so a missing install fails at
 * setup rather than on the first request. Throws a readable Error if absent.
 */
export function loadRequestIp(): RequestIp {
  if (requestIp === undefined) {
    try {
      // Lazy: request-ip is an optional peer, required only when opted in.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      requestIp = require('request-ip') as RequestIp;
    } catch {
      throw new Error(
        "needs the request-ip package, which is not installed: run `npm install request-ip`, or drop `clientIp: 'request-ip'`",
      );
    }
  }
  return requestIp;
}

/**
 * The client address as request-ip finds it: the first valid address among
 * `X-Client-IP`, `X-Forwarded-For` (leftmost), `CF-Connecting-IP`,
 * `True-Client-IP`, `X-Real-IP` and more, then the socket. WARNING: every one
 * of those headers can be set by the client, so any visitor can choose the IP
 * recorded for them unless a proxy in front overwrites them all. Opt-in only.
 */
export function requestIpAddress(
  headers: IncomingHttpHeaders,
  socketAddress: string | undefined,
): string | undefined {
  const lib = loadRequestIp();
  const socket = { remoteAddress: socketAddress };
  const req = { headers, socket, connection: socket };
  try {
    return normalizeIp(lib.getClientIp(req));
  } catch {
    // request-ip throws on a non-string X-Forwarded-For: use the socket
    return normalizeIp(socketAddress);
  }
}
