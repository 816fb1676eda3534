import { expect } from 'chai';
import { adapterSuite } from './harness';

const EXP_TOKEN = 'exp_test_token_123';
const CHECKOUT = {
  variants: [
    { id: 'var_ctl', name: 'control', isControl: true },
    { id: 'var_b', name: 'one-page' },
  ],
};
/** A visitor id as the browser SDK writes it (a UUID v4: other ids are no visitor). */
const V = '5e2d9c1a-7b3f-4a6e-9c8d-1f0e2d3c4b5a';
const VISITOR = { cookie: `ours_device_id=${V}`, host: 'shop.example' };

adapterSuite('adapter: experiments', (t) => {
  const assignments = () =>
    t.mock.requests.filter((r) => r.endpoint === '/experiments/assignments');
  const start = (
    options: Parameters<typeof t.client>[0] = {},
    ours: Record<string, unknown> = {},
  ) => t.start({ ours: { client: t.client({ experimentToken: EXP_TOKEN, ...options }), ...ours } });

  it('assigns the cookie visitor with the page context, renders the variant and tracks a conversion', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const app = await start();
    app.handle(async ({ ours }) => {
      const variant = await ours.experiment('checkout');
      ours.track('Checkout Viewed', { variant: variant.variantName ?? 'none' });
      return JSON.stringify(variant);
    });
    const reply = await app.get('/checkout?utm_source=meta', { headers: VISITOR });
    const variant = JSON.parse(reply.body);
    expect(variant).to.include({ inExperiment: true, experimentKey: 'checkout' });
    expect(assignments().map((r) => r.body)).to.deep.equal([
      {
        token: '[redacted]',
        visitor_id: V,
        context: {
          url: 'http://shop.example/checkout?utm_source=meta',
          search: '?utm_source=meta',
        },
        track_impression: true,
      },
    ]);
    const [event] = await t.mock.waitFor(1);
    expect(event).to.deep.include({
      event: 'Checkout Viewed',
      userId: V,
      eventProperties: { variant: variant.variantName },
    });
    expect(t.mock.impressions).to.have.length(1);
  });

  it('buckets the identity the app gave (setIdentity userId), and a per-call visitorId over both', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const app = await start();
    app.handle(async ({ ours }) => {
      ours.setIdentity({ userId: 'app-user-7' });
      await ours.experiment('checkout');
      await ours.experiment('checkout', { visitorId: 'explicit-9' });
    });
    await app.get('/', { headers: VISITOR });
    expect(assignments().map((r) => (r.body as { visitor_id: string }).visitor_id)).to.deep.equal([
      'app-user-7',
      'explicit-9',
    ]);
  });

  it('with setVisitorCookie, a first visit is bucketed under the minted id it is given as a cookie', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const app = await start({}, { setVisitorCookie: true });
    app.handle(async ({ ours }) => void (await ours.experiment('checkout')));
    const reply = await app.get('/');
    const cookie = String(reply.headers['set-cookie']);
    const minted = /ours_device_id=([0-9a-f-]{36})/.exec(cookie)?.[1];
    expect(minted).to.be.a('string');
    expect((assignments()[0]!.body as { visitor_id: string }).visitor_id).to.equal(minted);
  });

  it('no impression when turned off', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const app = await start();
    app.handle(
      async ({ ours }) => void (await ours.experiment('checkout', { trackImpression: false })),
    );
    await app.get('/', { headers: VISITOR });
    expect(assignments()[0]!.body).to.include({ track_impression: false });
    expect(t.mock.impressions).to.deep.equal([]);
  });

  it('records no impression for a request the app skips, nor for Global Privacy Control under gpc: drop', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const app = await start(
      {},
      { gpc: 'drop', skip: (req: unknown) => t.fw.pathOf(req).includes('health') },
    );
    app.handle(async ({ ours }) => (await ours.experiment('checkout')).variantId ?? 'none');
    const replies = [
      await app.get('/a', { headers: { ...VISITOR, 'sec-gpc': '1' } }),
      await app.get('/health', { headers: VISITOR }),
    ];
    expect(replies.map((r) => r.body).every((b) => b.startsWith('var_'))).to.equal(true); // still assigned
    expect(
      assignments().map((r) => (r.body as { track_impression: boolean }).track_impression),
    ).to.deep.equal([false, false]);
    expect(t.mock.impressions).to.deep.equal([]);
  });

  it("personalization: the visitor's properties", async () => {
    t.mock.personalization(V, { properties: { segment: 'returning' } });
    const app = await start();
    app.handle(async ({ ours }) => JSON.stringify((await ours.personalization()).properties));
    expect((await app.get('/', { headers: VISITOR })).body).to.equal('{"segment":"returning"}');
  });

  it('a hung API does not hold the response past the budget: the control path is rendered', async () => {
    t.mock
      .experiment('checkout', CHECKOUT)
      .respondWith({ hang: true, path: '/experiments/assignments' });
    const app = await start({ experimentBudgetMs: 50 });
    app.handle(async ({ ours }) =>
      (await ours.experiment('checkout')).isControl ? 'control' : 'variant',
    );
    const reply = await app.get('/', { headers: VISITOR });
    expect(reply.body).to.equal('control');
    // Not held until the API request's own timeout (2 s), which would end it otherwise.
    expect(reply.ms).to.be.below(2000);
    expect(app.appErrors).to.deep.equal([]);
    expect(app.clientErrors.map((e) => e.message)).to.deep.equal([
      `experiment 'checkout': the experiments API did not answer within experimentBudgetMs (50 ms): control path`,
    ]);
    // The budget can run out before the request even reaches the mock on a loaded machine: had it
    // arrived after this test, the next one would have counted it (Fastify 5, once).
    await t.mock.waitFor(1, { of: 'requests' });
  });

  it('two concurrent requests of one visitor share one API request', async () => {
    t.mock
      .experiment('checkout', CHECKOUT)
      .respondWith({ delayMs: 50, path: '/experiments/assignments' });
    const app = await start();
    app.handle(async ({ ours }) => (await ours.experiment('checkout')).variantId ?? 'none');
    const replies = await Promise.all([
      app.get('/p', { headers: VISITOR }),
      app.get('/p', { headers: VISITOR }),
    ]);
    expect(replies[0]!.body).to.equal(replies[1]!.body);
    expect(assignments()).to.have.length(1);
  });

  it('redirect(): a split-URL variant answers 302 to its path, uncacheable; the handler stops there', async () => {
    t.mock.experiment('landing', {
      variants: [{ id: 'var_b', redirect: '/landing-b?from=split' }],
    });
    const app = await start();
    app.handle(async ({ ours }) => {
      if (ours.redirect(await ours.experiment('landing'))) return;
      return 'control page';
    });
    const reply = await app.get('/landing', { headers: VISITOR });
    expect(reply.status).to.equal(302);
    expect(reply.headers.location).to.equal('/landing-b?from=split');
    expect(reply.headers['cache-control']).to.equal('private, no-store');
    expect(app.appErrors).to.deep.equal([]);
  });

  it('redirect(): an https:// target is followed, an http:// or protocol-relative one refused and reported', async () => {
    const targets = [
      'https://b.shop.example/landing',
      'http://b.shop.example/landing',
      '//evil.example/',
    ];
    for (const [i, redirect] of targets.entries())
      t.mock.experiment(`landing-${i}`, { variants: [{ id: 'var_b', redirect }] });
    const app = await start();
    app.handle(async ({ ours, req }) => {
      if (ours.redirect(await ours.experiment(`landing-${req.url!.slice(-1)}`))) return;
      return 'control page';
    });
    const replies = await Promise.all(
      [0, 1, 2].map((i) => app.get(`/l${i}`, { headers: VISITOR })),
    );
    expect(replies.map((r) => [r.status, r.headers.location ?? r.body])).to.deep.equal([
      [302, 'https://b.shop.example/landing'],
      [200, 'control page'],
      [200, 'control page'],
    ]);
    // Sorted: three concurrent requests report in the order they happen to finish.
    expect(app.clientErrors.map((e) => e.message).sort()).to.deep.equal([
      `experiment 'landing-1': redirect refused because only https:// URLs and same-site paths are allowed, not http:`,
      `experiment 'landing-2': redirect refused because a protocol-relative URL leaves the site`,
    ]);
  });

  // Node's response only: a fetch or Hono handler cannot write before it returns (see web.test.ts).
  if (t.fw.nodeResponse)
    it('redirect(): not when the response has started (reported), nor to the page the visitor is on', async () => {
      t.mock.experiment('started', { variants: [{ id: 'var_b', redirect: '/b' }] });
      t.mock.experiment('here', { variants: [{ id: 'var_b', redirect: '/here?x=1' }] });
      const app = await start();
      app.handle(async ({ ours, res, req }) => {
        if (req.url === '/started') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('streaming… ');
          ours.redirect(await ours.experiment('started'));
          res.end('control page');
          return;
        }
        return ours.redirect(await ours.experiment('here')) ? undefined : 'control page';
      });
      const replies = [
        await app.get('/started', { headers: VISITOR }),
        await app.get('/here?x=1', { headers: VISITOR }),
      ];
      expect(replies.map((r) => [r.status, r.body])).to.deep.equal([
        [200, 'streaming… control page'],
        [200, 'control page'],
      ]);
      expect(app.clientErrors.map((e) => e.message)).to.deep.equal([
        `experiment 'started': cannot redirect, the response has already started`,
      ]);
    });
});
