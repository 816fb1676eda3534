import { expect } from 'chai';
import { OursDeliveryError } from '../../src/index';
import { clientFor, TOKEN, withMock } from '../support/client';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('client delivery', () => {
  const t = withMock();

  it('sends track events as one gzip /batch with a distinctId and time stamped at track()', async () => {
    const { client, errors } = clientFor(t.mock);
    const before = Date.now();
    client.track({
      event: 'Signed Up',
      userId: 'v1',
      eventProperties: { plan: 'pro', seats: 3, trial: false },
    });
    client.track({ event: 'Upgraded', externalId: 'u_42' });
    const report = await client.flush();
    expect(report).to.deep.equal({ delivered: 2, failed: 0, dropped: 0 });
    expect(t.mock.requests).to.have.length(1);
    const [req] = t.mock.requests;
    expect(req!.endpoint).to.equal('/batch');
    expect(req!.gzip).to.equal(true);
    expect(req!.headers['user-agent']).to.match(/^ours-middleware\/\d+\.\d+\.\d+ node\//);
    const [signedUp, upgraded] = t.mock.events;
    expect(signedUp!.eventProperties).to.deep.equal({ plan: 'pro', seats: '3', trial: 'false' });
    expect(signedUp!.distinctId).to.match(UUID_V4);
    expect(signedUp!.time).to.be.within(before, Date.now());
    expect(upgraded!.externalId).to.equal('u_42');
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  it('sends identify calls one each to /identify', async () => {
    const { client } = clientFor(t.mock);
    client.identify({
      externalId: 'u_42',
      userProperties: { email: 'a@b.co', custom_properties: { plan: 'pro', seats: 2 } },
    });
    await client.flush();
    expect(t.mock.identifies).to.have.length(1);
    expect(t.mock.identifies[0]!.userProperties).to.deep.equal({
      email: 'a@b.co',
      custom_properties: { plan: 'pro', seats: '2' },
    });
    await client.shutdown();
  });

  it("with endpoint 'track' sends one POST /track per event", async () => {
    const { client } = clientFor(t.mock, { endpoint: 'track' });
    for (let i = 0; i < 3; i++) client.track({ event: 'Page Viewed', userId: `v${i}` });
    await client.flush();
    expect(t.mock.requests.map((r) => r.endpoint)).to.deep.equal(['/track', '/track', '/track']);
    expect(t.mock.events.map((e) => e.userId).sort()).to.deep.equal(['v0', 'v1', 'v2']);
    await client.shutdown();
  });

  it('splits at maxBatchSize and starts a request once flushAt events wait', async () => {
    const { client } = clientFor(t.mock, {
      maxBatchSize: 10,
      flushAt: 10,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 25; i++) client.track({ event: 'E', userId: `v${i}` });
    await t.mock.waitFor(20, { timeoutMs: 2000 }); // two full batches go without waiting for the interval
    await client.flush();
    const sizes = t.mock.requests.map((r) => (r.body as { events: unknown[] }).events.length);
    expect(sizes).to.deep.equal([10, 10, 5]);
    await client.shutdown();
  });

  it('keeps every character of a gzip batch intact: accents, CJK, emoji, escapes, one byte to four in UTF-8', async () => {
    const { client } = clientFor(t.mock);
    const texts = ['café', '東京', 'ok ✓', '😀 and 👍🏽', 'quote " backslash \\ newline \n', 'plain'];
    texts.forEach((text, i) =>
      client.track({ event: 'Said', userId: `v${i}`, eventProperties: { text } }),
    );
    await client.flush();
    expect(t.mock.requests).to.have.length(1);
    expect(t.mock.requests[0]!.gzip).to.equal(true);
    expect(t.mock.events.map((e) => e.eventProperties!.text)).to.deep.equal(texts);
    expect(t.mock.violations).to.deep.equal([]);
    await client.shutdown();
  });

  it('sends plain JSON when gzip is off', async () => {
    const { client } = clientFor(t.mock, { gzip: false });
    client.track({ event: 'E', userId: 'v' });
    await client.flush();
    expect(t.mock.requests[0]!.gzip).to.equal(false);
    expect(t.mock.events).to.have.length(1);
    await client.shutdown();
  });

  it('plain batches: the events intact as UTF-8; an app fetch gets the body as a string', async () => {
    const names = ['Café ordered', '注文', 'Rocket 🚀', 'plain'];
    const { client } = clientFor(t.mock, { gzip: false });
    for (const event of names) client.track({ event, userId: 'v' });
    await client.flush();
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(names);
    await client.shutdown();

    const bodies: unknown[] = [];
    const fetch = ((url: string, init: { body: unknown }) => {
      bodies.push(init.body);
      return globalThis.fetch(url, init as RequestInit);
    }) as never;
    const app = clientFor(t.mock, { gzip: false, fetch }).client;
    app.track({ event: 'Café ordered', userId: 'v' });
    await app.flush();
    expect(bodies).to.have.length(1);
    expect(bodies[0]).to.be.a('string');
    expect(JSON.parse(bodies[0] as string).events[0].event).to.equal('Café ordered');
    await app.shutdown();
  });

  it('works with node-fetch as the fetch function', async () => {
    const { default: nodeFetch } = await import('node-fetch');
    let calls = 0;
    const fetch = ((url: string, init: object) => (calls++, nodeFetch(url, init))) as never;
    const { client } = clientFor(t.mock, { fetch });
    client.track({ event: 'E', userId: 'v' });
    await client.flush();
    expect(calls).to.equal(1);
    expect(t.mock.events).to.have.length(1);
    await client.shutdown();
  });

  it('never puts the token anywhere but the request body', async () => {
    const { client, errors } = clientFor(t.mock);
    t.mock.respondWith({ status: 400, error: 'bad' });
    client.track({ event: 'E', userId: 'v' });
    await client.flush();
    expect(errors).to.have.length(1);
    const visible = JSON.stringify([
      errors.map((e) => [e.message, e.stack, { ...e }]),
      client.stats(),
    ]);
    expect(visible).not.to.include(TOKEN);
    await client.shutdown();
  });

  it('reports a 400 and does not retry it', async () => {
    const { client, errors } = clientFor(t.mock);
    t.mock.respondWith({ status: 400, error: 'every row failed validation' });
    client.track({ event: 'E', userId: 'v' });
    const report = await client.flush();
    expect(report).to.deep.equal({ delivered: 0, failed: 1, dropped: 0 });
    expect(t.mock.requests).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(OursDeliveryError);
    expect(errors[0]!.message).to.include('HTTP 400').and.include('every row failed validation');
    await client.shutdown();
  });
});
