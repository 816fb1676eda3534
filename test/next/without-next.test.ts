import { expect } from 'chai';
import { OursClient, OursConfigError } from '../../src/index';
import { createMockOurs } from '../../src/testing';
import { oursTracker, withOurs } from '../../adapters/next';
import { renderResponse, type NextRender } from '../../adapters/next/render-response';
import { NEXT_RENDER_SETUP } from '../../adapters/next/setup';
import type { NextCookieStore } from '../../adapters/next/next-server';
import { resolveMiddlewareConfig } from '../../src/request/middleware-config';
import { RequestTracker } from '../../src/request/tracker';
import { webSource } from '../../src/request/web-source';

// `next` is an optional peer and is not installed at the repository root: the
// adapter must import, run a wrapped handler (no after(): it hands off when
// the handler returns) and say clearly what oursTracker() needs.
describe('ours-middleware/next without Next.js installed', () => {
  it('oursTracker() rejects with an OursConfigError that names next/headers', async () => {
    const client = new OursClient({ token: 'next-token-123456', logger: false });
    try {
      const failed = await oursTracker({ client }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failed).to.be.instanceOf(OursConfigError);
      expect((failed as Error).message).to.match(/next\/headers could not be loaded/);
    } finally {
      await client.shutdown();
    }
  });

  it('a wrapped handler runs as a plain fetch handler: its event is delivered once, after the response, with the cookie on an immutable response', async () => {
    const mock = await createMockOurs();
    const client = new OursClient({ token: 'next-token-123456', apiUrl: mock.url, logger: false });
    try {
      const handler = withOurs<{ params: Promise<{ id: string }> }>(
        (_request, ctx) => {
          ctx.ours.track('Item Viewed');
          return Response.redirect('https://example.com/elsewhere', 307); // headers immutable
        },
        { client, setVisitorCookie: true },
      );
      const params = Promise.resolve({ id: '7' });
      const ctx = { params };
      const res = await handler(
        new Request('http://shop.test/items/7?utm_source=x', {
          headers: { 'user-agent': 'test-agent' },
        }),
        ctx,
      );
      expect(ctx.params).to.equal(params); // Next's own context object, kept
      expect(res.status).to.equal(307);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ours_device_id='));
      expect(cookie).to.be.a('string');
      const [event] = await mock.waitFor(1);
      expect(event!.userId).to.equal(cookie!.split(';')[0]!.slice('ours_device_id='.length));
      expect(event!.defaultProperties).to.deep.include({
        utm_source: 'x',
        pathname: '/items/7',
        user_agent: 'test-agent',
      });
      expect(event!.defaultProperties).not.to.have.property('ip'); // no socket, no trustProxy: no IP guessed from headers
      expect(mock.violations).to.deep.equal([]);
    } finally {
      await client.shutdown();
      await mock.close();
    }
  });

  it("a handler that throws: the error is the app's, the event still goes", async () => {
    const mock = await createMockOurs();
    const client = new OursClient({ token: 'next-token-123456', apiUrl: mock.url, logger: false });
    try {
      const handler = withOurs(
        (_request, ctx) => {
          ctx.ours.track('Checkout Failed', {}, { userId: 'user-1' });
          throw new Error('boom');
        },
        { client },
      );
      const failed = await handler(
        new Request('http://shop.test/checkout', { method: 'POST' }),
        {},
      ).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((failed as Error).message).to.equal('boom');
      const [event] = await mock.waitFor(1);
      expect(event!.event).to.equal('Checkout Failed');
    } finally {
      await client.shutdown();
      await mock.close();
    }
  });

  it('optOut() twice in a route handler, after a track() with setVisitorCookie: one opt-out cookie, no visitor cookie, nothing sent', async () => {
    const client = new OursClient({ token: 'next-token-123456', logger: false });
    try {
      const handler = withOurs(
        (_request, ctx) => {
          ctx.ours.track('Before');
          ctx.ours.optOut();
          ctx.ours.optOut();
          return new Response('ok');
        },
        { client, setVisitorCookie: true },
      );
      const res = await handler(new Request('https://shop.test/privacy'), {});
      expect(res.headers.getSetCookie()).to.deep.equal([
        `ours_opt_out=1; Max-Age=${5 * 365 * 24 * 3600}; Path=/; Secure; SameSite=Lax`,
      ]);
      expect(client.stats()).to.include({ tracked: 1, dropped: 1, queued: 0 });
    } finally {
      await client.shutdown();
    }
  });

  it('optOut() twice in a server component (no cookie can be set there): reported once, naming where to call it; the calls dropped', async () => {
    const client = new OursClient({ token: 'next-token-123456', logger: false });
    const errors: Error[] = [];
    client.on('error', (err) => errors.push(err));
    try {
      const set: unknown[] = [];
      const cookies = { set: (...args: unknown[]) => set.push(args) } as unknown as NextCookieStore;
      const render: NextRender = { cookies, isAction: false, waitUntil: undefined, client };
      const config = resolveMiddlewareConfig({ client }, renderResponse, NEXT_RENDER_SETUP);
      const request = new Request('http://shop.test/', {
        headers: { cookie: 'ours_device_id=0b6f2a5e-9a4d-4c1e-8f3a-2d1c5b7e9f10' },
      });
      const ours = new RequestTracker(
        config,
        (r: Request) => webSource(r.headers, r.url, undefined),
        render,
        request,
        undefined,
      );
      ours.optOut();
      ours.optOut();
      ours.track('After');
      expect(set).to.deep.equal([]);
      expect(errors.map((e) => e.message)).to.have.length(1);
      expect(errors[0]!.message).to.match(
        /^optOut\(\): the opt-out cookie \(ours_opt_out\) could not be set.*a server component cannot set cookies.*Call optOut\(\) in a server action or a route handler/,
      );
      expect(client.stats()).to.include({ tracked: 1, dropped: 1, queued: 0 });
    } finally {
      await client.shutdown();
    }
  });

  it('refuses flushOnResponse (a returned Response cannot be held back) and unknown options, naming them', () => {
    const client = new OursClient({ token: 'next-token-123456', logger: false });
    expect(() => withOurs(() => new Response('ok'), { client, flushOnResponse: true })).to.throw(
      OursConfigError,
      /flushOnResponse/,
    );
    expect(() => withOurs(() => new Response('ok'), { client, url: '/x' } as never)).to.throw(
      OursConfigError,
      /url/,
    );
    return client.shutdown();
  });
});
