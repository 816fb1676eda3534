import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { OursClient } from '../../src/client';
import { kExperiments } from '../../src/client/side-channels';
import type { OursError } from '../../src/errors';
import { Experiments, type Visit } from '../../src/experiments/experiments';
import {
  resolveExperimentOptions,
  type ExperimentClientOptions,
} from '../../src/experiments/options';
import { createMockOurs } from '../../src/testing';
import { TEST_EXPERIMENT_BUDGET_MS, withMock } from '../support/client';

const TOKEN = 'exp_test_token_123';
const CHECKOUT = {
  variants: [
    { id: 'var_ctl', name: 'control', isControl: true },
    { id: 'var_b', name: 'one-page' },
  ],
};
const visit = (
  visitorId: string | undefined,
  url = 'https://shop.example/checkout?utm_source=meta',
): Visit => ({
  visitorId: () => visitorId,
  page: () => ({ url, search: '?utm_source=meta' }),
  mayRecord: () => true,
});

/** Experiments of a client pointed at the mock, on a clock the test moves by hand. */
function setup(mockUrl: string, options: ExperimentClientOptions = {}) {
  let t = 0;
  const errors: OursError[] = [];
  const experiments = new Experiments({
    options: resolveExperimentOptions({
      experimentToken: TOKEN,
      experimentBudgetMs: TEST_EXPERIMENT_BUDGET_MS,
      ...options,
    }),
    apiUrl: mockUrl,
    report: (err) => errors.push(err),
    now: () => t,
  });
  return { experiments, errors, advance: (ms: number) => void (t += ms) };
}

describe('experiments against the mock API', () => {
  const t = withMock();
  const assignments = () =>
    t.mock.requests.filter((r) => r.endpoint === '/experiments/assignments');

  it('sends the contract body and returns the variant; the same visitor stays in it', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const { experiments } = setup(t.mock.url);
    const first = await experiments.assign('checkout', visit('visitor-1'));
    expect(first.inExperiment).to.equal(true);
    expect(['var_ctl', 'var_b']).to.include(first.variantId);
    expect(first).to.include({
      experimentKey: 'checkout',
      experimentId: 'exp_checkout',
      isControl: first.variantId === 'var_ctl',
    });
    expect(assignments()[0]!.body).to.deep.equal({
      token: '[redacted]',
      visitor_id: 'visitor-1',
      context: { url: 'https://shop.example/checkout?utm_source=meta', search: '?utm_source=meta' },
      track_impression: true,
    });
    expect(t.mock.impressions).to.deep.equal([
      { experimentKey: 'checkout', visitorId: 'visitor-1', variantId: first.variantId },
    ]);
    const again = setup(t.mock.url).experiments; // no cache: asks the API again
    expect((await again.assign('checkout', visit('visitor-1'))).variantId).to.equal(
      first.variantId,
    );
  });

  it('answers from the cache until the TTL passes, then asks again', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const { experiments, advance } = setup(t.mock.url, { experimentCache: { ttlMs: 60_000 } });
    const first = await experiments.assign('checkout', visit('v1'));
    advance(59_999);
    expect(await experiments.assign('checkout', visit('v1'))).to.equal(first); // the same frozen object
    expect(assignments()).to.have.length(1);
    advance(1);
    await experiments.assign('checkout', visit('v1'));
    expect(assignments()).to.have.length(2);
    expect(Object.isFrozen(first)).to.equal(true);
  });

  it('caches per visitor, experiment and page, and not at all with experimentCache: false', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const { experiments } = setup(t.mock.url);
    await experiments.assign('checkout', visit('v1'));
    await experiments.assign('checkout', visit('v2'));
    await experiments.assign('checkout', visit('v1', 'https://shop.example/other'));
    expect(assignments()).to.have.length(3);
    const uncached = setup(t.mock.url, { experimentCache: false }).experiments;
    await uncached.assign('checkout', visit('v1'));
    await uncached.assign('checkout', visit('v1'));
    expect(assignments()).to.have.length(5);
  });

  it("a long page URL (a client's 4 KB query string) is still cached, under a short key, and kept apart from others", async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const { experiments } = setup(t.mock.url);
    const long = (n: number) => `https://shop.example/checkout?junk=${String(n).repeat(4000)}`;
    await experiments.assign('checkout', visit('v1', long(1)));
    await experiments.assign('checkout', visit('v1', long(1)));
    await experiments.assign('checkout', visit('v1', long(2)));
    expect(assignments()).to.have.length(2);
  });

  it('concurrent calls for one visitor and key share one request', async () => {
    t.mock
      .experiment('checkout', CHECKOUT)
      .respondWith({ delayMs: 50, path: '/experiments/assignments' });
    const { experiments } = setup(t.mock.url);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => experiments.assign('checkout', visit('v1'))),
    );
    expect(assignments()).to.have.length(1);
    expect(new Set(answers.map((a) => a.variantId)).size).to.equal(1);
  });

  it('a burst past 64 requests in flight: the calls beyond take the control path at once, said once', async () => {
    t.mock
      .experiment('checkout', { variants: [{ id: 'var_b' }] })
      .respondWith({ delayMs: 20, times: 'always', path: '/experiments/assignments' });
    const { experiments, errors } = setup(t.mock.url, { experimentBudgetMs: 5000 });
    const answers = await Promise.all(
      Array.from({ length: 70 }, (_, i) => experiments.assign('checkout', visit(`burst-${i}`))),
    );
    expect(answers.filter((a) => a.inExperiment)).to.have.length(64);
    expect(assignments()).to.have.length(64);
    expect(errors.map((e) => e.message)).to.deep.equal([
      `experiment 'checkout': 64 requests to the experiments API are already waiting: control path`,
    ]);
  });

  it('without an impression: sends track_impression false, records none, and a later call that wants one asks again', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    const { experiments } = setup(t.mock.url);
    await experiments.assign('checkout', visit('v1'), false);
    expect(assignments()[0]!.body).to.include({ track_impression: false });
    expect(t.mock.impressions).to.deep.equal([]);
    await experiments.assign('checkout', visit('v1'), false); // cached
    await experiments.assign('checkout', visit('v1')); // wants an impression: not cached as recorded
    await experiments.assign('checkout', visit('v1')); // now cached
    await experiments.assign('checkout', visit('v1'), false); // an answer with an impression serves a read too
    expect(
      assignments().map((r) => (r.body as { track_impression: boolean }).track_impression),
    ).to.deep.equal([false, true]);
    expect(t.mock.impressions).to.have.length(1);
  });

  it('not eligible on this page: not in the experiment', async () => {
    t.mock.experiment('checkout', { ...CHECKOUT, url: '/checkout' });
    const { experiments } = setup(t.mock.url);
    const out = await experiments.assign('checkout', visit('v1', 'https://shop.example/pricing'));
    expect(out).to.deep.equal({
      inExperiment: false,
      variantId: null,
      variantName: null,
      isControl: true,
      experimentKey: 'checkout',
    });
  });

  it('an unknown key: the control path, reported once, and not asked again at once', async () => {
    const { experiments, errors } = setup(t.mock.url);
    for (let i = 0; i < 3; i++)
      expect((await experiments.assign('nope', visit('v1'))).inExperiment).to.equal(false);
    expect(assignments()).to.have.length(1);
    expect(errors.map((e) => e.message)).to.deep.equal([
      `experiment 'nope': the experiments API gave a refusal (HTTP 404: no experiment with key "nope"): control path`,
    ]);
  });

  it('a redirect: the control path, reported as a wrong apiUrl naming the Location, never followed', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(302, { location: 'https://elsewhere.example/api/v1' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { experiments, errors } = setup(`http://127.0.0.1:${port}/api/v1`);
      expect((await experiments.assign('checkout', visit('v1'))).inExperiment).to.equal(false);
      expect(requests).to.equal(1);
      expect(errors.map((e) => e.message)).to.deep.equal([
        `experiment 'checkout': the experiments API gave a refusal (HTTP 302 redirecting to https://elsewhere.example/api/v1: apiUrl is wrong): control path`,
      ]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('an API failing with 500: the control path, one report, and no request during the cool-down', async () => {
    t.mock
      .experiment('checkout', CHECKOUT)
      .respondWith({ status: 500, path: '/experiments/assignments', times: 'always' });
    const { experiments, errors, advance } = setup(t.mock.url);
    for (let i = 0; i < 5; i++)
      expect((await experiments.assign('checkout', visit(`v${i}`))).isControl).to.equal(true);
    expect(assignments()).to.have.length(1);
    expect(errors).to.have.length(1);
    expect(errors[0]!.message).to.include('unavailable (HTTP 500');
    advance(1000);
    t.mock.reset();
    t.mock.experiment('checkout', CHECKOUT);
    expect((await experiments.assign('checkout', visit('v9'))).inExperiment).to.equal(true); // the probe closes the circuit
    expect((await experiments.assign('checkout', visit('v10'))).inExperiment).to.equal(true);
  });

  it('a refused token: the control path, reported once without the token, and no request during the cool-down', async () => {
    t.mock.experiment('checkout', CHECKOUT);
    t.mock.respondWith({
      status: 401,
      error: `token ${TOKEN} is not valid`,
      path: '/experiments/assignments',
      times: 'always',
    });
    const { experiments, errors } = setup(t.mock.url);
    for (let i = 0; i < 3; i++)
      expect((await experiments.assign('checkout', visit(`v${i}`))).isControl).to.equal(true);
    expect(assignments()).to.have.length(1);
    expect(errors.map((e) => e.message)).to.deep.equal([
      `experiment 'checkout': the experiments API gave a refusal (HTTP 401: token [redacted] is not valid): control path`,
    ]);
  });

  it('a hung API: resolves at the budget, the control path, one report', async () => {
    t.mock
      .experiment('checkout', CHECKOUT)
      .respondWith({ hang: true, path: '/experiments/assignments' });
    const { experiments, errors } = setup(t.mock.url, { experimentBudgetMs: 30 });
    const started = performance.now();
    const out = await experiments.assign('checkout', visit('v1'));
    expect(out.inExperiment).to.equal(false);
    expect(performance.now() - started).to.be.below(2000); // the request's own timeout (2 s) would end it otherwise
    expect(errors.map((e) => e.message)).to.deep.equal([
      `experiment 'checkout': the experiments API did not answer within experimentBudgetMs (30 ms): control path`,
    ]);
    await t.mock.waitFor(1, { of: 'requests' }); // it arrived within this test, not into the next one
    experiments.close(); // cancels the hung request
  });

  it('no token, no visitor, a bad key or a throwing hook: the control path, no request, each said once', async () => {
    const said: OursError[] = [];
    const noToken = new Experiments({
      options: resolveExperimentOptions({}) /* and OURS_EXPERIMENT_TOKEN unset */,
      apiUrl: t.mock.url,
      report: (err) => said.push(err),
    });
    expect((await noToken.assign('checkout', visit('v1'))).inExperiment).to.equal(false);
    expect((await noToken.personalization(visit('v1'))).personalizations).to.deep.equal([]);
    expect(said.map((e) => e.message)).to.deep.equal([
      `experiment 'checkout': no experimentToken (or OURS_EXPERIMENT_TOKEN): every experiment call takes the control path`,
    ]);
    const { experiments, errors } = setup(t.mock.url);
    const throwing: Visit = {
      visitorId: () => {
        throw new Error('session store down');
      },
      page: () => undefined,
      mayRecord: () => true,
    };
    const outs = [
      await experiments.assign('checkout', visit(undefined)),
      await experiments.assign('checkout', visit(undefined)),
      await experiments.assign('', visit('v1')),
      await experiments.assign(42 as unknown as string, visit('v1')),
      await experiments.assign('checkout', throwing),
    ];
    expect(outs.every((o) => o.isControl && !o.inExperiment)).to.equal(true);
    expect(t.mock.requests).to.have.length(0);
    expect(errors.map((e) => e.message.split(': ').slice(1).join(': ').slice(0, 30))).to.deep.equal(
      [
        'the request has no visitor id ', // once for two calls
        'experiment key must be a strin',
        'experiment key must be a strin',
        'reading the request failed: se',
      ],
    );
  });

  it("personalization: the visitor's entries and properties, none for others, never an impression", async () => {
    t.mock.personalization('v1', {
      personalizations: [
        {
          experimentId: 'e1',
          variantId: 'pv1',
          experimentKey: 'hero',
          variantName: 'returning',
          assignedAt: 1_700_000_000_000,
        },
      ],
      properties: { segment: 'returning', visits: 3, pro: true },
    });
    const { experiments } = setup(t.mock.url);
    expect(await experiments.personalization(visit('v1'))).to.deep.equal({
      personalizations: [
        {
          assignedAt: 1_700_000_000_000,
          experimentId: 'e1',
          variantId: 'pv1',
          experimentKey: 'hero',
          variantName: 'returning',
        },
      ],
      properties: { segment: 'returning', visits: 3, pro: true },
    });
    expect(await experiments.personalization(visit('v2'))).to.deep.equal({
      personalizations: [],
      properties: {},
    });
    expect(t.mock.requests.map((r) => r.body)).to.deep.equal([
      { token: '[redacted]', visitor_id: 'v1' },
      { token: '[redacted]', visitor_id: 'v2' },
    ]);
    expect(t.mock.impressions).to.deep.equal([]);
  });
});

describe('experiments of a client', () => {
  const t = withMock();

  it('shutdown() cancels a call waiting on a hung API at once, and later calls take the control path without a request', async () => {
    t.mock
      .experiment('checkout', CHECKOUT)
      .respondWith({ hang: true, path: '/experiments/assignments' });
    const client = new OursClient({
      token: 'tok_test_secret_123',
      apiUrl: t.mock.url,
      logger: false,
      experimentToken: TOKEN,
      experimentBudgetMs: 5000,
    });
    const errors: OursError[] = [];
    client.on('error', (err) => errors.push(err));
    const started = performance.now();
    const pending = client[kExperiments]().assign('checkout', visit('v1'));
    await t.mock.waitFor(1, { of: 'requests' });
    await client.shutdown();
    expect((await pending).isControl).to.equal(true);
    expect(performance.now() - started).to.be.below(4000); // not the 5 s budget
    expect((await client[kExperiments]().assign('checkout', visit('v2'))).isControl).to.equal(true);
    expect(t.mock.requests).to.have.length(1);
    expect(errors).to.deep.equal([]); // cancelling is not a failure of the API
  });

  it('rejects bad experiment options when the client is made, naming the option', () => {
    expect(() => new OursClient({ token: 't', experimentBudgetMs: 0 })).to.throw(
      '`experimentBudgetMs` must be a whole number from 1 to 10000',
    );
    expect(() => new OursClient({ token: 't', experimentCache: { ttlMs: -1 } })).to.throw(
      '`experimentCache.ttlMs`',
    );
    expect(() => new OursClient({ token: 't', experimentToken: 42 as unknown as string })).to.throw(
      '`experimentToken`',
    );
  });
});

describe('experiments: the mock checks the request contract', () => {
  const t = withMock();

  it('flags a Source token, a missing visitor, unknown fields and a relative page URL', async () => {
    const res = await fetch(`${t.mock.url}/experiments/assignments/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: 'tok_source',
        visitor_id: '',
        context: { url: '/checkout', path: '/x' },
        track_impression: 'yes',
        extra: 1,
      }),
    });
    expect(res.status).to.equal(400);
    expect(t.mock.violations.map((v) => v.field).sort()).to.deep.equal([
      'context.path',
      'context.url',
      'extra',
      'token',
      'track_impression',
      'visitor_id',
    ]);
    t.mock.reset();
  });
});

describe("experiments: the mock API's own options", () => {
  const post = (url: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('experimentToken: another exp_ token gets 401; assign() and url decide; a bad declaration throws', async () => {
    const mock = await createMockOurs({ experimentToken: TOKEN });
    try {
      mock.experiment('pricing', {
        variants: [{ id: 'b' }],
        url: /\/pricing$/,
        assign: (visitorId) => (visitorId === 'v1' ? 'b' : null),
      });
      const ask = async (token: string, visitor: string, url: string) => {
        const res = await post(`${mock.url}/experiments/assignments/pricing`, {
          token,
          visitor_id: visitor,
          context: { url },
        });
        return [res.status, ((await res.json()) as { in_experiment?: boolean }).in_experiment];
      };
      expect(await ask('exp_other_token', 'v1', 'https://s.example/pricing')).to.deep.equal([
        401,
        undefined,
      ]);
      expect(await ask(TOKEN, 'v1', 'https://s.example/pricing')).to.deep.equal([200, true]);
      expect(await ask(TOKEN, 'v2', 'https://s.example/pricing')).to.deep.equal([200, false]);
      expect(await ask(TOKEN, 'v1', 'https://s.example/other')).to.deep.equal([200, false]);
      expect(mock.violations).to.deep.equal([]);
      expect(() => mock.experiment('x', { variants: [] })).to.throw(
        TypeError,
        'variants must list at least one variant',
      );
      expect(() => mock.experiment('', { variants: [{ id: 'a' }] })).to.throw(
        TypeError,
        'the key must be a non-empty string',
      );
    } finally {
      await mock.close();
    }
  });
});
