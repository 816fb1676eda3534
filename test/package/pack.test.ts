import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packedPackage, run, tsc, type Packed } from '../support/packed';

const ENTRIES = {
  'ours-middleware': [
    'OursClient',
    'OursValidationError',
    'OursDeliveryError',
    'OursConfigError',
    'version',
  ],
  'ours-middleware/express': ['ours', 'RequestTracker'],
  'ours-middleware/koa': ['ours', 'RequestTracker'],
  'ours-middleware/fastify': ['ours', 'RequestTracker'],
  'ours-middleware/node': ['oursNode', 'RequestTracker'],
  'ours-middleware/fetch': ['tracker', 'oursFetch', 'WebRequestTracker'],
  'ours-middleware/hono': ['ours', 'RequestTracker'],
  'ours-middleware/testing': ['createMockOurs'],
};

/**
 * Packs the package as npm would publish it from a fresh clone (no `dist/`:
 * `prepack` builds), installs the tarball into a throwaway project, and loads
 * every entry point with require and import, with types. Catches a wrong
 * `exports` map, a missing file in `files`, or a build that only works from
 * the source tree.
 */
describe('the packed package', function () {
  this.timeout(240_000);
  let packed: Packed;
  before(async () => {
    packed = await packedPackage();
  });

  it('ships only dist, README and package.json, and builds them from a clean clone', () => {
    expect(
      packed.files.filter(
        (f) => !f.startsWith('dist/') && !['README.md', 'package.json', 'LICENSE'].includes(f),
      ),
    ).to.deep.equal([]);
    expect(packed.files).to.include.members([
      'dist/esm/index.mjs',
      'dist/cjs/src/index.js',
      'dist/cjs/src/index.d.ts',
      'dist/cjs/adapters/express.js',
    ]);
  });

  it('ships no source map that names a file missing from the tarball', () => {
    const pkg = join(packed.app, 'node_modules/ours-middleware');
    const broken: string[] = [];
    for (const file of packed.files.filter((f) => /\.(m?js|d\.m?ts|map)$/.test(f))) {
      const text = readFileSync(join(pkg, file), 'utf8');
      const named = /[#@] sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      if (named && !named.startsWith('data:') && !existsSync(resolve(pkg, dirname(file), named)))
        broken.push(`${file} -> ${named}`);
      if (!file.endsWith('.map')) continue;
      const map = JSON.parse(text) as { sources: string[]; sourcesContent?: (string | null)[] };
      map.sources.forEach((source, i) => {
        if (map.sourcesContent?.[i] == null && !existsSync(resolve(pkg, dirname(file), source)))
          broken.push(`${file} -> ${source}`);
      });
    }
    expect(broken).to.deep.equal([]);
  });

  for (const [entry, names] of Object.entries(ENTRIES)) {
    it(`loads ${entry} with require and with import`, async () => {
      const check = `const names = ${JSON.stringify(names)}; const missing = names.filter((n) => m[n] === undefined); if (missing.length) { console.error('missing', missing); process.exit(1); }`;
      await run(process.execPath, ['-e', `const m = require(${JSON.stringify(entry)}); ${check}`], {
        cwd: packed.app,
      });
      await run(
        process.execPath,
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); ${check}`],
        { cwd: packed.app },
      );
    });
  }

  it('require and import share one implementation (no dual-package hazard)', async () => {
    const script = `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
      const a = await import('ours-middleware'); const b = require('ours-middleware');
      if (a.OursClient !== b.OursClient) process.exit(1);`;
    await run(process.execPath, ['--input-type=module', '-e', script], { cwd: packed.app });
  });

  it('type-checks user code against every entry point, both module systems', async () => {
    const code = `import { OursClient } from 'ours-middleware';
import { ours } from 'ours-middleware/express';
import { ours as oursKoa } from 'ours-middleware/koa';
import { createMockOurs } from 'ours-middleware/testing';
import express from 'express';
import Koa from 'koa';
const client = new OursClient({ token: 't' });
const app = express();
app.use(ours({ client }));
app.get('/', (req, res) => { req.ours.track('Page Viewed', { n: 1 }); res.end(); });
const koa = new Koa();
koa.use(oursKoa({ client }));
koa.use((ctx) => { ctx.ours.track('Page Viewed'); });
void createMockOurs;
`;
    writeFileSync(join(packed.app, 'use.mts'), code);
    writeFileSync(
      join(packed.app, 'use.cts'),
      code.replace(/^import (\w+) from '(express|koa)';$/gm, "import $1 = require('$2');"),
    );
    const types = join(packed.app, 'node_modules/@types');
    await tsc(packed.app, [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--typeRoots',
      types,
      '--types',
      'node',
      '--esModuleInterop',
      '--skipLibCheck',
      'use.mts',
      'use.cts',
    ]);
  });
});
