/**
 * The baseline phases just before and after phase `i`, those that exist.
 * Comparing a phase with their mean cancels the drift of a shared machine
 * over a few seconds (bench/run.mjs `parts`, bench/stores.mjs A/B).
 */
export function neighbours(phases, i, isBaseline) {
  const before = phases.slice(0, i).findLast(isBaseline);
  const after = phases.slice(i + 1).find(isBaseline);
  return [before, after].filter((p) => p !== undefined);
}
