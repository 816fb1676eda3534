import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { binaryOf, RUNTIMES, type Runtime } from './binaries';

const root = join(__dirname, '../..');
const fixture = join(__dirname, 'fixtures/compressors.mjs');
const built = join(root, 'dist/cjs/src/platform/gzip-compressors.js');

/** How the runtime lets a script collect garbage (Bun has `Bun.gc`). */
const gcFlags = (runtime: Runtime): string[] =>
  runtime.name.startsWith('Node')
    ? ['--expose-gc']
    : runtime.name === 'Deno'
      ? ['--v8-flags=--expose-gc']
      : [];

/**
 * The gzip compressors kept between bodies, on every runtime the package
 * runs on with node:zlib (see fixtures/compressors.mjs for what it does).
 */
describe('kept gzip compressors on each runtime', function () {
  this.timeout(90_000);

  for (const runtime of RUNTIMES)
    it(`${runtime.name}: every body whole, at most two kept, no request's context held, and the process exits by itself`, async function () {
      const binary = binaryOf(runtime);
      if (typeof binary === 'string') {
        console.log(`      skipped: ${binary}`);
        return this.skip();
      }
      const { code, stdout, stderr } = await new Promise<{
        code: number | null;
        stdout: string;
        stderr: string;
      }>((resolve) => {
        const child = execFile(
          binary.path,
          [...runtime.args, ...gcFlags(runtime), fixture, built],
          // One pool thread: the bodies queue behind pbkdf2 and each other. The
          // timeout kills a process that a kept compressor holds open (code null).
          { timeout: 60_000, env: { ...process.env, UV_THREADPOOL_SIZE: '1', NO_COLOR: '1' } },
          (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
        );
      });
      expect(code, `exited by itself, before the kill\n${stderr}`).to.equal(0);
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
        problems: string[];
        kept: number;
        contextReleased: boolean;
      };
      expect(result.problems).to.deep.equal([]);
      expect(result.kept).to.equal(2);
      expect(result.contextReleased, "a request's AsyncLocalStorage store released").to.equal(true);
    });
});
