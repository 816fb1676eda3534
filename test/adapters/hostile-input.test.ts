import { connect } from 'node:net';
import { expect } from 'chai';
import type { Context } from 'hono';
import { adapterSuite } from './harness';

const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0';

/** A GET written byte for byte on a socket (to repeat headers Node's client would join); resolves with the raw response. */
function rawGet(port: number, target: string, headerLines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end(
        [
          `GET ${target} HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          ...headerLines,
          'Connection: close',
          '',
          '',
        ].join('\r\n'),
        'latin1',
      );
    });
    let response = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
  });
}

/**
 * Malformed or hostile requests are served normally and still send a valid
 * event with what could be read. The harness's afterEach checks that the
 * mock found no contract violation in anything sent.
 */
adapterSuite('adapter: malformed and hostile input', (t) => {
  it('a malformed cookie loses only itself', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    const reply = await app.get('/', {
      headers: {
        cookie:
          'bad=%E0%A4; ours_device_id=00000000-0000-4000-8000-000000000001; ours_sid=sid_%E0%A4',
        'user-agent': UA,
      },
    });
    expect(reply.status).to.equal(200);
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000001');
    expect(event!.defaultProperties!.sid).to.equal('%E0%A4'); // kept raw rather than dropped
  });

  it('__proto__ and constructor keys in the query and cookies pollute nothing', async () => {
    const app = await t.start();
    let query: unknown;
    app.handle(({ ours, target }) => {
      // Let the framework parse it too (node:http and fetch parse no query).
      query =
        t.fw.kind === 'hono'
          ? (target as Context).req.queries()
          : (target as { query: unknown }).query;
      ours.track('E');
    });
    const reply = await app.get(
      '/p?__proto__[polluted]=1&constructor[prototype][polluted]=1&__proto__=x&constructor=y&utm_source=ok',
      {
        headers: {
          cookie:
            '__proto__=x; constructor=y; polluted=1; ours_device_id=00000000-0000-4000-8000-000000000003',
          'user-agent': UA,
        },
      },
    );
    expect(reply.status).to.equal(200);
    if (t.fw.kind !== 'node' && t.fw.kind !== 'fetch') expect(query).to.not.equal(undefined);
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000003');
    expect(event!.defaultProperties!.utm_source).to.equal('ok');
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    expect(Object.keys(event!.defaultProperties!)).not.to.include.members([
      '__proto__',
      'constructor',
      'polluted',
    ]);
  });

  it('a 100 kB User-Agent is cut to 500 characters before anything else', async () => {
    const app = await t.start({ maxHeaderSize: 256 * 1024 });
    app.handle(({ ours }) => ours.track('E'));
    const huge = `${UA} ${'x'.repeat(100 * 1024)}`;
    const reply = await app.get('/', {
      headers: {
        cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003',
        'user-agent': huge,
      },
    });
    expect(reply.status).to.equal(200);
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties!.user_agent).to.equal(huge.slice(0, 500));
    expect(event!.identityContext!.userAgent).to.equal(huge.slice(0, 500));
    expect(event!.defaultProperties!.browser_name).to.equal('Firefox');
  });

  it('huge Cookie and query strings: what is read is read from their start', async () => {
    const app = await t.start({ maxHeaderSize: 256 * 1024 });
    app.handle(({ ours }) => ours.track('E'));
    const junkCookies = Array.from({ length: 2000 }, (_, i) => `c${i}=${'v'.repeat(20)}`).join(
      '; ',
    );
    const junkQuery = Array.from({ length: 2000 }, (_, i) => `q${i}=${'v'.repeat(20)}`).join('&');
    const reply = await app.get(`/?utm_source=first&${junkQuery}&utm_medium=late`, {
      headers: {
        cookie: `ours_device_id=00000000-0000-4000-8000-000000000003; ${junkCookies}; _fbp=late`,
        'user-agent': UA,
      },
    });
    expect(reply.status).to.equal(200);
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000003');
    expect(event!.defaultProperties!.utm_source).to.equal('first');
    expect(event!.defaultProperties!.current_url!.length).to.be.at.most(4096);
  });

  it('repeated query keys and malformed escapes: the first value, raw when it cannot be decoded', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    await app.get(
      '/?utm_source[]=arr&utm_source=one&utm_source=two&utm_medium=%E0%A4&utm_campaign=%',
      { headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003' } },
    );
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).to.deep.include({
      utm_source: 'one',
      utm_medium: '%E0%A4',
      utm_campaign: '%',
    });
  });

  it('repeated headers: Cookie headers are joined; Node keeps the first User-Agent, Web Headers join them', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    const reply = await rawGet(app.port, '/', [
      'Cookie: a=1',
      'Cookie: ours_device_id=00000000-0000-4000-8000-000000000002',
      `User-Agent: ${UA}`,
      'User-Agent: Second/1.0',
    ]);
    expect(reply).to.match(/^HTTP\/1\.1 200 /);
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000002');
    // A User-Agent may itself hold ", " (`(KHTML, like Gecko)`): Web Headers' join cannot be undone.
    expect(event!.defaultProperties!.user_agent).to.equal(
      t.fw.nodeResponse ? UA : `${UA}, Second/1.0`,
    );
  });

  it('an absolute-form request target and non-ASCII header bytes', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    const reply = await rawGet(app.port, 'http://shop.example/p?utm_source=abs', [
      'Cookie: ours_device_id=00000000-0000-4000-8000-000000000003; x=v\xe9',
      `User-Agent: ${UA} \xfc\xff`,
    ]);
    expect(reply).to.match(/^HTTP\/1\.1 200 /);
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal('00000000-0000-4000-8000-000000000003');
    expect(event!.defaultProperties).to.deep.include({
      utm_source: 'abs',
      pathname: '/p',
      user_agent: `${UA} \xfc\xff`,
    });
  });

  it('invalid Referer, Accept-Language and client hints are left out', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E'));
    const reply = await app.get('/', {
      headers: {
        cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003',
        'user-agent': UA,
        referer: 'http://[not a url',
        'accept-language': '*;q=0.5, ???',
        'sec-ch-ua': '"Chromium";v="124", garbage, "',
        'sec-ch-ua-mobile': '?maybe',
        'sec-ch-ua-platform': '',
      },
    });
    expect(reply.status).to.equal(200);
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).not.to.have.any.keys(
      'referrer',
      'referring_domain',
      'browser_language',
    );
    expect(event!.defaultProperties!.user_agent).to.equal(UA);
  });

  it('a visitor cookie longer than the contract allows is not sent (cutting it would make another visitor)', async () => {
    const app = await t.start();
    app.handle(({ ours }) => ours.track('E', undefined, { externalId: 'u_1' }));
    await app.get('/', {
      headers: { cookie: `ours_device_id=${'a'.repeat(401)}`, 'user-agent': UA },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal(undefined);
    expect(event!.externalId).to.equal('u_1');
  });
});
