/**
 * What only the adapters on Web-standard APIs have: `respond()` and
 * `tracker(request, options)` of ours-middleware/fetch, and Hono's
 * `executionCtx`, redirect and `getConnInfo`. The shared cases run on both
 * through the harness; these run on real servers on loopback too
 * (@hono/node-server), or through `app.fetch(request, env, ctx)` as Workers call it.
 */
import { once } from 'node:events';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { expect } from 'chai';
import { Context, Hono } from 'hono';
import { oursFetch, tracker, type FetchTracker, type TrackerOptions } from '../../adapters/fetch';
import { ours, type OursEnv } from '../../adapters/hono';
import { OursConfigError, type OursClient } from '../../src/index';
import { captureLogger, clientFor, expectBalanced, withMock } from '../support/client';
import { send } from './harness';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const VISITOR = 'ours_device_id=00000000-0000-4000-8000-000000000001';
const EXP_TOKEN = 'exp_test_token_123';
/** Sends a GET and destroys the connection once `reached` resolves (the handler has tracked), before any answer. */
async function abortWhen(port: number, reached: Promise<void>): Promise<void> {
  const req = request({
    host: '127.0.0.1',
    port,
    path: '/',
    agent: false,
    headers: { cookie: VISITOR },
  });
  req.on('error', () => undefined);
  req.end();
  await reached;
  req.destroy();
}

/** A promise and its resolve function. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const visitorCookies = (setCookie: string[] | undefined): string[] =>
  (setCookie ?? []).filter((c) => c.startsWith('ours_device_id='));

describe('adapter: fetch (Request → Response)', () => {
  const t = withMock();
  let server: Server | undefined;
  afterEach(
    () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  );

  /** Serves `handler` on loopback (through @hono/node-server, as the harness does); resolves with the port. */
  async function serve(
    handler: (request: Request) => Response | Promise<Response>,
  ): Promise<number> {
    server = createAdaptorServer({ fetch: handler, overrideGlobalObjects: false }) as Server;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  it('tracker(request, options): options checked once for all requests (no "made per request" warning), one tracker per request', async () => {
    const logger = captureLogger();
    const { client } = clientFor(t.mock, { logger });
    const skip = (request: Request): boolean => request.url.endsWith('/health');
    const same: boolean[] = [];
    const port = await serve((request) => {
      // Written inline, per request, as a Worker would: the hooks are the app's own functions.
      const ours = tracker(request, {
        client,
        skip,
        setVisitorCookie: true,
        waitUntil: () => undefined,
      });
      same.push(ours === tracker(request, { client, skip, setVisitorCookie: true }));
      ours.track('Page Viewed');
      return ours.respond(new Response('ok'));
    });
    for (let i = 0; i < 30; i++)
      await send(port, i % 10 === 0 ? '/health' : '/', {
        headers: { 'user-agent': UA, cookie: VISITOR },
      });
    await t.mock.waitFor(27);
    expect(same).to.deep.equal(Array(30).fill(true));
    expect(
      logger.lines.filter((l) => /per request/.test(String(l.msg))).map((l) => l.msg),
    ).to.deep.equal([]);
    await client.shutdown();
    expect(client.stats()).to.include({ tracked: 30, delivered: 27, dropped: 3 });
  });

  it("waitUntil gets this request's delivery, settled once the mock has the event; a request that tracks nothing gets its own Response back and hands nothing", async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 }); // only the delivery behind waitUntil can send
    const promises: Promise<unknown>[] = [];
    const silent = new Response('silent');
    let returned: Response | undefined;
    const track = oursFetch({ client });
    const port = await serve((request) => {
      const ours = track(request, { waitUntil: (p) => void promises.push(p) });
      if (request.url.endsWith('/silent')) return (returned = ours.respond(silent));
      ours.track('Serverless');
      return ours.respond(new Response('ok'));
    });
    await send(port, '/silent', { headers: { 'user-agent': UA, cookie: VISITOR } });
    expect(returned).to.equal(silent);
    expect(promises).to.have.length(0);
    await send(port, '/', { headers: { 'user-agent': UA, cookie: VISITOR } });
    expect(promises).to.have.length(1);
    expect(await promises[0]).to.deep.include({ delivered: 1 });
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Serverless']);
    await client.shutdown();
  });

  it('respond(): a Response with immutable headers (Response.redirect) comes back as a copy with the cookie; a second respond() changes nothing', async () => {
    const { client } = clientFor(t.mock);
    const ours = tracker(
      new Request('https://shop.example/old', { headers: { 'user-agent': UA } }),
      { client, setVisitorCookie: true },
    );
    ours.track('Moved');
    const original = Response.redirect('https://shop.example/new', 301);
    expect(() => original.headers.append('x', 'y')).to.throw(TypeError); // immutable, as the Fetch standard says
    const out = ours.respond(original);
    expect(out).not.to.equal(original);
    expect([out.status, out.headers.get('location')]).to.deep.equal([
      301,
      'https://shop.example/new',
    ]);
    const [cookie] = out.headers.getSetCookie();
    expect(cookie).to.match(
      /^ours_device_id=[0-9a-f-]{36}; Max-Age=31536000; Path=\/; Secure; SameSite=None$/,
    );
    const again = new Response('again');
    expect(ours.respond(again)).to.equal(again);
    const [event] = await t.mock.waitFor(1);
    expect(`ours_device_id=${event!.userId}`).to.equal(cookie!.split(';')[0]);
    await client.shutdown();
  });

  it('a call after respond() (a streamed body still being written) is sent on its own, handed to waitUntil; a visitor minted then is too late: reported, not sent', async () => {
    const { client, errors } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const promises: Promise<unknown>[] = [];
    let late: FetchTracker | undefined;
    const port = await serve((request) => {
      const ours = tracker(request, {
        client,
        waitUntil: (p) => void promises.push(p),
        setVisitorCookie: request.url.endsWith('/first-visit'),
      });
      ours.track('Download Started');
      late = ours;
      return ours.respond(new Response('streaming'));
    });
    await send(port, '/', { headers: { 'user-agent': UA, cookie: VISITOR } });
    late!.track('Download Finished');
    expect(promises).to.have.length(2);
    await Promise.all(promises);
    // Sorted: two deliveries in flight together arrive in either order.
    expect(t.mock.events.map((e) => e.event).sort()).to.deep.equal([
      'Download Finished',
      'Download Started',
    ]);
    // A first visit: the visitor is minted at the first track(), before respond(); one after it cannot be.
    const reply = await send(port, '/first-visit', { headers: { 'user-agent': UA } });
    expect(visitorCookies(reply.headers['set-cookie'])).to.have.length(1);
    const fresh = tracker(new Request('http://127.0.0.1/first-visit'), {
      client,
      setVisitorCookie: true,
    });
    fresh.respond(new Response('ok'));
    fresh.track('Too Late');
    await client.flush();
    // 'Too Late' is not among them; the first two arrived in either order (above).
    expect(t.mock.events.map((e) => e.event).sort()).to.deep.equal([
      'Download Finished',
      'Download Started',
      'Download Started',
    ]);
    expect(errors.map((e) => e.message)).to.have.length(1);
    expect(errors[0]!.message).to.match(/setVisitorCookie/);
    expectBalanced(client);
    await client.shutdown();
  });

  it('redirect(): the 302 replaces the Response returned, with the minted cookie; after respond() it is refused and reported', async () => {
    t.mock.experiment('landing', { variants: [{ id: 'var_b', redirect: '/landing-b' }] });
    const { client, errors } = clientFor(t.mock, { experimentToken: EXP_TOKEN });
    const port = await serve(async (request) => {
      const ours = tracker(request, { client, setVisitorCookie: true });
      ours.redirect(await ours.experiment('landing'));
      return ours.respond(new Response('control page'));
    });
    const reply = await send(port, '/landing', { headers: { 'user-agent': UA } });
    expect([reply.status, reply.headers.location, reply.headers['cache-control']]).to.deep.equal([
      302,
      '/landing-b',
      'private, no-store',
    ]);
    expect(visitorCookies(reply.headers['set-cookie'])).to.have.length(1);
    const after = tracker(
      new Request('http://127.0.0.1/landing', { headers: { cookie: VISITOR } }),
      { client },
    );
    const variant = await after.experiment('landing');
    after.respond(new Response('control page'));
    expect(after.redirect(variant)).to.equal(false);
    expect(errors.map((e) => e.message)).to.deep.equal([
      `experiment 'landing': cannot redirect, the response has already started`,
    ]);
    await client.shutdown();
  });

  it('a waitUntil that throws or rejects is reported on the client; the response and the delivery go on', async () => {
    const { client, errors } = clientFor(t.mock);
    const waits: TrackerOptions['waitUntil'][] = [
      () => {
        throw new Error('no context');
      },
      () => Promise.reject(new Error('context gone')) as unknown as void,
    ];
    let i = 0;
    const port = await serve((request) => {
      const ours = tracker(request, { client, waitUntil: waits[i++] });
      ours.track('E');
      return ours.respond(new Response('ok'));
    });
    const replies = [
      await send(port, '/', { headers: { cookie: VISITOR } }),
      await send(port, '/', { headers: { cookie: VISITOR } }),
    ];
    expect(replies.map((r) => r.body)).to.deep.equal(['ok', 'ok']);
    await t.mock.waitFor(2);
    await client.flush();
    expect(errors.map((e) => e.message)).to.deep.equal([
      'tracking failed: no context',
      'tracking failed: context gone',
    ]);
    await client.shutdown();
  });

  it('refuses what cannot work, naming the option: a waitUntil or remoteAddress of the wrong type, flushOnResponse', () => {
    const { client } = clientFor(t.mock);
    const request = new Request('http://127.0.0.1/');
    const refusal = (options: object): unknown => {
      try {
        tracker(request, { client, ...options } as TrackerOptions);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const wrongWait = refusal({ waitUntil: 'ctx' });
    expect(wrongWait).to.be.instanceOf(OursConfigError);
    expect(String(wrongWait)).to.match(/`waitUntil` must be a function/);
    expect(String(refusal({ remoteAddress: 7 }))).to.match(
      /`remoteAddress` must be the peer's address as a string, got 7/,
    );
    expect(String(refusal({ flushOnResponse: true }))).to.match(
      /`flushOnResponse` does not apply to a fetch handler.*waitUntil/,
    );
    void client.shutdown();
  });

  it("a client that goes away before the handler answers: its calls are handed off then (the request's signal), once", async () => {
    const { client } = clientFor(t.mock);
    const [tracked, upstream] = [signal(), signal()];
    const port = await serve(async (request) => {
      const ours = tracker(request, { client });
      ours.track('Report Requested');
      tracked.resolve();
      await upstream.promise; // a slow upstream
      return ours.respond(new Response('late'));
    });
    await abortWhen(port, tracked.promise);
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('Report Requested');
    upstream.resolve();
    await client.flush();
    expect(t.mock.events).to.have.length(1);
    expect(client.stats()).to.include({ tracked: 1, delivered: 1, held: 0 });
    await client.shutdown();
  });

  it('the same with waitUntil: the delivery is handed to it once, when the client went away, not again at respond()', async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const handed: Promise<unknown>[] = [];
    const [tracked, upstream, responded] = [signal(), signal(), signal()];
    const port = await serve(async (request) => {
      const ours = tracker(request, { client, waitUntil: (p) => void handed.push(p) });
      ours.track('Report Requested');
      tracked.resolve();
      await upstream.promise; // a slow upstream
      const response = ours.respond(new Response('late'));
      responded.resolve();
      return response;
    });
    await abortWhen(port, tracked.promise);
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('Report Requested');
    expect(handed).to.have.length(1);
    upstream.resolve();
    await responded.promise;
    expect(handed).to.have.length(1);
    expect(await handed[0]).to.deep.include({ delivered: 1 });
    expect(client.stats()).to.include({ tracked: 1, delivered: 1, held: 0 });
    await client.shutdown();
  });

  it('never guesses the IP from headers: none without remoteAddress, trustProxy or clientIp', async () => {
    const { client } = clientFor(t.mock);
    const port = await serve((request) => {
      const ours = tracker(request, { client });
      ours.track('E');
      return ours.respond(new Response('ok'));
    });
    await send(port, '/', {
      headers: {
        'user-agent': UA,
        cookie: VISITOR,
        'x-forwarded-for': '198.51.100.1',
        'x-real-ip': '198.51.100.2',
        'cf-connecting-ip': '198.51.100.4',
      },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).not.to.have.property('ip');
    expect(event).not.to.have.property('identityContext');
    await client.shutdown();
  });
});

/** Serves `hono` on loopback through @hono/node-server; resolves once it listens. */
async function listenHono(hono: Hono<OursEnv>): Promise<Server> {
  const server = createAdaptorServer({ fetch: hono.fetch, overrideGlobalObjects: false }) as Server;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

describe('adapter: Hono (what only Hono has)', () => {
  const t = withMock();

  /** A Workers-style ExecutionContext: what `app.fetch(request, env, ctx)` gets on Workers and Vercel. */
  function executionCtx(): {
    waitUntil(p: Promise<unknown>): void;
    passThroughOnException(): void;
    props: object;
    promises: Promise<unknown>[];
  } {
    const promises: Promise<unknown>[] = [];
    return {
      promises,
      waitUntil: (p) => void promises.push(p),
      passThroughOnException: () => undefined,
      props: {},
    };
  }

  function app(client: OursClient, options: Parameters<typeof ours>[0] = {}): Hono<OursEnv> {
    const hono = new Hono<OursEnv>();
    hono.use(ours({ client, ...options }));
    hono.get('/landing', async (c) => {
      if (c.var.ours.redirect(await c.var.ours.experiment('landing'))) return c.body(null);
      return c.text('control page');
    });
    hono.get('*', (c) => {
      c.get('ours').track('Page Viewed');
      return c.text('ok');
    });
    return hono;
  }

  it("hands the request's delivery to c.executionCtx.waitUntil where the platform gives one", async () => {
    const { client } = clientFor(t.mock, { flushIntervalMs: 60_000 });
    const ctx = executionCtx();
    const res = await app(client, { trustProxy: 'cloudflare' }).fetch(
      new Request('https://shop.example/', {
        headers: { cookie: VISITOR, 'cf-connecting-ip': '203.0.113.7' },
      }),
      {},
      ctx,
    );
    expect(await res.text()).to.equal('ok');
    expect(ctx.promises).to.have.length(1);
    expect(await ctx.promises[0]).to.deep.include({ delivered: 1 });
    expect(
      t.mock.events.map((e) => [
        e.event,
        e.defaultProperties!.ip,
        e.defaultProperties!.current_url,
      ]),
    ).to.deep.equal([['Page Viewed', '203.0.113.7', 'https://shop.example/']]);
    await client.shutdown();
  });

  it('the same requests give the same events served by @hono/node-server and through app.fetch', async () => {
    // The server's lightweight Request and Headers against the platform's own.
    const requests: Record<string, string>[] = [
      {
        cookie: `${VISITOR}; _ga=GA1.1.1.2; _fbp=fb.1.2.3`,
        referer: 'https://www.google.com/search?q=x',
        'user-agent':
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      },
      {
        cookie: VISITOR,
        'user-agent':
          'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        'sec-ch-ua': '"Chromium";v="131", "Not_A Brand";v="24"',
        'sec-ch-ua-platform': '"Windows"',
        'sec-ch-ua-mobile': '?0',
        'accept-language': 'de-CH,de;q=0.9',
        'sec-gpc': '1',
      },
      { cookie: VISITOR, 'user-agent': 'curl/8.5.0', 'x-forwarded-for': '198.51.100.9' },
    ];
    const path = '/pricing?utm_source=news&utm_campaign=fall&gclid=abc';
    const { client } = clientFor(t.mock);
    const hono = app(client);
    const server = createAdaptorServer({ fetch: hono.fetch, overrideGlobalObjects: false });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      for (const headers of requests) {
        await fetch(`http://127.0.0.1:${port}${path}`, { headers });
        await hono.fetch(new Request(`http://127.0.0.1:${port}${path}`, { headers }));
      }
      await client.flush();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const events = t.mock.events.map((e) => ({ ...e, distinctId: '', time: 0 }));
    expect(events).to.have.length(6);
    for (let i = 0; i < 6; i += 2) expect(events[i]).to.deep.equal(events[i + 1]);
    await client.shutdown();
  });

  it('on @hono/node-server, which never passes an execution context, c.executionCtx is not asked (its throw costs); through app.fetch it is', async () => {
    const { client } = clientFor(t.mock);
    const proto = Context.prototype as object;
    const own = Object.getOwnPropertyDescriptor(proto, 'executionCtx')!;
    let asked = 0;
    Object.defineProperty(proto, 'executionCtx', {
      ...own,
      get(this: Context) {
        asked++;
        return own.get!.call(this) as unknown;
      },
    });
    const server = await listenHono(app(client));
    try {
      const { port } = server.address() as AddressInfo;
      await send(port, '/', { headers: { cookie: VISITOR } });
      await t.mock.waitFor(1);
      expect(asked).to.equal(0);
      await app(client).fetch(new Request('http://127.0.0.1/', { headers: { cookie: VISITOR } }));
      await t.mock.waitFor(2);
      expect(asked).to.be.above(0);
    } finally {
      Object.defineProperty(proto, 'executionCtx', own);
      await new Promise((resolve) => server.close(resolve));
      await client.shutdown();
    }
  });

  it("without an executionCtx (Node, Bun, Deno) the client delivers on its own, and Hono's missing-context error never shows", async () => {
    const { client, errors } = clientFor(t.mock);
    const stackTraceLimit = Error.stackTraceLimit; // asked for without a stack, then put back
    const res = await app(client).fetch(
      new Request('http://127.0.0.1/', { headers: { cookie: VISITOR } }),
    );
    expect(await res.text()).to.equal('ok');
    expect(Error.stackTraceLimit).to.equal(stackTraceLimit);
    await t.mock.waitFor(1);
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  it('a route the middleware does not run for (mounted on a path): c.var.ours is a stand-in that tracks nothing and says where to mount; the route answers', async () => {
    const { client, errors } = clientFor(t.mock);
    const hono = new Hono<OursEnv>();
    hono.use('/api/*', ours({ client }));
    hono.get('*', (c) => {
      c.var.ours.track('Page Viewed');
      return c.text('ok');
    });
    const server = await listenHono(hono);
    const { port } = server.address() as AddressInfo;
    const said: string[] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => void said.push(args.join(' '));
    try {
      const replies = [];
      for (const path of ['/api/orders', '/public'])
        replies.push(await send(port, path, { headers: { cookie: VISITOR } }));
      expect(replies.map((r) => [r.status, r.body])).to.deep.equal([
        [200, 'ok'],
        [200, 'ok'],
      ]);
    } finally {
      console.error = error;
      server.close();
    }
    const [event] = await t.mock.waitFor(1);
    await client.flush();
    expect(event!.defaultProperties!.pathname).to.equal('/api/orders');
    expect(t.mock.events).to.have.length(1);
    expect(errors).to.deep.equal([]);
    // Said once a minute per call across the process: another test may have said it already.
    for (const line of said) expect(line).to.match(/c\.var\.ours\.track\(\).*app\.use\(ours/);
    await client.shutdown();
  });

  it("redirect(): the app's response is replaced by the 302, which carries the minted cookie", async () => {
    t.mock.experiment('landing', { variants: [{ id: 'var_b', redirect: '/landing-b' }] });
    const { client } = clientFor(t.mock, { experimentToken: EXP_TOKEN });
    const res = await app(client, { setVisitorCookie: true }).fetch(
      new Request('https://shop.example/landing'),
    );
    expect([res.status, res.headers.get('location'), await res.text()]).to.deep.equal([
      302,
      '/landing-b',
      'Redirecting to /landing-b\n',
    ]);
    expect(
      res.headers.getSetCookie().filter((c) => c.startsWith('ours_device_id=')),
    ).to.have.length(1);
    await client.shutdown();
  });

  it('a getConnInfo that throws is reported once per request; the event goes without an IP', async () => {
    const { client, errors } = clientFor(t.mock);
    const getConnInfo = (): never => {
      throw new Error('no socket here');
    };
    const res = await app(client, { getConnInfo }).fetch(
      new Request('http://127.0.0.1/', { headers: { cookie: VISITOR } }),
    );
    expect(res.status).to.equal(200);
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).not.to.have.property('ip');
    expect(errors.map((e) => e.message)).to.deep.equal([
      'getConnInfo threw: no socket here; the event goes without an IP',
    ]);
    await client.shutdown();
  });

  it('a response the cookie cannot be put on (Response.error(): immutable, not copyable) stands as the app made it; that is reported, not thrown', async () => {
    const { client, errors } = clientFor(t.mock);
    const hono = new Hono<OursEnv>();
    hono.use(ours({ client, setVisitorCookie: true }));
    hono.get('*', (c) => {
      c.var.ours.track('Failed Upstream');
      return Response.error();
    });
    const res = await hono.fetch(new Request('http://127.0.0.1/'));
    expect([res.type, res.headers.getSetCookie()]).to.deep.equal(['error', []]);
    expect(errors.map((e) => e.message)).to.have.length(1);
    expect(errors[0]!.message).to.match(/^tracking failed: /);
    await client.shutdown();
  });

  it('a client that goes away before the route answers: its calls are handed off then (c.req.raw.signal)', async () => {
    const { client } = clientFor(t.mock);
    const [tracked, upstream] = [signal(), signal()];
    const hono = new Hono<OursEnv>();
    hono.use(ours({ client }));
    hono.get('*', async (c) => {
      c.var.ours.track('Report Requested');
      tracked.resolve();
      await upstream.promise;
      return c.text('late');
    });
    const server = await listenHono(hono);
    try {
      await abortWhen((server.address() as AddressInfo).port, tracked.promise);
      const [event] = await t.mock.waitFor(1);
      expect(event!.event).to.equal('Report Requested');
      upstream.resolve();
    } finally {
      server.close();
    }
    await client.shutdown();
  });
});
