import { inspect } from 'node:util';
import { expect } from 'chai';
import express from 'express';
import { ours } from '../../adapters/express';
import { OursClient, type Logger } from '../../src/index';
import { TOKEN, withMock } from '../support/client';
import { processHooks, send } from '../faults/support';

/**
 * The README's "Security and privacy" promise: event bodies (they may hold
 * health data) are never logged. Every failure below goes to the logger (no
 * `error` listener), at every level, and no line may quote what the events
 * carried: a property value, an email, a URL, a User-Agent.
 */
const SECRET = 'diagnosis-Xq7-hypertension';
const VISITOR = '5e2d9c1a-7b3f-4a6e-9c8d-1f0e2d3c4b5a';

/** Every logger call, as a developer reading the log would see it. */
function sink(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void =>
      void lines.push(`${level}: ${msg ?? ''} ${inspect(obj, { depth: Infinity })}`);
  return {
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}

const fast = { initialDelayMs: 1, maxDelayMs: 5, jitterMs: [0, 0] as const, maxAttempts: 2 };

describe('security: event bodies never reach the log', function () {
  this.timeout(30_000);
  const t = withMock();
  const hooks = processHooks();
  before(() => hooks.install());
  after(() => hooks.check());

  const track = (client: OursClient, n = 2): void => {
    for (let i = 0; i < n; i++)
      client.track({
        event: 'Visit Booked',
        userId: VISITOR,
        eventProperties: { reason: SECRET, i },
        userProperties: { email: `${SECRET}@example.com` },
        defaultProperties: { current_url: `https://clinic.example/${SECRET}` },
      });
  };

  it('rejected, failed, oversized, invalid and undelivered events are reported without their content', async () => {
    const { logger, lines } = sink();
    const make = (): OursClient =>
      new OursClient({
        token: TOKEN,
        apiUrl: t.mock.url,
        retry: fast,
        flushIntervalMs: 5,
        timeoutMs: 150,
        logger,
      });
    const scripts = [
      { status: 400 },
      { status: 500, times: 2 },
      { maxBodyBytes: 50 },
      { rows: () => 'invalid_event' as const },
      { drop: 'before-response' as const, times: 2 },
    ];
    for (const script of scripts) {
      const client = make();
      t.mock.respondWith(script);
      track(client);
      await client.flush();
      await client.shutdown();
      t.mock.reset();
    }
    // Invalid input: a value over its limit, a value of the wrong type.
    const invalid = make();
    invalid.track({ event: 'x', userId: VISITOR, userProperties: { email: SECRET.repeat(200) } });
    invalid.track({
      event: 'x',
      userId: VISITOR,
      eventProperties: { nested: { reason: SECRET } as unknown as string },
    });
    // A shutdown deadline with the API hung: the loss is reported with a count.
    t.mock.respondWith({ hang: true });
    track(invalid);
    await invalid.shutdown({ timeoutMs: 100 });

    expect(lines.length, 'the failures were logged').to.be.above(scripts.length);
    expect(lines.filter((l) => l.includes('Xq7'))).to.deep.equal([]);
  });

  it('a request whose hooks fail is reported without the request content', async () => {
    const { logger, lines } = sink();
    const client = new OursClient({ token: TOKEN, apiUrl: t.mock.url, flushIntervalMs: 5, logger });
    const app = express();
    app.use(
      ours({
        client,
        beforeSend: () => {
          throw new Error('hook failed');
        },
        consent: () => {
          throw new Error('consent failed');
        },
      }),
    );
    app.get('/{*path}', (req, res) => {
      req.ours.track('Visit Booked', { reason: SECRET });
      res.send('ok');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    try {
      await send(port, `/patients/${SECRET}?note=${SECRET}`, {
        headers: {
          cookie: `ours_device_id=${VISITOR}`,
          'user-agent': `Mozilla/5.0 ${SECRET}`,
          referer: `https://search.example/?q=${SECRET}`,
        },
      });
      await client.flush();
    } finally {
      server.close();
      await client.shutdown();
    }
    expect(lines.join('\n')).to.include('hook failed');
    expect(lines.filter((l) => l.includes('Xq7'))).to.deep.equal([]);
  });
});
