import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const root = join(__dirname, '../..');

/** How wrangler and Next.js resolve a package for a Worker or an edge function. */
export const WORKER_CONDITIONS = ['workerd', 'worker', 'edge-light'];

export interface WorkerBundle {
  code: string;
  /** Files that went into it, relative to the repository. */
  inputs: string[];
  /** Modules it still imports at run time (none for a Worker, but those made `external`: the app's own). */
  imports: string[];
  /** Minified and gzipped size in bytes. */
  gzipBytes: number;
}

/**
 * The built package (dist/, through its own `exports` and `imports`) bundled
 * from `entry` for a worker platform. tsconfig paths are ignored: they point
 * at the sources, and the point is the published files.
 */
export async function bundleForWorkers(
  entry: string,
  options: { format: 'esm' | 'iife'; globalName?: string; external?: string[] } = { format: 'esm' },
): Promise<WorkerBundle> {
  const result = await build({
    entryPoints: [join(root, entry)],
    absWorkingDir: root,
    bundle: true,
    write: false,
    minify: true,
    platform: 'browser',
    conditions: WORKER_CONDITIONS,
    format: options.format,
    ...(options.globalName ? { globalName: options.globalName } : {}),
    ...(options.external ? { external: options.external } : {}),
    metafile: true,
    tsconfigRaw: '{}',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  const output = Object.values(result.metafile.outputs)[0]!;
  return {
    code,
    inputs: Object.keys(result.metafile.inputs),
    imports: output.imports.map((i) => i.path),
    gzipBytes: gzipSync(code).length,
  };
}
