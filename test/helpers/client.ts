import { OursClient, type ClientOptions, type Logger, type OursError } from '../../src/index';
import type { MockOurs } from '../../src/testing';

export const TOKEN = 'tok_test_secret_123';

/** Retries that take milliseconds, not minutes. */
export const FAST_RETRY = { initialDelayMs: 5, maxDelayMs: 20, jitterMs: [0, 0] as const, maxAttempts: 5 };

/** Every logger call, so tests can assert what was (and was not) logged. */
export function captureLogger(): Logger & { lines: { level: string; obj: unknown; msg?: string }[] } {
  const lines: { level: string; obj: unknown; msg?: string }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A client pointed at the mock, with fast retries and captured errors. */
export function clientFor(mock: MockOurs, options: ClientOptions = {}): { client: OursClient; errors: OursError[] } {
  const client = new OursClient({ token: TOKEN, apiUrl: mock.url, retry: FAST_RETRY, flushIntervalMs: 20, logger: false, ...options });
  const errors: OursError[] = [];
  client.on('error', (err) => errors.push(err));
  return { client, errors };
}
