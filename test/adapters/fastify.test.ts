import { Readable } from 'node:stream';
import { expect } from 'chai';
import fastify5 from 'fastify';
import fastify4 from 'fastify4';
import { ours } from '../../adapters/fastify';
import { OursClient } from '../../src/index';
import { clientFor, FAST_RETRY, TOKEN, withMock } from '../support/client';
import { send } from './harness';

const VISITOR = {
  cookie: 'ours_device_id=00000000-0000-4000-8000-000000000001',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0',
};

/** What only Fastify has: encapsulation, register options, inject, onClose. The shared cases are in the other files. */
for (const [name, create] of [
  ['Fastify 4', fastify4 as unknown as typeof fastify5],
  ['Fastify 5', fastify5],
] as const) {
  describe(`adapter: Fastify plugin [${name}]`, () => {
    const t = withMock();

    it('reply.hijack() (the route writes the raw response) and an onSend hook that sets a cookie: each response carries the minted visitor, each event goes once', async () => {
      const { client, errors } = clientFor(t.mock);
      const app = create();
      await app.register(ours, { client, setVisitorCookie: true });
      app.addHook('onSend', async (_request, reply, payload) => {
        void reply.header('set-cookie', 'app=1');
        return payload;
      });
      app.get('/hijacked', (request, reply) => {
        request.ours.track('Hijacked');
        reply.hijack();
        reply.raw.writeHead(200, { 'content-type': 'text/plain' });
        reply.raw.end('raw');
      });
      app.get('/sent', async (request) => (request.ours.track('Sent'), 'ok'));
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      try {
        const agent = { 'user-agent': VISITOR['user-agent'] };
        const hijacked = await send(port, '/hijacked', { headers: agent });
        const sent = await send(port, '/sent', { headers: agent });
        const visitorOf = (cookies: string[] | undefined): string | undefined =>
          /^ours_device_id=([^;]+)/.exec(cookies?.find((c) => c.startsWith('ours_')) ?? '')?.[1];
        expect(hijacked.body).to.equal('raw');
        expect(sent.headers['set-cookie']).to.include('app=1');
        const events = await t.mock.waitFor(2);
        expect(events.map((e) => [e.event, e.userId])).to.have.deep.members([
          ['Hijacked', visitorOf(hijacked.headers['set-cookie'])],
          ['Sent', visitorOf(sent.headers['set-cookie'])],
        ]);
        expect(events.every((e) => e.userId !== undefined)).to.equal(true);
        await client.flush();
        expect(t.mock.events).to.have.length(2);
        expect(errors).to.deep.equal([]);
      } finally {
        await app.close();
        await client.shutdown();
      }
    });

    it('applies app-wide: routes declared before it, in an encapsulated child plugin, and the 404 handler get request.ours', async () => {
      const { client, errors } = clientFor(t.mock);
      const app = create();
      app.get('/before', async (request) => (request.ours.track('Before'), 'ok'));
      await app.register(ours, { client });
      await app.register(async (child) => {
        child.get('/child', async (request) => (request.ours.track('Child'), 'ok'));
      });
      app.setNotFoundHandler(
        async (request, reply) => (
          request.ours.track('Not Found'),
          reply.status(404).send('missing')
        ),
      );
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      try {
        for (const path of ['/before', '/child', '/missing'])
          await send(port, path, { headers: VISITOR });
        const events = await t.mock.waitFor(3);
        expect(
          events.map((e) => [e.event, e.defaultProperties!.pathname, e.userId]),
        ).to.have.deep.members([
          ['Before', '/before', '00000000-0000-4000-8000-000000000001'],
          ['Child', '/child', '00000000-0000-4000-8000-000000000001'],
          ['Not Found', '/missing', '00000000-0000-4000-8000-000000000001'],
        ]);
        expect(errors).to.deep.equal([]);
      } finally {
        await app.close();
        await client.shutdown();
      }
    });

    it("registered inside a plugin: its routes and its children's get request.ours, as with fastify-plugin; a route outside answers, tracks nothing, and is told where to register", async () => {
      const { client, errors } = clientFor(t.mock);
      const app = create();
      await app.register(
        async (api) => {
          await api.register(ours, { client });
          api.get('/inside', async (request) => (request.ours.track('Inside'), 'ok'));
          await api.register(async (nested) => {
            nested.get('/nested', async (request) => (request.ours.track('Nested'), 'ok'));
          });
        },
        { prefix: '/api' },
      );
      app.get('/outside', async (request) => (request.ours.track('Outside'), 'ok'));
      const said: string[] = [];
      const error = console.error;
      console.error = (...args: unknown[]) => void said.push(args.join(' '));
      try {
        const replies = [];
        for (const path of ['/api/inside', '/api/nested', '/outside'])
          replies.push(await app.inject({ url: path, headers: VISITOR }));
        expect(replies.map((r) => [r.statusCode, r.body])).to.deep.equal([
          [200, 'ok'],
          [200, 'ok'],
          [200, 'ok'],
        ]);
      } finally {
        console.error = error;
      }
      const events = await t.mock.waitFor(2);
      await client.flush();
      expect(events.map((e) => e.event)).to.have.members(['Inside', 'Nested']);
      expect(t.mock.events).to.have.length(2);
      expect(errors).to.deep.equal([]);
      // Said once a minute per call across the process: another test may have said it already.
      for (const line of said)
        expect(line).to.match(/request\.ours\.track\(\).*app\.register\(ours/);
      await app.close();
      await client.shutdown();
    });

    it("takes Fastify's register options (prefix) without calling them unknown, and runs under inject()", async () => {
      const { client } = clientFor(t.mock);
      const app = create();
      await app.register(ours, { client, prefix: '/api' } as never);
      app.get('/', async (request) => (request.ours.track('Injected'), 'ok'));
      const reply = await app.inject({ url: '/?utm_source=inject', headers: VISITOR });
      expect(reply.statusCode).to.equal(200);
      const [event] = await t.mock.waitFor(1);
      expect(event).to.include({
        event: 'Injected',
        userId: '00000000-0000-4000-8000-000000000001',
      });
      expect(event!.defaultProperties).to.include({ utm_source: 'inject', pathname: '/' });
      await app.close();
      await client.shutdown();
    });

    it('app.close() shuts down the client the plugin made (delivering what it held); a given client stays open', async () => {
      const made = create();
      await made.register(ours, {
        token: TOKEN,
        apiUrl: t.mock.url,
        retry: FAST_RETRY,
        flushIntervalMs: 60_000,
        logger: false,
        handleSignals: false,
      });
      made.get('/', async (request) => (request.ours.track('Held Until Close'), 'ok'));
      await made.inject({ url: '/', headers: VISITOR });
      expect(t.mock.events).to.have.length(0); // a minute's flush interval: still queued
      await made.close();
      expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Held Until Close']);

      const { client } = clientFor(t.mock);
      const given = create();
      await given.register(ours, { client });
      await given.close();
      client.track({ event: 'After Close', userId: '00000000-0000-4000-8000-000000000002' });
      expect((await client.flush()).delivered).to.equal(1);
      await client.shutdown();
    });

    it("registered twice with other options: one tracker per request (one minted visitor), the first registration's options", async () => {
      const { client } = clientFor(t.mock);
      const app = create();
      await app.register(ours, { client, setVisitorCookie: true });
      await app.register(ours, { client, setVisitorCookie: true, gpc: 'drop' });
      app.get('/', async (request) => (request.ours.track('Once'), 'ok'));
      const reply = await app.inject({
        url: '/',
        headers: { 'user-agent': VISITOR['user-agent'], 'sec-gpc': '1' },
      });
      const cookies = ([] as string[]).concat(reply.headers['set-cookie'] ?? []);
      expect(cookies).to.have.length(1);
      const [event] = await t.mock.waitFor(1);
      expect(cookies[0]).to.match(new RegExp(`^ours_device_id=${event!.userId};`));
      expect(event!.eventProperties).to.include({ gpc: 'true' }); // annotated (the first), not dropped (the second)
      await app.close();
      await client.shutdown();
    });

    it("setVisitorCookie next to the app's reply.header('set-cookie'): both reach the browser on an error reply and on a streamed one", async () => {
      const { client } = clientFor(t.mock);
      const app = create();
      await app.register(ours, { client, setVisitorCookie: true });
      app.get('/error', async (request, reply) => {
        request.ours.track('Error Reply');
        reply.header('set-cookie', 'session=abc');
        throw Object.assign(new Error('teapot'), { statusCode: 418 });
      });
      // A stream: Fastify copies its headers with setHeader(), which replaces ours; the writeHead wrapper puts it back.
      app.get('/stream', async (request, reply) => {
        request.ours.track('Stream Reply');
        reply.header('set-cookie', 'session=abc');
        return reply.send(Readable.from(['a', 'b']));
      });
      const replies = [await app.inject({ url: '/error' }), await app.inject({ url: '/stream' })];
      const events = await t.mock.waitFor(2);
      expect(replies.map((r) => r.statusCode)).to.deep.equal([418, 200]);
      for (const [i, reply] of replies.entries()) {
        const event = events.find((e) => e.event === ['Error Reply', 'Stream Reply'][i])!;
        expect(
          ([] as string[]).concat(reply.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]),
        ).to.deep.equal(['session=abc', `ours_device_id=${event.userId}`]);
      }
      await app.close();
      await client.shutdown();
    });

    it('an option error rejects app.register(), naming the option', async () => {
      const app = create();
      let error: unknown;
      try {
        await app.register(ours, {
          client: new OursClient({ token: TOKEN, logger: false, handleSignals: false }),
          gpc: 'nope' as never,
        });
      } catch (err) {
        error = err;
      }
      expect((error as Error).message).to.include('option `gpc`');
      await app.close().catch(() => undefined);
    });
  });
}
