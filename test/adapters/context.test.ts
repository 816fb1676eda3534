import { expect } from 'chai';
import { adapterSuite } from './harness';

const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

adapterSuite('adapter: what is read from the request', (t) => {
  it('sends a tracked event with the visitor, session, device, page and campaign of the request', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('Page Viewed', { plan: 'pro', seats: 3 }));
    const before = Date.now();
    const reply = await app.get(
      '/pricing/plans?utm_source=news%20letter&utm_medium=email&utm_source=second&gclid=Gc_1&msclkid=ms1',
      {
        headers: {
          cookie:
            'theme=dark; ours_device_id=00000000-0000-4000-8000-000000000002; ours_sid=sid_abc-42; _fbp=fb.1.1700000000000.123456',
          'user-agent': CHROME_MAC,
          'accept-language': 'en-US,en;q=0.9,fr;q=0.8',
          referer: 'https://www.google.com/search?q=ours',
        },
      },
    );
    expect(reply.status).to.equal(200);
    expect(reply.body).to.equal('ok');
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('Page Viewed');
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000002');
    expect(event!.eventProperties).to.deep.equal({ plan: 'pro', seats: '3' });
    expect(event!.time).to.be.within(before, Date.now());
    expect(event!.identityContext).to.deep.equal({ ip: '127.0.0.1', userAgent: CHROME_MAC });
    expect(event!.defaultProperties).to.deep.include({
      ip: '127.0.0.1',
      user_agent: CHROME_MAC,
      browser_name: 'Chrome',
      browser_version: '124.0.0.0',
      os_name: 'Mac OS',
      os_version: '10.15.7',
      device_type: 'desktop',
      engine_name: 'Blink',
      browser_language: 'en-us',
      sid: 'abc-42',
      fbp: 'fb.1.1700000000000.123456',
      host: `127.0.0.1:${app.port}`,
      pathname: '/pricing/plans',
      current_url: `http://127.0.0.1:${app.port}/pricing/plans?utm_source=news%20letter&utm_medium=email&utm_source=second&gclid=Gc_1&msclkid=ms1`,
      referrer: 'https://www.google.com/search?q=ours',
      referring_domain: 'www.google.com',
      utm_source: 'news letter', // the first of a repeated key, decoded
      utm_medium: 'email',
      gclid: 'Gc_1',
      msclkid: 'ms1',
    });
    expect(event!.defaultProperties).not.to.have.property('is_bot');
  });

  it('reads a mobile device from its User-Agent', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('Page Viewed'));
    await app.get('/', {
      headers: {
        'user-agent': IPHONE,
        cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003',
      },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).to.deep.include({
      os_name: 'iOS',
      os_version: '17.4',
      device_type: 'mobile',
      device_vendor: 'Apple',
      device_model: 'iPhone',
      browser_name: 'Mobile Safari',
    });
  });

  it('reads the visitor from a configured cookieName and not from ours_device_id then', async () => {
    const app = await t.start({ ours: { cookieName: 'my_visitor' } });
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', {
      headers: {
        cookie:
          'ours_device_id=00000000-0000-4000-8000-000000000004; my_visitor=00000000-0000-4000-8000-000000000008',
        'user-agent': CHROME_MAC,
      },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000008');
  });

  it('keeps the session id as is when it has no sid_ prefix', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', {
      headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003; ours_sid=plain-9' },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties!.sid).to.equal('plain-9');
  });

  it('sends identityContext only when both the IP and the User-Agent are known', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('No UA'));
    await app.get('/', {
      headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003' },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties!.ip).to.equal('127.0.0.1');
    expect(event!.defaultProperties).not.to.have.property('user_agent');
    expect(event).not.to.have.property('identityContext');
  });

  it('builds fbc from fbclid (kept byte for byte) when there is no _fbc cookie', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    const before = Date.now();
    await app.get('/?fbclid=IwAR_Abc-XyZ.09&FBCLID=second', {
      headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003' },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties!.fbclid).to.equal('IwAR_Abc-XyZ.09');
    const match = /^fb\.1\.(\d+)\.IwAR_Abc-XyZ\.09$/.exec(event!.defaultProperties!.fbc ?? '');
    expect(match, `fbc ${event!.defaultProperties!.fbc}`).to.not.equal(null);
    expect(Number(match![1])).to.be.within(before, Date.now());
  });

  it('prefers a well-formed _fbc cookie over fbclid, and ignores a malformed one', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/?fbclid=fromurl', {
      headers: {
        cookie:
          'ours_device_id=00000000-0000-4000-8000-000000000006; _fbc=fb.1.1700000000000.fromcookie',
      },
    });
    await app.get('/?fbclid=fromurl', {
      headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000007; _fbc=garbage' },
    });
    const events = await t.mock.waitFor(2);
    const byUser = Object.fromEntries(events.map((e) => [e.userId, e.defaultProperties!.fbc]));
    expect(byUser['00000000-0000-4000-8000-000000000006']).to.equal(
      'fb.1.1700000000000.fromcookie',
    );
    expect(byUser['00000000-0000-4000-8000-000000000007']).to.match(/^fb\.1\.\d+\.fromurl$/);
  });

  it('reads campaign fields from the raw URL, whatever the framework makes of the query', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    // Express 4 (qs) would turn a[b]=c into objects; a repeated key is an array everywhere.
    await app.get(
      '/landing?utm_campaign[x]=no&utm_campaign=Spring%20Sale%2B&utm_term=a+b&ttclid=&ttclid=tt2&li_did=li-9&UTM_CONTENT=Banner',
      {
        headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003' },
      },
    );
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).to.deep.include({
      utm_campaign: 'Spring Sale+',
      utm_term: 'a b',
      ttclid: 'tt2', // an empty value counts as not sent
      clickid: 'li-9', // li_did stands in for clickid
      utm_content: 'Banner',
    });
  });

  it('leaves out referrer fields for a Referer that is not an http(s) URL', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', {
      headers: {
        cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003',
        referer: 'android-app://com.google.android.gm/',
      },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).not.to.have.property('referrer');
    expect(event!.defaultProperties).not.to.have.property('referring_domain');
  });

  it('exposes what it read as a frozen ours.context', async () => {
    const app = await t.start();
    let seen: unknown;
    app.handle(({ ours }) => {
      const ctx = ours.context;
      seen = {
        same: ctx === ours.context,
        frozen: Object.isFrozen(ctx),
        userId: ctx.userId,
        pathname: ctx.defaultProperties.pathname,
      };
    });
    await app.get('/a/b?x=1', {
      headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000005' },
    });
    expect(seen).to.deep.equal({
      same: true,
      frozen: true,
      userId: '00000000-0000-4000-8000-000000000005',
      pathname: '/a/b',
    });
  });

  it('marks known crawlers with is_bot and no device_type', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', {
      headers: {
        'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
        cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003',
      },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties!.is_bot).to.equal('true');
    expect(event!.defaultProperties).not.to.have.property('device_type');
  });
});
