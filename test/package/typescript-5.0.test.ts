import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packedPackage, root, run, type Packed } from '../support/packed';

/**
 * The README's "TypeScript 5.0 or later", held with TypeScript 5.0 itself
 * (from test/runtimes/bin, installed by `npm ci --prefix test/runtimes/bin`
 * as CI does; without it the test skips and says why). The rest of
 * test/package compiles with the repository's own TypeScript.
 */
const TSC_5_0 = join(root, 'test/runtimes/bin/node_modules/typescript50/bin/tsc');

const COMPILER_OPTIONS = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  target: 'es2022',
  strict: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  types: ['node'],
};

describe('the packed package under TypeScript 5.0', function () {
  this.timeout(240_000);
  let packed: Packed;
  before(async function () {
    if (!existsSync(TSC_5_0)) {
      console.log(`      skipped: ${TSC_5_0} is not installed (npm ci --prefix test/runtimes/bin)`);
      this.skip();
    }
    packed = await packedPackage();
  });

  it('compiles test/package/fixtures/app.ts against every entry point, the declarations included', async () => {
    const dir = join(packed.app, 'typescript-5.0');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'ts50', private: true, type: 'module' }),
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files: ['app.ts'] }),
    );
    writeFileSync(join(dir, 'app.ts'), readFileSync(join(__dirname, 'fixtures/app.ts'), 'utf8'));
    const output = await run(process.execPath, [TSC_5_0, '-p', '.'], {
      cwd: dir,
      maxBuffer: 16 << 20,
    }).then(
      () => '',
      (err: Error & { stdout?: string }) => err.stdout ?? err.message,
    );
    // The frameworks' own declarations need a newer TypeScript (Fastify 5's NoInfer is 5.4,
    // Hono's and @types/koa's newer still): their errors are theirs. Ours and the app's must be none.
    const errors = output.split('\n').filter((line) => /\): error TS\d+/.test(line));
    const ours = errors.filter(
      (line) => !/node_modules\//.test(line) || /node_modules\/ours-middleware\//.test(line),
    );
    expect(ours).to.deep.equal([]);
  });
});
