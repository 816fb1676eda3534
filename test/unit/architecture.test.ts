import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
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
    const offending = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'adapters'))].flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${relative(root, file)}:${i + 1}` }))
        .filter(({ line }) => /['"`]ours-middleware: /.test(line))
        .map(({ at }) => at),
    );
    expect(offending).to.deep.equal([]);
  });

  it('nothing turns off TLS certificate checks', () => {
    const offending = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'adapters'))].filter((file) =>
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
      'src/client/admission.ts': { count: 1, why: "an event's time (from track() and from a held req.ours call), checked against the 7-day window" },
      'src/request/tracker.ts': { count: 3, why: 'event times; the fbc cookie timestamp' },
      'src/client/backoff.ts': { count: 1, why: 'a Retry-After HTTP date, read against the wall clock once' },
      'src/stores/file/recover-dir.ts': { count: 1, why: "a stored event's age (its time is wall clock)" },
      'src/stores/redis-store.ts': { count: 1, why: "a stored event's age (its time is wall clock)" },
      'src/testing/validate-body.ts': { count: 3, why: 'the mock checks event times as the API does (two are in a TSDoc example)' },
      'src/testing/experiments.ts': { count: 1, why: "the mock's assigned_at, a wall-clock date as the API gives it" },
      'src/testing/record-request.ts': { count: 1, why: "the mock's receivedAt, documented as Date.now()" },
      'src/testing/types.ts': { count: 1, why: 'the TSDoc of receivedAt' },
    };
    const found: Record<string, number> = {};
    for (const file of [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'adapters'))]) {
      const count = readFileSync(file, 'utf8').split('Date.now(').length - 1;
      if (count) found[relative(root, file)] = count;
    }
    expect(found).to.deep.equal(Object.fromEntries(Object.entries(allowed).map(([file, { count }]) => [file, count])));
  });
});
