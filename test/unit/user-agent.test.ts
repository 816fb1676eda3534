import { expect } from 'chai';
import {
  clearUserAgentCache,
  cutUserAgent,
  MAX_USER_AGENT_LENGTH,
  parseUserAgent,
  truncate,
  userAgentCacheSize,
} from '../../src/request/user-agent';

const CHROME_WIN =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

const noEmptyValues = (o: object) =>
  Object.values(o).forEach((v) => expect(v).to.be.a('string').and.not.equal(''));

describe('request/user-agent: parseUserAgent', () => {
  beforeEach(() => clearUserAgentCache());

  it('parses a desktop Chrome UA into DefaultProperties fields, desktop by default', () => {
    const r = parseUserAgent(CHROME_WIN);
    expect(r).to.deep.equal({
      browser_name: 'Chrome',
      browser_version: '120.0.0.0',
      os_name: 'Windows',
      os_version: '10',
      engine_name: 'Blink',
      engine_version: '120.0.0.0',
      cpu_architecture: 'amd64',
      device_type: 'desktop',
    });
    noEmptyValues(r);
  });

  it('keeps what the parser says for a phone (mobile, Apple, iPhone) and omits unknowns', () => {
    const r = parseUserAgent(IPHONE);
    expect(r).to.include({
      device_type: 'mobile',
      device_vendor: 'Apple',
      device_model: 'iPhone',
      os_name: 'iOS',
    });
    expect(r).not.to.have.property('cpu_architecture');
    expect(r).not.to.have.property('is_bot');
    noEmptyValues(r);
  });

  it("marks Googlebot is_bot 'true' and never calls it desktop", () => {
    const r = parseUserAgent(GOOGLEBOT);
    expect(r.is_bot).to.equal('true');
    expect(r).not.to.have.property('device_type');
  });

  it('returns an empty object for a 0-byte, missing or non-string UA', () => {
    expect(parseUserAgent('')).to.deep.equal({});
    expect(parseUserAgent(undefined)).to.deep.equal({});
    expect(parseUserAgent(['x'])).to.deep.equal({});
    expect(cutUserAgent('')).to.equal(undefined);
  });

  it('cuts a 100 kB UA to 500 chars before parsing, fast', () => {
    const huge = CHROME_WIN + ' '.repeat(50) + 'x'.repeat(100_000);
    expect(cutUserAgent(huge)).to.have.length(MAX_USER_AGENT_LENGTH);
    const start = process.hrtime.bigint();
    const r = parseUserAgent(huge);
    expect(Number(process.hrtime.bigint() - start) / 1e6).to.be.lessThan(50);
    // same cache entry as its first 500 chars: the rest never reached the parser
    expect(parseUserAgent(huge.slice(0, MAX_USER_AGENT_LENGTH))).to.equal(r);
  });

  it('cuts before isbot too: a bot token past 500 chars is not seen', () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) ' + 'a'.repeat(600) + ' Googlebot/2.1';
    expect(parseUserAgent(ua)).not.to.have.property('is_bot');
  });

  it('returns frozen cached objects that callers cannot corrupt', () => {
    const r = parseUserAgent(CHROME_WIN);
    expect(Object.isFrozen(r)).to.equal(true);
    expect(() => {
      (r as { browser_name?: string }).browser_name = 'Evil';
    }).to.throw(TypeError);
    expect(parseUserAgent(CHROME_WIN)).to.equal(r);
    expect(parseUserAgent(CHROME_WIN).browser_name).to.equal('Chrome');
  });

  it('bounds the cache at 2,000 entries and evicts the oldest first', () => {
    const first = parseUserAgent(`${CHROME_WIN} #0`);
    for (let i = 1; i < 2100; i++) parseUserAgent(`${CHROME_WIN} #${i}`);
    expect(userAgentCacheSize()).to.equal(2000);
    expect(parseUserAgent(`${CHROME_WIN} #2099`)).to.equal(parseUserAgent(`${CHROME_WIN} #2099`));
    expect(parseUserAgent(`${CHROME_WIN} #0`)).not.to.equal(first); // re-parsed: it had been evicted
  });
});

describe('request/user-agent: truncate', () => {
  it('never splits a surrogate pair', () => {
    expect(truncate('ab😀c', 3)).to.equal('ab');
    expect(truncate('ab😀c', 4)).to.equal('ab😀');
    expect(truncate('short', 10)).to.equal('short');
  });
});
