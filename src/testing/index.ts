/**
 * `ours-middleware/testing`: a mock Ours API on a real local HTTP server, for testing
 * code that sends events to Ours (this package's client, or your own app through it).
 * It validates every body against the API contract, records what it accepted, and can
 * be scripted to fail in the ways production does (429, 5xx, 207 rows, 413, 415,
 * slow or hung answers, dropped connections).
 *
 * @example
 * import { createMockOurs } from 'ours-middleware/testing';
 *
 * const mock = await createMockOurs({ token: 'test-token' });
 * mock.respondWith({ status: 429, retryAfter: 1 }); // the first request is rate limited
 * // ... point your client at mock.url and send an event ...
 * await mock.waitFor(1);
 * expect(mock.violations).to.deep.equal([]);
 * await mock.close();
 */
export { createMockOurs } from './mock-ours';
export type { MockOurs } from './mock-ours';
export { MAX_BODY_BYTES } from './read-body';
export type {
  MockExperiment,
  MockImpression,
  MockPersonalization,
  MockVariant,
} from './experiments';
export type {
  BodyLimitReply,
  DropReply,
  HangReply,
  MockScript,
  RejectGzipReply,
  RowOutcome,
  RowResolver,
  RowsReply,
  ScriptScope,
  StatusReply,
} from './script';
export type {
  ExperimentPath,
  MockEvent,
  MockIdentify,
  MockOursOptions,
  MockPath,
  MockRequest,
  MockViolation,
  WaitForOptions,
} from './types';
