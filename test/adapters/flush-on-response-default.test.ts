import { expect } from 'chai';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { ours } from '../../adapters/express';
import { OursClient } from '../../src/index';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { TOKEN } from '../support/client';
import { send } from '../support/http';

/**
 * The README's "Shutdown and serverless" bound: with `flushOnResponse: true`
 * the response waits for delivery "at most 2 s", whatever the API does. The
 * core holds it (src/request/middleware-config.ts), the same for every
 * adapter, so one framework holds the default; test/adapters/lifecycle.test.ts
 * holds an explicit `timeoutMs` on each.
 */
describe('flushOnResponse: true, against a hung API', function () {
  this.timeout(20_000);
  let mock: MockOurs;
  before(async () => (mock = await createMockOurs({ token: TOKEN })));
  after(() => mock.close());

  it('holds the response about 2 s, not until the client gives the request up', async () => {
    // The client's own deadline is far past 2 s: only the default bound can release the response.
    const client = new OursClient({ token: TOKEN, apiUrl: mock.url, timeoutMs: 15_000 });
    const app = express();
    app.use(ours({ client, flushOnResponse: true }));
    app.get('/', (req, res) => {
      req.ours.track('Page Viewed');
      res.send('ok');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    mock.respondWith({ hang: true });
    try {
      const reply = await send((server.address() as AddressInfo).port, '/', {
        headers: { cookie: 'ours_device_id=5e2d9c1a-7b3f-4a6e-9c8d-1f0e2d3c4b5a' },
      });
      expect(reply.status).to.equal(200);
      expect(reply.body).to.equal('ok');
      expect(mock.events, 'nothing delivered: the API hangs').to.deep.equal([]);
      // Held by the 2 s bound: never released early, and long before the client's 15 s deadline.
      expect(reply.ms).to.be.within(1_950, 12_000);
    } finally {
      server.close();
      await client.shutdown({ timeoutMs: 100 });
    }
  });
});
