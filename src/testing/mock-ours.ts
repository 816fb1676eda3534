import { setMaxListeners } from 'node:events';
import {
  assertExperiment,
  type MockExperiment,
  type MockImpression,
  type MockPersonalization,
} from './experiments';
import type { HandlerEnv } from './handle';
import type { MockScript } from './script';
import { serve, stop, type Served } from './server';
import { MockState, waitForCount } from './state';
import type {
  MockEvent,
  MockIdentify,
  MockOursOptions,
  MockRequest,
  MockViolation,
  WaitForOptions,
} from './types';

/**
 * Starts a mock Ours API on a real HTTP server and resolves once it listens.
 *
 * @example
 * const mock = await createMockOurs({ token: 'test-token' });
 * // Give your client mock.url as its apiUrl, then send an event with it.
 * await fetch(`${mock.url}/track`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ token: 'test-token', event: 'Signup', distinctId: 'order-1' }),
 * });
 * await mock.waitFor(1);
 * await mock.close();
 */
export async function createMockOurs(options: MockOursOptions = {}): Promise<MockOurs> {
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) {
    throw new TypeError('createMockOurs(): token must be a non-empty string');
  }
  const state = new MockState();
  const closing = new AbortController();
  setMaxListeners(0, closing.signal); // each delayed or hung request listens: a test may hang many
  const env: HandlerEnv = {
    state,
    token: options.token,
    experimentToken: options.experimentToken,
    closing: closing.signal,
  };
  const served = await serve(env, options.port ?? 0, options.host ?? '127.0.0.1');
  return new MockOurs(served, state, closing);
}

/**
 * A running mock Ours API. Get one from `createMockOurs()`; `close()` it after the tests.
 * Lists are live and cleared in place by `reset()`.
 *
 * @example
 * afterEach(() => { expect(mock.violations).to.deep.equal([]); mock.reset(); });
 * after(() => mock.close());
 */
export class MockOurs {
  /** The base URL to give a client as its `apiUrl`, e.g. `http://127.0.0.1:41234/api/v1`. */
  readonly url: string;
  readonly port: number;
  private closed: Promise<void> | undefined;

  /** @internal Use `createMockOurs()`. */
  constructor(
    private readonly served: Served,
    private readonly state: MockState,
    private readonly closing: AbortController,
  ) {
    const { host, port } = served;
    this.port = port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/api/v1`;
  }

  /** Accepted track events in arrival order: `/track` bodies (no token) and accepted `/batch` rows. */
  get events(): readonly MockEvent[] {
    return this.state.events;
  }

  /** Accepted `/identify` bodies (no token). */
  get identifies(): readonly MockIdentify[] {
    return this.state.identifies;
  }

  /** Every request received, whatever its fate. */
  get requests(): readonly MockRequest[] {
    return this.state.requests;
  }

  /** Every contract violation seen since the last `reset()`: assert it is empty. */
  get violations(): readonly MockViolation[] {
    return this.state.violations;
  }

  /** Impressions recorded by assignments (with `track_impression` on) since the last `reset()`. */
  get impressions(): readonly MockImpression[] {
    return this.state.experiments.impressions;
  }

  /**
   * Declares experiment `key` for `POST /experiments/assignments/{key}`
   * (undeclared keys get 404). Cleared by `reset()`. Returns the mock.
   *
   * @example
   * mock.experiment('checkout', { variants: [{ id: 'ctl', isControl: true }, { id: 'b', name: 'one-page' }] });
   */
  experiment(key: string, experiment: MockExperiment): this {
    assertExperiment(key, experiment);
    this.state.experiments.experiments.set(key, experiment);
    return this;
  }

  /**
   * What `POST /experiments/personalization` answers for `visitorId` (others
   * get empty lists). Cleared by `reset()`. Returns the mock.
   *
   * @example
   * mock.personalization('v1', { properties: { segment: 'returning' } });
   */
  personalization(visitorId: string, personalization: MockPersonalization): this {
    this.state.experiments.personalizations.set(visitorId, personalization);
    return this;
  }

  /**
   * Queues scripted responses; each applies to the next matching request(s), in order.
   * Throws a TypeError on an item that cannot work. Returns the mock, for chaining.
   *
   * @example
   * mock.respondWith({ status: 429, retryAfter: 1 }, { drop: 'mid-response', path: '/batch' });
   */
  respondWith(...scripts: MockScript[]): this {
    this.state.scripts.add(scripts);
    return this;
  }

  /**
   * Resolves (with a copy of the list) once `count` events (or `of` identifies/requests)
   * arrived; rejects after `timeoutMs` (default 5000) saying what did arrive.
   *
   * @example
   * const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
   */
  waitFor(
    count: number,
    options?: WaitForOptions & { of?: 'events' | undefined },
  ): Promise<MockEvent[]>;
  waitFor(count: number, options: WaitForOptions & { of: 'identifies' }): Promise<MockIdentify[]>;
  waitFor(count: number, options: WaitForOptions & { of: 'requests' }): Promise<MockRequest[]>;
  waitFor(count: number, options: WaitForOptions = {}): Promise<unknown[]> {
    return waitForCount(this.state, count, options, this.closing.signal);
  }

  /**
   * distinctIds carried by more than one accepted event (a retry that was not needed).
   *
   * @example
   * expect(mock.duplicates()).to.deep.equal([]);
   */
  duplicates(): string[] {
    return this.state.duplicates();
  }

  /**
   * Clears recorded lists and pending scripts. Requests still in flight may record after it.
   *
   * @example
   * afterEach(() => mock.reset());
   */
  reset(): void {
    this.state.reset();
  }

  /**
   * Stops the server at once: destroys every socket (keep-alive and hung ones), ends
   * delays and hangs, rejects pending `waitFor`s. Safe to call more than once.
   *
   * @example
   * after(() => mock.close());
   */
  close(): Promise<void> {
    // Abort first: delays and hangs end, and waiters reject, before sockets go.
    this.closing.abort();
    this.closed ??= stop(this.served);
    return this.closed;
  }
}
