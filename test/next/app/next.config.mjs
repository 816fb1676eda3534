// The test app of test/next, built by `next build` in test/next/next<version>/build
// (a copy of this folder, so each version's node_modules is found).
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nextMajor = Number(createRequire(import.meta.url)('next/package.json').version.split('.')[0]);
// ours-middleware is linked from the repository root, outside the app: Turbopack
// (Next 16's default builder) compiles only files under its root.
const repoRoot = resolve(here, '../../../..');

/** @type {Record<string, unknown>} */
const config = {
  typescript: { ignoreBuildErrors: process.env.OURS_NEXT_TYPECHECK !== '1' },
  ...(nextMajor < 16 ? { eslint: { ignoreDuringBuilds: true } } : {}),
  ...(nextMajor >= 16 ? { turbopack: { root: repoRoot } } : {}),
  ...(nextMajor === 15 ? { outputFileTracingRoot: repoRoot } : {}),
};
export default config;
