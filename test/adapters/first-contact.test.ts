/**
 * What a new user meets in the first ten minutes (issue 11): a request
 * without a visitor, a middleware made per request, a middleware mounted
 * after the routes. Each must say what to do instead of failing in silence
 * or with a TypeError.
 */
import { execFile } from 'node:child_process';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import express5 from 'express';
import Koa3 from 'koa';
import { ours as oursExpress } from '../../adapters/express';
import { ours as oursKoa } from '../../adapters/koa';
import type { DropInfo, OursClient } from '../../src/index';
import { captureLogger, FAST_RETRY, TOKEN, withMock } from '../support/client';
import { exitWithin, runFixture } from '../faults/child';
import { lateApps } from './fixtures/mounted-late';
import { adapterSuite, send } from './harness';

adapterSuite('first contact: a request without a visitor', (t) => {
  it('is dropped as no_visitor, and the log names every remedy, loudly the first time and then once a minute', async () => {
    const logger = captureLogger();
    const app = await t.start({ ours: { client: t.client({ logger }) } });
    const drops: DropInfo[] = [];
    app.client.on('drop', (info) => drops.push(info));
    app.handle(({ ours }) => ours.track('Page Viewed'));
    for (let i = 0; i < 3; i++) expect((await app.get('/')).status).to.equal(200); // curl: no cookie
    await app.client.flush();
    expect(drops).to.deep.equal([1, 2, 3].map(() => ({ reason: 'no_visitor', count: 1 })));
    expect(app.client.stats()).to.include({ tracked: 3, dropped: 3, delivered: 0 });
    expect(app.clientErrors).to.deep.equal([]); // not a generic validation error
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).to.have.length(1);
    const [said] = warnings;
    expect(said!.obj).to.deep.include({ reason: 'no_visitor' });
    for (const remedy of [
      'ours_device_id',
      'setVisitorCookie: true',
      'identify: (req)',
      'req.ours.setIdentity(',
    ])
      expect(said!.msg).to.include(remedy);
    expect(t.mock.events).to.deep.equal([]);
  });

  it('each remedy makes the same request deliver', async () => {
    const app = await t.start({ ours: { client: t.client(), setVisitorCookie: true } });
    app.handle(({ ours }) => ours.track('Minted'));
    const minted = await app.get('/');
    expect(String(minted.headers['set-cookie'])).to.match(/^ours_device_id=[0-9a-f-]{36};/);
    const hooked = await t.start({
      ours: { client: t.client(), identify: () => ({ externalId: 'u1' }) },
    });
    hooked.handle(({ ours }) => ours.track('Hooked'));
    await hooked.get('/');
    const set = await t.start({ ours: { client: t.client() } });
    set.handle(({ ours }) => {
      ours.setIdentity({ email: 'a@example.com' });
      ours.track('Set');
    });
    await set.get('/');
    const events = await t.mock.waitFor(3);
    expect(events.map((e) => e.event).sort()).to.deep.equal(['Hooked', 'Minted', 'Set']);
  });
});

describe('first contact: a middleware made per request', function () {
  this.timeout(20_000);
  const t = withMock();
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  async function listen(listener: RequestListener): Promise<number> {
    const server = createServer(listener);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  for (const kind of ['express', 'koa'] as const) {
    it(`${kind}: 100 requests share one client (one API request, not 100) and the log says, once, to make ours() at startup`, async () => {
      const logger = captureLogger();
      // A minute's interval: everything waits for the shutdown below, however slow the machine.
      const options = {
        token: TOKEN,
        apiUrl: t.mock.url,
        retry: FAST_RETRY,
        flushIntervalMs: 60_000,
        logger,
      };
      const clients = new Set<OursClient>();
      let listener: RequestListener;
      if (kind === 'express') {
        const app = express5();
        app.use((req, res, next) => {
          const mw = oursExpress(options); // the mistake
          clients.add(mw.client);
          mw(req, res, next);
        });
        app.get('/', (req, res) => {
          req.ours.track('Page Viewed', undefined, { externalId: 'u1' });
          res.send('ok');
        });
        listener = app;
      } else {
        const app = new Koa3();
        app.use((ctx, next) => {
          const mw = oursKoa(options);
          clients.add(mw.client);
          return mw(ctx, next);
        });
        app.use((ctx) => {
          ctx.ours.track('Page Viewed', undefined, { externalId: 'u1' });
          ctx.body = 'ok';
        });
        listener = app.callback();
      }
      const port = await listen(listener);
      for (let i = 0; i < 100; i++) await send(port, '/');
      expect(clients.size).to.equal(1);
      const [client] = clients;
      await client!.shutdown();
      expect(t.mock.events).to.have.length(100);
      expect(t.mock.requests).to.have.length(1);
      const warnings = logger.lines.filter(
        (l) => l.level === 'warn' && /per request/.test(l.msg ?? ''),
      );
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.msg).to.match(
        /Make it once, at startup: `const tracking = ours\(\{\.\.\.\}\); app\.use\(tracking\);`/,
      );
    });
  }

  it('a client that was shut down is not handed out again; a given client is never shared', async () => {
    const options = { token: TOKEN, apiUrl: t.mock.url, logger: false as const };
    const first = oursExpress(options).client;
    expect(oursKoa(options).client).to.equal(first); // same destination, same options: one client
    expect(oursExpress({ ...options, flushAt: 7 }).client).not.to.equal(first); // other options: another
    await first.shutdown();
    const next = oursExpress(options).client;
    expect(next).not.to.equal(first);
    await next.shutdown();
  });
});

describe('first contact: a middleware mounted after the routes', () => {
  const t = withMock();
  const servers: Server[] = [];
  const realError = console.error;
  beforeEach(() => {
    console.error = () => undefined; // the stand-in's advice, said below in a process of its own
  });
  afterEach(async () => {
    console.error = realError;
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  for (const name of ['Express 4', 'Express 5', 'Koa 2', 'Koa 3'] as const) {
    it(`${name}: req.ours is not undefined; the route still answers and nothing is sent`, async () => {
      const apps = lateApps({ token: TOKEN, apiUrl: t.mock.url });
      const app = apps.find((a) => a.name === name)!;
      const server = createServer(app.listener);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      // Koa 2 here is a second copy of Koa (an npm alias), which require('koa')
      // does not find: its apps are covered once a request has passed ours().
      if (name === 'Koa 2') await send(port, '/other');
      const reply = await send(port, '/early');
      expect(reply).to.include({ status: 200, body: 'ok' });
      await Promise.all(apps.map((a) => a.client.shutdown())); // delivers what was queued: nothing
      expect(t.mock.requests).to.deep.equal([]);
    });
  }

  // In a process of its own: the advice is said once a minute per process, and
  // another test file may have said it first in this one.
  it('in a fresh process, the log says where the middleware goes, for each kind of app', async function () {
    this.timeout(90_000); // a child process: slow to start on a loaded machine
    const child = runFixture(join(__dirname, 'fixtures/mounted-late-child.ts'), {
      token: TOKEN,
      apiUrl: t.mock.url,
    });
    const printed = JSON.parse(await child.line('PRINTED')) as string[];
    expect((await exitWithin(child, 15_000)).code).to.equal(0);
    expect(child.stderr).to.equal('');
    // Once per call and kind of object: the other apps' calls were within the minute.
    expect(
      printed.map(
        (l) =>
          /^\[ours-middleware\] (\S+) was called, but ours\(\) did not run for this request/.exec(
            l,
          )?.[1],
      ),
    ).to.deep.equal(['req.ours.track()', 'req.ours.setIdentity()', 'ctx.ours.track()']);
    expect(printed[0]).to.include('`app.use(ours({...}))` above them');
    expect(printed[2]).to.include('mount it before the middleware that tracks');
    expect(t.mock.requests).to.deep.equal([]);
  });

  // Built package, plain Node: as an app loads it, ES module or CommonJS.
  // 'cjs, Hono required after ours()': a CommonJS entry point that loads Hono only after its first ours().
  for (const format of ['esm', 'cjs', 'cjs, Hono required after ours()'] as const) {
    it(`Hono (${format}): c.var.ours is the stand-in from the first request, one to a route outside the middleware's path`, async function () {
      this.timeout(60_000); // a child process: slow to start on a loaded machine
      const late = format.startsWith('cjs,');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          join(
            __dirname,
            late ? 'fixtures/hono-late-child.cjs' : 'fixtures/hono-unmounted-child.mjs',
          ),
          JSON.stringify({ format, token: TOKEN, apiUrl: t.mock.url }),
        ],
        { timeout: 50_000 },
      );
      const line = stdout.split('\n').find((l) => l.startsWith('ANSWER '));
      const answer = JSON.parse(line!.slice('ANSWER '.length)) as {
        status: number;
        body: string;
        printed: string[];
      };
      // c.get('ours') cannot be covered (docs/hono.md): the advice says to read c.var.ours.
      expect(answer).to.deep.include({ status: 200, body: 'function undefined' });
      expect(answer.printed).to.have.length(1);
      expect(answer.printed[0]).to.match(
        /^\[ours-middleware\] c\.var\.ours\.track\(\) was called, but ours\(\) did not run for this request.*`app\.use\(ours\(\{ client \}\)\)` first.*`c\.get\('ours'\)` is undefined/,
      );
      expect(t.mock.requests).to.deep.equal([]);
    });
  }
});
