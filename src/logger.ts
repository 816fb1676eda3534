/**
 * A pino-compatible logger: pino, bunyan, winston and `console` all fit.
 * Only `warn` and `error` carry anything above debug; event bodies (which may
 * hold health data) are only ever passed to `debug`.
 */
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

const noop = (): void => {};

/**
 * The default: warnings and errors to the console, nothing else, one line
 * each. Every message is a whole sentence; the object beside it repeats its
 * facts as fields for structured loggers (pino), so it is not printed here.
 */
export const consoleLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (_obj, msg) => console.warn(`[ours-middleware] ${msg ?? ''}`),
  error: (_obj, msg) => console.error(`[ours-middleware] ${msg ?? ''}`),
};

/**
 * Lets a repeated message through at most once per `intervalMs`, counting what
 * it held back, so an outage or a flood of drops costs one log line a minute
 * (on the monotonic clock: a wall clock stepped back would mute it for the step).
 */
export class RateLimitedLog {
  #last = new Map<string, number>();
  #held = new Map<string, number>();
  constructor(private readonly intervalMs = 60_000) {}

  /** Returns how many were held back since the last one let through, or -1 to hold this one. */
  take(key: string, now = performance.now()): number {
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.intervalMs) {
      this.#held.set(key, (this.#held.get(key) ?? 0) + 1);
      return -1;
    }
    this.#last.set(key, now);
    const held = this.#held.get(key) ?? 0;
    this.#held.delete(key);
    return held;
  }
}

/**
 * The app's logger, made unable to throw into the code that reports through
 * it (a failure report must never become the host's exception).
 */
export function safeLogger(logger: Logger): Logger {
  const guard =
    (level: keyof Logger) =>
    (obj: unknown, msg?: string): void => {
      try {
        logger[level](obj, msg);
      } catch {
        // nowhere left to report it
      }
    };
  return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
}
