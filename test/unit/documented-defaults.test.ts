import { expect } from 'chai';
import { OursClient } from '../../src/index';
import { resolveExperimentOptions } from '../../src/experiments/options';
import { resolveMiddlewareConfig } from '../../src/request/middleware-config';
import { nodeResponse } from '../../src/request/node-response';

/**
 * The defaults the option tables state (README "Options", docs/experiments.md),
 * as the code applies them. The client's are held by test/unit/options.test.ts
 * ("applies the documented defaults"); these are the middleware's and the
 * experiments'.
 */
describe('documented defaults of the middleware and experiment options', () => {
  let client: OursClient;
  before(() => {
    client = new OursClient({
      token: 't',
      apiUrl: 'http://127.0.0.1:9/api/v1',
      logger: false,
      handleSignals: false,
    });
  });
  after(() => client.shutdown());

  it('ours(): cookieName, collectIp, hookTimeoutMs, gpc, setVisitorCookie, flushOnResponse', () => {
    const config = resolveMiddlewareConfig({ client }, nodeResponse);
    expect(config).to.deep.include({
      cookieName: 'ours_device_id',
      collectIp: true,
      hookTimeoutMs: 5000,
      gpc: 'annotate',
      setVisitorCookie: false,
      cookieDomain: undefined,
      flushOnResponseMs: undefined,
    });
    expect(config.redact, 'redaction is on by default').to.not.equal(undefined);
    expect(config.consent, 'no consent is attached by default').to.equal(undefined);
    // `flushOnResponse: true` holds the response at most 2 s (README "Shutdown and serverless").
    expect(resolveMiddlewareConfig({ client, flushOnResponse: true }, nodeResponse)).to.include({
      flushOnResponseMs: 2000,
    });
  });

  it('experiments: a 150 ms budget, a cache of 10000 answers for 60 s', () => {
    const saved = process.env.OURS_EXPERIMENT_TOKEN;
    delete process.env.OURS_EXPERIMENT_TOKEN;
    try {
      expect(resolveExperimentOptions()).to.deep.include({
        token: undefined,
        budgetMs: 150,
        maxEntries: 10_000,
        ttlMs: 60_000,
      });
    } finally {
      if (saved !== undefined) process.env.OURS_EXPERIMENT_TOKEN = saved;
    }
  });
});
