// Modules of a built package (dist/) by path, for benches that run on older
// builds too (bench/README.md, "Before and after"): files were renamed
// across versions, and a bench copied into an old checkout must still run.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The first of `paths` (relative to `dist`/cjs/) that exists; throws naming them all when none does. */
export function requireFirst(dist, ...paths) {
  const found = requireOptional(dist, ...paths);
  if (found === undefined) throw new Error(`none of ${paths.join(', ')} in ${dist}/cjs`);
  return found;
}

/** The first of `paths` that exists, or undefined (a module an older build does not have). */
export function requireOptional(dist, ...paths) {
  for (const p of paths) {
    try {
      return require(`${dist}/cjs/${p}`);
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes(p)) throw err;
    }
  }
  return undefined;
}
