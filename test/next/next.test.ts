import { expect } from 'chai';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { until } from '../support/wait';
import { buildApp, nextVersion, serverActionId, startApp, type RunningApp } from './harness';
import { until } from '../support/wait';

// The test app (test/next/app) built by the real `next build` of each
// installed Next version and served by `next start`, sending to the mock
// Ours API: route handlers and a server component / action on Node, the
// middleware on the edge runtime (Next's own sandbox).

const TOKEN = 'next-token-123456';
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const VISITOR = '00000000-0000-4000-8000-00000000000a';
/** The Ours consent banner's cookie: analytics accepted, advertising declined. */
const BANNER_CONSENT = encodeURIComponent(
  JSON.stringify({ categories: ['analytics'], services: { analytics: [], advertising: [] } }),
);
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The visitor id a response set in `ours_device_id`, if any. */
function visitorCookie(res: Response): string | undefined {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ours_device_id='));
  return cookie?.slice('ours_device_id='.length).split(';')[0];
}

/** `OURS_NEXT_VERSIONS=16` (or `14,16`) runs only those: each costs a production build. */
const MAJORS = process.env.OURS_NEXT_VERSIONS?.split(',').map(Number) ?? [14, 15, 16];

for (const major of MAJORS) {
  describe(`Next.js ${major} (next build && next start)`, function () {
    this.timeout(60_000);
    let mock: MockOurs;
    let app: RunningApp;
    let shown = 0; // how much of next start's output a failed test already printed
    const version = nextVersion(major);

    before(async function () {
      if (typeof version !== 'string') {
        console.log(`      skipped: ${version.missing}`);
        return this.skip();
      }
      this.timeout(400_000); // a production build on a shared 2-core machine
      const started = performance.now();
      await buildApp(major);
      console.log(
        `      next ${version}: built in ${Math.round((performance.now() - started) / 1000)} s`,
      );
      mock = await createMockOurs({ token: TOKEN });
      app = await startApp(major, { OURS_TOKEN: TOKEN, OURS_API_URL: mock.url });
    });
    after(async () => {
      await app?.stop();
      await mock?.close();
    });
    afterEach(async function () {
      if (!mock) return;
      // Every event valid, and once: a later duplicate would show here.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(mock.violations).to.deep.equal([]);
      expect(mock.duplicates()).to.deep.equal([]);
      mock.reset();
      const output = app.output();
      if (this.currentTest?.state === 'failed')
        console.log(output.slice(Math.max(shown, output.length - 4000)));
      shown = output.length;
    });

    /** What the app's client reported (hook failures), via /api/errors. */
    async function reported(): Promise<string[]> {
      return (await (await fetch(`${app.url}/api/errors`)).json()) as string[];
    }

    describe('route handler: withOurs()', () => {
      it('sends the event once, valid, with the request context; sets the visitor cookie; trustProxy vercel reads X-Real-IP', async () => {
        const res = await fetch(
          `${app.url}/api/signup?utm_source=news&utm_medium=email&token=secret`,
          {
            method: 'POST',
            body: JSON.stringify({ plan: 'pro' }),
            headers: {
              'content-type': 'application/json',
              'user-agent': CHROME,
              referer: 'https://www.google.com/search?q=ours',
              'x-real-ip': '203.0.113.7',
              'x-forwarded-for': '198.51.100.1, 203.0.113.7',
              'accept-language': 'fr-FR,fr;q=0.9',
            },
          },
        );
        expect(res.status).to.equal(200);
        expect(await res.json()).to.deep.equal({ ok: true });
        const minted = visitorCookie(res);
        expect(minted).to.match(UUID_V4);
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.event).to.equal('Signed Up');
        expect(event!.eventProperties).to.deep.equal({ plan: 'pro' });
        expect(event!.userId).to.equal(minted);
        expect(event!.defaultProperties).to.deep.include({
          ip: '203.0.113.7',
          user_agent: CHROME,
          browser_name: 'Chrome',
          browser_language: 'fr-fr',
          referrer: 'https://www.google.com/search?q=ours',
          utm_source: 'news',
          utm_medium: 'email',
          pathname: '/api/signup',
        });
        expect(event!.defaultProperties!.current_url).to.match(
          /\/api\/signup\?utm_source=news&utm_medium=email&token=REDACTED$/,
        );
      });

      it('reads the visitor from the ours_device_id cookie and sets none', async () => {
        const res = await fetch(`${app.url}/api/signup`, {
          method: 'POST',
          body: '{}',
          headers: { cookie: `ours_device_id=${VISITOR}` },
        });
        expect(res.status).to.equal(200);
        expect(visitorCookie(res)).to.equal(undefined);
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.userId).to.equal(VISITOR);
        expect(event!.eventProperties).to.deep.equal({ plan: 'free' });
      });

      it("keeps Next's ctx.params working (a Promise from Next 15, an object in 14); collectIp: false sends no IP", async () => {
        const res = await fetch(`${app.url}/api/items/42`, {
          headers: { cookie: `ours_device_id=${VISITOR}`, 'x-real-ip': '203.0.113.7' },
        });
        expect(await res.json()).to.deep.equal({ id: '42' });
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.eventProperties).to.deep.equal({ id: '42' });
        expect(event!.defaultProperties).not.to.have.property('ip');
      });

      it('sends what was tracked when the handler throws (Next answers 500)', async () => {
        const res = await fetch(`${app.url}/api/throws`, {
          method: 'POST',
          headers: { cookie: `ours_device_id=${VISITOR}` },
        });
        expect(res.status).to.equal(500);
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.event).to.equal('Checkout Failed');
      });

      it("sends a streamed response's event once its body is done", async () => {
        const res = await fetch(`${app.url}/api/signup`, {
          headers: { cookie: `ours_device_id=${VISITOR}` },
        });
        expect(await res.text()).to.equal('ab');
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.event).to.equal('Stream Read');
      });

      it('never delays the response: it comes back while the API is still answering, and the event lands after', async () => {
        mock.respondWith({ delayMs: 1500 }); // the first delivery is answered in 1.5 s
        const res = await fetch(`${app.url}/api/signup`, {
          method: 'POST',
          body: '{}',
          headers: { cookie: `ours_device_id=${VISITOR}` },
        });
        expect(res.status).to.equal(200);
        expect(mock.events).to.have.length(0);
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.event).to.equal('Signed Up');
      });

      it('runs skip, an async identify, beforeSend, consent and clientIp', async () => {
        const res = await fetch(`${app.url}/api/hooks`, {
          headers: {
            cookie: `ours_device_id=${VISITOR}; op_consent=${BANNER_CONSENT}`,
            'x-user': 'user-7',
            'x-test-ip': '192.0.2.9',
          },
        });
        expect(await res.text()).to.equal('hooked');
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.externalId).to.equal('user-7');
        expect(event!.eventProperties).to.deep.equal({ step: 'one', enriched: 'yes' });
        expect(event!.defaultProperties!.ip).to.equal('192.0.2.9');
        expect(event!.userProperties).to.deep.equal({
          consent: { analytics: 'true', advertising: 'false' },
        });
        await fetch(`${app.url}/api/hooks?skip=1`, {
          headers: { cookie: `ours_device_id=${VISITOR}` },
        });
        await fetch(`${app.url}/api/hooks`, {
          headers: { cookie: `ours_device_id=${VISITOR}`, 'sec-gpc': '1' },
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(mock.events).to.have.length(1); // skipped, and gpc: 'drop'
      });

      it('reports a throwing beforeSend on the client, never to the app, and sends nothing for it', async () => {
        const before = (await reported()).length;
        const res = await fetch(`${app.url}/api/hooks?fail=1`, {
          headers: { cookie: `ours_device_id=${VISITOR}` },
        });
        expect(await res.text()).to.equal('hooked');
        // beforeSend runs when the client delivers, after the response: wait for its report.
        const said = /beforeSend.*beforeSend failed on purpose/;
        await until(
          async () => said.test((await reported()).slice(before).join('\n')),
          'the report',
        );
        expect(mock.events).to.have.length(0);
      });
    });

    describe('middleware.ts on the edge runtime', () => {
      it('sends the event through after()/waitUntil (the client has no timer to deliver by) and sets the visitor cookie', async () => {
        const res = await fetch(`${app.url}/mw?gclid=G1`, { headers: { 'user-agent': CHROME } });
        expect(res.status).to.equal(200);
        const minted = visitorCookie(res);
        expect(minted).to.match(UUID_V4);
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.event).to.equal('Middleware Seen');
        expect(event!.userId).to.equal(minted);
        expect(event!.defaultProperties).to.deep.include({
          gclid: 'G1',
          pathname: '/mw',
          user_agent: CHROME,
        });
      });

      it("a visitor minted in middleware.ts is the same request's visitor in its server component", async () => {
        const res = await fetch(`${app.url}/mw/visitor`, { headers: { 'user-agent': CHROME } });
        expect(res.status).to.equal(200);
        const minted = visitorCookie(res);
        expect(minted).to.match(UUID_V4);
        expect(await res.text()).to.include(`visitor <!-- -->${minted}`);
        const events = await mock.waitFor(2, { timeoutMs: 5000 });
        expect(events.map((e) => [e.event, e.userId]).sort()).to.deep.equal([
          ['Middleware Seen', minted],
          ['Visitor Page Rendered', minted],
        ]);
      });
    });

    describe('server component and server action: await oursTracker()', () => {
      it('a server component reads the visitor from next/headers and sends its event (it cannot set cookies)', async () => {
        const res = await fetch(`${app.url}/page-tracked`, {
          headers: { cookie: `ours_device_id=${VISITOR}`, 'user-agent': CHROME },
        });
        expect(res.status).to.equal(200);
        expect(await res.text()).to.include(`visitor <!-- -->${VISITOR}`);
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.event).to.equal('Page Rendered');
        expect(event!.userId).to.equal(VISITOR);
        expect(event!.defaultProperties!.user_agent).to.equal(CHROME);
      });

      it('a server component with setVisitorCookie and no visitor: nothing sent, and the report says Next forbids the cookie there and names the fix', async () => {
        const before = (await reported()).length;
        const res = await fetch(`${app.url}/page-tracked`, { headers: { 'user-agent': CHROME } });
        expect(res.status).to.equal(200);
        expect(visitorCookie(res)).to.equal(undefined);
        await until(async () => (await reported()).length > before, 'the report');
        const said = (await reported()).slice(before).join('\n');
        expect(said).to.match(/a server component cannot set cookies/);
        expect(said).to.match(/middleware\.ts/);
        expect(said).not.to.match(/headers were already sent/);
        expect(mock.events).to.have.length(0);
      });

      it('a server action sends its event and sets the visitor cookie', async () => {
        const res = await fetch(`${app.url}/action`, {
          method: 'POST',
          headers: {
            'next-action': serverActionId(major),
            'content-type': 'text/plain;charset=UTF-8',
            accept: 'text/x-component',
            referer: `${app.url}/action`,
          },
          body: '[]',
        });
        expect(res.status).to.equal(200);
        const minted = visitorCookie(res);
        expect(minted).to.match(UUID_V4);
        const [event] = await mock.waitFor(1, { timeoutMs: 5000 });
        expect(event!.event).to.equal('Subscribed');
        expect(event!.userId).to.equal(minted);
      });
    });

    describe('next start batches like a long-running server (adapters/next/long-running.ts)', () => {
      it('SIGTERM just after a tracked request, the API answering late: the event is delivered before next start exits (15+: after() waits for it)', async function () {
        if (major < 15) return this.skip(); // no after(): Next 14 exits without waiting
        const own = await startApp(major, { OURS_TOKEN: TOKEN, OURS_API_URL: mock.url });
        mock.respondWith({ path: '/batch', rows: () => 'ok', delayMs: 500 });
        const res = await fetch(`${own.url}/api/items/7`, {
          headers: { cookie: `ours_device_id=${VISITOR}` },
        });
        expect(res.status).to.equal(200);
        await own.stop(); // SIGTERM, and wait for the exit
        const exitedAt = Date.now();
        expect(mock.events.map((e) => e.event)).to.include('Item Viewed');
        const batch = mock.requests.find((r) => r.endpoint === '/batch');
        // Answered 500 ms after it arrived: the process was still there to hear it.
        expect(exitedAt).to.be.at.least(batch!.receivedAt + 500);
      });

      it('SIGTERM after three requests of one batch window (one after() for all of them): the three events are delivered before next start exits', async function () {
        if (major < 15) return this.skip();
        const own = await startApp(major, { OURS_TOKEN: TOKEN, OURS_API_URL: mock.url });
        mock.respondWith({ path: '/batch', rows: () => 'ok', delayMs: 300 });
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${own.url}/api/items/${i}`, {
            headers: { cookie: `ours_device_id=${VISITOR}` },
          });
          expect(res.status).to.equal(200);
        }
        await own.stop();
        const exitedAt = Date.now();
        expect(mock.events.filter((e) => e.event === 'Item Viewed')).to.have.length(3);
        const last = mock.requests.filter((r) => r.endpoint === '/batch').at(-1);
        expect(exitedAt).to.be.at.least(last!.receivedAt + 300); // still there to hear the answer
      });
    });
  });
}
