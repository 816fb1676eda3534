import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const ENTRIES = {
  'ours-middleware': ['OursClient', 'OursValidationError', 'OursDeliveryError', 'OursConfigError', 'version'],
  'ours-middleware/express': ['ours', 'RequestTracker'],
  'ours-middleware/koa': ['ours', 'RequestTracker'],
  'ours-middleware/testing': ['createMockOurs'],
};

/**
 * Packs the package as npm would publish it, installs the tarball into a
 * throwaway project, and loads every entry point with require and import, with
 * types. Catches a wrong `exports` map, a missing file in `files`, or a build
 * that only works from the source tree.
 */
describe('the packed package', function () {
  this.timeout(180_000);
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ours-pack-'));
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root });
    const tarball = join(dir, stdout.trim().split('\n').pop()!);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball], { cwd: dir });
    // Peers and type packages come from this checkout, linked only after npm is done:
    // npm prunes what it did not install, and would follow a link into our tree.
    const modules = join(dir, 'node_modules');
    for (const dep of ['express', 'koa']) symlinkSync(join(root, 'node_modules', dep), join(modules, dep));
    mkdirSync(join(modules, '@types'), { recursive: true });
    for (const dep of readdirSync(join(root, 'node_modules/@types'))) {
      symlinkSync(join(root, 'node_modules/@types', dep), join(modules, '@types', dep));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ships only dist, README and package.json', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: root });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files.filter((f) => !f.startsWith('dist/') && !['README.md', 'package.json', 'LICENSE'].includes(f))).to.deep.equal([]);
    expect(files).to.include.members(['dist/esm/index.mjs', 'dist/cjs/src/index.js', 'dist/cjs/src/index.d.ts']);
  });

  for (const [entry, names] of Object.entries(ENTRIES)) {
    it(`loads ${entry} with require and with import`, async () => {
      const check = `const names = ${JSON.stringify(names)}; const missing = names.filter((n) => m[n] === undefined); if (missing.length) { console.error('missing', missing); process.exit(1); }`;
      await run(process.execPath, ['-e', `const m = require(${JSON.stringify(entry)}); ${check}`], { cwd: dir });
      await run(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); ${check}`], { cwd: dir });
    });
  }

  it('require and import share one implementation (no dual-package hazard)', async () => {
    const script = `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
      const a = await import('ours-middleware'); const b = require('ours-middleware');
      if (a.OursClient !== b.OursClient) process.exit(1);`;
    await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
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
    writeFileSync(join(dir, 'use.mts'), code);
    writeFileSync(join(dir, 'use.cts'), code.replace(/^import (\w+) from '(express|koa)';$/gm, "import $1 = require('$2');"));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const types = join(dir, 'node_modules/@types');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--typeRoots', types, '--types', 'node', '--esModuleInterop', '--skipLibCheck'];
    await run(process.execPath, [tsc, ...flags, 'use.mts', 'use.cts'], { cwd: dir }).catch((err) => {
      throw new Error(`tsc failed:\n${err.stdout}${err.stderr}`);
    });
  });
});
