import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleRequest, type HandlerEnv } from './handle';
import { sendJson } from './replies';
import type { MockScript } from './script';
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
 * const client = new OursClient({ token: 'test-token', apiUrl: mock.url });
 * client.track('Signup', { distinctId: 'order-1' });
 * await mock.waitFor(1);
 * await mock.close();
 */
export async function createMockOurs(options: MockOursOptions = {}): Promise<MockOurs> {
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) {
    throw new TypeError('createMockOurs(): token must be a non-empty string');
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new MockOurs(server, options.token);
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
  private readonly state = new MockState();
  private readonly closing = new AbortController();
  private readonly sockets = new Set<Socket>();
  private closed: Promise<void> | undefined;

  /** @internal Use `createMockOurs()`. */
  constructor(
    private readonly server: Server,
    token: string | undefined,
  ) {
    const { address, port } = server.address() as AddressInfo;
    this.port = port;
    this.url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/api/v1`;
    const env: HandlerEnv = { state: this.state, token, closing: this.closing.signal };
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      handleRequest(env, req, res).catch((err: unknown) => {
        // A closed mock or a vanished client has nobody to answer; otherwise say what broke.
        if (this.closing.signal.aborted || res.headersSent || res.destroyed) return void res.destroy();
        sendJson(res, { status: 500, body: { success: false, error: `mock error: ${String(err)}` } });
      });
    });
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
   * arrived; rejects after `timeoutMs` (default 2000) saying what did arrive.
   *
   * @example
   * const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
   */
  waitFor(count: number, options?: WaitForOptions & { of?: 'events' }): Promise<MockEvent[]>;
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
    this.closed ??= new Promise<void>((resolve) => {
      this.closing.abort();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closed;
  }
}
