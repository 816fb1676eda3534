/**
 * What the middleware sends about a visitor, on every framework (issue 13):
 * redacted URLs and referrers, consent on every event, opt-out, visitor ids
 * that are ids.
 */
import { expect } from 'chai';
import express5 from 'express';
import express4 from 'express4';
import { ours as oursExpress } from '../../adapters/express';
import { captureLogger } from '../support/client';
import { until } from '../support/wait';
import { adapterSuite, pendingStream, send, type Tracker } from './harness';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const VISITOR = '0b6f2a5e-9a4d-4c1e-8f3a-2d1c5b7e9f10';
const BROWSER = { cookie: `ours_device_id=${VISITOR}`, 'user-agent': UA };
const BANNER = encodeURIComponent(
  JSON.stringify({
    categories: ['necessary', 'analytics'],
    services: { necessary: [], analytics: [], advertising: [] },
  }),
);

adapterSuite('adapter: privacy', (t) => {
  describe('URL and referrer redaction', () => {
    const PATH = '/reset?token=s3cr3t&email=ada%40example.com&utm_source=newsletter&step=2';
    const REFERRER = 'https://mail.example/open?code=123456&uid=ada@example.com&utm_medium=email';

    it('by default: secret and personal values replaced, keys and campaign kept; beforeSend sees the result', async () => {
      let seen: unknown;
      const app = await t.start({
        ours: { beforeSend: (e) => ((seen = e.defaultProperties?.current_url), e) },
      });
      app.handle(({ ours }) => ours.track('E'));
      await app.get(PATH, { headers: { ...BROWSER, referer: REFERRER } });
      const [event] = await t.mock.waitFor(1);
      const url = `http://127.0.0.1:${app.port}/reset?token=REDACTED&email=REDACTED&utm_source=newsletter&step=2`;
      expect(event!.defaultProperties).to.deep.include({
        current_url: url,
        pathname: '/reset',
        referrer: 'https://mail.example/open?code=REDACTED&uid=REDACTED&utm_medium=email',
        referring_domain: 'mail.example',
        utm_source: 'newsletter',
      });
      expect(seen).to.equal(url);
    });

    it('a URL a call passes in its overrides (a server-minted event) is redacted too', async () => {
      const app = await t.start();
      app.handle(({ ours }) =>
        ours.track('Shipped', undefined, {
          defaultProperties: {
            current_url: 'https://shop.example/track?order=42&token=abc',
            referrer: 'https://mail.example/?email=ada%40example.com',
          },
        }),
      );
      await app.get('/', { headers: BROWSER });
      const [event] = await t.mock.waitFor(1);
      expect(event!.defaultProperties).to.deep.include({
        current_url: 'https://shop.example/track?order=42&token=REDACTED',
        referrer: 'https://mail.example/?email=REDACTED',
      });
    });

    it('redact: false sends URLs as they are', async () => {
      const app = await t.start({ ours: { redact: false } });
      app.handle(({ ours }) => ours.track('E'));
      await app.get(PATH, { headers: { ...BROWSER, referer: REFERRER } });
      const [event] = await t.mock.waitFor(1);
      expect(event!.defaultProperties).to.deep.include({
        current_url: `http://127.0.0.1:${app.port}${PATH}`,
        referrer: REFERRER,
      });
    });

    it('an array adds keys to the defaults', async () => {
      const app = await t.start({ ours: { redact: ['step'] } });
      app.handle(({ ours }) => ours.track('E'));
      await app.get(PATH, { headers: BROWSER });
      const [event] = await t.mock.waitFor(1);
      expect(event!.defaultProperties!.current_url).to.match(
        /token=REDACTED&email=REDACTED&utm_source=newsletter&step=REDACTED$/,
      );
    });

    it('a function replaces the rules for current_url and referrer; a throw leaves the field out and is reported', async () => {
      const app = await t.start({
        ours: {
          redact: (url: string) => {
            if (url.startsWith('https://mail.example')) throw new Error('boom');
            return url.split('?')[0];
          },
        },
      });
      app.handle(({ ours }) => ours.track('E'));
      await app.get(PATH, { headers: { ...BROWSER, referer: REFERRER } });
      const [event] = await t.mock.waitFor(1);
      expect(event!.defaultProperties!.current_url).to.equal(`http://127.0.0.1:${app.port}/reset`);
      expect(event!.defaultProperties).not.to.have.property('referrer');
      expect(event!.defaultProperties).to.include({ referring_domain: 'mail.example' });
      expect(app.clientErrors.map((e) => e.message)).to.deep.equal(['a redact hook threw: boom']);
    });

    it('pathname templates the path of pathname and current_url', async () => {
      const template = (path: string) => path.replace(/\/\d+(?=\/|$)/g, '/:id');
      const app = await t.start({ ours: { redact: { pathname: template, keys: ['visit'] } } });
      app.handle(({ ours }) => ours.track('E'));
      await app.get('/patients/4711/visits/12?visit=9&tab=notes', { headers: BROWSER });
      const [event] = await t.mock.waitFor(1);
      expect(event!.defaultProperties).to.deep.include({
        pathname: '/patients/:id/visits/:id',
        current_url: `http://127.0.0.1:${app.port}/patients/:id/visits/:id?visit=REDACTED&tab=notes`,
      });
    });

    if (t.fw.kind === 'express') {
      it('the documented Express recipe: req.baseUrl + req.route.path, in a mounted router', async () => {
        const express = t.fw.name === 'Express 4' ? express4 : express5;
        const app = express();
        app.use(
          oursExpress({
            client: t.client(),
            redact: { pathname: (path, req) => (req.route ? req.baseUrl + req.route.path : path) },
          }),
        );
        const router = express.Router();
        router.get('/patients/:id', (req, res) => {
          req.ours.track('Chart Viewed');
          res.send('ok');
        });
        app.use('/clinic', router);
        const port = await t.listen(app);
        await send(port, '/clinic/patients/4711?tab=notes', { headers: BROWSER });
        const [event] = await t.mock.waitFor(1);
        expect(event!.defaultProperties).to.deep.include({
          pathname: '/clinic/patients/:id',
          current_url: `http://127.0.0.1:${port}/clinic/patients/:id?tab=notes`,
        });
      });
    }

    it('a bad redact option throws from ours(), naming it', () => {
      expect(() => t.fw.ours({ token: 'x', redact: 'yes' as never })).to.throw(/redact/);
      expect(() => t.fw.ours({ token: 'x', redact: { keys: [1] } as never })).to.throw(/redact/);
      expect(() => t.fw.ours({ token: 'x', redact: { pathname: 'x' } as never })).to.throw(
        /redact/,
      );
    });
  });

  describe('consent', () => {
    it('a function: its answer, as strings, under userProperties.consent of every event and identify', async () => {
      const app = await t.start({
        ours: { consent: () => ({ analytics: true, advertising: false, email: 'granted' }) },
      });
      app.handle(({ ours }) => {
        ours.track('E', undefined, { userProperties: { city: 'Oslo' } });
        ours.identify({ custom_properties: { plan: 'pro' } });
      });
      await app.get('/', { headers: BROWSER });
      const [event] = await t.mock.waitFor(1);
      const [identify] = await t.mock.waitFor(1, { of: 'identifies' });
      const consent = { analytics: 'true', advertising: 'false', email: 'granted' };
      expect(event!.userProperties).to.deep.equal({ city: 'Oslo', consent });
      expect(identify!.userProperties).to.deep.equal({
        custom_properties: { plan: 'pro' },
        consent,
      });
    });

    it('nothing when it returns nothing or an empty object; a throw is reported and the event still goes', async () => {
      const answers = [undefined, {}, 'throw'];
      const app = await t.start({
        ours: {
          consent: () => {
            const a = answers.shift();
            if (a === 'throw') throw new Error('no session');
            return a as undefined;
          },
        },
      });
      app.handle(({ ours }) => ours.track('E'));
      for (let i = 0; i < 3; i++) await app.get('/', { headers: BROWSER });
      const events = await t.mock.waitFor(3);
      expect(events.map((e) => e.userProperties)).to.deep.equal([undefined, undefined, undefined]);
      expect(app.clientErrors.map((e) => e.message)).to.deep.equal([
        'a consent hook threw: no session',
      ]);
    });

    it('an async consent or redact hook is reported, attaches nothing, and its rejection is never unhandled', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (err: unknown) => void unhandled.push(err);
      process.on('unhandledRejection', onUnhandled);
      try {
        const app = await t.start({
          ours: {
            consent: (async () => Promise.reject(new Error('db down'))) as never,
            redact: { pathname: (async () => Promise.reject(new Error('no route'))) as never },
          },
        });
        app.handle(({ ours }) => ours.track('E'));
        await app.get('/patients/42', { headers: BROWSER });
        const [event] = await t.mock.waitFor(1);
        await new Promise((r) => setTimeout(r, 20));
        expect(event!.userProperties).to.equal(undefined);
        expect(event!.defaultProperties!.pathname).to.equal('/patients/42');
        expect(app.clientErrors.map((e) => e.message).sort()).to.deep.equal([
          'a consent hook threw: the consent hook returned a Promise; it must return its answer synchronously',
          'a redact hook threw: the redact.pathname hook returned a Promise; it must return its answer synchronously',
        ]);
        expect(unhandled).to.deep.equal([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it("'cookie' reads the Ours banner's op_consent cookie; an unknown format attaches nothing and is reported once", async () => {
      const logger = captureLogger();
      const app = await t.start({ ours: { client: t.client({ logger }), consent: 'cookie' } });
      app.handle(({ ours }) => ours.track('E', { n: 1 }));
      await app.get('/', {
        headers: { ...BROWSER, cookie: `${BROWSER.cookie}; op_consent=${BANNER}` },
      });
      await app.get('/', {
        headers: { ...BROWSER, cookie: `${BROWSER.cookie}; op_consent=accepted` },
      });
      await app.get('/', {
        headers: { ...BROWSER, cookie: `${BROWSER.cookie}; op_consent={"categories":` },
      });
      await app.get('/', { headers: BROWSER });
      const events = await t.mock.waitFor(4);
      expect(events.map((e) => e.userProperties?.consent)).to.deep.equal([
        { advertising: 'false', necessary: 'true', analytics: 'true' },
        undefined,
        undefined,
        undefined,
      ]);
      expect(
        logger.lines.filter((l) => l.level === 'warn' && l.msg?.includes('consent cookie')),
      ).to.have.length(1);
    });

    it('{ cookie } reads another cookie name', async () => {
      const app = await t.start({ ours: { consent: { cookie: 'site_consent' } } });
      app.handle(({ ours }) => ours.track('E'));
      await app.get('/', {
        headers: {
          ...BROWSER,
          cookie: `${BROWSER.cookie}; op_consent=junk; site_consent=${BANNER}`,
        },
      });
      const [event] = await t.mock.waitFor(1);
      expect(event!.userProperties?.consent).to.include({ analytics: 'true' });
    });

    it("gpc: 'consent' marks advertising denied on Sec-GPC: 1, over the banner's answer, and leaves eventProperties alone", async () => {
      const app = await t.start({
        ours: { gpc: 'consent', consent: () => ({ advertising: true, analytics: true }) },
      });
      app.handle(({ ours }) => ours.track('E', { plan: 'pro' }));
      await app.get('/', { headers: { ...BROWSER, 'sec-gpc': '1' } });
      const [event] = await t.mock.waitFor(1);
      expect(event!.userProperties).to.deep.equal({
        consent: { advertising: 'false', analytics: 'true' },
      });
      expect(event!.eventProperties).to.deep.equal({ plan: 'pro' });
    });

    it("gpc: 'consent' without a consent option: advertising denied only for GPC requests", async () => {
      const app = await t.start({ ours: { gpc: 'consent' } });
      app.handle(({ ours, req }) =>
        ours.track('E', { gpc: String(req.headers['sec-gpc'] === '1') }),
      );
      await app.get('/', { headers: { ...BROWSER, 'sec-gpc': '1' } });
      await app.get('/', { headers: BROWSER });
      const events = await t.mock.waitFor(2);
      const byGpc = Object.fromEntries(
        events.map((e) => [e.eventProperties!['gpc'], e.userProperties]),
      );
      expect(byGpc).to.deep.equal({
        true: { consent: { advertising: 'false' } },
        false: undefined,
      });
    });
  });

  describe('opt-out', () => {
    it('optOut() sends nothing for the request and sets a cookie that silences later requests', async () => {
      const app = await t.start();
      app.handle(({ ours, req }) => {
        ours.track('Before');
        if (req.url === '/opt-out') ours.optOut();
        ours.track('After');
      });
      const reply = await app.get('/opt-out', { headers: BROWSER });
      const cookie = (reply.headers['set-cookie'] ?? []).find((c) => c.startsWith('ours_opt_out='));
      expect(cookie).to.equal(
        `ours_opt_out=1; Max-Age=${5 * 365 * 24 * 3600}; Path=/; SameSite=Lax`,
      ); // five years
      await app.get('/later', {
        headers: { ...BROWSER, cookie: `${BROWSER.cookie}; ours_opt_out=1` },
      });
      await app.get('/someone-else', { headers: BROWSER });
      const events = await t.mock.waitFor(2);
      await new Promise((r) => setTimeout(r, 50));
      expect(t.mock.events.map((e) => [e.event, e.defaultProperties?.pathname])).to.deep.equal([
        ['Before', '/someone-else'],
        ['After', '/someone-else'],
      ]);
      expect(events).to.have.length(2);
    });

    it('calls dropped because of an opt-out count as filtered: the stats add up', async () => {
      const app = await t.start();
      app.handle(({ ours, req }) => {
        ours.track('Before');
        ours.identify({ email: 'ada@example.com' });
        if (req.url === '/opt-out') ours.optOut();
        ours.track('After');
      });
      await app.get('/opt-out', { headers: BROWSER });
      await app.get('/later', {
        headers: { ...BROWSER, cookie: `${BROWSER.cookie}; ours_opt_out=1` },
      });
      await app.client.flush();
      expect(t.mock.requests).to.deep.equal([]);
      const stats = app.client.stats();
      expect(stats).to.include({
        tracked: 6,
        dropped: 6,
        delivered: 0,
        queued: 0,
        inFlight: 0,
        held: 0,
      });
    });

    it("an opted-out visitor's experiment() is the control path, asked nothing; the API sees redacted page URLs of others", async () => {
      t.mock.experiment('checkout', {
        variants: [
          { id: 'var_ctl', name: 'control', isControl: true },
          { id: 'var_b', name: 'b' },
        ],
      });
      const app = await t.start({
        ours: { client: t.client({ experimentToken: 'exp_test_token_123' }) },
      });
      app.handle(async ({ ours, req }) => {
        if (req.url?.startsWith('/opt-out')) ours.optOut();
        const variant = await ours.experiment('checkout');
        const { properties } = await ours.personalization();
        return JSON.stringify([variant.isControl, variant.inExperiment, properties]);
      });
      const optedOut = await app.get('/opt-out', { headers: BROWSER });
      const withCookie = await app.get('/later', {
        headers: { ...BROWSER, cookie: `${BROWSER.cookie}; ours_opt_out=1` },
      });
      expect([optedOut.body, withCookie.body]).to.deep.equal([
        '[true,false,{}]',
        '[true,false,{}]',
      ]);
      expect(t.mock.requests).to.deep.equal([]);
      expect(t.mock.impressions).to.deep.equal([]);
      await app.get('/checkout?token=s3cret&utm_source=meta', {
        headers: { ...BROWSER, host: 'shop.example' },
      });
      const asked = t.mock.requests.filter((r) => r.endpoint === '/experiments/assignments');
      expect(asked.map((r) => (r.body as { context: unknown }).context)).to.deep.equal([
        {
          url: 'http://shop.example/checkout?token=REDACTED&utm_source=meta',
          search: '?token=REDACTED&utm_source=meta',
        },
      ]);
    });

    it('optOut() after a track() with setVisitorCookie: the visitor minted for the request is taken back, no event', async () => {
      const app = await t.start({ ours: { setVisitorCookie: true } });
      app.handle(({ ours }) => {
        ours.track('Before');
        ours.optOut();
        ours.track('After');
      });
      const reply = await app.get('/', { headers: { 'user-agent': UA } });
      const cookies = reply.headers['set-cookie'] ?? [];
      expect(cookies.map((c) => c.split('=')[0])).to.deep.equal(['ours_opt_out']);
      await app.client.flush();
      expect(t.mock.requests).to.deep.equal([]);
      expect(app.client.stats()).to.include({ tracked: 2, dropped: 2, delivered: 0 });
    });

    it('optOut() after an experiment() minted the visitor: no visitor cookie either, and no impression', async () => {
      t.mock.experiment('checkout', {
        variants: [
          { id: 'var_ctl', name: 'control', isControl: true },
          { id: 'var_b', name: 'b' },
        ],
      });
      const app = await t.start({
        ours: {
          setVisitorCookie: true,
          client: t.client({ experimentToken: 'exp_test_token_123' }),
        },
      });
      app.handle(async ({ ours }) => {
        await ours.experiment('checkout', { trackImpression: false });
        ours.optOut();
      });
      const reply = await app.get('/', { headers: { 'user-agent': UA } });
      const cookies = reply.headers['set-cookie'] ?? [];
      expect(cookies.map((c) => c.split('=')[0])).to.deep.equal(['ours_opt_out']);
      await app.client.flush();
      expect(t.mock.impressions).to.deep.equal([]);
    });

    it('optOut() twice, after a track() with setVisitorCookie: one opt-out cookie, no visitor cookie', async () => {
      const app = await t.start({ ours: { setVisitorCookie: true } });
      app.handle(({ ours }) => {
        ours.track('Before');
        ours.optOut();
        ours.optOut();
        ours.track('After');
      });
      const reply = await app.get('/', { headers: { 'user-agent': UA } });
      expect(reply.headers['set-cookie']).to.deep.equal([
        `ours_opt_out=1; Max-Age=${5 * 365 * 24 * 3600}; Path=/; SameSite=Lax`,
      ]);
      await app.client.flush();
      expect(app.client.stats()).to.include({ tracked: 2, dropped: 2, delivered: 0 });
      expect(app.clientErrors).to.deep.equal([]);
    });

    it('optOut() after the headers were sent: reported once, no cookie, what is still held and later calls dropped', async () => {
      const app = await t.start();
      const body = pendingStream();
      let started: { ours: Tracker; res: { headersSent: boolean } } | undefined;
      app.handle(({ ours, res }) => {
        ours.track('Before');
        started = { ours, res };
        return body;
      });
      const reply = app.get('/', { headers: BROWSER });
      await until(() => started?.res.headersSent === true, 'the response headers sent');
      started!.ours.optOut();
      started!.ours.optOut();
      started!.ours.track('After');
      body.finish();
      const { headers } = await reply;
      expect(headers['set-cookie']).to.equal(undefined);
      const reports = app.clientErrors.map((e) => e.message).filter((m) => m.includes('optOut()'));
      expect(reports).to.have.length(1);
      expect(reports[0]).to.match(/could not be set.*headers were already sent/);
      await app.client.flush();
      // Node's response holds 'Before' until it ends; fetch and Hono handed it off when the handler returned.
      expect(t.mock.events.map((e) => e.event)).to.deep.equal(t.fw.nodeResponse ? [] : ['Before']);
      expect(app.client.stats()).to.include({ tracked: 2, dropped: t.fw.nodeResponse ? 2 : 1 });
    });

    it('an opted-out visitor gets no minted visitor cookie', async () => {
      const app = await t.start({ ours: { setVisitorCookie: true } });
      app.handle(({ ours }) => ours.track('E'));
      const reply = await app.get('/', { headers: { 'user-agent': UA, cookie: 'ours_opt_out=1' } });
      expect(reply.headers['set-cookie']).to.equal(undefined);
    });
  });

  describe('visitor ids', () => {
    it('only the UUID v4 the browser SDK writes is a visitor; anything else is none, reported once', async () => {
      const logger = captureLogger();
      const app = await t.start({ ours: { client: t.client({ logger }) } });
      app.handle(({ ours }) => ours.track('E', undefined, { externalId: 'u_1' }));
      await app.get('/', {
        headers: { 'user-agent': UA, cookie: `ours_device_id=${'a'.repeat(5000)}` },
      });
      await app.get('/', { headers: { 'user-agent': UA, cookie: 'ours_device_id=visitor-123' } });
      await app.get(`/?ours_user_id=forged`, { headers: BROWSER });
      await app.get('/', { headers: BROWSER });
      const events = await t.mock.waitFor(4);
      // Four requests, four events; batches in flight together may land in either order.
      const ids = events.map((e) => e.userId ?? 'none').sort();
      expect(ids).to.deep.equal(['none', 'none', VISITOR, VISITOR].sort());
      const warnings = logger.lines.filter((l) => l.level === 'warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.msg).to.include('UUID v4').and.not.include('visitor-123');
    });

    it('setVisitorCookie replaces an id that is not one', async () => {
      const app = await t.start({ ours: { setVisitorCookie: true } });
      app.handle(({ ours }) => ours.track('E'));
      const reply = await app.get('/', {
        headers: { 'user-agent': UA, cookie: 'ours_device_id=not-an-id' },
      });
      const [event] = await t.mock.waitFor(1);
      expect(event!.userId).to.match(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(reply.headers['set-cookie']![0]).to.include(`ours_device_id=${event!.userId}`);
    });
  });
});
