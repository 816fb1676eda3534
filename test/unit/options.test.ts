import { expect } from 'chai';
import { OursClient, OursConfigError, type ClientOptions } from '../../src/index';
import { resolveOptions } from '../../src/options';

describe('client options', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('applies the documented defaults', () => {
    const o = resolveOptions({ token: 't' });
    expect(o).to.deep.include({
      apiUrl: 'https://api.oursprivacy.com/api/v1',
      flushAt: 200,
      flushIntervalMs: 1000,
      maxBatchSize: 500,
      maxQueueSize: 100_000,
      maxQueueBytes: 64 * 1024 * 1024,
      maxInFlight: 4,
      timeoutMs: 10_000,
      gzip: true,
      endpoint: 'batch',
      strict: false,
      handleSignals: false,
    });
    expect(o.retry).to.deep.equal({ initialDelayMs: 2000, maxDelayMs: 60_000, jitterMs: [1000, 5000], maxAttempts: 10 });
    expect(o.fetch).to.be.a('function').and.not.equal(globalThis.fetch); // node:http, kept alive (src/http-fetch.ts)
  });

  it('reads OURS_TOKEN and OURS_API_URL from the environment', () => {
    process.env.OURS_TOKEN = 'env-token';
    process.env.OURS_API_URL = 'http://127.0.0.1:9/api/v1/';
    const o = resolveOptions();
    expect(o.token).to.equal('env-token');
    expect(o.apiUrl).to.equal('http://127.0.0.1:9/api/v1');
  });

  it('a missing token is a constructor error that says how to fix it', () => {
    delete process.env.OURS_TOKEN;
    expect(() => new OursClient()).to.throw(OursConfigError, /option `token` is missing: pass `\{ token \}` or set the OURS_TOKEN environment variable/);
  });

  it('refuses plain http to a host that is not loopback, unless allowed', () => {
    expect(() => resolveOptions({ token: 't', apiUrl: 'http://api.example.com/api/v1' })).to.throw(OursConfigError, /apiUrl.*plain http:\/\/ to api\.example\.com/);
    expect(resolveOptions({ token: 't', apiUrl: 'http://api.example.com', allowInsecureHttp: true }).apiUrl).to.equal('http://api.example.com');
    for (const host of ['localhost:8080', '127.0.0.1', '[::1]:3000']) {
      expect(() => resolveOptions({ token: 't', apiUrl: `http://${host}/api/v1` })).not.to.throw();
    }
  });

  const bad: [string, ClientOptions, RegExp][] = [
    ['maxBatchSize over the contract limit', { maxBatchSize: 1001 }, /`maxBatchSize` must be a whole number from 1 to 1000, got 1001/],
    ['flushAt above maxBatchSize', { maxBatchSize: 10, flushAt: 11 }, /`flushAt` must be a whole number from 1 to 10/],
    ['a negative timeout', { timeoutMs: -1 }, /`timeoutMs`/],
    ['a fractional queue size', { maxQueueSize: 1.5 }, /`maxQueueSize`/],
    ['jitter with min above max', { retry: { jitterMs: [5, 1] } }, /`retry.jitterMs` must be \[min, max\]/],
    ['maxDelay below initialDelay', { retry: { initialDelayMs: 100, maxDelayMs: 10 } }, /`retry.maxDelayMs` must be a whole number from 100/],
    ['an unknown endpoint', { endpoint: 'events' as never }, /`endpoint` must be 'batch' or 'track'/],
    ['a non-function fetch', { fetch: 'x' as never }, /`fetch` must be a fetch-compatible function/],
    ['a token over 250 characters', { token: 'x'.repeat(251) }, /`token` must be a string of 1 to 250 characters/],
    ['an apiUrl that is not a URL', { apiUrl: 'not a url' }, /`apiUrl` is not a valid URL/],
    ['an ftp apiUrl', { apiUrl: 'ftp://x.example' }, /`apiUrl` must use https:/],
  ];
  for (const [name, options, message] of bad) {
    it(`rejects ${name}, naming the option`, () => {
      expect(() => resolveOptions({ token: 't', ...options })).to.throw(OursConfigError, message);
    });
  }
});
