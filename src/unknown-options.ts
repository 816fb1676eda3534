import { didYouMean } from './did-you-mean';
import { describeValue, OursConfigError } from './errors';

/**
 * Throws on the first key of `options` that is not in `known`, naming it and
 * the option it most likely meant: a typo (`cookiename`, `apiURL`) would
 * otherwise be ignored in silence and its default used instead.
 * `where` names the call (`ours()`), `prefix` the nesting (`retry.`).
 */
export function refuseUnknownOptions(
  options: unknown,
  known: readonly string[],
  where: string,
  prefix = '',
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OursConfigError(
      prefix ? prefix.slice(0, -1) : `options of ${where}`,
      `must be an object, got ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = didYouMean(key, known);
    const hint = guess
      ? `did you mean \`${prefix}${guess}\`?`
      : `the options are ${known.map((k) => prefix + k).join(', ')}`;
    throw new OursConfigError(prefix + key, `is not an option of ${where}: ${hint}`);
  }
}

/** The keys of an options type, listed once in a record so the compiler checks none is missing. */
export function optionNames<T>(record: Record<keyof T, true>): readonly string[] {
  return Object.keys(record);
}
