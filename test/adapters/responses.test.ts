/**
 * Responses that carry no body: a HEAD request (the framework runs the GET
 * route and sends its headers only) and a 304. The route's event goes once,
 * and a visitor minted there gets its cookie on that response.
 */
import { expect } from 'chai';
import { adapterSuite } from './harness';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

/** The visitor id a response set, if any. */
const visitorOf = (cookies: string[] | undefined): string | undefined =>
  /^ours_device_id=([^;]+); Max-Age=31536000; Path=\/; SameSite=Lax$/.exec(
    cookies?.find((c) => c.startsWith('ours_device_id=')) ?? '',
  )?.[1];

adapterSuite('adapter: bodiless responses', (t) => {
  it('HEAD: the route runs once, its event goes once, with the visitor the cookie set', async () => {
    const app = await t.start({ ours: { setVisitorCookie: true } });
    app.handle(({ ours }) => ours.track('Page Viewed'));
    const reply = await app.get('/', { method: 'HEAD', headers: { 'user-agent': UA } });
    expect([reply.status, reply.body]).to.deep.equal([200, '']);
    await app.client.flush();
    expect(t.mock.events.map((e) => [e.event, e.userId])).to.deep.equal([
      ['Page Viewed', visitorOf(reply.headers['set-cookie'])],
    ]);
    expect(visitorOf(reply.headers['set-cookie'])).to.be.a('string');
  });

  it('304 Not Modified: its event goes once, with the visitor the cookie set', async () => {
    const app = await t.start({ ours: { setVisitorCookie: true } });
    app.handle(({ ours, res, reply }) => {
      ours.track('Not Modified');
      if (!t.fw.nodeResponse) return new Response(null, { status: 304 });
      if (reply) return void (reply as { code(n: number): { send(): void } }).code(304).send();
      res.statusCode = 304;
      res.end();
    });
    const reply = await app.get('/', { headers: { 'user-agent': UA } });
    expect(reply.status).to.equal(304);
    await app.client.flush();
    expect(t.mock.events.map((e) => [e.event, e.userId])).to.deep.equal([
      ['Not Modified', visitorOf(reply.headers['set-cookie'])],
    ]);
    expect(visitorOf(reply.headers['set-cookie'])).to.be.a('string');
  });
});
