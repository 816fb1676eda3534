import { expect } from 'chai';
import { redirectTarget } from '../../src/experiments/redirect';

describe('experiments: redirect targets', () => {
  it('allows same-site paths and https:// URLs, normalised for the Location header', () => {
    const allowed: [string, string][] = [
      ['/pricing-b', '/pricing-b'],
      ['/checkout/b?step=1&utm_source=meta#top', '/checkout/b?step=1&utm_source=meta#top'],
      ['/caf\u00e9', '/caf%C3%A9'],
      ['https://b.shop.example/landing?x=1', 'https://b.shop.example/landing?x=1'],
      ['https://b\u00fccher.example/', 'https://xn--bcher-kva.example/'],
    ];
    for (const [target, location] of allowed)
      expect(redirectTarget(target), target).to.deep.equal({ ok: true, location });
  });

  it('refuses every other scheme, protocol-relative and backslash tricks, credentials, controls and huge targets', () => {
    const refused = [
      'http://shop.example/b',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'ftp://files.example/',
      '//evil.example/path',
      '/\\evil.example',
      '/..//evil.example',
      '/./%2e%2e//evil.example',
      'pricing-b',
      '',
      'https://user:pass@shop.example/',
      '/b\r\nSet-Cookie: x=1',
      '/b c',
      `/${'a'.repeat(2048)}`,
    ];
    for (const target of refused)
      expect(redirectTarget(target).ok, JSON.stringify(target)).to.equal(false);
    expect(redirectTarget(42).ok).to.equal(false);
  });
});
