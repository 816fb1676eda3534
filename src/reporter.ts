import type { EventEmitter } from 'node:events';
import type { OursError } from './errors';
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
    private readonly emitter: EventEmitter,
    readonly logger: Logger,
    private readonly secret: string,
  ) {}

  /** A failure: an `error` event, or a rate-limited log line. */
  error(err: OursError): void {
    err.message = this.#redact(err.message);
    if (err.stack !== undefined) err.stack = this.#redact(err.stack);
    if (this.emitter.listenerCount('error') > 0) return this.#emit('error', err);
    if (this.#log.take(`${err.name}:${err.message.slice(0, 60)}`) >= 0) {
      this.logger.error({ err: { name: err.name, message: err.message } }, err.message);
    }
  }

  /** Events that were never queued; logged (when `logMessage`) at most once a minute per reason. */
  drop(info: DropInfo, totalDropped: number, logMessage?: string): void {
    if (this.emitter.listenerCount('drop') > 0) this.#emit('drop', info);
    if (!logMessage) return;
    const held = this.#log.take(`drop:${info.reason}`);
    if (held >= 0) this.logger.warn({ reason: info.reason, dropped: totalDropped }, `${logMessage} (${held} more since the last report)`);
  }

  /** A warning said once a minute at most per `key`. */
  warnOnce(key: string, obj: Record<string, unknown>, message: string, level: 'warn' | 'error' = 'warn'): void {
    if (this.#log.take(key) < 0) return;
    const safe = Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, typeof v === 'string' ? this.#redact(v) : v]));
    this.logger[level](safe, this.#redact(message));
  }

  /**
   * The text with the token replaced. A token under 8 characters (a test's
   * `'t'`) is left alone: replacing it would mangle ordinary words, and real
   * tokens are far longer.
   */
  #redact(text: string): string {
    const { secret } = this;
    return secret.length >= 8 && text.includes(secret) ? text.split(secret).join('[redacted]') : text;
  }

  #emit(event: string, payload: unknown): void {
    try {
      this.emitter.emit(event, payload);
    } catch (err) {
      this.logger.error({ err }, `an ours-middleware '${event}' listener threw`);
    }
  }
}
