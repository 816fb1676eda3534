/**
 * Fastify 4 and 5 adapter: `await app.register(ours, { client })` puts a
 * request-scoped tracker on `request.ours`, app-wide. Only Fastify's request
 * is translated here; everything else lives in the core.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { MiddlewareOptions } from '../src/request/middleware-options';
import type { RequestSource } from '../src/request/request-source';
import { trustThrew } from '../src/request/proxied-source';
import { requestTracker, type RequestTracker } from '../src/request/tracker';
import { resolveMiddlewareConfig, type MiddlewareConfig } from '../src/request/middleware-config';
import { nodeResponse } from '../src/request/node-response';
import type { SetupWording } from '../src/request/setup-wording';
import { defineOursAccessor } from '../src/request/unmounted';

/**
 * Fastify's request, as option callbacks (`skip`, `identify`, `beforeSend`,
 * `clientIp`) receive it: with your own decorations (`request.user`, ...).
 */
export type OursFastifyRequest = FastifyRequest;

declare module 'fastify' {
  interface FastifyRequest {
    /** The Ours tracker for this request (ours-middleware). */
    ours: RequestTracker<OursFastifyRequest>;
  }
}

/** Options of the Fastify plugin; `req` in callbacks is Fastify's `request`. */
export type OursFastifyOptions = MiddlewareOptions<OursFastifyRequest>;

/**
 * What the plugin uses of the Fastify instance. Not `FastifyInstance` itself:
 * an app often holds two copies of Fastify's types (NestJS's platform pins its
 * own), and the instance of one is not assignable to the other's.
 */
export interface OursFastifyInstance {
  decorateRequest(name: 'ours', value: null): unknown;
  addHook(name: 'onRequest' | 'onClose', hook: (...args: never[]) => unknown): unknown;
}

/** What `app.register()` passes besides the plugin's own options; Fastify handles them. */
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'];

/** Reads a Fastify request; made when the request first tracks. */
class FastifySource implements RequestSource {
  readonly url: string;
  /** Node builds `req.headers` in a getter; one read instead of one per header. */
  readonly #headers: FastifyRequest['raw']['headers'];
  readonly #ip: string | undefined;
  #reported = false;
  constructor(
    private readonly request: OursFastifyRequest,
    readonly socketAddress: string | undefined,
    private readonly trustThrew: (err: unknown) => void,
  ) {
    this.#headers = request.raw.headers;
    // Fastify's own `request.ip` (its `trustProxy`), read at the first track(): Fastify reads the
    // socket, which is empty once the client has gone (then the address read at the start serves).
    this.#ip =
      request.raw.socket?.remoteAddress === undefined
        ? undefined
        : this.#ask(() => request.ip, undefined);
    this.url = request.originalUrl ?? request.raw.url ?? '/';
  }
  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /** Fastify's `request.ip` honours the app's `trustProxy` setting. */
  ip(): string | undefined {
    return this.#ip ?? this.socketAddress;
  }
  protocol(): string | undefined {
    const encrypted = (this.request.raw.socket as { encrypted?: boolean } | undefined)?.encrypted;
    return this.#ask(() => this.request.protocol, encrypted ? 'https' : 'http');
  }
  /** Fastify 5's `request.host` keeps the port; in Fastify 4, `request.hostname` does. Both honour `trustProxy`. */
  host(): string | undefined {
    const own = this.header('host') ?? this.header(':authority');
    return this.#ask(
      () => (this.request as { host?: string }).host || this.request.hostname || undefined,
      own,
    );
  }
  /**
   * A getter that asks the app's `trustProxy` function, which may throw (the
   * app's code): then what the socket and Host say, as if the proxy were
   * untrusted, and the throw reported once for the request.
   */
  #ask<T>(read: () => T, untrusted: T): T {
    try {
      return read();
    } catch (err) {
      if (!this.#reported) this.trustThrew(err);
      this.#reported = true;
      return untrusted;
    }
  }
}

/**
 * Fastify plugin that attaches `request.ours` to every request of the app
 * (it skips Fastify's encapsulation, as `fastify-plugin` would). Given no
 * `client`, the one it makes is shut down (delivering what it holds) when the
 * app closes; a given client is yours to shut down.
 *
 * @example
 * import Fastify from 'fastify';
 * import { OursClient } from 'ours-middleware';
 * import { ours } from 'ours-middleware/fastify';
 *
 * const client = new OursClient({ token: process.env.OURS_TOKEN });
 * const app = Fastify();
 * await app.register(ours, { client });
 * app.post('/checkout', async (request) => {
 *   request.ours.track('Checkout Completed', { orderId: '42' });
 *   return { ok: true };
 * });
 */
export function ours(
  fastify: OursFastifyInstance,
  options: OursFastifyOptions,
  done: (err?: Error) => void,
): void {
  let config: MiddlewareConfig<OursFastifyRequest, ServerResponse>;
  try {
    config = configOf(options);
  } catch (err) {
    return done(err as Error); // `app.register()` rejects with it, naming the option
  }
  const threw = trustThrew(config.client, "the app's trustProxy function");
  const fastifySource = (
    request: OursFastifyRequest,
    socketAddress: string | undefined,
  ): RequestSource => new FastifySource(request, socketAddress, threw);
  fastifyRequestPrototype(); // now, so a route outside this plugin's context says so from its first request
  try {
    declareOurs(fastify);
  } catch (err) {
    return done(err as Error);
  }
  let requestPrototype: object | undefined;
  fastify.addHook(
    'onRequest',
    function oursHook(request: FastifyRequest, reply: { raw: ServerResponse }, next: () => void) {
      // The app's own Fastify: covers a copy other than the one require() finds (Fastify 4 next to 5).
      if (requestPrototype !== Object.getPrototypeOf(request))
        defineOursAccessor(
          baseOf((requestPrototype = Object.getPrototypeOf(request) as object)),
          'request',
          UNMOUNTED,
        );
      // The hand-off listens on the raw response's finish/close, as Fastify's onResponse does.
      request.ours = requestTracker(
        request.ours,
        config,
        fastifySource,
        reply.raw,
        request,
        request.raw.socket,
      );
      next();
    },
  );
  // A client made from these options is the plugin's to close (bounded by its `timeoutMs`); a given one is the app's.
  if (!options.client)
    fastify.addHook(
      'onClose',
      (_instance: unknown, next: () => void) =>
        void config.client.shutdown().then(
          () => next(),
          () => next(),
        ),
    );
  done();
}

/** How a Fastify app sets the plugin up, for the messages that name the fix. */
const FASTIFY_SETUP: SetupWording = {
  call: 'app.register(ours, {...})',
  perRequest: 'a new options object registered in a plugin that runs per request or per route',
  once: 'Register it once, on the root instance at startup: `await app.register(ours, { client })`; it applies to every route.',
};

/**
 * What a route that reads `request.ours` where the plugin did not run is told:
 * registered inside a plugin, it applies to that plugin's routes only, as a
 * `fastify-plugin` plugin does.
 */
const UNMOUNTED =
  'register it on the root instance, `await app.register(ours, { client })`, so it applies to every route; registered inside a plugin, it applies to that plugin (and the plugins it registers) only, as fastify-plugin plugins do';

/**
 * Every Fastify request inherits from its `Request.prototype`, through one
 * prototype per encapsulation context: the accessor there gives routes of a
 * context the plugin does not cover a `request.ours` that says so. Fastify
 * is an optional peer: without it, the hook covers its app on the first request.
 */
function fastifyRequestPrototype(): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const request = require('fastify/lib/request') as { prototype: object };
    defineOursAccessor(request.prototype, 'request', UNMOUNTED);
  } catch {
    // Fastify not resolvable from here.
  }
}

/**
 * Declares `request.ours` in the plugin's context, so Fastify keeps one
 * request shape (and the stand-in's accessor on the base prototype is
 * shadowed where the plugin runs). Asked by trying: `hasRequestDecorator`
 * sees the inherited accessor. Registered twice, the first declaration serves.
 */
function declareOurs(fastify: OursFastifyInstance): void {
  try {
    fastify.decorateRequest('ours', null);
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code !== 'FST_ERR_DEC_ALREADY_PRESENT') throw err;
  }
}

/** The last prototype of `proto`'s chain before `Object.prototype`: Fastify's own `Request.prototype`. */
function baseOf(proto: object): object {
  let base = proto;
  for (
    let up = Object.getPrototypeOf(base) as object | null;
    up && up !== Object.prototype;
    up = Object.getPrototypeOf(up) as object | null
  )
    base = up;
  return base;
}

/** One config per options object: the same options registered twice are one mount, as one middleware used twice is. */
const configs = new WeakMap<object, MiddlewareConfig<OursFastifyRequest, ServerResponse>>();

function configOf(
  options: OursFastifyOptions,
): MiddlewareConfig<OursFastifyRequest, ServerResponse> {
  let config = configs.get(options);
  if (config) return config;
  const own: Record<string, unknown> = { ...options };
  for (const key of REGISTER_OPTIONS) delete own[key];
  configs.set(
    options,
    (config = resolveMiddlewareConfig(own as OursFastifyOptions, nodeResponse, FASTIFY_SETUP)),
  );
  return config;
}

// What `fastify-plugin` would set: app-wide (no encapsulation), a name in errors, the majors it runs on.
Object.assign(ours, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'ours-middleware',
  [Symbol.for('plugin-meta')]: { name: 'ours-middleware', fastify: '4.x || 5.x' },
});

export { RequestTracker } from '../src/request/tracker';
export type { TrackOverrides, IdentifyOverrides } from '../src/request/tracker';
export type { MiddlewareOptions } from '../src/request/middleware-options';
export type { RequestContext } from '../src/request/extract-context';
