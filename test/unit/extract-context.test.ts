import { expect } from 'chai';
import { defaultPropertiesSchema } from '../../src/contract/schema';
import {
  extractContext,
  httpHostname,
  UNBOUNDED_FIELD_CAP,
  type ExtractOptions,
} from '../../src/request/extract-context';
import type { RequestSource } from '../../src/request/request-source';

const CHROME_WIN =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const VID = '3b241101-e2bb-4255-8caf-4136c566a962';
const NOW = 1_700_000_123_456;

interface Init {
  url?: string;
  ip?: string;
  socketAddress?: string;
  protocol?: string;
  host?: string;
}

/** A RequestSource over a plain headers object; records the headers read. */
function fakeSource(
  headers: Record<string, string>,
  init: Init = {},
): RequestSource & { read: string[] } {
  const read: string[] = [];
  return {
    read,
    header: (name) => (read.push(name), headers[name]),
    ip: () => init.ip,
    socketAddress: init.socketAddress,
    protocol: () => init.protocol ?? 'https',
    host: () => init.host ?? 'shop.example.com',
    url: init.url ?? '/',
  };
}

const OPTIONS: ExtractOptions = {
  cookieName: 'ours_device_id',
  collectIp: true,
  ipResolver: (s) => s.ip(),
};

function assertClean(value: unknown): void {
  for (const [key, v] of Object.entries(value as object)) {
    expect(v, key).not.to.equal(undefined);
    expect(v, key).not.to.equal(null);
    expect(v, key).not.to.equal('');
  }
}

describe('request/extract-context: extractContext', () => {
  it('builds the context the browser SDK would send for a Chrome page view', () => {
    const source = fakeSource(
      {
        'user-agent': CHROME_WIN,
        'sec-ch-ua': '"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"',
        'sec-ch-ua-platform': '"Windows"',
        'sec-ch-ua-platform-version': '"15.0.0"',
        'accept-language': 'en-US,en;q=0.9',
        referer: 'https://www.google.com/search?q=shoes',
        cookie: `ours_device_id=${VID}; ours_sid=sid_1700000000000; _fbp=fb.1.1699999999999.42`,
        'sec-gpc': '1',
      },
      {
        url: '/products/42?utm_source=google&UTM_Medium=cpc&gclid=Cj0K&fbclid=IwAR0aBc',
        ip: '::ffff:203.0.113.9',
      },
    );
    const ctx = extractContext(source, OPTIONS, NOW);
    expect(ctx.userId).to.equal(VID);
    expect(ctx.gpc).to.equal(true);
    expect(ctx.identityContext).to.deep.equal({ ip: '203.0.113.9', userAgent: CHROME_WIN });
    expect(ctx.defaultProperties).to.deep.equal({
      ip: '203.0.113.9',
      user_agent: CHROME_WIN,
      browser_name: 'Chrome',
      browser_version: '120.0.0.0',
      os_name: 'Windows',
      os_version: '11',
      engine_name: 'Blink',
      engine_version: '120.0.0.0',
      cpu_architecture: 'amd64',
      device_type: 'desktop',
      uafvl: 'Chromium;120|Google%20Chrome;120',
      browser_language: 'en-us',
      current_url:
        'https://shop.example.com/products/42?utm_source=google&UTM_Medium=cpc&gclid=Cj0K&fbclid=IwAR0aBc',
      host: 'shop.example.com',
      pathname: '/products/42',
      referrer: 'https://www.google.com/search?q=shoes',
      referring_domain: 'www.google.com',
      utm_source: 'google',
      utm_medium: 'cpc',
      gclid: 'Cj0K',
      fbclid: 'IwAR0aBc',
      sid: '1700000000000',
      fbp: 'fb.1.1699999999999.42',
      fbc: `fb.1.${NOW}.IwAR0aBc`,
    });
    assertClean(ctx.defaultProperties);
    expect(source.read).not.to.include('x-forwarded-host');
  });

  it('leaves everything unknown out for a bare request', () => {
    const bare: RequestSource = {
      header: () => undefined,
      ip: () => undefined,
      socketAddress: undefined,
      protocol: () => undefined,
      host: () => undefined,
      url: '/',
    };
    // no host: no current_url; the path is still known
    expect(extractContext(bare, OPTIONS, NOW)).to.deep.equal({
      defaultProperties: { pathname: '/' },
      gpc: false,
    });
    expect(extractContext({ ...bare, url: '*' }, OPTIONS, NOW)).to.deep.equal({
      defaultProperties: {},
      gpc: false,
    });
  });

  it('prefers the ours_user_id query parameter over the cookie, and honours cookieName', () => {
    const handoff = '3b241101-e2bb-4255-8caf-4136c566a962';
    const custom = '9c7e2f7a-1b2c-4d3e-9f40-5a6b7c8d9e0f';
    const headers = { cookie: `ours_device_id=${VID}; my_vid=${custom}` };
    expect(
      extractContext(fakeSource(headers, { url: `/?ours_user_id=${handoff}` }), OPTIONS, NOW)
        .userId,
    ).to.equal(handoff);
    expect(
      extractContext(fakeSource(headers), { ...OPTIONS, cookieName: 'my_vid' }, NOW).userId,
    ).to.equal(custom);
    const long = 'x'.repeat(401);
    expect(
      extractContext(fakeSource({ cookie: `ours_device_id=${long}` }), OPTIONS, NOW),
    ).not.to.have.property('userId');
  });

  it('collectIp false: no ip anywhere and the resolver is never called', () => {
    let called = false;
    const options: ExtractOptions = {
      ...OPTIONS,
      collectIp: false,
      ipResolver: () => ((called = true), '1.2.3.4'),
    };
    const ctx = extractContext(
      fakeSource({ 'user-agent': CHROME_WIN }, { ip: '1.2.3.4' }),
      options,
      NOW,
    );
    expect(called).to.equal(false);
    expect(ctx.defaultProperties).not.to.have.property('ip');
    expect(ctx).not.to.have.property('identityContext');
    expect(JSON.stringify(ctx)).not.to.include('1.2.3.4');
  });

  it('identityContext only when both ip and user agent are known', () => {
    expect(extractContext(fakeSource({}, { ip: '1.2.3.4' }), OPTIONS, NOW)).not.to.have.property(
      'identityContext',
    );
    expect(
      extractContext(fakeSource({ 'user-agent': CHROME_WIN }, { ip: 'junk' }), OPTIONS, NOW),
    ).not.to.have.property('identityContext');
    const throwing: ExtractOptions = {
      ...OPTIONS,
      ipResolver: () => {
        throw new Error('bug');
      },
    };
    expect(
      extractContext(fakeSource({ 'user-agent': CHROME_WIN }), throwing, NOW).defaultProperties,
    ).not.to.have.property('ip');
  });

  it('cuts a 100 kB user agent to 500 chars everywhere', () => {
    const huge = CHROME_WIN + 'x'.repeat(100_000);
    const ctx = extractContext(fakeSource({ 'user-agent': huge }, { ip: '1.2.3.4' }), OPTIONS, NOW);
    expect(ctx.defaultProperties.user_agent).to.have.length(500);
    expect(ctx.identityContext?.userAgent).to.equal(ctx.defaultProperties.user_agent);
  });

  it("marks Googlebot as a bot and doesn't call it desktop", () => {
    const dp = extractContext(
      fakeSource({ 'user-agent': GOOGLEBOT }),
      OPTIONS,
      NOW,
    ).defaultProperties;
    expect(dp.is_bot).to.equal('true');
    expect(dp).not.to.have.property('device_type');
  });

  it('corrects the Android "K" model with Sec-CH-UA-Model', () => {
    const ua =
      'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36';
    const dp = extractContext(
      fakeSource({ 'user-agent': ua, 'sec-ch-ua-model': '"SM-S918B"', 'sec-ch-ua-mobile': '?1' }),
      OPTIONS,
      NOW,
    ).defaultProperties;
    expect(dp.device_model).to.equal('SM-S918B');
    expect(dp.device_type).to.equal('mobile');
  });

  it('strips the sid_ prefix of ours_sid', () => {
    const sid = (cookie: string) =>
      extractContext(fakeSource({ cookie }), OPTIONS, NOW).defaultProperties.sid;
    expect(sid('ours_sid=sid_1700000000000')).to.equal('1700000000000');
    expect(sid('ours_sid=1700000000000')).to.equal('1700000000000');
    expect(sid('ours_sid=sid_')).to.equal(undefined);
  });

  describe('fbc', () => {
    const fbc = (cookie: string, url: string) =>
      extractContext(fakeSource(cookie ? { cookie } : {}, { url }), OPTIONS, NOW).defaultProperties
        .fbc;

    it('uses a well-formed _fbc cookie, even when the URL has an fbclid', () => {
      expect(fbc('_fbc=fb.1.1690000000000.OldClick', '/?fbclid=NewClick')).to.equal(
        'fb.1.1690000000000.OldClick',
      );
    });
    it('builds fb.1.<now>.<fbclid> from the URL otherwise, fbclid kept exactly', () => {
      expect(fbc('', '/?fbclid=IwAR0-AbC_xYz')).to.equal(`fb.1.${NOW}.IwAR0-AbC_xYz`);
      expect(fbc('_fbc=garbage', '/?FBCLID=IwAR0-AbC')).to.equal(`fb.1.${NOW}.IwAR0-AbC`);
      expect(fbc('_fbc=fb.1.123.', '/?fbclid=X')).to.equal(`fb.1.${NOW}.X`);
      expect(fbc('_fbc=fb.12.123.abc', '/?fbclid=X')).to.equal(`fb.1.${NOW}.X`);
    });
    it('is absent without a good cookie or an fbclid', () => {
      expect(fbc('_fbc=garbage', '/')).to.equal(undefined);
    });
  });

  describe('referrer', () => {
    const ref = (referer: string) =>
      extractContext(fakeSource({ referer }), OPTIONS, NOW).defaultProperties;
    it('takes http(s) URLs and their hostname', () => {
      expect(ref('https://user:pw@News.Example.COM:8443/a?b#c')).to.include({
        referrer: 'https://user:pw@News.Example.COM:8443/a?b#c',
        referring_domain: 'news.example.com',
      });
    });
    it('ignores other schemes and junk without throwing', () => {
      for (const bad of [
        'android-app://com.google.android.gm/',
        'not a url',
        'javascript:alert(1)',
        '//no-scheme.com/',
      ]) {
        const dp = ref(bad);
        expect(dp, bad).not.to.have.property('referrer');
        expect(dp, bad).not.to.have.property('referring_domain');
      }
    });
  });

  describe('httpHostname (the fast path for plain Referers)', () => {
    const viaUrl = (url: string): string | undefined => {
      try {
        const u = new URL(url);
        return u.protocol === 'http:' || u.protocol === 'https:' ? u.hostname : undefined;
      } catch {
        return undefined;
      }
    };
    it('agrees with new URL() on tricky hosts', () => {
      const cases = [
        'https://www.google.com/',
        'HTTP://Example.COM',
        'https://a.b:8443/x?y#z',
        'https://a.b:65536/',
        'http://1234/',
        'http://0x7f.1/',
        'http://192.168.0.1/',
        'http://example.com./',
        'http://ex_ample.com/',
        'https://xn--nxasmq6b.com/',
        'https://xn--bad/',
        'http://a..b/',
        'https://evil.com\\@good.com',
        'https://x.com?q',
        'https://x.com:/',
        'https://[::1]/',
        ' https://a.com/',
        'https://a.com%2f/',
        'http://a.09/',
      ];
      for (const url of cases) expect(httpHostname(url), url).to.equal(viaUrl(url));
    });
    it('agrees with new URL() on 5,000 seeded random URLs', () => {
      let seed = 42;
      const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
      const parts = [
        'http://',
        'https://',
        'HTTPS://',
        'ftp://',
        'a',
        'B',
        '0',
        '9',
        '-',
        '.',
        ':',
        '80',
        '99999',
        '0x',
        'xn--',
        '/',
        '?',
        '#',
        '@',
        '[',
        ']',
        '%',
        '\\',
        ' ',
        '_',
        'com',
        'é',
      ];
      for (let i = 0; i < 5000; i++) {
        let url = parts[rand(3)]!;
        for (let n = rand(12); n > 0; n--) url += parts[rand(parts.length)];
        expect(httpHostname(url), url).to.equal(viaUrl(url));
      }
    });
  });

  it('reads the first Accept-Language tag, lower-cased', () => {
    const lang = (value: string) =>
      extractContext(fakeSource({ 'accept-language': value }), OPTIONS, NOW).defaultProperties
        .browser_language;
    expect(lang('en-US,en;q=0.9')).to.equal('en-us');
    expect(lang('fr-CH;q=1, fr;q=0.9')).to.equal('fr-ch');
    expect(lang(' de ')).to.equal('de');
    expect(lang('*')).to.equal(undefined);
    expect(lang('<script>')).to.equal(undefined);
  });

  it('builds current_url only with a known http(s) protocol and host; pathname from the raw target', () => {
    const dp = (init: Init) => extractContext(fakeSource({}, init), OPTIONS, NOW).defaultProperties;
    expect(dp({ url: '/a/b?x=1#f', protocol: 'http', host: 'Example.com:8080' })).to.include({
      current_url: 'http://example.com:8080/a/b?x=1#f',
      host: 'example.com:8080',
      pathname: '/a/b',
    });
    expect(dp({ url: '/a', protocol: 'ftp' })).not.to.have.property('current_url');
    expect(dp({ url: 'http://proxy.example/p/q?utm_source=x' })).to.include({
      current_url: 'http://proxy.example/p/q?utm_source=x',
      pathname: '/p/q',
      utm_source: 'x',
    });
  });

  it('reports Sec-GPC only for "1"', () => {
    expect(extractContext(fakeSource({ 'sec-gpc': '1' }), OPTIONS, NOW).gpc).to.equal(true);
    expect(extractContext(fakeSource({ 'sec-gpc': '0' }), OPTIONS, NOW).gpc).to.equal(false);
    expect(extractContext(fakeSource({}), OPTIONS, NOW).gpc).to.equal(false);
  });

  it("cuts every value to the contract's maxLength, and unbounded ones to 4096", () => {
    const long = (n: number) => 'a'.repeat(n);
    const source = fakeSource(
      {
        'user-agent': CHROME_WIN,
        referer: `https://${long(6000)}.com/`,
        cookie: `ours_sid=sid_${long(3000)}; _fbp=${long(3000)}`,
      },
      { url: `/${long(2500)}?utm_source=${long(2500)}&fbclid=${long(2500)}`, host: long(2500) },
    );
    const dp = extractContext(source, OPTIONS, NOW).defaultProperties;
    const props = defaultPropertiesSchema.properties!;
    for (const [key, value] of Object.entries(dp)) {
      const max = props[key]?.maxLength ?? UNBOUNDED_FIELD_CAP;
      expect((value as string).length, key).to.be.at.most(max);
    }
    expect(dp.utm_source).to.have.length(2000);
    expect(dp.fbclid).to.have.length(2000);
    expect(dp.fbc).to.have.length(2000);
    expect(dp.sid).to.have.length(2000);
    expect(dp.host).to.have.length(2000);
    expect(dp.pathname).to.have.length(2000);
    expect(dp.referrer).to.have.length(5000);
    expect(dp.current_url).to.have.length(UNBOUNDED_FIELD_CAP);
    assertClean(dp);
  });

  it('returns a fresh defaultProperties object each call (the cache stays intact)', () => {
    const source = fakeSource({ 'user-agent': CHROME_WIN });
    const a = extractContext(source, OPTIONS, NOW).defaultProperties;
    a.browser_name = 'Changed';
    expect(extractContext(source, OPTIONS, NOW).defaultProperties.browser_name).to.equal('Chrome');
  });
});
