/**
 * A client made per request is a mistake nothing reports: many clients for
 * one token and API URL, open at once, made within a minute, are warned about
 * once, naming the fix. Sequential clients (each shut down) are not.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { ours } from '../../adapters/express';
import { OursClient } from '../../src/index';
import { MANY_CLIENTS } from '../../src/client/client-census';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { captureLogger, TOKEN } from '../support/client';
import { send } from '../support/http';

describe('client: many clients for one destination', () => {
  let mock: MockOurs;
  const clients: OursClient[] = [];
  const servers: Server[] = [];
  // A mock per test: its URL is a destination no other test has counted.
  beforeEach(async () => void (mock = await createMockOurs({ token: TOKEN })));
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
    await Promise.all(clients.splice(0).map((c) => c.shutdown({ timeoutMs: 500 })));
    await mock.close();
  });

  const perRequestWarnings = (logger: ReturnType<typeof captureLogger>): string[] =>
    logger.lines
      .filter((l) => l.level === 'warn' && /made per request/.test(l.msg ?? ''))
      .map((l) => l.msg!);

  it('new OursClient() per request (ours({ client }) in a handler): warned once, naming the fix; the requests are fine', async () => {
    const logger = captureLogger();
    const app = express();
    app.use((req, res, next) => {
      const client = new OursClient({ token: TOKEN, apiUrl: mock.url, logger }); // the mistake
      clients.push(client);
      ours({ client })(req, res, next);
    });
    app.get('/', (req, res) => {
      req.ours.track('Page Viewed', undefined, { externalId: 'u1' });
      res.send('ok');
    });
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < MANY_CLIENTS + 5; i++) expect((await send(port, '/')).status).to.equal(200);
    const warnings = perRequestWarnings(logger);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('new OursClient()');
    expect(warnings[0]).to.include('export const client = new OursClient({...})');
    expect(warnings[0]).not.to.include(TOKEN);
  });

  it('clients made one after another, each shut down before the next: no warning', async () => {
    const logger = captureLogger();
    for (let i = 0; i < MANY_CLIENTS + 5; i++) {
      const client = new OursClient({ token: TOKEN, apiUrl: mock.url, logger });
      await client.shutdown();
    }
    expect(perRequestWarnings(logger)).to.deep.equal([]);
  });

  it('as many clients for different tokens (one per tenant): no warning', async () => {
    const logger = captureLogger();
    for (let i = 0; i < MANY_CLIENTS + 5; i++)
      clients.push(new OursClient({ token: `${TOKEN}_${i}`, apiUrl: mock.url, logger }));
    expect(perRequestWarnings(logger)).to.deep.equal([]);
  });
});
