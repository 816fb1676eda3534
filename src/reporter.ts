import type { EventEmitter } from 'node:events';
import type { OursError } from './errors';
import { RateLimitedLog, type Logger } from './logger';
import type { DropInfo } from './stats';

/**
 * How failures surface without ever throwing into the host app: to the
 * client's `error`/`drop` listeners when there are any (Node would throw on
 * an `error` event nobody listens to), else to the logger, one line a minute
 * per kind of failure.
 */
export class Reporter {
  readonly #log = new RateLimitedLog();

  constructor(
    private readonly emitter: EventEmitter,
    readonly logger: Logger,
  ) {}

  /** A failure: an `error` event, or a rate-limited log line. */
  error(err: OursError): void {
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
  warnOnce(key: string, obj: object, message: string, level: 'warn' | 'error' = 'warn'): void {
    if (this.#log.take(key) >= 0) this.logger[level](obj, message);
  }

  #emit(event: string, payload: unknown): void {
    try {
      this.emitter.emit(event, payload);
    } catch (err) {
      this.logger.error({ err }, `an ours-middleware '${event}' listener threw`);
    }
  }
}
