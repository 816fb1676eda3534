import { expect } from 'chai';
import { DeviceCache } from '../../src/request/device-cache';
import { extractContext, type ExtractOptions } from '../../src/request/extract-context';
import type { RequestSource } from '../../src/request/request-source';

const UA =
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36';
const OPTIONS: ExtractOptions = {
  cookieName: 'ours_device_id',
  collectIp: false,
  ipResolver: () => undefined,
};

function source(headers: Record<string, string>): RequestSource {
  return {
    header: (name) => headers[name],
    ip: () => undefined,
    socketAddress: undefined,
    protocol: () => 'https',
    host: () => 'a.example',
    url: '/',
  };
}

describe('request/device-cache', () => {
  it('finds a value only for the same UA and the same hint values, a missing hint included', () => {
    const cache = new DeviceCache<string>(10, 1000);
    cache.set('ua', ['a', undefined], 'x');
    expect(cache.get('ua', ['a', undefined])).to.equal('x');
    expect(cache.get('ua', ['a', 'b'])).to.equal(undefined);
    expect(cache.get('ua', [undefined, 'a'])).to.equal(undefined);
    expect(cache.get('other', ['a', undefined])).to.equal(undefined);
  });

  it('holds at most maxEntries variants, evicting the oldest User-Agent, and a few variants per User-Agent', () => {
    const cache = new DeviceCache<number>(3, 1000, 2);
    cache.set('ua1', ['1'], 1);
    cache.set('ua1', ['2'], 2);
    cache.set('ua1', ['3'], 3); // the third variant of one UA replaces its oldest
    expect(cache.get('ua1', ['1'])).to.equal(undefined);
    expect(cache.get('ua1', ['3'])).to.equal(3);
    cache.set('ua2', [], 4);
    expect(cache.size).to.equal(3);
    cache.set('ua3', [], 5); // full: ua1 and both its variants go
    expect(cache.size).to.equal(2);
    expect(cache.get('ua1', ['2'])).to.equal(undefined);
    expect(cache.get('ua2', [])).to.equal(4);
  });

  it('does not keep a combination longer than maxKeyChars', () => {
    const cache = new DeviceCache<number>(10, 10);
    cache.set('ua', ['123456789'], 1);
    expect(cache.get('ua', ['123456789'])).to.equal(undefined);
    expect(cache.size).to.equal(0);
  });

  it('extractContext: the same UA with other client hints gets its own device properties', () => {
    const mobile = extractContext(
      source({
        'user-agent': UA,
        'sec-ch-ua-model': '"Pixel 7"',
        'sec-ch-ua-platform-version': '"14.0.0"',
      }),
      OPTIONS,
      0,
    );
    const other = extractContext(
      source({
        'user-agent': UA,
        'sec-ch-ua-model': '"SM-S918B"',
        'sec-ch-ua-platform-version': '"14.0.0"',
      }),
      OPTIONS,
      0,
    );
    const none = extractContext(source({ 'user-agent': UA }), OPTIONS, 0);
    expect(mobile.defaultProperties.device_model).to.equal('Pixel 7');
    expect(other.defaultProperties.device_model).to.equal('SM-S918B');
    expect(none.defaultProperties.device_model).to.equal('K');
    // and again, now from the cache
    expect(
      extractContext(
        source({
          'user-agent': UA,
          'sec-ch-ua-model': '"Pixel 7"',
          'sec-ch-ua-platform-version': '"14.0.0"',
        }),
        OPTIONS,
        0,
      ).defaultProperties,
    ).to.deep.equal(mobile.defaultProperties);
  });
});
