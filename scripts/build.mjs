// Builds dist/: tsc emits CommonJS with declarations into dist/cjs, then each
// entry point gets a thin ESM wrapper in dist/esm that re-exports the CommonJS
// build. One implementation serves both `import` and `require`, so there is no
// dual-package hazard (two OursClient classes, two queues) in a mixed app.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = {
  index: 'src/index',
  express: 'adapters/express',
  koa: 'adapters/koa',
  fastify: 'adapters/fastify',
  node: 'adapters/node',
  fetch: 'adapters/fetch',
  hono: 'adapters/hono',
  next: 'adapters/next/index',
  testing: 'src/testing/index',
};

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

const esm = join(root, 'dist/esm');
mkdirSync(esm, { recursive: true });
const load = createRequire(import.meta.url);
for (const [name, path] of Object.entries(entries)) {
  const target = `../cjs/${path}.js`;
  // Named, not `export *`: bundlers (Turbopack, esbuild) cannot see through
  // `export *` of CommonJS, and add runtime code (and a warning) for it.
  const names = Object.keys(load(join(root, 'dist/cjs', `${path}.js`))).filter(
    (n) => n !== '__esModule',
  );
  writeFileSync(join(esm, `${name}.mjs`), `export { ${names.join(', ')} } from '${target}';\n`);
  writeFileSync(join(esm, `${name}.d.mts`), `export * from '${target}';\n`);
}
