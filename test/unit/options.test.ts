import { expect } from 'chai';
import { ours as oursExpress } from '../../adapters/express';
import { ours as oursKoa } from '../../adapters/koa';
import {
  fileStore,
  OursClient,
  OursConfigError,
  redisStore,
  type ClientOptions,
} from '../../src/index';
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
      maxInFlight: 8,
      timeoutMs: 10_000,
      gzip: true,
      endpoint: 'batch',
      strict: false,
      handleSignals: true,
    });
    expect(o.retry).to.deep.equal({
      initialDelayMs: 2000,
      maxDelayMs: 60_000,
      jitterMs: [1000, 5000],
      maxAttempts: 10,
    });
    expect(o.fetch).to.be.a('function').and.not.equal(globalThis.fetch); // node:http, kept alive (src/node-http-fetch.ts)
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
    expect(() => new OursClient()).to.throw(
      OursConfigError,
      /option `token` is missing: pass `\{ token \}` or set the OURS_TOKEN environment variable/,
    );
  });

  it('refuses plain http to a host that is not loopback, unless allowed', () => {
    expect(() => resolveOptions({ token: 't', apiUrl: 'http://api.example.com/api/v1' })).to.throw(
      OursConfigError,
      /apiUrl.*plain http:\/\/ to api\.example\.com/,
    );
    expect(
      resolveOptions({
        token: 't',
        apiUrl: 'http://api.example.com/api/v1',
        allowInsecureHttp: true,
      }).apiUrl,
    ).to.equal('http://api.example.com/api/v1');
    for (const host of ['localhost:8080', '127.0.0.1', '[::1]:3000']) {
      expect(() => resolveOptions({ token: 't', apiUrl: `http://${host}/api/v1` })).not.to.throw();
    }
  });

  const bad: [string, ClientOptions, RegExp][] = [
    [
      'maxBatchSize over the contract limit',
      { maxBatchSize: 1001 },
      /`maxBatchSize` must be a whole number from 1 to 1000, got 1001/,
    ],
    [
      'flushAt above maxBatchSize',
      { maxBatchSize: 10, flushAt: 11 },
      /`flushAt` must be a whole number from 1 to 10/,
    ],
    ['a negative timeout', { timeoutMs: -1 }, /`timeoutMs`/],
    ['a fractional queue size', { maxQueueSize: 1.5 }, /`maxQueueSize`/],
    [
      'jitter with min above max',
      { retry: { jitterMs: [5, 1] } },
      /`retry.jitterMs` must be \[min, max\]/,
    ],
    [
      'maxDelay below initialDelay',
      { retry: { initialDelayMs: 100, maxDelayMs: 10 } },
      /`retry.maxDelayMs` must be a whole number from 100/,
    ],
    [
      'an unknown endpoint',
      { endpoint: 'events' as never },
      /`endpoint` must be 'batch' or 'track'/,
    ],
    [
      'a non-function fetch',
      { fetch: 'x' as never },
      /`fetch` must be a fetch-compatible function/,
    ],
    [
      'a token over 250 characters',
      { token: 'x'.repeat(251) },
      /`token` must be a string of 1 to 250 characters/,
    ],
    [
      'an apiUrl that is not a URL',
      { apiUrl: 'not a url' },
      /`apiUrl` is not a URL: the string 'not a url'; it should look like https:\/\/api\.oursprivacy\.com\/api\/v1/,
    ],
    ['an ftp apiUrl', { apiUrl: 'ftp://x.example' }, /`apiUrl` must use https:/],
  ];
  for (const [name, options, message] of bad) {
    it(`rejects ${name}, naming the option`, () => {
      expect(() => resolveOptions({ token: 't', ...options })).to.throw(OursConfigError, message);
    });
  }

  describe('typos and wrong values (issue 11)', () => {
    it('refuses an unknown client option, naming it and the option meant', () => {
      expect(
        () => new OursClient({ token: 't', apiURL: 'https://api.oursprivacy.com/api/v1' } as never),
      ).to.throw(
        OursConfigError,
        /^option `apiURL` is not an option of new OursClient\(\): did you mean `apiUrl`\?$/,
      );
      expect(() => new OursClient({ token: 't', flushInterval: 10 } as never)).to.throw(
        OursConfigError,
        /did you mean `flushIntervalMs`\?/,
      );
      expect(() => new OursClient({ token: 't', retry: { maxAttempt: 3 } } as never)).to.throw(
        OursConfigError,
        /option `retry.maxAttempt` .*did you mean `retry.maxAttempts`\?/,
      );
      // Nothing close: the message lists what there is.
      expect(() => new OursClient({ token: 't', colour: 'red' } as never)).to.throw(
        OursConfigError,
        /`colour` is not an option of new OursClient\(\): the options are token, apiUrl, /,
      );
      try {
        new OursClient({ token: 't', cookiename: 'x' } as never);
        expect.fail('no error');
      } catch (err) {
        expect((err as OursConfigError).option).to.equal('cookiename');
      }
    });

    it('refuses unknown options of ours() (middleware and client ones alike), fileStore() and redisStore()', () => {
      const base = { token: 't', logger: false as const };
      expect(() => oursExpress({ ...base, cookiename: 'sid' } as never)).to.throw(
        OursConfigError,
        /^option `cookiename` is not an option of ours\(\): did you mean `cookieName`\?$/,
      );
      expect(() => oursKoa({ ...base, apiURL: 'https://x.example/api/v1' } as never)).to.throw(
        OursConfigError,
        /did you mean `apiUrl`\?/,
      );
      expect(() => oursExpress({ ...base, setVisitorCookies: true } as never)).to.throw(
        OursConfigError,
        /did you mean `setVisitorCookie`\?/,
      );
      expect(() => fileStore({ dir: '/tmp/x', fsynch: false } as never)).to.throw(
        OursConfigError,
        /^option `fileStore.fsynch` is not an option of fileStore\(\): did you mean `fileStore.fsync`\?$/,
      );
      const redis = { call: async () => null };
      expect(() => redisStore({ redis, streem: 's' } as never)).to.throw(
        OursConfigError,
        /option `redisStore.streem` .*did you mean `redisStore.stream`\?/,
      );
    });

    it('says NaN and a numeric string for what they are, once, without a prefix', () => {
      const messageOf = (options: object): string => {
        try {
          resolveOptions({ token: 't', ...options });
        } catch (err) {
          return (err as Error).message;
        }
        return 'no error';
      };
      expect(messageOf({ flushAt: NaN })).to.equal(
        'option `flushAt` must be a whole number from 1 to 500, got NaN',
      );
      expect(messageOf({ flushAt: '10' })).to.equal(
        "option `flushAt` must be a whole number from 1 to 500, got the string '10'",
      );
      expect(messageOf({ gzip: 'no' })).to.equal(
        "option `gzip` must be true or false, got the string 'no'",
      );
      expect(messageOf({ retry: { jitterMs: [NaN, 5] } })).to.match(/got \[NaN, 5\]$/);
      expect(messageOf({ fetch: {} })).to.match(/got an object$/);
      expect(messageOf({ retry: 3 })).to.equal('option `retry` must be an object, got 3');
    });

    const badUrls: [string, RegExp][] = [
      [
        'https://api.oursprivacy.com/api/v1/api/v1',
        /repeats \/api\/v1 .*use https:\/\/api\.oursprivacy\.com\/api\/v1$/,
      ],
      [
        'https://api.oursprivacy.com',
        /has no path .*use https:\/\/api\.oursprivacy\.com\/api\/v1$/,
      ],
      ['https://api.oursprivacy.com/', /has no path/],
      ['https://api.oursprivacy.com/api/v1?token=abc', /has a query string or fragment/],
      ['https://api.oursprivacy.com/api/v1#x', /has a query string or fragment/],
      [
        'https://api.oursprivacy.com/api/v1/batch',
        /ends with the endpoint \/batch .*https:\/\/api\.oursprivacy\.com\/api\/v1; the client adds/,
      ],
      ['https://user:pw@api.oursprivacy.com/api/v1', /user name or password/],
    ];
    for (const [apiUrl, message] of badUrls) {
      it(`refuses apiUrl ${apiUrl} at construction, saying what to use`, () => {
        expect(() => resolveOptions({ token: 't', apiUrl })).to.throw(OursConfigError, message);
      });
    }

    it('accepts the real base URL, a trailing slash, and a proxy path', () => {
      expect(
        resolveOptions({ token: 't', apiUrl: 'https://api.oursprivacy.com/api/v1/' }).apiUrl,
      ).to.equal('https://api.oursprivacy.com/api/v1');
      expect(
        resolveOptions({ token: 't', apiUrl: 'https://proxy.example.com/ours/api/v1' }).apiUrl,
      ).to.equal('https://proxy.example.com/ours/api/v1');
    });

    it('an error about a value from OURS_API_URL or OURS_TOKEN names the variable, never the token', () => {
      process.env.OURS_API_URL = 'https://api.oursprivacy.com';
      expect(() => resolveOptions({ token: 't' })).to.throw(
        OursConfigError,
        /^option `apiUrl` \(from the OURS_API_URL environment variable\) has no path/,
      );
      // Given in code, the environment is not blamed.
      expect(() => resolveOptions({ token: 't', apiUrl: 'https://x.example' })).to.throw(
        OursConfigError,
        /^option `apiUrl` has no path/,
      );
      delete process.env.OURS_API_URL;
      const secret = 's'.repeat(251);
      process.env.OURS_TOKEN = secret;
      try {
        resolveOptions();
        expect.fail('no error');
      } catch (err) {
        expect((err as Error).message).to.match(
          /^option `token` \(from the OURS_TOKEN environment variable\) must be a string of 1 to 250 characters.*got 251 characters/,
        );
        expect((err as Error).message).not.to.include(secret);
      }
      process.env.OURS_TOKEN = '';
      expect(() => resolveOptions()).to.throw(
        OursConfigError,
        /^option `token` \(from the OURS_TOKEN environment variable\) is empty/,
      );
    });
  });
});
