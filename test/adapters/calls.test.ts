import { expect } from 'chai';
import { adapterSuite } from './harness';

const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const VISITOR = {
  cookie: 'ours_device_id=00000000-0000-4000-8000-000000000001; ours_sid=sid_s1',
  'user-agent': UA,
};

adapterSuite('adapter: track, identify, setIdentity and overrides', (t) => {
  it('lets overrides win over what was read, merging defaultProperties field by field', async () => {
    const app = await t.start();
    app.handle(({ ours }) =>
      ours.track(
        'E',
        { a: 1 },
        {
          userId: 'override-user',
          email: 'o@example.com',
          time: Date.now() - 60_000, // a minute ago
          distinctId: 'order-42',
          defaultProperties: { pathname: '/virtual', utm_source: 'override' },
          identityContext: { ip: '203.0.113.9', userAgent: 'Custom/1.0' },
          userProperties: { first_name: 'Ada' },
        },
      ),
    );
    const started = Date.now();
    await app.get('/real?utm_source=query&utm_medium=read', { headers: VISITOR });
    const [event] = await t.mock.waitFor(1);
    expect(event).to.deep.include({
      userId: 'override-user',
      email: 'o@example.com',
      distinctId: 'order-42',
    });
    expect(event!.time).to.be.within(started - 61_000, started - 59_000);
    expect(event!.identityContext).to.deep.equal({ ip: '203.0.113.9', userAgent: 'Custom/1.0' });
    expect(event!.userProperties).to.deep.equal({ first_name: 'Ada' });
    expect(event!.defaultProperties).to.deep.include({
      pathname: '/virtual',
      utm_source: 'override',
      utm_medium: 'read',
      sid: 's1',
      user_agent: UA,
    });
  });

  it('an override given as undefined does not erase what was read', async () => {
    const app = await t.start();
    const fromSession: { id?: string } = {};
    app.handle(({ ours }) =>
      ours.track('E', undefined, { userId: fromSession.id, identityContext: undefined }),
    );
    await app.get('/', { headers: VISITOR });
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000001');
    expect(event!.identityContext).to.deep.equal({ ip: '127.0.0.1', userAgent: UA });
  });

  it('setIdentity applies to the calls made after it, not before', async () => {
    const app = await t.start();
    app.handle(({ ours }) => {
      ours.track('Before Login');
      ours.setIdentity({ externalId: 'u_42' });
      ours.track('Logged In');
      ours.setIdentity({ email: 'ada@example.com' }); // adds to, does not replace, the first
      ours.track('After Both');
    });
    await app.get('/', { headers: VISITOR });
    const events = await t.mock.waitFor(3);
    const who = events.map(({ event, userId, externalId, email }) => ({
      event,
      userId,
      externalId,
      email,
    }));
    expect(who).to.deep.equal([
      {
        event: 'Before Login',
        userId: '00000000-0000-4000-8000-000000000001',
        externalId: undefined,
        email: undefined,
      },
      {
        event: 'Logged In',
        userId: '00000000-0000-4000-8000-000000000001',
        externalId: 'u_42',
        email: undefined,
      },
      {
        event: 'After Both',
        userId: '00000000-0000-4000-8000-000000000001',
        externalId: 'u_42',
        email: 'ada@example.com',
      },
    ]);
  });

  it('ranks identity: per-call overrides > setIdentity > the identify option > the cookie', async () => {
    const app = await t.start({
      ours: { identify: (r) => ({ externalId: t.fw.userOf(r)?.id, email: t.fw.userOf(r)?.email }) },
    });
    app.handle(({ ours }) => {
      ours.track('From Option');
      ours.setIdentity({ externalId: 'from-setIdentity' });
      ours.track('From setIdentity');
      ours.track('From Override', undefined, { externalId: 'from-override' });
    });
    await app.get('/', { headers: { ...VISITOR, 'x-user': 'from-option' } });
    const events = await t.mock.waitFor(3);
    expect(events.map((e) => [e.userId, e.externalId, e.email])).to.deep.equal([
      ['00000000-0000-4000-8000-000000000001', 'from-option', 'from-option@example.com'],
      ['00000000-0000-4000-8000-000000000001', 'from-setIdentity', 'from-option@example.com'],
      ['00000000-0000-4000-8000-000000000001', 'from-override', 'from-option@example.com'],
    ]);
  });

  it('identify() goes to /identify with the visitor and the request context', async () => {
    const app = await t.start();
    app.handle(({ ours }) => {
      ours.setIdentity({ externalId: 'u_7' });
      ours.identify({ email: 'ada@example.com', custom_properties: { plan: 'pro', seats: 2 } });
    });
    await app.get('/signup?utm_source=ads', { headers: VISITOR });
    const [body] = await t.mock.waitFor(1, { of: 'identifies' });
    expect(body).to.deep.include({
      userId: '00000000-0000-4000-8000-000000000001',
      externalId: 'u_7',
    });
    expect(body!.userProperties).to.deep.equal({
      email: 'ada@example.com',
      custom_properties: { plan: 'pro', seats: '2' },
    });
    expect(body!.identityContext).to.deep.equal({ ip: '127.0.0.1', userAgent: UA });
    expect(body!.defaultProperties).to.deep.include({
      pathname: '/signup',
      utm_source: 'ads',
      sid: 's1',
      ip: '127.0.0.1',
    });
    expect(t.mock.events).to.have.length(0);
  });

  it('identify() takes overrides too', async () => {
    const app = await t.start();
    app.handle(({ ours }) =>
      ours.identify(
        { first_name: 'Ada' },
        { email: 'ada@example.com', defaultProperties: { pathname: '/x' } },
      ),
    );
    await app.get('/real', { headers: VISITOR });
    const [body] = await t.mock.waitFor(1, { of: 'identifies' });
    expect(body).to.deep.include({
      userId: '00000000-0000-4000-8000-000000000001',
      email: 'ada@example.com',
    });
    expect(body!.defaultProperties!.pathname).to.equal('/x');
    expect(body!.defaultProperties!.sid).to.equal('s1');
  });

  it('an invalid call is reported on the client and loses only itself', async () => {
    const app = await t.start();
    app.handle(({ ours }) => {
      ours.track('', { bad: 'name' });
      ours.track('Good');
    });
    const reply = await app.get('/', { headers: VISITOR });
    expect(reply.status).to.equal(200);
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('Good');
    expect(app.clientErrors.map((e) => e.name)).to.deep.equal(['OursValidationError']);
  });
});
