import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { importCycles, importsOf, resolveImport, sourceFiles } from '../support/imports';

const root = resolve(__dirname, '../..');

/**
 * The core (src/ outside request/) imports nothing from request/ or
 * adapters/. src/index.ts, the package's entry point, re-exports the request
 * helpers that are public API (redactUrl, the option types): the one exception.
 */
function layerViolations(srcDir: string): string[] {
  const core = sourceFiles(srcDir).filter(
    (file) =>
      !relative(srcDir, file).startsWith(`request${sep}`) && relative(srcDir, file) !== 'index.ts',
  );
  return core.flatMap((file) =>
    importsOf(file)
      .filter((spec) => {
        const target = resolveImport(file, spec);
        return (
          target !== undefined &&
          /^(request|\.\.[/\\]adapters)([/\\]|$)/.test(relative(srcDir, target))
        );
      })
      .map((spec) => `${relative(srcDir, file)} imports ${spec}`),
  );
}

/** Lines that hold code: blank lines and comments (TSDoc is required on every option) aside. */
function codeLines(file: string): number {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*$|^\s*(\/\/|\/\*|\*)/.test(line)).length;
}

/** The rule a lint config would hold: the core never depends on a framework or an adapter. */
describe('architecture', () => {
  it('src/ imports no framework and no adapter', () => {
    const offending = sourceFiles(join(root, 'src')).flatMap((file) =>
      importsOf(file)
        .filter((spec) => /^(express|koa)(\/|$)/.test(spec) || spec.includes('adapters/'))
        .map((spec) => `${relative(root, file)} imports ${spec}`),
    );
    expect(offending).to.deep.equal([]);
  });

  it('adapters import the core, never each other', () => {
    // An adapter in a folder of its own (adapters/next/) imports its own files.
    const offending = sourceFiles(join(root, 'adapters')).flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith('./') && resolve(file, '..') === join(root, 'adapters'))
        .map((spec) => `${relative(root, file)} imports ${spec}`),
    );
    expect(offending).to.deep.equal([]);
  });

  it("no message starts with 'ours-middleware:' (the logger adds the prefix once)", () => {
    const offending = [
      ...sourceFiles(join(root, 'src')),
      ...sourceFiles(join(root, 'adapters')),
    ].flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${relative(root, file)}:${i + 1}` }))
        .filter(({ line }) => /['"`]ours-middleware: /.test(line))
        .map(({ at }) => at),
    );
    expect(offending).to.deep.equal([]);
  });

  it('nothing turns off TLS certificate checks', () => {
    const offending = [
      ...sourceFiles(join(root, 'src')),
      ...sourceFiles(join(root, 'adapters')),
    ].filter((file) =>
      /rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED/.test(readFileSync(file, 'utf8')),
    );
    expect(offending).to.deep.equal([]);
  });

  /*
   * Durations, deadlines, backoffs, store windows and rate limits are measured
   * on the monotonic clock (performance.now(), timers): a wall clock stepped
   * back would stretch them by the step. Date.now() is for what is about the
   * wall clock itself, each use listed here with its reason.
   */
  it('Date.now() only where the wall clock is meant', () => {
    const allowed: Record<string, { count: number; why: string }> = {
      'src/client/admission.ts': {
        count: 1,
        why: "an event's time (from track() and from a held req.ours call), checked against the 7-day window",
      },
      'src/request/tracker.ts': {
        count: 3,
        why: "event times (track(), identify()) and the fbc cookie's timestamp",
      },
      'src/request/held-calls.ts': {
        count: 1,
        why: 'a held event stamped at its call, kept out of the future after the clock steps back',
      },
      'src/client/backoff.ts': {
        count: 1,
        why: 'a Retry-After HTTP date, read against the wall clock once',
      },
      'src/stores/file/recover-dir.ts': {
        count: 1,
        why: "a stored event's age (its time is wall clock)",
      },
      'src/stores/redis-store.ts': {
        count: 1,
        why: "a stored event's age (its time is wall clock)",
      },
      'src/testing/validate-body.ts': {
        count: 3,
        why: 'the mock checks event times as the API does (two are in a TSDoc example)',
      },
      'src/testing/experiments.ts': {
        count: 1,
        why: "the mock's assigned_at, a wall-clock date as the API gives it",
      },
      'src/testing/record-request.ts': {
        count: 1,
        why: "the mock's receivedAt, documented as Date.now()",
      },
      'src/testing/types.ts': { count: 1, why: 'the TSDoc of receivedAt' },
    };
    const found: Record<string, number> = {};
    for (const file of [
      ...sourceFiles(join(root, 'src')),
      ...sourceFiles(join(root, 'adapters')),
    ]) {
      const count = readFileSync(file, 'utf8').split('Date.now(').length - 1;
      if (count) found[relative(root, file)] = count;
    }
    expect(found).to.deep.equal(
      Object.fromEntries(Object.entries(allowed).map(([file, { count }]) => [file, count])),
    );
  });

  it('the core imports nothing from request/ or adapters/', () => {
    expect(layerViolations(join(root, 'src'))).to.deep.equal([]);
  });

  it('the layer rule catches a core file that imports the request layer or an adapter', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ours-layers-'));
    try {
      mkdirSync(join(dir, 'src', 'request'), { recursive: true });
      mkdirSync(join(dir, 'adapters'));
      writeFileSync(
        join(dir, 'src', 'request', 'tracker.ts'),
        "import type { Core } from '../core';\n",
      );
      writeFileSync(join(dir, 'adapters', 'koa.ts'), '');
      writeFileSync(
        join(dir, 'src', 'core.ts'),
        "import type { T } from './request/tracker';\nimport '../adapters/koa';\nexport type Core = 1;\n",
      );
      expect(layerViolations(join(dir, 'src'))).to.deep.equal([
        'core.ts imports ./request/tracker',
        'core.ts imports ../adapters/koa',
      ]);
      expect(
        importCycles(sourceFiles(join(dir, 'src'))).map((cycle) =>
          cycle.map((f) => relative(dir, f)),
        ),
      ).to.deep.equal([
        [join('src', 'core.ts'), join('src', 'request', 'tracker.ts'), join('src', 'core.ts')],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no import cycle in src/, type-only imports included', () => {
    const cycles = importCycles(sourceFiles(join(root, 'src'))).map((cycle) =>
      cycle.map((f) => relative(root, f)).join(' -> '),
    );
    expect(cycles).to.deep.equal([]);
  });

  /** A file over ~300 lines of code holds more than one idea. Each exception says why. */
  it('no hand-written source file over 300 lines of code', () => {
    const exceptions: Record<string, string> = {
      'src/contract/schema.ts': 'generated from the contract (scripts/gen-contract.mjs)',
    };
    const long = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'adapters'))]
      .map((file) => ({ file: relative(root, file).split(sep).join('/'), lines: codeLines(file) }))
      .filter(({ file, lines }) => lines > 300 && !(file in exceptions))
      .map(({ file, lines }) => `${file}: ${lines} lines of code`);
    expect(long).to.deep.equal([]);
  });
});
