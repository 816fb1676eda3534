/**
 * ours-middleware/fetch and ours-middleware/hono on the runtimes themselves:
 * Bun.serve and Deno.serve (the built package, run by each runtime's own
 * binary), and workerd (miniflare), bundled the way wrangler does. Each
 * request's event arrives once, with the visitor cookie the response set and
 * the IP the platform gives (the peer on Bun and Deno, CF-Connecting-IP on
 * Workers), never one taken from a client's forwarding header.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { send } from '../adapters/harness';
import { binaryOf, RUNTIMES } from './binaries';
import { bundleForWorkers } from './worker-bundle';

const root = join(__dirname, '../..');
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const VISITOR = '00000000-0000-4000-8000-00000000000a';
/** What a client could send to claim another IP. */
const FORGED = { 'x-forwarded-for': '198.51.100.1', 'x-real-ip': '198.51.100.2' };

/** The visitor ids of a response's `ours_device_id` cookies. */
const minted = (setCookie: string | string[] | null | undefined): string[] =>
  [setCookie ?? []]
    .flat()
    .flatMap((c) => c.split(/,(?=\s*ours_device_id=)/))
    .map((c) => /ours_device_id=([^;]+)/.exec(c)?.[1])
    .filter((v): v is string => v !== undefined);

describe('fetch and Hono adapters on Bun and Deno (their own servers)', function () {
  this.timeout(60_000);
  let mock: MockOurs;
  before(async () => void (mock = await createMockOurs()));
  afterEach(() => {
    expect(mock.violations).to.deep.equal([]);
    expect(mock.duplicates()).to.deep.equal([]);
    mock.reset();
  });
  after(() => mock.close());

  for (const runtime of RUNTIMES.filter((r) => r.name === 'Bun' || r.name === 'Deno')) {
    for (const kind of ['fetch', 'hono'] as const) {
      it(`${runtime.name}, ${kind}: a minted visitor and a returning one, each event once, the IP the peer's`, async function () {
        const binary = binaryOf(runtime);
        if (typeof binary === 'string') {
          console.log(`      skipped: ${binary}`);
          return this.skip();
        }
        const server = await start(binary.path, runtime.args, kind);
        try {
          const first = await send(server.port, '/welcome?utm_source=runtime', {
            headers: { 'user-agent': UA, ...FORGED },
          });
          const second = await send(server.port, '/again', {
            headers: { 'user-agent': UA, cookie: `ours_device_id=${VISITOR}` },
          });
          expect([first.status, second.status]).to.deep.equal([200, 200]);
          const [visitor] = minted(first.headers['set-cookie']);
          expect(visitor).to.match(/^[0-9a-f-]{36}$/);
          expect(minted(second.headers['set-cookie'])).to.deep.equal([]);
          const events = await mock.waitFor(2);
          expect(
            events.map((e) => [
              e.userId,
              e.defaultProperties!.pathname,
              e.defaultProperties!.ip,
              e.eventProperties!['kind'],
            ]),
          ).to.have.deep.members([
            [visitor, '/welcome', '127.0.0.1', kind],
            [VISITOR, '/again', '127.0.0.1', kind],
          ]);
          expect(events[0]!.defaultProperties).to.include({ utm_source: 'runtime' });
          expect(JSON.parse((await send(server.port, '/shutdown')).body)).to.deep.equal({
            delivered: 0,
            failed: 0,
            dropped: 0,
          });
          expect(await server.exited).to.equal(0);
        } finally {
          server.child.kill();
        }
      });
    }
  }

  /** Starts fixtures/serve-web.mjs in the runtime; resolves once it listens. */
  function start(
    binary: string,
    args: string[],
    kind: string,
  ): Promise<{ port: number; child: ChildProcess; exited: Promise<number | null> }> {
    const child = spawn(
      binary,
      [
        ...args,
        join(__dirname, 'fixtures/serve-web.mjs'),
        pathToFileURL(root).href,
        mock.url,
        kind,
      ],
      {
        cwd: root,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let output = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`did not listen within 20 s: ${output}`)),
        20_000,
      );
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk;
        const port = /listening (\d+)/.exec(output)?.[1];
        if (port === undefined) return;
        clearTimeout(timer);
        resolve({ port: Number(port), child, exited });
      });
      void exited.then((code) => reject(new Error(`exited with ${code}: ${output}`)));
    });
  }
});

describe('fetch and Hono adapters on workerd (miniflare, bundled as wrangler does)', function () {
  this.timeout(120_000);
  let mock: MockOurs;
  let dispatch: ((path: string, headers: Record<string, string>) => Promise<Response>) | undefined;
  let dispose: (() => Promise<void>) | undefined;

  before(async function () {
    mock = await createMockOurs();
    const { Miniflare } = await import('miniflare');
    const { code, imports } = await bundleForWorkers('test/runtimes/fixtures/web-worker.mjs');
    expect(imports).to.deep.equal([]); // no node: module: it would not load in a Worker
    const mf = new Miniflare({ modules: true, script: code, compatibilityDate: '2025-01-01' });
    await mf.ready;
    dispose = () => mf.dispose();
    const api = encodeURIComponent(mock.url);
    dispatch = async (path, headers) =>
      (await mf.dispatchFetch(`http://worker.example${path}?api=${api}`, {
        headers,
      })) as unknown as Response;
  });
  afterEach(() => {
    expect(mock.violations).to.deep.equal([]);
    expect(mock.duplicates()).to.deep.equal([]);
    mock.reset();
  });
  after(async () => {
    await dispose?.();
    await mock.close();
  });

  for (const kind of ['fetch', 'hono'] as const) {
    it(`${kind}: answers at once and delivers through ctx.waitUntil, the IP from CF-Connecting-IP, the minted visitor on the response`, async () => {
      const headers = { 'user-agent': UA, 'cf-connecting-ip': '203.0.113.50', ...FORGED };
      const replies = await Promise.all([1, 2, 3].map(() => dispatch!(`/${kind}`, headers)));
      expect(await Promise.all(replies.map((r) => r.text()))).to.deep.equal(['ok', 'ok', 'ok']);
      const visitors = replies.map((r) => minted(r.headers.getSetCookie()));
      const returning = await dispatch!(`/${kind}`, {
        ...headers,
        cookie: `ours_device_id=${VISITOR}`,
      });
      expect(minted(returning.headers.getSetCookie())).to.deep.equal([]);
      const events = await mock.waitFor(4);
      expect(events.map((e) => e.userId).sort()).to.deep.equal(
        [...visitors.flat(), VISITOR].sort(),
      );
      expect(
        new Set(events.map((e) => `${e.defaultProperties!.ip} ${e.eventProperties!['kind']}`)),
      ).to.deep.equal(new Set([`203.0.113.50 ${kind}`]));
    });
  }
});
