import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import Koa from 'koa';
import { PassThrough } from 'node:stream';
import { ours as oursExpress } from '../../adapters/express';
import { ours as oursKoa } from '../../adapters/koa';
import { clientFor, withMock } from '../support/client';
import { send } from '../support/http';

const VISITOR = { cookie: 'ours_device_id=5e2d9c1a-7b3f-4a6e-9c8d-1f0e2d3c4b5a' };
const STEP_MS = 60_000;

/**
 * A `req.ours` call is stamped when it is made and sent once its response
 * is over: a wall clock stepped back in between (NTP) must not make it an
 * event from the future, which the API refuses.
 */
describe('a wall clock stepped back while a response streams', () => {
  const t = withMock();
  const realNow = Date.now;
  let server: Server | undefined;
  afterEach(() => {
    Date.now = realNow;
    server?.close();
  });

  /** The handler's part: a body written, the clock stepped back, then the end. */
  function streamAcrossStep(body: PassThrough): void {
    body.write('a');
    setTimeout(() => {
      Date.now = () => realNow() - STEP_MS;
      body.end('b');
    }, 10);
  }

  async function expectSentNotDropped(
    port: number,
    client: ReturnType<typeof clientFor>,
  ): Promise<void> {
    const reply = await send(port, '/', { headers: VISITOR });
    expect(reply.body).to.equal('ab');
    expect(await client.client.flush()).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    expect(client.errors).to.deep.equal([]);
    expect(t.mock.events[0]!.time).to.be.at.most(Date.now()); // the stepped clock's now: in the past for the API
    await client.client.shutdown();
  }

  it('Express: the event is sent, at the time of the clock it is sent by', async () => {
    const client = clientFor(t.mock);
    const app = express();
    app.use(oursExpress({ client: client.client }));
    app.get('/', (req, res) => {
      req.ours.track('Streamed');
      const body = new PassThrough();
      body.pipe(res);
      streamAcrossStep(body);
    });
    server = app.listen(0);
    await new Promise((resolve) => server!.once('listening', resolve));
    await expectSentNotDropped((server.address() as AddressInfo).port, client);
  });

  it('Koa: the event is sent, at the time of the clock it is sent by', async () => {
    const client = clientFor(t.mock);
    const app = new Koa();
    app.use(oursKoa({ client: client.client }));
    app.use((ctx) => {
      ctx.ours.track('Streamed');
      const body = new PassThrough();
      ctx.body = body;
      streamAcrossStep(body);
    });
    server = app.listen(0);
    await new Promise((resolve) => server!.once('listening', resolve));
    await expectSentNotDropped((server.address() as AddressInfo).port, client);
  });
});
