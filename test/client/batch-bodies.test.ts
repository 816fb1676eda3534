import { expect } from 'chai';
import type { ClientOptions, FetchLike, OursClient } from '../../src/index';
import { createMockOurs, type MockOurs, type MockScript } from '../../src/testing';
import { clientFor, expectBalanced } from '../support/client';

/**
 * `/batch` bodies are written into bytes, gzipped ones from input buffers
 * that every client in the process shares (src/platform/node-batch.ts): many
 * clients at once, retries that resend a cached body, 413 splits, 415
 * fallbacks, and text that is not ASCII must all arrive as tracked, each
 * event once, in the body of the client that tracked it.
 */
describe('batch bodies: shared buffers, many clients, any text', function () {
  this.timeout(20_000);
  const mocks: MockOurs[] = [];
  const clients: OursClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.shutdown({ timeoutMs: 2000 })));
    const closing = mocks.splice(0);
    const violations = closing.flatMap((mock) => mock.violations.map((v) => v.message));
    await Promise.all(closing.map((mock) => mock.close()));
    expect(violations).to.deep.equal([]);
  });

  /** A mock that accepts only `token`, and a client of it with that token. */
  async function pair(token: string, options: ClientOptions = {}) {
    const mock = await createMockOurs({ token });
    mocks.push(mock);
    const { client, errors } = clientFor(mock, { token, ...options });
    clients.push(client);
    return { mock, client, errors };
  }

  /** Text that UTF-8 writes in 1, 2, 3 and 4 bytes, and lone surrogates (JSON.stringify escapes them). */
  const TEXT = [
    'plain',
    'Café',
    '注文の確認',
    'Rocket 🚀 𝄞',
    'lone \ud800 high',
    'lone \udc00 low',
    '\udbff',
  ];

  it('eight clients at once, gzip and plain, with 413 splits and 5xx/429 retries: every event once, in its own client’s body', async () => {
    const scripts: MockScript[][] = [
      [{ maxBodyBytes: 1200, times: 'always' }],
      [{ status: 503, path: '/batch', times: 3 }],
      [{ status: 429, path: '/batch', times: 2 }],
      [
        { status: 500, path: '/batch', times: 2 },
        { maxBodyBytes: 3000, times: 'always' },
      ],
      [],
    ];
    const perClient = 240;
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, c) =>
        pair(`tok_client_${c}_${'k'.repeat(c * 7)}`, {
          gzip: c % 4 !== 3, // two plain clients: their bodies are buffers of their own
          maxBatchSize: 10 + c * 7,
          flushAt: 10 + c * 7,
        }),
      ),
    );
    all.forEach(({ mock }, c) => mock.respondWith(...scripts[c % scripts.length]!));
    // Interleaved: every client's batches are written and compressed while the others' are.
    for (let i = 0; i < perClient; i++)
      for (const [c, { client }] of all.entries())
        client.track({
          event: `Client ${c}`,
          userId: `u-${c}`,
          distinctId: `c${c}-${i}`,
          eventProperties: { client: String(c), text: TEXT[i % TEXT.length]!.repeat(1 + (i % 5)) },
        });
    const reports = await Promise.all(all.map(({ client }) => client.flush()));
    for (const [c, { mock, client, errors }] of all.entries()) {
      expect(
        errors.map((e) => e.message),
        `client ${c}`,
      ).to.deep.equal([]);
      expect(reports[c], `client ${c}`).to.deep.equal({
        delivered: perClient,
        failed: 0,
        dropped: 0,
      });
      expect(mock.duplicates(), `client ${c}`).to.deep.equal([]);
      expect(
        mock.events.map((e) => e.distinctId).sort(),
        `client ${c}: its own events, each once`,
      ).to.deep.equal(Array.from({ length: perClient }, (_, i) => `c${c}-${i}`).sort());
      for (const e of mock.events) {
        const i = Number(e.distinctId!.split('-')[1]);
        expect(e.eventProperties, `client ${c}, event ${i}`).to.deep.equal({
          client: String(c),
          text: TEXT[i % TEXT.length]!.repeat(1 + (i % 5)),
        });
      }
      expectBalanced(client);
    }
    expect(all[0]!.mock.requests.some((r) => r.status === 413)).to.equal(true);
    expect(all[1]!.mock.requests.some((r) => r.status === 503)).to.equal(true);
  });

  for (const gzip of [true, false])
    it(`${gzip ? 'gzip' : 'plain'}: an event near the 512 KB cap, a batch over 1 MB of UTF-8, then 1,000-event batches, all intact`, async () => {
      const { mock, client, errors } = await pair('tok_sizes_123456', {
        gzip,
        maxBatchSize: 1000,
        flushAt: 1000,
      });
      const events: { id: string; text: string }[] = [
        { id: 'near-cap', text: 'x'.repeat(510 * 1024) },
        // 170,000 UTF-16 units, 3 bytes each in UTF-8 (1.5 MB): a body too large to be kept for reuse.
        ...Array.from({ length: 10 }, (_, i) => ({ id: `cjk-${i}`, text: '注'.repeat(17_000) })),
        { id: 'astral', text: '🚀'.repeat(100_000) },
        ...Array.from({ length: 2500 }, (_, i) => ({
          id: `small-${i}`,
          text: TEXT[i % TEXT.length]!,
        })),
      ];
      for (const { id, text } of events)
        client.track({ event: 'Sized', userId: 'u', distinctId: id, eventProperties: { text } });
      expect(await client.flush()).to.deep.equal({
        delivered: events.length,
        failed: 0,
        dropped: 0,
      });
      expect(errors).to.deep.equal([]);
      expect(mock.requests.every((r) => r.gzip === gzip && r.status === 200)).to.equal(true);
      expect(mock.requests.map((r) => (r.body as { events: unknown[] }).events.length)).to.include(
        1000,
      );
      const got = new Map(mock.events.map((e) => [e.distinctId, e.eventProperties?.['text']]));
      expect(got.size).to.equal(events.length);
      for (const { id, text } of events) expect(got.get(id) === text, id).to.equal(true);
    });

  /** Fetch functions an app may give: they get plain bodies as strings. */
  const fetches: [string, () => Promise<FetchLike | undefined>][] = [
    ['the default fetch', async () => undefined],
    ['global fetch', async () => globalThis.fetch as unknown as FetchLike],
    ['undici', async () => (await import('undici')).fetch as unknown as FetchLike],
    ['node-fetch', async () => (await import('node-fetch')).default as unknown as FetchLike],
  ];
  for (const [name, load] of fetches)
    for (const endpoint of ['batch', 'track'] as const)
      it(`a 415 mid-run falls back to plain bodies (${name}, endpoint: '${endpoint}'), every event once`, async () => {
        const seen: string[] = [];
        const appFetch = await load();
        const fetch: FetchLike | undefined =
          appFetch &&
          ((url, init) => {
            seen.push(typeof init.body === 'string' ? 'string' : 'bytes');
            return appFetch(url, init);
          });
        const { mock, client, errors } = await pair('tok_fallback_1234', {
          fetch,
          endpoint,
          maxBatchSize: 20,
          flushAt: 20,
        });
        const track = (from: number, to: number) => {
          for (let i = from; i < to; i++)
            client.track({
              event: 'Fallback',
              userId: 'u',
              distinctId: `f-${i}`,
              eventProperties: { text: TEXT[i % TEXT.length]! },
            });
        };
        track(0, 60);
        await client.flush();
        expect(mock.requests.every((r) => r.gzip)).to.equal(true); // gzip so far
        mock.respondWith({ rejectGzip: true, times: 'always' });
        track(60, 160);
        expect(await client.flush()).to.deep.equal({ delivered: 100, failed: 0, dropped: 0 });
        track(160, 200);
        await client.flush();
        expect(errors).to.deep.equal([]);
        expect(mock.duplicates()).to.deep.equal([]);
        expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(
          Array.from({ length: 200 }, (_, i) => `f-${i}`).sort(),
        );
        for (const e of mock.events)
          expect(e.eventProperties?.['text']).to.equal(
            TEXT[Number(e.distinctId!.slice(2)) % TEXT.length],
          );
        expect(mock.requests.some((r) => r.status === 415)).to.equal(true);
        const after = mock.requests.slice(mock.requests.map((r) => r.status).lastIndexOf(415) + 1);
        expect(after.length).to.be.above(0);
        expect(after.every((r) => !r.gzip && r.status === 200)).to.equal(true);
        // An app's fetch gets plain bodies as strings, gzip ones as bytes (counted: arrival order is not promised).
        if (appFetch)
          expect([seen.filter((b) => b === 'string').length, seen.length]).to.deep.equal([
            mock.requests.filter((r) => !r.gzip).length,
            mock.requests.length,
          ]);
      });
});
