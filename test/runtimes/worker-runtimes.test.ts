import { expect } from 'chai';
import { createMockOurs } from '../../src/testing';
import { describeContract, type RunScenario } from './contract';
import { bundleForWorkers } from './worker-bundle';

// The package bundled the way wrangler and Next.js do (esbuild, browser
// platform, worker conditions), run in Vercel's edge runtime and in workerd.
const ENTRY = 'test/runtimes/fixtures/worker-contract.mjs';

describe('worker runtimes', function () {
  this.timeout(120_000);
  let edge: RunScenario | string = 'not started';
  let edgeGzip = false;
  let workerd: RunScenario | string = 'not started';
  /** The worker's `nodeOnly()` in each runtime. */
  const nodeOnly: Record<string, () => Promise<Record<string, string>>> = {};
  const closers: (() => Promise<unknown>)[] = [];

  before(async () => {
    workerd = await startWorkerd().catch(
      (err: Error) => `workerd (miniflare) cannot start: ${err.message}`,
    );
    edge = await startEdgeRuntime().catch(
      (err: Error) => `edge-runtime cannot start: ${err.message}`,
    );
    if (typeof edge !== 'string') edgeGzip = (await edgeHasCompression) as boolean;
    console.log(`      edge runtime has CompressionStream: ${edgeGzip}`);
  });
  after(() => Promise.all(closers.map((close) => close())));

  let edgeHasCompression: Promise<unknown> = Promise.resolve(false);

  async function startEdgeRuntime(): Promise<RunScenario> {
    const { EdgeRuntime } = await import('edge-runtime');
    const { code } = await bundleForWorkers(ENTRY, { format: 'iife', globalName: 'ours' });
    const runtime = new EdgeRuntime({ initialCode: code });
    edgeHasCompression = Promise.resolve(
      runtime.evaluate<boolean>(`typeof CompressionStream === 'function'`),
    );
    // A result made in the VM's realm: copied as JSON so chai compares plain objects.
    nodeOnly['edge-runtime'] = async () =>
      JSON.parse(JSON.stringify(runtime.evaluate('ours.nodeOnly()'))) as Record<string, string>;
    return async (name, apiUrl) =>
      JSON.parse(
        JSON.stringify(
          await runtime.evaluate<Promise<unknown>>(
            `ours.run(${JSON.stringify(name)}, ${JSON.stringify(apiUrl)})`,
          ),
        ),
      );
  }

  async function startWorkerd(): Promise<RunScenario> {
    const { Miniflare } = await import('miniflare');
    const { code } = await bundleForWorkers(ENTRY, { format: 'esm' });
    const mf = new Miniflare({ modules: true, script: code, compatibilityDate: '2025-01-01' });
    await mf.ready;
    closers.push(() => mf.dispose());
    nodeOnly['workerd'] = async () =>
      (await (await mf.dispatchFetch('http://worker/node-only')).json()) as Record<string, string>;
    return async (name, apiUrl) => {
      const res = await mf.dispatchFetch(
        `http://worker/?scenario=${name}&api=${encodeURIComponent(apiUrl)}`,
      );
      const text = await res.text();
      if (res.status !== 200) throw new Error(`workerd answered ${res.status}: ${text}`);
      return JSON.parse(text) as unknown;
    };
  }

  describeContract(
    'the edge runtime (edge-runtime, Vercel)',
    () => edge,
    () => edgeGzip,
    false,
  );
  describeContract(
    'workerd (miniflare, Cloudflare Workers)',
    () => workerd,
    () => true,
    false,
  );

  for (const runtime of ['edge-runtime', 'workerd']) {
    it(`${runtime}: the Node-only parts fail when used, with an OursConfigError that says why`, async function () {
      if (!nodeOnly[runtime]) return this.skip();
      const said = await nodeOnly[runtime]();
      expect(said['handleSignals']).to.match(
        /^OursConfigError: option `handleSignals` cannot be true on this platform: it has no process signals/,
      );
      expect(said['fileStore']).to.match(
        /^OursConfigError: option `store` cannot be fileStore\(\) on this platform: .*node:fs/,
      );
      expect(said['redisStore']).to.match(
        /^OursConfigError: option `store` cannot be redisStore\(\) on this platform: .*TCP/,
      );
    });
  }

  describe('workerd: delivery on a platform that freezes', () => {
    it('a request that answers at once and hands flush() to waitUntil delivers, one API request per turn', async function () {
      const { Miniflare } = await import('miniflare').catch(() => ({ Miniflare: undefined }));
      if (!Miniflare || typeof workerd === 'string') return this.skip();
      const mock = await createMockOurs();
      const { code } = await bundleForWorkers('test/runtimes/fixtures/worker-freeze.mjs', {
        format: 'esm',
      });
      const mf = new Miniflare({ modules: true, script: code, compatibilityDate: '2025-01-01' });
      try {
        const api = encodeURIComponent(mock.url);
        expect(
          await (await mf.dispatchFetch(`http://worker/?api=${api}&n=10&r=a`)).text(),
        ).to.equal('ok');
        await mock.waitFor(10);
        expect(mock.requests).to.have.length(1);
        // Requests in parallel, on the same isolate and client: every event once.
        const answers = await Promise.all(
          ['b', 'c', 'd'].map((r) => mf.dispatchFetch(`http://worker/?api=${api}&n=5&r=${r}`)),
        );
        expect(await Promise.all(answers.map((a) => a.text()))).to.deep.equal(['ok', 'ok', 'ok']);
        await mock.waitFor(25);
        expect(mock.duplicates()).to.deep.equal([]);
        expect(mock.violations).to.deep.equal([]);
        expect(mock.requests.length).to.be.within(2, 4);
      } finally {
        await mf.dispose();
        await mock.close();
      }
    });
  });
});
