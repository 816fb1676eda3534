/**
 * The messages that tell an app it set tracking up wrong name the adapter's
 * own API: Koa's app.use, Fastify's app.register, Hono's app.use, the fetch,
 * node:http and Next.js calls; never another framework's.
 */
import { expect } from 'chai';
import fastify5 from 'fastify';
import { ours as oursExpress } from '../../adapters/express';
import { oursFetch, tracker } from '../../adapters/fetch';
import { ours as oursFastify } from '../../adapters/fastify';
import { ours as oursHono } from '../../adapters/hono';
import { ours as oursKoa } from '../../adapters/koa';
import { withOurs } from '../../adapters/next';
import { oursNode } from '../../adapters/node';
import { OursClient } from '../../src/index';
import { captureLogger, TOKEN } from '../support/client';

/** Makes the adapter's middleware once with `client`, as a per-request mistake would. */
const MADE_PER_REQUEST: Record<string, (client: OursClient) => unknown> = {
  Express: (client) => oursExpress({ client }),
  Koa: (client) => oursKoa({ client }),
  Hono: (client) => oursHono({ client }),
  fetch: (client) => oursFetch({ client }),
  'fetch tracker()': (client) =>
    tracker(new Request('http://localhost/'), { client, skip: () => false }),
  'node:http': (client) => oursNode({ client }),
  'Next.js withOurs()': (client) => withOurs(() => new Response('ok'), { client }),
};

/** What each message must name, and the Express words it must not use where they do not apply. */
const NAMES: Record<string, RegExp> = {
  Express: /app\.use\(\(req, res, next\) => ours\(\{\.\.\.\}\)\(req, res, next\)\)/,
  Koa: /app\.use\(\(ctx, next\) => ours\(\{\.\.\.\}\)\(ctx, next\)\)/,
  Hono: /app\.use\(\(c, next\) => ours\(\{\.\.\.\}\)\(c, next\)\)/,
  fetch: /const track = oursFetch\(\{ client \}\)/,
  'fetch tracker()': /define the hooks once, outside the handler/,
  'node:http': /const track = oursNode\(\{\.\.\.\}\)/,
  'Next.js withOurs()': /export const POST = withOurs\(handler, \{ client \}\)/,
  Fastify: /await app\.register\(ours, \{ client \}\)/,
};

describe('setup messages name the adapter they are about', () => {
  const clients: OursClient[] = [];
  afterEach(() => Promise.all(clients.splice(0).map((c) => c.shutdown({ timeoutMs: 100 }))));

  function newClient(): { client: OursClient; warnings: () => string[] } {
    const logger = captureLogger();
    const client = new OursClient({ token: TOKEN, apiUrl: 'http://127.0.0.1:9/api/v1', logger });
    clients.push(client);
    const warnings = (): string[] =>
      logger.lines.filter((l) => l.level === 'warn').map((l) => l.msg ?? '');
    return { client, warnings };
  }

  function expectNamed(adapter: string, warnings: string[]): void {
    const perRequest = warnings.filter((w) => /made per request/.test(w));
    expect(perRequest, warnings.join('\n')).to.have.length(1);
    expect(perRequest[0]).to.match(NAMES[adapter]!);
    if (adapter !== 'Express') expect(perRequest[0]).not.to.include('(req, res, next)');
  }

  for (const [adapter, make] of Object.entries(MADE_PER_REQUEST)) {
    it(`${adapter}: made per request, the warning says how to make it once, in its own API`, () => {
      const { client, warnings } = newClient();
      for (let i = 0; i < 25; i++) make(client);
      expectNamed(adapter, warnings());
    });
  }

  it('Fastify: registered again and again with new options, the warning names app.register', async () => {
    const { client, warnings } = newClient();
    const app = fastify5();
    for (let i = 0; i < 25; i++)
      await app.register(async (child) => void (await child.register(oursFastify, { client })));
    await app.close();
    expectNamed('Fastify', warnings());
  });
});
