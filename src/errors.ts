import { describeIssue, type ContractIssue } from './contract/check';

/**
 * Base class of every error this package reports. Messages never contain the
 * API token or event contents (they may hold health data).
 */
export class OursError extends Error {
  override name = 'OursError';
}

/**
 * An option passed to `new OursClient()`, `ours()` or a store is wrong.
 * Thrown at construction, never later.
 */
export class OursConfigError extends OursError {
  override name = 'OursConfigError';
  constructor(
    /** The option at fault, e.g. `maxBatchSize`. */
    readonly option: string,
    message: string,
    /** The environment variable the value came from, when it did not come from the code. */
    readonly envVariable?: string,
  ) {
    super(
      `option \`${option}\`${envVariable ? ` (from the ${envVariable} environment variable)` : ''} ${message}`,
    );
  }
}

/**
 * A wrong value, as an error message should show it: `NaN`, `the string '10'`
 * (not `10`, which reads as a number), `an object`. Strings are cut at 60
 * characters. Only configuration values and non-finite numbers are ever
 * described in full (never the token, never an event's contents).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return `the string '${value.length > 60 ? `${value.slice(0, 59)}…` : value}'`;
  if (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === undefined
  )
    return String(value);
  if (Array.isArray(value)) return 'an array';
  return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value}`;
}

/**
 * An event broke the API contract and was not queued.
 *
 * @example
 * client.on('error', (err) => {
 *   if (err instanceof OursValidationError) console.warn(err.field, err.problem, err.limit);
 * });
 */
export class OursValidationError extends OursError {
  override name = 'OursValidationError';
  /** Dotted path of the first offending field, e.g. `userProperties.email`. */
  readonly field: string;
  /** What is wrong with that field, in words. */
  readonly problem: string;
  /** The limit that was broken, when there is one. */
  readonly limit: number | string | undefined;
  /** Every issue found in the event, the first of which is described above. */
  readonly issues: readonly ContractIssue[];

  constructor(kind: 'track' | 'identify', issues: ContractIssue[]) {
    const [first] = issues as [ContractIssue];
    const more =
      issues.length > 1
        ? ` (and ${issues.length - 1} more: ${issues.slice(1).map(describeIssue).join('; ')})`
        : '';
    super(`${kind} dropped: ${describeIssue(first)}${more}`);
    this.field = first.field;
    this.problem = first.problem;
    this.limit = first.limit;
    this.issues = issues;
  }
}

/**
 * Delivery of some events failed for good: rejected by the API, or out of
 * retries. `count` says how many events were lost.
 */
export class OursDeliveryError extends OursError {
  override name = 'OursDeliveryError';
  constructor(
    message: string,
    /** How many events this failure lost. */
    readonly count: number,
    /** HTTP status of the last attempt, when there was a response. */
    readonly status?: number,
  ) {
    super(message);
  }
}
