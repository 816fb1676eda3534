import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express5, { type ErrorRequestHandler, type Express } from 'express';
import express4 from 'express4';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import { ours as oursExpress } from '../../adapters/express';
import { ours as oursKoa } from '../../adapters/koa';
import { clientFor, withMock } from '../support/client';
import { send } from '../support/http';

const VISITOR = { cookie: 'ours_device_id=5e2d9c1a-7b3f-4a6e-9c8d-1f0e2d3c4b5a' };

/**
 * `flushOnResponse` holds the end of a response until its events are
 * delivered. The app must still see the response it sent as sent: what the
 * browser gets is what it gets without the option.
 */
describe('flushOnResponse: the response the app sent is the response', () => {
  const t = withMock();
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function listen(app: { listen(port: number): Server }): Promise<number> {
    server = app.listen(0);
    await new Promise((resolve) => server!.once('listening', resolve));
    return (server.address() as AddressInfo).port;
  }

  for (const [name, express] of [
    ['Express 4', express4 as unknown as () => Express],
    ['Express 5', express5],
  ] as const) {
    it(`${name}: an error passed on after res.send() does not replace the response`, async () => {
      const { client } = clientFor(t.mock);
      const app = express();
      app.use(oursExpress({ client, flushOnResponse: true }));
      app.get('/', (req, res, next) => {
        req.ours.track('Sent Then Failed');
        res.send('ok');
        next(new Error('after the response'));
      });
      // Express's documented error handler: past the headers, it leaves the response to Express.
      const onError: ErrorRequestHandler = (err, req, res, next) => {
        if (res.headersSent) return next(err);
        res.status(500).send('error page');
      };
      app.use(onError);
      app.set('env', 'test'); // finalhandler logs nothing
      const reply = await send(await listen(app), '/', { headers: VISITOR });
      expect([reply.status, reply.body]).to.deep.equal([200, 'ok']);
      await t.mock.waitFor(1);
      await client.shutdown();
    });

    it(`${name}: a second res.end() does not end the response empty`, async () => {
      const { client } = clientFor(t.mock);
      const app = express();
      app.use(oursExpress({ client, flushOnResponse: true }));
      app.get('/', (req, res) => {
        req.ours.track('Ended Twice');
        res.end('body');
        res.end();
      });
      const reply = await send(await listen(app), '/', { headers: VISITOR });
      expect(reply.body).to.equal('body');
      await t.mock.waitFor(1);
      await client.shutdown();
    });
  }

  for (const [name, Koa] of [
    ['Koa 2', Koa2 as unknown as typeof Koa3],
    ['Koa 3', Koa3],
  ] as const) {
    it(`${name}: a response written on ctx.res is not followed by Koa's own`, async () => {
      const { client } = clientFor(t.mock);
      const app = new Koa();
      app.use(oursKoa({ client, flushOnResponse: true }));
      app.use((ctx) => {
        ctx.ours.track('Written Directly');
        ctx.res.end('direct');
      });
      const reply = await send(await listen(app), '/', { headers: VISITOR });
      expect(reply.body).to.equal('direct');
      await t.mock.waitFor(1);
      await client.shutdown();
    });
  }
});
