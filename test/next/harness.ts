import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../support/http';

/*
 * The test app (test/next/app) built with the real `next build` and served
 * by `next start`, once per Next version installed under test/next/next<N>
 * (`npm ci --prefix test/next/next<N>`, done by .ci/run).
 */

const HERE = resolve(__dirname);
const REPO = resolve(HERE, '../..');

/** The Next version installed for `major`, or why there is none. */
export function nextVersion(major: number): string | { missing: string } {
  const file = join(HERE, `next${major}`, 'node_modules/next/package.json');
  if (!existsSync(file))
    return { missing: `Next ${major} is not installed: npm ci --prefix test/next/next${major}` };
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function nextBin(major: number): string {
  return join(HERE, `next${major}`, 'node_modules/next/dist/bin/next');
}

/** Runs `next <args>` in the version's build folder; rejects with its output when it fails. */
function runNext(major: number, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [nextBin(major), ...args], {
      cwd: buildDir(major),
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise(output)
        : reject(new Error(`next ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

function buildDir(major: number): string {
  return join(HERE, `next${major}`, 'build');
}

/**
 * Copies the app next to the version's node_modules, links this package in
 * as `ours-middleware` (its dist/ must be built) and runs `next build`.
 */
export async function buildApp(major: number): Promise<void> {
  const dir = buildDir(major);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(HERE, 'app'), dir, { recursive: true });
  const link = join(HERE, `next${major}`, 'node_modules/ours-middleware');
  if (!existsSync(link)) symlinkSync(REPO, link, 'dir');
  mkdirSync(join(dir, 'public'), { recursive: true });
  // A token at build time too: Next evaluates route modules (the app's client) to collect page data.
  await runNext(major, ['build'], { OURS_TOKEN: 'build-time-token-123456' });
}

/** A running `next start`: its base URL, and a way to stop it. */
export interface RunningApp {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** `next start` on a free loopback port, with the app's env (the mock API's URL); resolves once it answers. */
export async function startApp(major: number, env: NodeJS.ProcessEnv): Promise<RunningApp> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [nextBin(major), 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: buildDir(major),
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited ${child.exitCode}:\n${output}`);
    try {
      await fetch(`${url}/api/errors`);
      break;
    } catch {
      if (performance.now() - started > 30_000)
        throw new Error(`next start did not answer in 30 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolvePromise) => {
        if (child.exitCode !== null) return resolvePromise();
        child.once('exit', () => resolvePromise());
        child.kill('SIGTERM');
      }),
  };
}

/** The id of the app's one server action, from the build's manifest (what a form posts as `Next-Action`). */
export function serverActionId(major: number): string {
  const manifest = JSON.parse(
    readFileSync(join(buildDir(major), '.next/server/server-reference-manifest.json'), 'utf8'),
  ) as { node: Record<string, unknown> };
  const ids = Object.keys(manifest.node);
  if (ids.length !== 1)
    throw new Error(
      `the test app has one server action, the manifest ${ids.length}: ${JSON.stringify(manifest.node)}`,
    );
  return ids[0]!;
}
