import { inspect } from 'node:util';
import { expect } from 'chai';
import { ours as oursExpress } from '../../adapters/express';
import { ours as oursKoa } from '../../adapters/koa';
import { OursClient, type ClientOptions, type Logger } from '../../src/index';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { processHooks, send, startApp } from '../faults/support';
import { freePort } from '../support/http';

/** A token that cannot occur by accident in any text. */
const SECRET = 'tok_live_S3CR3T_9f8e7d6c5b4a';

/** Everything that could carry the token out: log calls at every level, errors, thrown errors, stats, inspections. */
class Sink {
  readonly texts: string[] = [];
  readonly calls: Record<'debug' | 'info' | 'warn' | 'error', number> = {
    debug: 0,
    info: 0,
    warn: 0,
    error: 0,
  };

  readonly logger: Logger = {
    debug: (obj, msg) => this.#log('debug', obj, msg),
    info: (obj, msg) => this.#log('info', obj, msg),
    warn: (obj, msg) => this.#log('warn', obj, msg),
    error: (obj, msg) => this.#log('error', obj, msg),
  };

  #log(level: keyof Sink['calls'], obj: unknown, msg?: string): void {
    this.calls[level]++;
    this.add(`${level}: ${msg ?? ''}`, obj);
  }

  /** Records `value` in every form a logger, a crash reporter or a developer would see it. */
  add(label: string, value: unknown): void {
    this.texts.push(label, inspect(value, { depth: Infinity, showHidden: true, getters: true }));
    try {
      this.texts.push(
        JSON.stringify(value, (_k, v: unknown) =>
          v instanceof Error
            ? { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause }
            : v,
        ) ?? '',
      );
    } catch {
      // circular: inspect above covers it
    }
    if (value instanceof Error)
      this.texts.push(String(value), value.message, value.stack ?? '', JSON.stringify(value));
  }

  /** Adds what `fn` throws (it must throw). */
  thrown(label: string, fn: () => unknown): Error {
    try {
      fn();
    } catch (err) {
      this.add(`thrown by ${label}`, err);
      return err as Error;
    }
    throw new Error(`${label} did not throw`);
  }

  leaks(): string[] {
    return this.texts.filter((t) => t.includes(SECRET)).map((t) => t.slice(0, 300));
  }
}

describe('security: the token never appears in logs, errors, stats or thrown messages', function () {
  this.timeout(30_000);
  const hooks = processHooks();
  let mock: MockOurs;
  before(async () => {
    hooks.install();
    mock = await createMockOurs({ token: 'the-token-the-api-expects' });
  });
  after(async () => {
    await mock.close();
    hooks.check();
  });
  afterEach(() => mock.reset());

  const fast = { initialDelayMs: 1, maxDelayMs: 5, jitterMs: [0, 0] as const, maxAttempts: 2 };

  /**
   * Every failure the client can meet, once with `error` listeners (errors
   * captured) and once without (errors go to the logger).
   */
  async function exercise(sink: Sink, withListeners: boolean): Promise<void> {
    const clients: OursClient[] = [];
    const make = (options: ClientOptions = {}): OursClient => {
      const client = new OursClient({
        token: SECRET,
        apiUrl: mock.url,
        retry: fast,
        flushIntervalMs: 5,
        logger: sink.logger,
        ...options,
      });
      if (withListeners) {
        client.on('error', (err) => sink.add('error event', err));
        client.on('drop', (info) => sink.add('drop event', info));
      }
      clients.push(client);
      return client;
    };
    const track = (client: OursClient, n = 2): void => {
      for (let i = 0; i < n; i++)
        client.track({ event: 'Secret Test', externalId: 'u', eventProperties: { i } });
    };
    // Server answers that echo the token back, as a careless API or proxy might.
    const echo = `token ${SECRET} is not valid here`;
    const scripts = [
      { status: 400, error: echo },
      { status: 401, error: echo },
      { status: 403, error: echo },
      { status: 404, error: echo },
      { status: 422, error: echo },
      { status: 429, retryAfter: 0, error: echo, times: 2 },
      { status: 500, error: echo, times: 2 },
      { status: 503, error: echo, times: 2 },
      { rejectGzip: true as const },
      { maxBodyBytes: 50 },
      { hang: true as const },
      { drop: 'before-response' as const },
      { drop: 'mid-response' as const },
      {
        rows: (_e: unknown, i: number) =>
          i === 0 ? ('invalid_event' as const) : ('queue_failed' as const),
        times: 3,
      },
    ];
    for (const script of scripts) {
      const client = make({ timeoutMs: 150 });
      mock.respondWith(script);
      track(client, script.maxBodyBytes ? 1 : 2);
      sink.add('flush report', await client.flush());
      sink.add('stats', client.stats());
      mock.reset();
    }
    // The API refuses every token: a 401 from the mock's own token check.
    const refused = make();
    track(refused);
    await refused.flush();
    // Network errors: connection refused, and a timeout.
    const nowhere = make({ apiUrl: `http://127.0.0.1:${await freePort()}/api/v1` });
    track(nowhere);
    await nowhere.flush();
    // Validation errors, reported and (strict) thrown.
    const validating = make();
    validating.track({ event: '' } as never);
    validating.track({ event: 'E', externalId: 'u', time: Date.now() + 86_400_000 });
    validating.track({ event: 'E', externalId: 'u', token: SECRET } as never);
    validating.identify({ externalId: 'u', userProperties: 'nope' } as never);
    validating.track(null as never);
    const strict = make({ strict: true });
    sink.thrown('strict track', () => strict.track({ event: 'E' } as never));
    // Queue full, shutdown deadline, events after shutdown.
    const full = make({ maxQueueSize: 1, flushIntervalMs: 60_000 });
    track(full, 3);
    const late = make({ timeoutMs: 5000 });
    mock.respondWith({ hang: true, times: 'always' });
    track(late);
    sink.add('shutdown report', await late.shutdown({ timeoutMs: 100 }));
    track(late);
    mock.reset();
    // The middleware: a throwing hook, and a route that tracks.
    const hooked = make();
    const app = await startApp('express', hooked, {
      ours: {
        beforeSend: () => {
          throw new Error('hook failed');
        },
      },
    });
    await send(app.port, '/', { headers: { 'x-id': 'secret-hook' } });
    await app.close();
    for (const client of clients) {
      await client.shutdown({ timeoutMs: 200 });
      sink.add('stats', client.stats());
      sink.add('client', client);
    }
  }

  for (const withListeners of [true, false]) {
    it(`across 400/401/403/404/413/415/422/429/500/503, resets, timeouts, validation, queue and shutdown failures (${withListeners ? 'error listeners' : 'logger only'})`, async () => {
      const sink = new Sink();
      await exercise(sink, withListeners);
      expect(sink.texts.length).to.be.greaterThan(40);
      if (!withListeners) expect(sink.calls.error).to.be.greaterThan(5); // failures did reach the logger
      expect(sink.leaks()).to.deep.equal([]);
    });
  }

  it('with the default console logger too', async () => {
    const sink = new Sink();
    const saved = {
      debug: console.debug,
      info: console.info,
      log: console.log,
      warn: console.warn,
      error: console.error,
    };
    for (const level of Object.keys(saved) as (keyof typeof saved)[])
      console[level] = (...args: unknown[]) => sink.add(`console.${level}`, args);
    try {
      const client = new OursClient({
        token: SECRET,
        apiUrl: mock.url,
        retry: fast,
        flushIntervalMs: 5,
      });
      mock.respondWith({ status: 400, error: `bad token ${SECRET}` });
      client.track({ event: 'E', externalId: 'u' });
      await client.flush();
      mock.respondWith({ status: 500, error: `down ${SECRET}`, times: 2 });
      client.track({ event: 'E', externalId: 'u' });
      await client.flush();
      client.track({ event: '' } as never);
      await client.shutdown();
    } finally {
      Object.assign(console, saved);
    }
    expect(sink.texts.length).to.be.greaterThan(0);
    expect(sink.leaks()).to.deep.equal([]);
  });

  it('configuration errors never quote the token', () => {
    const sink = new Sink();
    const bad: ClientOptions[] = [
      { token: SECRET, maxBatchSize: 0 },
      { token: SECRET, apiUrl: 'http://api.example.com' },
      { token: SECRET, apiUrl: 'not a url' },
      { token: SECRET, apiUrl: 'ftp://api.example.com' },
      { token: SECRET, retry: { jitterMs: [5, 1] } },
      { token: SECRET, endpoint: 'nope' as never },
      { token: SECRET, fetch: 'nope' as never },
      { token: `${SECRET}${'x'.repeat(250)}` },
      { token: [SECRET] as never },
      { token: { value: SECRET } as never },
    ];
    for (const options of bad)
      sink.thrown(
        `new OursClient(${Object.keys(options).join(', ')})`,
        () => new OursClient(options),
      );
    const client = new OursClient({ token: SECRET, logger: false });
    sink.thrown('express ours() with a client and a token', () =>
      oursExpress({ client, token: SECRET }),
    );
    sink.thrown('koa ours() with a client and a token', () => oursKoa({ client, token: SECRET }));
    sink.thrown('express ours() with a bad cookie name', () =>
      oursExpress({ token: SECRET, cookieName: 'a b' }),
    );
    sink.thrown('koa ours() with a bad trustProxy', () =>
      oursKoa({ token: SECRET, trustProxy: 'not-a-cidr/99' }),
    );
    sink.add('stats', client.stats());
    sink.add('client', client);
    sink.add('middleware', oursExpress({ token: SECRET, logger: false }));
    sink.add('koa middleware', oursKoa({ token: SECRET, logger: false }));
    expect(sink.texts.length).to.be.greaterThan(20);
    expect(sink.leaks()).to.deep.equal([]);
  });
});
