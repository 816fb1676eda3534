import { expect } from 'chai';
import { createMockOurs, type MockOurs } from '../../src/testing';

/** What a scenario of fixtures/contract.mjs returns. */
interface Outcome {
  flushed?: { delivered: number; failed: number; dropped: number };
  shutdown: { delivered: number; failed: number; dropped: number };
  errors: string[];
  elapsedMs?: number;
  waiting?: number;
  drops?: string[];
  thrown?: string;
}

/** Runs a scenario of fixtures/contract.mjs in some runtime against `apiUrl`. */
export type RunScenario = (name: string, apiUrl: string) => Promise<unknown>;

/**
 * The client's contract on one runtime: batching, gzip or not, 207, 413, 429
 * with backoff, the shutdown report, validation errors, deliveries a platform
 * waits on. `gzip` says whether the runtime compresses (it has node:zlib or
 * CompressionStream); `sharedDeliveries`, whether the requests that end in
 * one turn share one delivery (Node, Bun, Deno: `Platform.sharedDeliveries`).
 */
export function describeContract(
  runtime: string,
  run: () => RunScenario | string,
  gzip: () => boolean,
  sharedDeliveries: boolean,
): void {
  describe(`client contract on ${runtime}`, function () {
    this.timeout(60_000);
    let mock: MockOurs;
    let scenario: RunScenario;

    before(async function () {
      const runner = run();
      if (typeof runner === 'string') {
        console.log(`      skipped: ${runner}`);
        this.skip();
      }
      scenario = runner;
      mock = await createMockOurs();
    });
    afterEach(() => {
      expect(mock.violations).to.deep.equal([]);
      expect(mock.duplicates()).to.deep.equal([]);
      mock.reset();
    });
    after(() => mock?.close());

    const outcome = async (name: string): Promise<Outcome> =>
      (await scenario(name, mock.url)) as Outcome;

    it('batches: 25 events in three /batch requests, each once, gzip where the runtime has it', async () => {
      const out = await outcome('batching');
      expect(out.flushed).to.deep.equal({ delivered: 25, failed: 0, dropped: 0 });
      expect(out.errors).to.deep.equal([]);
      expect(
        mock.events.map((e) => Number(e.eventProperties?.['i'])).sort((a, b) => a - b),
      ).to.deep.equal([...Array(25).keys()]);
      expect(mock.requests.map((r) => [r.path, r.status, r.gzip])).to.deep.equal(
        Array(3).fill(['/api/v1/batch', 200, gzip()]),
      );
      expect(String(mock.requests[0]!.headers['user-agent'])).to.match(/^ours-middleware\/\S+ \S+/);
    });

    it('sends plain JSON with gzip: false', async () => {
      const out = await outcome('plain');
      expect(out.flushed).to.deep.equal({ delivered: 5, failed: 0, dropped: 0 });
      expect(mock.requests.map((r) => r.gzip)).to.deep.equal([false]);
    });

    it('a 207 reports the rejected row failed and delivers the others', async () => {
      mock.respondWith({ rows: (_e, i) => (i === 1 ? 'invalid_event' : 'ok') });
      const out = await outcome('partial');
      expect(out.flushed).to.deep.equal({ delivered: 4, failed: 1, dropped: 0 });
      expect(out.errors).to.have.length(1);
      expect(mock.requests[0]!.status).to.equal(207);
      expect(mock.events).to.have.length(4);
    });

    it('a 413 splits the batch until it fits, each event once', async () => {
      mock.respondWith({ maxBodyBytes: 3000, times: 'always' });
      const out = await outcome('tooLarge');
      expect(out.flushed).to.deep.equal({ delivered: 20, failed: 0, dropped: 0 });
      expect(mock.requests.some((r) => r.status === 413)).to.equal(true);
      expect(mock.events).to.have.length(20);
    });

    it('a 429 with Retry-After: 1 is waited out, then delivered', async () => {
      mock.respondWith({ status: 429, retryAfter: 1 });
      const out = await outcome('rateLimited');
      expect(out.flushed).to.deep.equal({ delivered: 3, failed: 0, dropped: 0 });
      expect(out.elapsedMs).to.be.at.least(950);
      expect(mock.requests.map((r) => r.status)).to.deep.equal([429, 200]);
    });

    it('a flush while a batch is in flight: its batch goes at once, each event once, each flush reports its own', async () => {
      mock.respondWith({ delayMs: 300 }); // the first batch, while the second flush pumps
      const out = (await scenario('joining', mock.url)) as Outcome & {
        flushed: Outcome['shutdown'][];
      };
      expect(out.errors).to.deep.equal([]);
      expect(out.flushed).to.deep.equal([
        { delivered: 1, failed: 0, dropped: 0 },
        { delivered: 2, failed: 0, dropped: 0 },
      ]);
      expect(mock.events).to.have.length(2);
      // A flush someone awaits never waits to join the batch in flight: nothing is queued a pump's turn later.
      expect(out.waiting).to.equal(0);
    });

    it(`deliveries a platform waits on (waitUntil), five requests ending in one turn: ${sharedDeliveries ? 'one delivery for all' : 'one delivery each'}, each settled with its events, every event once`, async () => {
      const out = (await scenario('turnDelivery', mock.url)) as Outcome & {
        deliveries: number;
        reports: Outcome['shutdown'][];
      };
      expect(out.errors).to.deep.equal([]);
      expect(out.deliveries).to.equal(sharedDeliveries ? 1 : 5);
      const least = sharedDeliveries ? 5 : 1; // a flush reports what was queued before it too
      for (const report of out.reports)
        expect(report.delivered + report.failed, JSON.stringify(out.reports)).to.be.at.least(least);
      expect(out.reports.every((r) => r.failed === 0)).to.equal(true);
      expect(
        mock.events.map((e) => Number(e.eventProperties?.['i'])).sort((a, b) => a - b),
      ).to.deep.equal([0, 1, 2, 3, 4]);
    });

    it('shutdown() delivers what waits and reports it', async () => {
      const out = await outcome('shutdown');
      expect(out.shutdown).to.deep.equal({ delivered: 3, failed: 0, dropped: 0 });
      expect(mock.events).to.have.length(3);
    });

    it('four clients at once, gzip and plain, any text: each event once and intact, each body one client’s', async () => {
      const out = (await scenario('manyClients', mock.url)) as {
        flushed: Outcome['shutdown'][];
        errors: string[];
      };
      expect(out.errors).to.deep.equal([]);
      expect(out.flushed).to.deep.equal(Array(4).fill({ delivered: 60, failed: 0, dropped: 0 }));
      const text = ['plain', 'Café', '注文の確認', 'Rocket 🚀 𝄞', 'lone \ud800 high', '\udc00'];
      for (let c = 0; c < 4; c++) {
        const mine = mock.events.filter((e) => e.event === `Client ${c}`);
        expect(
          mine.map((e) => Number(e.eventProperties?.['i'])).sort((a, b) => a - b),
        ).to.deep.equal([...Array(60).keys()]);
        for (const e of mine)
          expect(e.eventProperties?.['text']).to.equal(
            text[Number(e.eventProperties?.['i']) % text.length],
          );
      }
      for (const r of mock.requests) {
        const names = new Set(
          (r.body as { events: { event: string }[] }).events.map((e) => e.event),
        );
        expect(names.size, 'one client per body').to.equal(1);
      }
      // Clients 0 and 1 gzip where the runtime can (9 + 8 requests of 60 events), 2 and 3 never do.
      expect(mock.requests.filter((r) => r.gzip)).to.have.length(gzip() ? 17 : 0);
    });

    it('an invalid event is dropped and reported; strict throws, naming the field and the limit', async () => {
      const out = await outcome('validation');
      expect(out.drops).to.deep.equal(['invalid']);
      expect(out.shutdown).to.deep.equal({ delivered: 1, failed: 0, dropped: 1 });
      expect(out.thrown).to.match(/^OursValidationError: .*event.*\d/);
      expect(mock.events.map((e) => e.event)).to.deep.equal(['Valid']);
    });
  });
}
