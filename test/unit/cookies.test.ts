import { expect } from 'chai';
import { MAX_COOKIE_HEADER_LENGTH, readCookies } from '../../src/request/cookies';

describe('request/cookies: readCookies', () => {
  const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).sort();
  const before = protoKeys();
  afterEach(() => {
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    expect(protoKeys()).to.deep.equal(before);
  });

  it('reads the four cookies we need and nothing else', () => {
    const c = readCookies(
      'a=1; ours_device_id=dev-1; ours_sid=sid_1700000000000; _fbc=fb.1.1.abc; _fbp=fb.1.2.3; z=9',
    );
    expect(c).to.deep.equal({
      deviceId: 'dev-1',
      sid: 'sid_1700000000000',
      fbc: 'fb.1.1.abc',
      fbp: 'fb.1.2.3',
    });
  });

  it('keeps the other cookies when one value is malformed (%E0%A4)', () => {
    const c = readCookies('bad=%E0%A4; ours_device_id=dev%2D1; _fbp=fb.1.2.3');
    expect(c).to.deep.equal({ deviceId: 'dev-1', fbp: 'fb.1.2.3' });
  });

  it('keeps the raw text of our own malformed value', () => {
    expect(readCookies('ours_device_id=%E0%A4x; ours_sid=sid_5').deviceId).to.equal('%E0%A4x');
    expect(readCookies('ours_device_id=%E0%A4x; ours_sid=sid_5').sid).to.equal('sid_5');
  });

  it('splits each pair on the first = only (base64 values)', () => {
    expect(readCookies('ours_device_id=YWJj==; _fbp=a=b=c').deviceId).to.equal('YWJj==');
    expect(readCookies('ours_device_id=YWJj==; _fbp=a=b=c').fbp).to.equal('a=b=c');
  });

  it('ignores __proto__ and constructor cookies and pollutes nothing', () => {
    const c = readCookies(
      '__proto__=polluted; constructor=x; __proto__[polluted]=1; ours_sid=sid_1',
    );
    expect(c).to.deep.equal({ sid: 'sid_1' });
    expect(Object.getPrototypeOf(c)).to.equal(Object.prototype);
  });

  it('reads a configured cookie name, even "__proto__", as a plain value', () => {
    expect(readCookies('my_vid=v1; ours_device_id=v2', 'my_vid').deviceId).to.equal('v1');
    const c = readCookies('__proto__=v3', '__proto__');
    expect(Object.getOwnPropertyNames(c)).to.deep.equal(['deviceId']);
    expect(c.deviceId).to.equal('v3');
  });

  it('matches whole names at the start of a pair only', () => {
    const c = readCookies(
      'xours_sid=1; ours_sid2=2; a=ours_sid=3; b="ours_sid=4"; ours_sid=sid_ok',
    );
    expect(c.sid).to.equal('sid_ok');
  });

  it('trims spaces and tabs, accepts "name = value", drops quotes', () => {
    expect(readCookies('  ours_sid \t=\t sid_1 ;_fbp="fb.1.2.3"')).to.deep.equal({
      sid: 'sid_1',
      fbp: 'fb.1.2.3',
    });
  });

  it('lets the first non-empty occurrence win', () => {
    expect(readCookies('ours_sid=sid_1; ours_sid=sid_2').sid).to.equal('sid_1');
    expect(readCookies('ours_sid=; ours_sid=sid_2').sid).to.equal('sid_2');
    expect(readCookies('ours_sid=""').sid).to.equal(undefined);
  });

  it('skips pairs without = the way cookie@1 does', () => {
    expect(readCookies('flag; ours_sid=sid_1; other').sid).to.equal('sid_1');
  });

  it('returns {} for a missing, empty or non-string header', () => {
    expect(readCookies(undefined)).to.deep.equal({});
    expect(readCookies('')).to.deep.equal({});
    expect(readCookies(['ours_sid=sid_1'])).to.deep.equal({});
    expect(readCookies(42)).to.deep.equal({});
  });

  it('caps a header past 64 KiB without reading a half-cut pair', () => {
    const filler = 'f=' + 'x'.repeat(MAX_COOKIE_HEADER_LENGTH - 20);
    const early = `ours_device_id=early; ${filler}; ours_sid=sid_${'9'.repeat(40)}; _fbp=late; pad=${'y'.repeat(2000)}`;
    expect(early.length).to.be.greaterThan(MAX_COOKIE_HEADER_LENGTH);
    const c = readCookies(early);
    expect(c.deviceId).to.equal('early');
    // ours_sid straddles the cut: not read at all rather than cut short
    expect(c.sid).to.equal(undefined);
    expect(c.fbp).to.equal(undefined);
  });

  it('stays linear on a hostile header (many names inside values, many bare pairs)', () => {
    const hostile = 'a=' + 'ours_sid'.repeat(1000) + ';'.repeat(2000) + 'x;'.repeat(1000);
    const start = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) readCookies(hostile);
    expect(Number(process.hrtime.bigint() - start) / 1e6).to.be.lessThan(500);
  });
});
