import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');
/** Where `npm ci --prefix test/runtimes/bin` puts the runtimes (see its package.json for why apart). */
const bin = 'test/runtimes/bin/node_modules';

export interface Runtime {
  name: string;
  binary: string | string[];
  /** Arguments before the script. */
  args: string[];
}

/** Runtimes whose binaries come from the npm registry as devDependencies (see docs/runtimes.md). */
export const RUNTIMES: Runtime[] = [
  { name: 'Node 18', binary: `${bin}/node18/bin/node`, args: [] },
  { name: 'Node 20 (this node)', binary: process.execPath, args: [] },
  { name: 'Node 22', binary: `${bin}/node22/bin/node`, args: [] },
  { name: 'Node 24', binary: `${bin}/node24/bin/node`, args: [] },
  // bun's postinstall moves its platform package's binary into bun/bin; without install scripts it stays there.
  {
    name: 'Bun',
    binary: [`${bin}/bun/bin/bun.exe`, `${bin}/@oven/bun-linux-x64/bin/bun`],
    args: [],
  },
  {
    name: 'Deno',
    binary: `${bin}/@deno/linux-x64-glibc/deno`,
    args: ['run', '--allow-all', '--quiet'],
  },
];

/** The runtime's binary, or why it cannot run here (a missing package, a binary that cannot start). */
export function binaryOf(runtime: Runtime): { path: string } | string {
  const paths = [runtime.binary].flat().map((b) => (b.startsWith('/') ? b : join(root, b)));
  const path = paths.find((p) => existsSync(p));
  if (path === undefined)
    return `${paths.join(' or ')} is not installed (run 'npm ci --prefix test/runtimes/bin', or the registry has no build for this platform)`;
  try {
    execFileSync(path, ['--version'], { stdio: 'pipe', timeout: 20_000 });
  } catch (err) {
    return `${path} does not start here: ${(err as Error).message.split('\n')[0]}`;
  }
  return { path };
}
