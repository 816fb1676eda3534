import { OursClient, type ClientOptions, type Logger, type OursError } from '../../src/index';
import { expect } from 'chai';
import { createMockOurs, type MockOurs } from '../../src/testing';

export const TOKEN = 'tok_test_secret_123';

/** Retries that take milliseconds, not minutes. */
export const FAST_RETRY = {
  initialDelayMs: 5,
  maxDelayMs: 20,
  jitterMs: [0, 0] as const,
  maxAttempts: 5,
};

/** Every logger call, so tests can assert what was (and was not) logged. */
export function captureLogger(): Logger & {
  lines: { level: string; obj: unknown; msg?: string }[];
} {
  const lines: { level: string; obj: unknown; msg?: string }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) =>
    void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** `tracked = delivered + failed + dropped + queued + inFlight + held`, now. */
export function expectBalanced(client: OursClient): void {
  const s = client.stats();
  expect(s.tracked, JSON.stringify(s)).to.equal(
    s.delivered + s.failed + s.dropped + s.queued + s.inFlight + s.held,
  );
}

/**
 * The experiments budget of test clients: the mock answers on loopback, but a
 * loaded machine can take longer than the default 150 ms, and the control path
 * would then be taken. Tests of the budget set theirs.
 */
export const TEST_EXPERIMENT_BUDGET_MS = 5000;

/** A client pointed at the mock, with fast retries and captured errors. */
export function clientFor(
  mock: MockOurs,
  options: ClientOptions = {},
): { client: OursClient; errors: OursError[] } {
  const client = new OursClient({
    token: TOKEN,
    apiUrl: mock.url,
    retry: FAST_RETRY,
    flushIntervalMs: 20,
    logger: false,
    experimentBudgetMs: TEST_EXPERIMENT_BUDGET_MS,
    ...options,
  });
  const errors: OursError[] = [];
  client.on('error', (err) => errors.push(err));
  return { client, errors };
}

/**
 * One mock Ours API for a suite (`t.mock`), reset after each test, which must
 * have sent nothing that breaks the contract.
 */
export function withMock(): { readonly mock: MockOurs } {
  const box = {} as { mock: MockOurs };
  before(async () => (box.mock = await createMockOurs({ token: TOKEN })));
  afterEach(() => {
    expect(box.mock.violations.map((v) => v.message)).to.deep.equal([]);
    box.mock.reset();
  });
  after(() => box.mock.close());
  return box;
}
