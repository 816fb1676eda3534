import type { Emitter } from './emitter';
import type { OursError } from './errors';
import { isThenable } from './is-thenable';
import { RateLimitedLog, type Logger } from './logger';
import type { DropInfo } from './stats';

/**
 * How failures surface without ever throwing into the host app: to the
 * client's `error`/`drop` listeners when there are any (Node would throw on
 * an `error` event nobody listens to), else to the logger, one line a minute
 * per kind of failure. The token is cut out of everything it passes on: an
 * API or proxy error text may echo it.
 */
export class Reporter {
  readonly #log = new RateLimitedLog();

  constructor(
    private readonly emitter: Emitter,
    readonly logger: Logger,
    private readonly secret: string,
  ) {}

  /** A failure: an `error` event, or a rate-limited log line. */
  error(err: OursError): void {
    err.message = this.#redact(err.message);
    if (err.stack !== undefined) err.stack = this.#redact(err.stack);
    if (this.emitter.listenerCount('error') > 0) return this.#emit('error', err);
    if (this.#log.take(`${err.name}:${err.message.slice(0, 60)}`) >= 0) {
      this.logger.error(fieldsOf(err), err.message);
    }
  }

  /** A failure said at most once a minute per `key`, whatever its message. */
  errorOnce(key: string, err: OursError): void {
    if (this.#log.take(key) >= 0) this.error(err);
  }

  /** Events that were never queued; logged (when `logMessage`) at most once a minute per reason. */
  drop(info: DropInfo, totalDropped: number, logMessage?: string): void {
    if (this.emitter.listenerCount('drop') > 0) this.#emit('drop', info);
    if (!logMessage) return;
    const held = this.#log.take(`drop:${info.reason}`);
    if (held >= 0)
      this.logger.warn(
        { reason: info.reason, dropped: totalDropped },
        held > 0 ? `${logMessage} (and ${held} more like it since the last report)` : logMessage,
      );
  }

  /** A warning said once a minute at most per `key`. */
  warnOnce(
    key: string,
    obj: Record<string, unknown>,
    message: string,
    level: 'warn' | 'error' = 'warn',
  ): void {
    if (this.#log.take(key) < 0) return;
    const safe = Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, typeof v === 'string' ? this.#redact(v) : v]),
    );
    this.logger[level](safe, this.#redact(message));
  }

  /**
   * The text with the token replaced. A token under 8 characters (a test's
   * `'t'`) is left alone: replacing it would mangle ordinary words, and real
   * tokens are far longer.
   */
  #redact(text: string): string {
    const { secret } = this;
    return secret.length >= 8 && text.includes(secret)
      ? text.split(secret).join('[redacted]')
      : text;
  }

  /**
   * To every listener, each on its own: `emit` would stop at the first that
   * throws and throw into the library's caller. A throw, or an async
   * listener's rejection, is logged (an `error` event about it could loop).
   */
  #emit(event: string, payload: unknown): void {
    for (const listener of this.emitter.rawListeners(event)) {
      try {
        const result = listener.call(this.emitter, payload);
        if (isThenable(result))
          result.then(undefined, (err: unknown) => this.#listenerFailed(event, err));
      } catch (err) {
        this.#listenerFailed(event, err);
      }
    }
  }

  #listenerFailed(event: string, err: unknown): void {
    this.logger.error(
      { err },
      this.#redact(
        `your client.on('${event}') listener threw: ${(err as Error)?.message ?? String(err)}`,
      ),
    );
  }
}

/** An error's facts beside its message, for structured loggers: its class, and what it lost. */
function fieldsOf(err: OursError): Record<string, unknown> {
  const fields: Record<string, unknown> = { error: err.name };
  for (const key of ['option', 'field', 'count', 'status'] as const) {
    const value = (err as unknown as Record<string, unknown>)[key];
    if (value !== undefined) fields[key] = value;
  }
  return fields;
}
