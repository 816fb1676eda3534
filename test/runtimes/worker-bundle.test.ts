import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { bundleForWorkers, type WorkerBundle } from './worker-bundle';

/**
 * What a Worker pays for the core (min+gzip, esbuild). The figure is in the
 * README's "Runtimes" section; raising the budget is a decision, not a fix.
 */
const BUDGET_BYTES = 24 * 1024;

/**
 * What a fetch handler or a Hono app on a Worker pays for its adapter with
 * the core (Hono itself aside): the request side adds the User-Agent parser,
 * bot detection, proxy trust and cookies. Figures in docs/runtimes.md.
 */
const ADAPTER_BUDGETS = [
  { adapter: 'ours-middleware/fetch', entry: 'fetch-entry', budget: 58 * 1024, app: [] },
  // The adapter imports the app's Hono (to cover its Context from the first request), which the app bundles anyway.
  { adapter: 'ours-middleware/hono', entry: 'hono-entry', budget: 58 * 1024, app: ['hono'] },
];

describe('worker bundle (esbuild, platform browser, conditions workerd/worker/edge-light)', function () {
  this.timeout(60_000);
  let bundle: WorkerBundle;

  before(async () => {
    bundle = await bundleForWorkers('test/runtimes/fixtures/core-entry.mjs');
  });

  it('builds from dist/ with the web platform, no Node module and no Node-only part', () => {
    // An import of a Node builtin fails the build itself on the browser platform; these say why it passed.
    expect(bundle.inputs).to.include('dist/cjs/src/platform/web.js');
    const nodeOnly = bundle.inputs.filter((f) =>
      /platform\/node|http-fetch|signals|stores\/(file|redis)/.test(f),
    );
    expect(nodeOnly, 'Node-only modules in the worker bundle').to.deep.equal([]);
    const builtins = new Set(builtinModules);
    const left = bundle.imports.filter((p) => p.startsWith('node:') || builtins.has(p));
    expect(left).to.deep.equal([]);
    expect(bundle.imports).to.deep.equal([]);
  });

  it('reads no Node global at load time (process, Buffer, setImmediate, require)', () => {
    // Outside function bodies these would throw in workerd; inside, only the node platform uses them.
    expect(bundle.code).not.to.match(/\bsetImmediate\b|\bBuffer\.|[^.]\brequire\(["']node:/);
    expect(bundle.code.match(/\bprocess\.\w+/g) ?? []).to.deep.equal([]);
  });

  it(`stays within its size budget (${BUDGET_BYTES} bytes min+gzip)`, () => {
    console.log(
      `      worker bundle: ${bundle.code.length} bytes minified, ${bundle.gzipBytes} bytes min+gzip`,
    );
    expect(bundle.gzipBytes).to.be.below(BUDGET_BYTES);
  });

  it('is the size the Runtimes section of the README states, to the KB', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const stated = /worker bundle is about (\d+) KB min\+gzip/.exec(readme);
    expect(stated, 'the README states the size').to.not.equal(null);
    expect(Math.abs(Number(stated![1]) * 1024 - bundle.gzipBytes)).to.be.at.most(1024);
  });
});

for (const { adapter, entry, budget, app } of ADAPTER_BUDGETS) {
  describe(`worker bundle of ${adapter}`, function () {
    this.timeout(60_000);
    let bundle: WorkerBundle;

    before(async () => {
      bundle = await bundleForWorkers(`test/runtimes/fixtures/${entry}.mjs`, {
        format: 'esm',
        external: app,
      });
    });

    it("builds with the web platform and imports nothing at run time but the app's own Hono", () => {
      expect(bundle.inputs).to.include('dist/cjs/src/platform/web.js');
      expect(bundle.inputs.filter((f) => /platform\/node|node-response/.test(f))).to.deep.equal([]);
      expect(bundle.imports).to.deep.equal(app);
    });

    it(`stays within its size budget (${budget} bytes min+gzip)`, () => {
      console.log(
        `      ${adapter} worker bundle: ${bundle.code.length} bytes minified, ${bundle.gzipBytes} bytes min+gzip`,
      );
      expect(bundle.gzipBytes).to.be.below(budget);
    });
  });
}
