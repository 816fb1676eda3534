/**
 * One harness for the frameworks the adapters support. Each suite is written
 * once against it and run for Express 4 and 5, Koa 2 and 3, Fastify 4 and 5,
 * a plain node:http handler, a fetch handler and Hono 4 (both on Node, through
 * @hono/node-server):
 *
 *   adapterSuite('context', (t) => {
 *     it('reads the visitor', async () => {
 *       const app = await t.start();
 *       app.handle(({ ours }) => ours.track('Page Viewed'));
 *       await app.get('/', { headers: { cookie: 'ours_device_id=v1' } });
 *       const [event] = await t.mock.waitFor(1);
 *     });
 *   });
 *
 * Every app is a real server on 127.0.0.1:0 with `ours()` mounted, a fake
 * auth middleware (the `x-user` header becomes `req.user` / `ctx.state.user`),
 * one catch-all route that runs the test's handler, and an error handler.
 * Apps and clients are closed after each test, and the mock must have seen
 * no contract violation.
 */
import { once } from 'node:events';
import { connect } from 'node:http2';
import {
  createServer,
  request,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import express5 from 'express';
import express4 from 'express4';
import fastify5, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import fastify4 from 'fastify4';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type Context } from 'hono';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import { ours as oursExpress } from '../../adapters/express';
import { oursFetch } from '../../adapters/fetch';
import { ours as oursFastify } from '../../adapters/fastify';
import { ours as oursHono, type OursEnv, type OursHonoOptions } from '../../adapters/hono';
import { ours as oursKoa } from '../../adapters/koa';
import { oursNode } from '../../adapters/node';
import type { ClientOptions, OursClient, OursError } from '../../src/index';
import type { MiddlewareOptions } from '../../src/request/middleware-options';
import type { RequestTracker } from '../../src/request/tracker';
import { resolveMiddlewareConfig } from '../../src/request/middleware-config';
import { nodeResponse } from '../../src/request/node-response';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { send, type Reply, type RequestOptions } from '../support/http';
import { clientFor } from '../support/client';

/** What a handler may do with `req.ours` / `ctx.ours`. */
export type Tracker = Pick<
  RequestTracker,
  | 'track'
  | 'identify'
  | 'setIdentity'
  | 'context'
  | 'optOut'
  | 'experiment'
  | 'personalization'
  | 'redirect'
>;

export interface HandlerArgs {
  /** `req.ours` (Express) or `ctx.ours` (Koa). */
  ours: Tracker;
  /** Node's request and response under the framework. */
  req: IncomingMessage;
  res: ServerResponse;
  /** What the options' callbacks receive: Express's `req`, Koa's `ctx`. */
  target: unknown;
  /** Fastify's `reply` (undefined elsewhere). */
  reply?: unknown;
}

/** The response body: a string, a stream, or nothing for `ok`; fetch and Hono: also a whole `Response`. */
export type Body = string | Readable | Response | void;
export type Handler = (h: HandlerArgs) => Body | Promise<Body>;

/** `ours()` options for any of the frameworks (`req` is Express's `req` or Koa's `ctx`). */
export type Options = MiddlewareOptions<any>;

/** The logged-in user the fake auth middleware attaches. */
export interface FakeUser {
  id: string;
  email: string;
}

export type FrameworkName =
  | 'Express 4'
  | 'Express 5'
  | 'Koa 2'
  | 'Koa 3'
  | 'Fastify 4'
  | 'Fastify 5'
  | 'node:http'
  | 'fetch'
  | 'Hono 4';
export type FrameworkKind = 'express' | 'koa' | 'fastify' | 'node' | 'fetch' | 'hono';

export interface Framework {
  readonly name: FrameworkName;
  readonly kind: FrameworkKind;
  /**
   * Whether the app answers on Node's response (`res`): a handler may write
   * to it directly, and the response has started once it did. False for fetch
   * and Hono, where the handler returns a `Response` (the harness's `res` is
   * still Node's, to listen on).
   */
  readonly nodeResponse: boolean;
  /** Whether the framework has a proxy trust setting of its own (Express `trust proxy`, Koa `app.proxy`, Fastify `trustProxy`). */
  readonly ownTrust: boolean;
  /**
   * `ours()` of this framework's adapter, or what stands for it (Fastify: the
   * plugin with its options; node: `oursNode()`), with the client it sends through.
   */
  ours(options?: Options): unknown & { readonly client: OursClient };
  /** Mounts `ours` with `options` as an app would; resolves with the error that mounting threw, if any. */
  mountError(options: Options): Promise<unknown>;
  /** Where the fake auth put the user: Express `req.user`, Koa `ctx.state.user`. */
  userOf(target: unknown): FakeUser | undefined;
  /** The path and query the request asked for, read from what the callbacks get (`req`, `ctx`, `c`, a `Request`). */
  pathOf(target: unknown): string;
  /**
   * Builds the app around `mw`; `setup` sees the bare app first (trust proxy...;
   * Fastify: its constructor options). `again` is mounted a second time after
   * it (a router on Express, the next middleware on Koa, a second plugin on
   * Fastify, a second `track()` on node), after `between` has run.
   */
  app(
    mw: unknown,
    run: () => Handler,
    appErrors: unknown[],
    setup?: (app: any) => void,
    again?: Remount,
  ): RequestListener | Promise<RequestListener>;
}

/** A second mount of `ours()` (app level, then again on a router), as apps assembled from modules do. */
export interface Remount {
  mw: unknown;
  /** Runs between the two mounts, with the tracker the first one attached. */
  between?: (ours: Tracker, target: unknown) => void;
}

const isThenable = (v: unknown): v is PromiseLike<Body> =>
  typeof (v as PromiseLike<unknown>)?.then === 'function';

function fakeUser(header: string | string[] | undefined): FakeUser | undefined {
  return typeof header === 'string' ? { id: header, email: `${header}@example.com` } : undefined;
}

function expressFramework(name: 'Express 4' | 'Express 5', create: typeof express5): Framework {
  return {
    name,
    kind: 'express',
    nodeResponse: true,
    ownTrust: true,
    ours: (options) => oursExpress(options),
    mountError: syncMountError(oursExpress),
    userOf: (target) => (target as { user?: FakeUser }).user,
    pathOf: (target) => (target as { originalUrl: string }).originalUrl,
    app(mw, run, appErrors, setup, again) {
      const app = create();
      setup?.(app);
      app.use((req, _res, next) => {
        (req as { user?: FakeUser }).user = fakeUser(req.headers['x-user']);
        next();
      });
      app.use(mw as express5.RequestHandler);
      if (again) {
        const router = create.Router();
        router.use((req, _res, next) => {
          again.between?.(req.ours, req);
          next();
        });
        router.use(again.mw as express5.RequestHandler);
        app.use(router);
      }
      const send = (res: express5.Response, body: Body): void => {
        if (res.headersSent) return;
        if (body instanceof Readable) body.pipe(res);
        else res.send(body ?? 'ok');
      };
      // Called synchronously, so a throw takes Express's own route to the error handler.
      app.use((req, res, next) => {
        const out = run()({ ours: req.ours, req, res, target: req });
        if (isThenable(out)) out.then((body) => send(res, body), next);
        else send(res, out);
      });
      app.use(
        (
          err: unknown,
          _req: express5.Request,
          res: express5.Response,
          _next: express5.NextFunction,
        ) => {
          appErrors.push(err);
          res.status(500).send('error');
        },
      );
      return app;
    },
  };
}

function koaFramework(name: 'Koa 2' | 'Koa 3', Koa: typeof Koa3): Framework {
  return {
    name,
    kind: 'koa',
    nodeResponse: true,
    ownTrust: true,
    ours: (options) => oursKoa(options),
    mountError: syncMountError(oursKoa),
    userOf: (target) => (target as Koa3.Context).state.user as FakeUser | undefined,
    pathOf: (target) => (target as Koa3.Context).url,
    app(mw, run, appErrors, setup, again) {
      const app = new Koa();
      setup?.(app);
      app.on('error', (err) => appErrors.push(err)); // also keeps Koa from logging it
      app.use(async (ctx, next) => {
        ctx.state.user = fakeUser(ctx.req.headers['x-user']);
        await next();
      });
      app.use(mw as Koa3.Middleware);
      if (again) {
        app.use((ctx, next) => {
          again.between?.(ctx.ours, ctx);
          return next();
        });
        app.use(again.mw as Koa3.Middleware);
      }
      app.use(async (ctx) => {
        const body = await run()({ ours: ctx.ours, req: ctx.req, res: ctx.res, target: ctx });
        ctx.body = body ?? 'ok';
      });
      return app.callback();
    },
  };
}

/** The Fastify plugin with the options `app.register()` gets, and the client it will send through. */
interface FastifyMount {
  options: Options;
  client: OursClient;
}

function fastifyFramework(name: 'Fastify 4' | 'Fastify 5', create: typeof fastify5): Framework {
  const register = async (app: FastifyInstance, mount: unknown): Promise<void> =>
    void (await app.register(oursFastify, (mount as FastifyMount).options));
  return {
    name,
    kind: 'fastify',
    nodeResponse: true,
    ownTrust: true,
    // The plugin's own client, made from these options (options made once share it).
    ours: (options = {}) => ({
      options,
      client: options.client ?? resolveMiddlewareConfig(options, nodeResponse).client,
    }),
    async mountError(options) {
      const app = create();
      try {
        await app.register(oursFastify, options);
      } catch (err) {
        return err;
      } finally {
        await app.close().catch(() => undefined);
      }
      return undefined;
    },
    userOf: (target) => (target as { user?: FakeUser }).user,
    pathOf: (target) => (target as FastifyRequest).url,
    async app(mw, run, appErrors, setup, again) {
      let listener: RequestListener | undefined;
      const options: FastifyServerOptions = {};
      setup?.(options);
      const app = create({
        ...options,
        serverFactory: (handler) => {
          listener = handler as RequestListener;
          return createServer(); // never listens: the harness serves `listener` itself
        },
      });
      app.decorateRequest('user', undefined);
      app.addHook(
        'onRequest',
        (request: FastifyRequest & { user?: FakeUser }, _reply: FastifyReply, done: () => void) => {
          request.user = fakeUser(request.headers['x-user']);
          done();
        },
      );
      await register(app, mw);
      if (again) {
        app.addHook(
          'onRequest',
          (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
            again.between?.(request.ours, request);
            done();
          },
        );
        await register(app, again.mw);
      }
      app.setErrorHandler((err, _request, reply) => {
        appErrors.push(err);
        void reply.status(500).send('error');
      });
      app.all('/*', async (request, reply) => {
        const body = await run()({
          ours: request.ours,
          req: request.raw,
          res: reply.raw,
          target: request,
          reply,
        });
        if (reply.sent || reply.raw.headersSent) return reply;
        return reply.type('text/plain').send(body ?? 'ok');
      });
      await app.ready();
      return listener!;
    },
  };
}

function nodeFramework(): Framework {
  return {
    name: 'node:http',
    kind: 'node',
    nodeResponse: true,
    ownTrust: false,
    ours: (options) => oursNode(options),
    mountError: syncMountError(oursNode),
    userOf: (target) => (target as { user?: FakeUser }).user,
    pathOf: (target) => (target as IncomingMessage).url ?? '/',
    app(mw, run, appErrors, _setup, again) {
      const track = mw as ReturnType<typeof oursNode>;
      const send = (res: ServerResponse, body: Body): void => {
        if (res.headersSent) return;
        if (body instanceof Readable) body.pipe(res);
        else res.end(body ?? 'ok');
      };
      const fail = (res: ServerResponse, err: unknown): void => {
        appErrors.push(err);
        if (res.headersSent) return void res.destroy();
        res.statusCode = 500;
        res.end('error');
      };
      return (req, res) => {
        (req as { user?: FakeUser }).user = fakeUser(req.headers['x-user']);
        let ours = track(req, res);
        if (again) {
          again.between?.(ours, req);
          ours = (again.mw as typeof track)(req, res);
        }
        try {
          const out = run()({ ours, req, res, target: req });
          if (isThenable(out))
            out.then(
              (body) => send(res, body),
              (err: unknown) => fail(res, err),
            );
          else send(res, out);
        } catch (err) {
          fail(res, err);
        }
      };
    },
  };
}

/** A handler's body as a Web `Response` (a Node stream becomes a Web stream). */
function webResponse(body: Body): Response {
  if (body instanceof Response) return body;
  if (body instanceof Readable)
    return new Response(Readable.toWeb(body) as ReadableStream, {
      headers: { 'content-type': 'text/plain' },
    });
  return new Response(body ?? 'ok', { headers: { 'content-type': 'text/plain; charset=UTF-8' } });
}

const pathAndQuery = (url: string): string => {
  const { pathname, search } = new URL(url);
  return pathname + search;
};

/** The fake auth's user of a fetch request. */
const users = new WeakMap<Request, FakeUser | undefined>();

/** A fetch handler (`oursFetch()`), served on Node by @hono/node-server; the peer address is passed as Bun's or Deno's would be. */
function fetchFramework(): Framework {
  return {
    name: 'fetch',
    kind: 'fetch',
    nodeResponse: false,
    ownTrust: false,
    ours: (options) => oursFetch(options),
    mountError: syncMountError(oursFetch),
    userOf: (target) => users.get(target as Request),
    pathOf: (target) => pathAndQuery((target as Request).url),
    app(mw, run, appErrors, _setup, again) {
      const track = mw as ReturnType<typeof oursFetch>;
      return getRequestListener(
        async (request, env) => {
          const { incoming: req, outgoing: res } = env as HttpBindings;
          users.set(request, fakeUser(req.headers['x-user']));
          let ours = track(request, { remoteAddress: req.socket.remoteAddress });
          if (again) {
            again.between?.(ours, request);
            ours = (again.mw as typeof track)(request);
          }
          let response: Response;
          try {
            response = webResponse(await run()({ ours, req, res, target: request }));
          } catch (err) {
            appErrors.push(err);
            response = new Response('error', { status: 500 });
          }
          return ours.respond(response);
        },
        { overrideGlobalObjects: false },
      ) as RequestListener;
    },
  };
}

/** Hono 4 on Node (@hono/node-server), the IP from its `getConnInfo` unless the test says otherwise. */
function honoFramework(): Framework {
  const withConnInfo = (options: Options = {}): OursHonoOptions =>
    'getConnInfo' in options ? (options as OursHonoOptions) : { getConnInfo, ...options };
  return {
    name: 'Hono 4',
    kind: 'hono',
    nodeResponse: false,
    ownTrust: false,
    ours: (options) => oursHono(withConnInfo(options)),
    mountError: syncMountError((options) => oursHono(withConnInfo(options))),
    userOf: (target) => (target as Context).get('user') as FakeUser | undefined,
    pathOf: (target) => pathAndQuery((target as Context).req.url),
    app(mw, run, appErrors, setup, again) {
      const app = new Hono<
        OursEnv & { Bindings: HttpBindings; Variables: { user: FakeUser | undefined } }
      >();
      setup?.(app);
      app.use((c, next) => {
        c.set('user', fakeUser(c.req.header('x-user')));
        return next();
      });
      app.use(mw as ReturnType<typeof oursHono>);
      if (again) {
        app.use((c, next) => {
          again.between?.(c.var.ours, c);
          return next();
        });
        app.use(again.mw as ReturnType<typeof oursHono>);
      }
      app.all('*', async (c) => {
        const body = await run()({
          ours: c.var.ours,
          req: c.env.incoming,
          res: c.env.outgoing,
          target: c,
        });
        return c.env.outgoing.headersSent ? RESPONSE_ALREADY_SENT : webResponse(body);
      });
      app.onError((err, c) => {
        appErrors.push(err);
        return c.text('error', 500);
      });
      return getRequestListener(app.fetch, { overrideGlobalObjects: false }) as RequestListener;
    },
  };
}

/** `mountError` of an adapter whose `ours()` checks its options when called. */
function syncMountError(ours: (options: Options) => unknown): Framework['mountError'] {
  return async (options) => {
    try {
      ours(options);
    } catch (err) {
      return err;
    }
    return undefined;
  };
}

export const FRAMEWORKS: readonly Framework[] = [
  expressFramework('Express 4', express4),
  expressFramework('Express 5', express5),
  koaFramework('Koa 2', Koa2),
  koaFramework('Koa 3', Koa3),
  fastifyFramework('Fastify 4', fastify4 as unknown as typeof fastify5),
  fastifyFramework('Fastify 5', fastify5),
  nodeFramework(),
  fetchFramework(),
  honoFramework(),
];

/** A response as the test client saw it. */
export { send };
export type { Reply, RequestOptions };

export interface StartOptions {
  /** `ours()` options; `client` defaults to a fresh client pointed at the mock. */
  ours?: Options;
  /** Runs on the bare app before any middleware (`trust proxy`, `app.proxy`...). */
  setup?: (app: any) => void;
  /** Node's `maxHeaderSize` for this server. */
  maxHeaderSize?: number;
  /** Loopback address to listen on and send to. @defaultValue '127.0.0.1' */
  host?: '127.0.0.1' | '::1';
  /**
   * Mount `ours()` a second time: `'same'` the same middleware again, or the
   * options of a second `ours()` (its `client` defaults to the first one's).
   */
  mountAgain?: { ours: 'same' | Options; between?: Remount['between'] };
}

/** One running app. */
export interface TestApp {
  readonly port: number;
  /** The middleware's client (given or made by `ours()`). */
  readonly client: OursClient;
  /** Every error the client reported on its `error` event. */
  readonly clientErrors: OursError[];
  /** Errors that reached the framework's error handling (Express error handler, Koa `error`). */
  readonly appErrors: unknown[];
  /** Sets the handler of every path (default: respond `ok`). */
  handle(handler: Handler): void;
  get(path: string, options?: RequestOptions): Promise<Reply>;
}

/** How `serveApp` builds and serves an app. */
export interface ServeOptions {
  setup?: (app: any) => void;
  maxHeaderSize?: number | undefined;
  host?: '127.0.0.1' | '::1' | undefined;
  again?: Remount | undefined;
}

/**
 * The tests' one app factory: `fw`'s app around `mw` (see `Framework.app`),
 * served on `host` (127.0.0.1 by default) and a free port. Used by
 * `Bed.start` and by the fault, fuzz and security suites' `startApp`.
 */
export async function serveApp(
  fw: Framework,
  mw: unknown,
  run: () => Handler,
  appErrors: unknown[],
  options: ServeOptions = {},
): Promise<{ server: Server; port: number; host: string }> {
  const listener = await fw.app(mw, run, appErrors, options.setup, options.again);
  const server = createServer({ maxHeaderSize: options.maxHeaderSize }, listener);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { server, port, host };
}

/** Closes `server`, its kept-alive connections too. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** What each test of a suite gets: the mock, the framework, and app factories. */
export class Bed {
  mock!: MockOurs;
  readonly #servers: Server[] = [];
  readonly #clients: OursClient[] = [];

  constructor(readonly fw: Framework) {}

  /**
   * A client pointed at the mock (fast retries, 5 ms flush interval), shut
   * down after the test. One request in flight: events then land in the order
   * they were tracked, which the tests read (several single-event batches in
   * flight at once may land in either order; test/client tests that window).
   */
  client(options: ClientOptions = {}): OursClient {
    const { client } = clientFor(this.mock, { flushIntervalMs: 5, maxInFlight: 1, ...options });
    this.#clients.push(client);
    return client;
  }

  /** Starts an app with `ours(options.ours)` mounted, on 127.0.0.1 (or `host`) and a free port. */
  async start(options: StartOptions = {}): Promise<TestApp> {
    const oursOptions = { ...options.ours };
    if (!oursOptions.client && oursOptions.token === undefined) oursOptions.client = this.client();
    const mw = this.fw.ours(oursOptions);
    if (!this.#clients.includes(mw.client)) this.#clients.push(mw.client);
    const clientErrors: OursError[] = [];
    mw.client.on('error', (err) => clientErrors.push(err));
    const appErrors: unknown[] = [];
    let handler: Handler = () => undefined;
    const again = options.mountAgain && {
      mw:
        options.mountAgain.ours === 'same'
          ? mw
          : this.fw.ours({ client: mw.client, ...options.mountAgain.ours }),
      between: options.mountAgain.between,
    };
    const { server, port, host } = await serveApp(this.fw, mw, () => handler, appErrors, {
      ...options,
      again,
    });
    this.#servers.push(server);
    return {
      port,
      client: mw.client,
      clientErrors,
      appErrors,
      handle: (h) => void (handler = h),
      get: (path, opts) => send(port, path, opts, host),
    };
  }

  /**
   * Serves an app the test built itself (a sub-app, a router) on 127.0.0.1
   * and a free port, closed after the test; returns its port.
   */
  async listen(listener: RequestListener): Promise<number> {
    const server = createServer(listener);
    this.#servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** afterEach: close apps, shut clients down (delivering what they hold), check the mock. */
  async cleanup(): Promise<void> {
    const servers = this.#servers.splice(0);
    const clients = this.#clients.splice(0);
    await Promise.all(servers.map(closeServer));
    await Promise.all(clients.map((c) => c.shutdown({ timeoutMs: 500 })));
    try {
      expect(this.mock.violations.map((v) => v.message)).to.deep.equal([]);
    } finally {
      this.mock.reset();
    }
  }
}

/** Declares `title` once per framework, with a fresh mock per framework. */
export function adapterSuite(title: string, body: (t: Bed) => void): void {
  for (const fw of FRAMEWORKS) {
    describe(`${title} [${fw.name}]`, () => {
      const bed = new Bed(fw);
      before(async () => void (bed.mock = await createMockOurs({ token: 'tok_test_secret_123' })));
      afterEach(() => bed.cleanup());
      after(() => bed.mock.close());
      body(bed);
    });
  }
}

/** GET `path` over cleartext HTTP/2; resolves with the status and the headers once the response has ended. */
export async function h2get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown> }> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    const req = session.request({ ':path': path, ...headers });
    const [head] = (await once(req, 'response')) as [Record<string, unknown>];
    req.resume();
    await once(req, 'end');
    return { status: Number(head[':status']), headers: head };
  } finally {
    session.close();
  }
}

/** Opens a request, waits for the first body chunk, then aborts it (the client goes away mid-response). */
export function abortAfterFirstChunk(
  port: number,
  path: string,
  options: RequestOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: options.headers, agent: false },
      (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    req.end();
  });
}

/** A body that sends `first`, then waits for `end()` (or forever, if it never comes). */
export function pendingStream(first = 'first chunk\n'): Readable & { finish(): void } {
  const stream = new Readable({ read() {} });
  stream.push(first);
  return Object.assign(stream, { finish: () => void stream.push(null) });
}

export { sleep } from '../support/wait';
