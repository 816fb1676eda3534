import { describeValue, OursConfigError } from './errors';

/**
 * A whole-number option, its default applied: an `OursConfigError` naming
 * `option` (`fileStore.flushMs`, `maxQueueSize`) and its range otherwise.
 * Millisecond options pass `MAX_TIMER_MS` as `max`: past it, setTimeout
 * would fire after 1 ms.
 */
export function wholeOption(
  option: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max?: number,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || (max !== undefined && v > max)) {
    const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new OursConfigError(
      option,
      `must be a whole number ${range}, got ${describeValue(value)}`,
    );
  }
  return v;
}
