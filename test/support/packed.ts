import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  type Dirent,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const root = resolve(__dirname, '../..');
export const tscBin = join(root, 'node_modules/typescript/bin/tsc');

/** What one pack of a clean copy of the repository produced. */
export interface Packed {
  /** The tarball, as `npm pack` wrote it. */
  tarball: string;
  /** A throwaway app with the tarball installed and the peers linked in. */
  app: string;
  /** Paths inside the tarball, as `npm pack --json` lists them. */
  files: string[];
}

let packed: Promise<Packed> | undefined;
let scratch: string | undefined;

process.once('exit', () => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/**
 * Packs the package from a copy of the repository without `dist/` (what a
 * fresh clone after `npm ci` holds: `prepack` must build), installs the
 * tarball into a new app, and links the peers and type packages from this
 * checkout. Done once per test run and shared by every suite that asks.
 */
export function packedPackage(): Promise<Packed> {
  packed ??= pack();
  return packed;
}

async function pack(): Promise<Packed> {
  scratch = mkdtempSync(join(tmpdir(), 'ours-pack-'));
  const clone = join(scratch, 'clone');
  for (const file of await sourceFiles()) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    try {
      cpSync(join(root, file), join(clone, file));
    } catch (err) {
      // A file deleted in the worktree but still in the index.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));

  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], {
    cwd: clone,
    maxBuffer: 64 << 20,
  });
  const report = JSON.parse(stdout.slice(stdout.indexOf('[')))[0] as {
    filename: string;
    files: { path: string }[];
  };
  const tarball = join(scratch, report.filename);

  const app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball],
    { cwd: app },
  );
  // Peers and type packages come from this checkout, linked only after npm is done:
  // npm prunes what it did not install, and would follow a link into our tree.
  const modules = join(app, 'node_modules');
  for (const dep of ['express', 'koa', 'fastify', 'hono', 'ioredis', 'tsx'])
    symlinkSync(join(root, 'node_modules', dep), join(modules, dep));
  mkdirSync(join(modules, '@types'), { recursive: true });
  for (const dep of readdirSync(join(root, 'node_modules/@types'))) {
    symlinkSync(join(root, 'node_modules/@types', dep), join(modules, '@types', dep));
  }
  return { tarball, app, files: report.files.map((f) => f.path) };
}

/** Runs the repository's own `tsc` in `cwd`; rejects with the compiler's output. */
export async function tsc(cwd: string, args: string[]): Promise<void> {
  await run(process.execPath, [tscBin, ...args], { cwd, maxBuffer: 16 << 20 }).catch(
    (err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(
        `tsc ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}${err.stderr ?? ''}`,
      );
    },
  );
}

/** The repository's files as a clone holds them (what git tracks or would track), without `dist/`. */
async function sourceFiles(): Promise<string[]> {
  const IGNORED = /^(node_modules|dist|\.git|\.tmp|bench\/\.out)(\/|$)|\.tgz$/;
  try {
    const { stdout } = await run(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { cwd: root, maxBuffer: 64 << 20 },
    );
    return stdout.split('\0').filter((f) => f && !IGNORED.test(f));
  } catch {
    // Not a git checkout (an unpacked source archive): everything but what .gitignore names.
    return (readdirSync(root, { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((d) => d.isFile())
      .map((d) => relative(root, join(d.parentPath, d.name)))
      .filter((f) => !IGNORED.test(f));
  }
}
