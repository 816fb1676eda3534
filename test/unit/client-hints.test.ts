import { expect } from 'chai';
import {
  applyClientHints,
  buildUafvl,
  parseBrandList,
  parseSfString,
  readClientHints,
} from '../../src/request/client-hints';
import { parseUserAgent } from '../../src/request/user-agent';

const source = (headers: Record<string, string>) => ({ header: (name: string) => headers[name] });

const ANDROID_K =
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36';
const CHROME_WIN =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0';

describe('request/client-hints: parsing', () => {
  it('parses a Sec-CH-UA list and skips GREASE brands', () => {
    const list = parseBrandList('"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"');
    expect(list).to.deep.equal([
      { brand: 'Chromium', version: '120' },
      { brand: 'Google Chrome', version: '120' },
    ]);
  });

  for (const grease of [
    'Not A(Brand',
    'Not/A)Brand',
    ' Not;A Brand',
    'Not.A/Brand',
    'Not:A-Brand',
    'Not?A_Brand',
    'Not=A?Brand',
  ]) {
    it(`treats ${JSON.stringify(grease)} as GREASE`, () => {
      expect(parseBrandList(`"${grease}";v="99", "Chromium";v="1"`)).to.deep.equal([
        { brand: 'Chromium', version: '1' },
      ]);
    });
  }

  it('handles escapes, extra parameters and tokens, and stops at a syntax error without throwing', () => {
    expect(parseBrandList('"A \\"quoted\\" one";x=1;v="1.2"')).to.deep.equal([
      { brand: 'A "quoted" one', version: '1.2' },
    ]);
    expect(parseBrandList('Token;v=7')).to.deep.equal([{ brand: 'Token', version: '7' }]);
    expect(parseBrandList('"Edge";v="1", "Unterminated;v=2')).to.deep.equal([
      { brand: 'Edge', version: '1' },
    ]);
    expect(parseBrandList('"Edge";v="1", "B";v="2" junk, "C";v="3"')).to.deep.equal([
      { brand: 'Edge', version: '1' },
    ]);
    expect(parseBrandList('')).to.deep.equal([]);
    expect(parseBrandList(',,,;;;===')).to.deep.equal([]);
  });

  it('parses sf-strings and reads ?1/?0', () => {
    expect(parseSfString('"Windows"')).to.equal('Windows');
    expect(parseSfString('""')).to.equal(undefined);
    const hints = readClientHints(
      source({
        'sec-ch-ua-mobile': '?1',
        'sec-ch-ua-model': '"Pixel 7"',
        'sec-ch-ua-platform': '"Android"',
      }),
    );
    expect(hints).to.deep.equal({ mobile: true, model: 'Pixel 7', platform: 'Android' });
    expect(
      readClientHints(source({ 'sec-ch-ua-mobile': '?0', 'sec-ch-ua-model': '""' })),
    ).to.deep.equal({ mobile: false });
  });

  it('returns undefined when no client hint is sent (non-Chromium browsers)', () => {
    expect(readClientHints(source({ 'user-agent': FIREFOX_MAC }))).to.equal(undefined);
  });
});

describe('request/client-hints: correcting the UA parse', () => {
  it('replaces the reduced Android model "K" with Sec-CH-UA-Model and fixes the Android version', () => {
    const ua = parseUserAgent(ANDROID_K);
    expect(ua.device_model).to.equal('K');
    const hints = readClientHints(
      source({
        'sec-ch-ua-model': '"Pixel 7"',
        'sec-ch-ua-platform': '"Android"',
        'sec-ch-ua-platform-version': '"14.0.0"',
        'sec-ch-ua-mobile': '?1',
      }),
    )!;
    const fixed = applyClientHints(ua, hints);
    expect(fixed).to.include({
      device_model: 'Pixel 7',
      os_name: 'Android',
      os_version: '14.0.0',
      device_type: 'mobile',
    });
    expect(ua.device_model).to.equal('K'); // the cached, frozen parse is untouched
  });

  it('maps Windows platform versions: >= 13 is 11, 1..12 is 10, 0.x keeps the UA', () => {
    const ua = parseUserAgent(CHROME_WIN);
    const win = (v: string) =>
      applyClientHints(ua, { platform: 'Windows', platformVersion: v }).os_version;
    expect(win('15.0.0')).to.equal('11');
    expect(win('13.0.0')).to.equal('11');
    expect(win('10.0.0')).to.equal('10');
    expect(win('0.3.0')).to.equal('10'); // from the UA
  });

  it('marks ?1 as mobile even when the UA looks desktop', () => {
    expect(applyClientHints(parseUserAgent(CHROME_WIN), { mobile: true }).device_type).to.equal(
      'mobile',
    );
  });

  it('takes the full browser version from the matching brand', () => {
    const hints = readClientHints(
      source({
        'sec-ch-ua-full-version-list':
          '"Not_A Brand";v="8.0.0.0", "Chromium";v="120.0.6099.130", "Google Chrome";v="120.0.6099.130"',
      }),
    )!;
    expect(applyClientHints(parseUserAgent(CHROME_WIN), hints).browser_version).to.equal(
      '120.0.6099.130',
    );
  });
});

describe('request/client-hints: uafvl', () => {
  it('joins the full version list as encodeURIComponent(brand);version with |', () => {
    const hints = readClientHints(
      source({
        'sec-ch-ua': '"Chromium";v="120"',
        'sec-ch-ua-full-version-list':
          '"Not_A Brand";v="8.0.0.0", "Chromium";v="120.0.6099.130", "Google Chrome";v="120.0.6099.130"',
      }),
    );
    expect(buildUafvl(hints, {})).to.equal(
      'Chromium;120.0.6099.130|Google%20Chrome;120.0.6099.130',
    );
  });

  it('uses Sec-CH-UA (major versions) when the full list was not sent', () => {
    const hints = readClientHints(
      source({ 'sec-ch-ua': '"Chromium";v="120", "Microsoft Edge";v="120"' }),
    );
    expect(buildUafvl(hints, {})).to.equal('Chromium;120|Microsoft%20Edge;120');
  });

  it('falls back to Browser;version|OS;version from the UA parse', () => {
    expect(buildUafvl(undefined, parseUserAgent(FIREFOX_MAC))).to.equal(
      'Firefox;121.0|Mac%20OS;10.15',
    );
    expect(buildUafvl(undefined, { browser_name: 'Safari' })).to.equal('Safari;');
    expect(buildUafvl(undefined, { os_name: 'Linux' })).to.equal('Linux;');
    expect(buildUafvl(undefined, {})).to.equal(undefined);
  });
});
