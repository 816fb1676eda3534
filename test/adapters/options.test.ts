import { expect } from 'chai';
import type { Context } from 'hono';
import type { FastifyReply } from 'fastify';
import { OursConfigError, type IdentifyEvent, type TrackEvent } from '../../src/index';
import { adapterSuite, type Options } from './harness';

const UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
const VISITOR = { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000001', 'user-agent': UA };
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** `Set-Cookie` split into its name=value and a map of attributes (lower-case names). */
function parseSetCookie(header: string): { pair: string; attrs: Record<string, string | true> } {
  const [pair, ...attrs] = header.split(/;\s*/);
  return {
    pair: pair!,
    attrs: Object.fromEntries(
      attrs.map((a) => {
        const eq = a.indexOf('=');
        return eq === -1
          ? [a.toLowerCase(), true]
          : [a.slice(0, eq).toLowerCase(), a.slice(eq + 1)];
      }),
    ),
  };
}

adapterSuite('adapter: middleware options', (t) => {
  /** Tracks `Control` on /control, to prove the pipeline delivers while something else was not sent. */
  async function expectOnlyControl(app: {
    get: (p: string, o?: object) => Promise<unknown>;
    client: { flush(): Promise<unknown> };
  }): Promise<void> {
    await app.get('/control', { headers: VISITOR });
    await t.mock.waitFor(1);
    await app.client.flush();
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Control']);
  }

  it('skip(req): a skipped request sends nothing, others are sent, and skip sees the framework request', async () => {
    const seen: unknown[] = [];
    const app = await t.start({
      ours: { skip: (r) => (seen.push(r), t.fw.pathOf(r) === '/health') },
    });
    const targets: unknown[] = [];
    app.handle(({ ours, target, req }) => {
      targets.push(target);
      ours.track(req.url === '/control' ? 'Control' : 'Health Checked');
    });
    const reply = await app.get('/health', { headers: VISITOR });
    expect(reply.status).to.equal(200);
    await expectOnlyControl(app);
    expect(seen).to.have.ordered.members(targets); // the same objects, in order
  });

  it("identify(req): resolves externalId and email from the app's session", async () => {
    const app = await t.start({
      ours: {
        identify: (r) => {
          const user = t.fw.userOf(r);
          return user && { externalId: user.id, email: user.email };
        },
      },
    });
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', { headers: { ...VISITOR, 'x-user': 'u_9' } });
    await app.get('/', {
      headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000009' },
    });
    const events = await t.mock.waitFor(2);
    const byUser = Object.fromEntries(events.map((e) => [e.userId, [e.externalId, e.email]]));
    expect(byUser).to.deep.equal({
      '00000000-0000-4000-8000-000000000001': ['u_9', 'u_9@example.com'],
      '00000000-0000-4000-8000-000000000009': [undefined, undefined],
    });
  });

  it('beforeSend redacts an event, and returning null drops it', async () => {
    const targets: unknown[] = [];
    const beforeSend = (event: TrackEvent | IdentifyEvent, r: unknown): TrackEvent | null => {
      targets.push(r);
      if (!('event' in event) || event.event === 'Secret') return null;
      const { ip: _ip, ...defaultProperties } = event.defaultProperties ?? {};
      return {
        ...event,
        defaultProperties,
        identityContext: null,
        eventProperties: { ...event.eventProperties, email: '[redacted]' },
      };
    };
    const app = await t.start({ ours: { beforeSend } });
    let target: unknown;
    app.handle(({ ours, target: tg }) => {
      target = tg;
      ours.track('Secret');
      ours.track('Signed Up', { email: 'ada@example.com', plan: 'pro' });
    });
    await app.get('/', { headers: VISITOR });
    const [event] = await t.mock.waitFor(1);
    await app.client.flush();
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Signed Up']);
    expect(event!.eventProperties).to.deep.equal({ email: '[redacted]', plan: 'pro' });
    expect(event!.defaultProperties).not.to.have.property('ip');
    expect(event!.defaultProperties!.user_agent).to.equal(UA);
    expect(event!.identityContext ?? null).to.equal(null);
    expect(targets).to.have.length(2);
    expect(targets[0]).to.equal(target);
  });

  it('identify() calls go through beforeSend too: it can redact, enrich or drop them, and its changes stay on that event', async () => {
    const seen: string[] = [];
    const beforeSend = (event: TrackEvent | IdentifyEvent): TrackEvent | IdentifyEvent | null => {
      if ('event' in event) return (void seen.push(`track ${event.event}`), event);
      seen.push(`identify ${String(event.userProperties.email)}`);
      if (event.userProperties.first_name === 'Drop') return null;
      event.userProperties.email = '[redacted]';
      delete event.defaultProperties!.current_url;
      return event;
    };
    const app = await t.start({ ours: { beforeSend } });
    const given = { email: 'ada@example.com' };
    app.handle(({ ours }) => {
      ours.identify(given);
      ours.identify({ email: 'bob@example.com', first_name: 'Drop' });
      ours.track('After');
    });
    await app.get('/', { headers: VISITOR });
    const [identified] = await t.mock.waitFor(1, { of: 'identifies' });
    const [tracked] = await t.mock.waitFor(1);
    await app.client.flush();
    expect(seen).to.have.members([
      'identify ada@example.com',
      'identify bob@example.com',
      'track After',
    ]);
    expect(t.mock.identifies).to.have.length(1);
    expect(identified!.userProperties).to.deep.include({ email: '[redacted]' });
    expect(identified!.defaultProperties).not.to.have.property('current_url');
    expect(tracked!.defaultProperties).to.have.property('current_url');
    expect(given).to.deep.equal({ email: 'ada@example.com' }); // the app's object is not touched
    expect(app.client.stats()).to.include({ tracked: 3, dropped: 1 });
  });

  it("a throwing beforeSend loses only that event, reports it on the client's error event, and the response is fine", async () => {
    const app = await t.start({
      ours: {
        beforeSend: (e) => {
          if ('event' in e && e.event === 'Boom') throw new Error('kaboom');
          return e;
        },
      },
    });
    app.handle(({ ours }) => {
      ours.track('Boom');
      ours.track('Fine');
    });
    const reply = await app.get('/', { headers: VISITOR });
    expect(reply.status).to.equal(200);
    const [event] = await t.mock.waitFor(1);
    await app.client.flush();
    expect(event!.event).to.equal('Fine');
    expect(t.mock.events).to.have.length(1);
    expect(app.clientErrors).to.have.length(1);
    expect(app.clientErrors[0]!.name).to.equal('OursError');
    expect(app.clientErrors[0]!.message).to.include('kaboom');
    expect(app.appErrors).to.deep.equal([]);
  });

  describe('gpc, with Sec-GPC: 1', () => {
    const GPC = { ...VISITOR, 'sec-gpc': '1' };

    it("'annotate' (the default) sends the event with eventProperties.gpc = 'true'", async () => {
      const app = await t.start();
      app.handle(({ ours }) => ours.track('E', { plan: 'pro' }));
      await app.get('/', { headers: GPC });
      await app.get('/', {
        headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000010' },
      });
      const events = await t.mock.waitFor(2);
      const props = Object.fromEntries(events.map((e) => [e.userId, e.eventProperties]));
      expect(props).to.deep.equal({
        '00000000-0000-4000-8000-000000000001': { plan: 'pro', gpc: 'true' },
        '00000000-0000-4000-8000-000000000010': { plan: 'pro' },
      });
    });

    it("'drop' sends nothing for that request, not even identify", async () => {
      const app = await t.start({ ours: { gpc: 'drop' } });
      app.handle(({ ours, req }) => {
        if (req.url === '/control') return void ours.track('Control');
        ours.track('E');
        ours.identify({ first_name: 'Ada' });
      });
      const reply = await app.get('/', { headers: GPC });
      expect(reply.status).to.equal(200);
      await expectOnlyControl(app);
      expect(t.mock.identifies).to.have.length(0);
    });

    it("'ignore' sends the event unchanged", async () => {
      const app = await t.start({ ours: { gpc: 'ignore' } });
      app.handle(({ ours }) => ours.track('E', { plan: 'pro' }));
      await app.get('/', { headers: GPC });
      const [event] = await t.mock.waitFor(1);
      expect(event!.eventProperties).to.deep.equal({ plan: 'pro' });
    });
  });

  describe('setVisitorCookie', () => {
    it("mints a UUID v4 visitor, sets the browser SDK's cookie, and uses it as userId for every call", async () => {
      const app = await t.start({ ours: { setVisitorCookie: true } });
      app.handle(({ ours }) => {
        ours.track('First Visit');
        ours.identify({ first_name: 'Ada' });
      });
      const reply = await app.get('/', { headers: { 'user-agent': UA } });
      const cookies = reply.headers['set-cookie'] ?? [];
      expect(cookies).to.have.length(1);
      const { pair, attrs } = parseSetCookie(cookies[0]!);
      const [name, id] = pair.split('=');
      expect(name).to.equal('ours_device_id');
      expect(id).to.match(UUID_V4);
      expect(attrs).to.deep.equal({ path: '/', 'max-age': '31536000', samesite: 'Lax' }); // no HttpOnly: the browser SDK reads it
      const [event] = await t.mock.waitFor(1);
      const [identify] = await t.mock.waitFor(1, { of: 'identifies' });
      expect(event!.userId).to.equal(id);
      expect(identify!.userId).to.equal(id);
    });

    it('does nothing when the visitor cookie exists, or when the request tracks nothing', async () => {
      const app = await t.start({ ours: { setVisitorCookie: true } });
      app.handle(({ ours, req }) => (req.url === '/quiet' ? undefined : ours.track('E')));
      const tracked = await app.get('/', { headers: VISITOR });
      const quiet = await app.get('/quiet');
      expect(tracked.headers['set-cookie']).to.equal(undefined);
      expect(quiet.headers['set-cookie']).to.equal(undefined);
      const [event] = await t.mock.waitFor(1);
      expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000001');
    });

    it("uses cookieName and cookieDomain, and keeps the app's own cookies", async () => {
      const app = await t.start({
        ours: { setVisitorCookie: true, cookieName: 'visitor', cookieDomain: '.example.com' },
      });
      app.handle(({ ours, res, target, reply }) => {
        ours.track('E');
        // Each framework's own way to set a cookie; Fastify writes its headers through writeHead().
        if (t.fw.kind === 'express')
          (res as unknown as { cookie(n: string, v: string): void }).cookie('session', 'abc');
        else if (t.fw.kind === 'koa')
          (target as { cookies: { set(n: string, v: string): void } }).cookies.set(
            'session',
            'abc',
          );
        else if (t.fw.kind === 'fastify')
          (reply as FastifyReply).header('set-cookie', 'session=abc');
        else if (t.fw.kind === 'fetch')
          return new Response('ok', { headers: { 'set-cookie': 'session=abc' } });
        else if (t.fw.kind === 'hono')
          return (
            (target as Context).header('set-cookie', 'session=abc'),
            (target as Context).text('ok')
          );
        else res.setHeader('set-cookie', 'session=abc');
      });
      const reply = await app.get('/');
      const cookies = (reply.headers['set-cookie'] ?? []).map(parseSetCookie);
      expect(cookies.map((c) => c.pair.split('=')[0])).to.have.members(['visitor', 'session']);
      const visitor = cookies.find((c) => c.pair.startsWith('visitor='))!;
      expect(visitor.attrs).to.deep.include({ domain: '.example.com', path: '/' });
      const [event] = await t.mock.waitFor(1);
      expect(`visitor=${event!.userId}`).to.equal(visitor.pair);
    });
  });

  it('collectIp: false leaves out the IP and identityContext', async () => {
    const app = await t.start({ ours: { collectIp: false } });
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', { headers: VISITOR });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).not.to.have.property('ip');
    expect(event!.defaultProperties!.user_agent).to.equal(UA);
    expect(event).not.to.have.property('identityContext');
  });

  it('ours({ token, ...clientOptions }) makes its own client, exposed as .client', async () => {
    const app = await t.start({
      ours: {
        token: 'tok_test_secret_123',
        apiUrl: t.mock.url,
        flushIntervalMs: 20,
        logger: false,
      },
    });
    app.handle(({ ours }) => ours.track('Own Client'));
    await app.get('/', { headers: VISITOR });
    await t.mock.waitFor(1);
    expect(app.client.stats()).to.deep.include({ tracked: 1 });
  });

  describe('option errors throw from ours(), naming the option', () => {
    const cases: [option: string, label: string, options: () => Options][] = [
      ['gpc', "gpc: 'nope'", () => ({ client: t.client(), gpc: 'nope' as never })],
      [
        'cookieName',
        "cookieName: 'bad name;'",
        () => ({ client: t.client(), cookieName: 'bad name;' }),
      ],
      ['cookieName', "cookieName: ''", () => ({ client: t.client(), cookieName: '' })],
      ['client', 'client plus token', () => ({ client: t.client(), token: 'tok' })],
      ['client', 'client that is not an OursClient', () => ({ client: {} as never })],
      ['skip', "skip: 'health'", () => ({ client: t.client(), skip: 'health' as never })],
      ['beforeSend', 'beforeSend: {}', () => ({ client: t.client(), beforeSend: {} as never })],
      ['hookTimeoutMs', 'hookTimeoutMs: 0', () => ({ client: t.client(), hookTimeoutMs: 0 })],
      [
        'hookTimeoutMs',
        "hookTimeoutMs: '5s'",
        () => ({ client: t.client(), hookTimeoutMs: '5s' as never }),
      ],
      [
        'trustProxy',
        "trustProxy: 'not-an-address'",
        () => ({ client: t.client(), trustProxy: 'not-an-address' }),
      ],
      ['trustProxy', 'trustProxy: {}', () => ({ client: t.client(), trustProxy: {} as never })],
      [
        'clientIp',
        "clientIp: 'headers'",
        () => ({ client: t.client(), clientIp: 'headers' as never }),
      ],
      [
        'cookieDomain',
        "cookieDomain: 'bad domain;'",
        () => ({ client: t.client(), cookieDomain: 'bad domain;' }),
      ],
      [
        'flushOnResponse',
        'flushOnResponse: { timeoutMs: -1 }',
        () => ({ client: t.client(), flushOnResponse: { timeoutMs: -1 } }),
      ],
      ['token', 'no client and no token', () => ({ apiUrl: t.mock.url })],
    ];
    if (t.fw.kind === 'koa')
      cases.push([
        'proxy',
        'proxy: true (a Koa app setting)',
        () => ({ client: t.client(), proxy: true }) as Options,
      ]);
    for (const [option, label, options] of cases) {
      it(label, async () => {
        const saved = process.env['OURS_TOKEN'];
        delete process.env['OURS_TOKEN'];
        let error: unknown;
        try {
          error = await t.fw.mountError(options());
        } finally {
          if (saved !== undefined) process.env['OURS_TOKEN'] = saved;
        }
        expect(error).to.be.instanceOf(OursConfigError).and.to.include({ option });
        expect((error as Error).message).to.include(`option \`${option}\``);
      });
    }
  });
});
