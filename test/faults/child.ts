/** Fixtures run as real child processes (under tsx), for the shutdown, signal, deadline and store tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const FIXTURES = join(__dirname, 'fixtures');

/** A child process running a fixture under tsx (a name in `fixtures/`, or an absolute path), with its output collected. */
export interface Child {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /**
   * Resolves with the first stdout line starting with `prefix`, minus the
   * prefix. The default wait is long: under tsx, a child that loads Express or
   * Koa took 16 s to print READY on a loaded 2-core machine.
   */
  line(prefix: string, timeoutMs?: number): Promise<string>;
}

export function runFixture(file: string, arg: unknown, env?: NodeJS.ProcessEnv): Child {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(FIXTURES, file), JSON.stringify(arg)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: env && { ...process.env, ...env } },
  );
  const child: Child = {
    proc,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) =>
      proc.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    ),
    line: (prefix, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no "${prefix}" line from ${file}; stdout: ${child.stdout}; stderr: ${child.stderr}`,
              ),
            ),
          timeoutMs,
        );
        const look = (): void => {
          const found = child.stdout.split('\n').find((l) => l.startsWith(prefix));
          if (found === undefined) return;
          clearTimeout(timer);
          proc.stdout!.off('data', look);
          resolve(found.slice(prefix.length).trim());
        };
        proc.stdout!.on('data', look);
        look();
      }),
  };
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (child.stdout += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (child.stderr += s));
  return child;
}

/** Waits for the child to exit by itself within `ms`; kills it (and fails) otherwise. */
export async function exitWithin(
  child: Child,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, ms, 'timeout')));
  const result = await Promise.race([child.exited, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    child.proc.kill('SIGKILL');
    throw new Error(`the child did not exit by itself within ${ms} ms; stderr: ${child.stderr}`);
  }
  return result;
}
