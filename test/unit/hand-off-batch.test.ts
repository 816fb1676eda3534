import { AsyncLocalStorage } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { OursClient } from '../../src/client';
import { HandOffBatch, type HandOff } from '../../src/request/hand-off-batch';
import { resolveMiddlewareConfig } from '../../src/request/middleware-config';
import { nodeResponse } from '../../src/request/node-response';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A turn's delivery with nothing to deliver. */
const delivered = (): Promise<unknown> => Promise.resolve();

/** A request's hand-off that runs `run`. */
const handOff = (run: () => unknown): HandOff => ({ handOff: () => void run() });

describe('request/hand-off-batch', () => {
  it('runs hand-offs at the end of the turn, in the order they came, once', async () => {
    const ran: string[] = [];
    const batch = new HandOffBatch(() => undefined, delivered);
    batch.add(handOff(() => ran.push('a')));
    batch.add(handOff(() => ran.push('b')));
    expect(ran).to.deep.equal([]); // not synchronously: the response is still being sent
    await turn();
    expect(ran).to.deep.equal(['a', 'b']);
    await turn();
    expect(ran).to.deep.equal(['a', 'b']);
  });

  it('drain() runs what waits at once, and the end of the turn does not run it again', async () => {
    const ran: string[] = [];
    const batch = new HandOffBatch(() => undefined, delivered);
    batch.add(handOff(() => ran.push('a')));
    batch.drain();
    expect(ran).to.deep.equal(['a']);
    batch.add(handOff(() => ran.push('b')));
    await turn();
    expect(ran).to.deep.equal(['a', 'b']);
  });

  it('a hand-off that throws is reported and the others still run', async () => {
    const ran: string[] = [];
    const errors: unknown[] = [];
    const batch = new HandOffBatch((err) => errors.push(err), delivered);
    batch.add(handOff(() => ran.push('a')));
    batch.add(
      handOff(() => {
        throw new Error('boom');
      }),
    );
    batch.add(handOff(() => ran.push('c')));
    await turn();
    expect(ran).to.deep.equal(['a', 'c']);
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['boom']);
  });

  it("runs outside the async context of the request that queued first, so no request sees another's store", async () => {
    const als = new AsyncLocalStorage<{ request: number }>();
    const batch = new HandOffBatch(() => undefined, delivered);
    const seen: unknown[] = [];
    als.run({ request: 1 }, () => batch.add(handOff(() => seen.push(als.getStore()))));
    als.run({ request: 2 }, () => batch.add(handOff(() => seen.push(als.getStore()))));
    await turn();
    expect(seen).to.deep.equal([undefined, undefined]);
  });
});

describe('request/hand-off-batch: turnDelivery(), for requests a platform waits on', () => {
  /** A batch whose deliveries are recorded; each resolves with its number. */
  function recording(): { batch: HandOffBatch; log: string[]; errors: unknown[] } {
    const log: string[] = [];
    const errors: unknown[] = [];
    let deliveries = 0;
    const batch = new HandOffBatch(
      (err) => errors.push(err),
      () => {
        log.push(`deliver ${++deliveries}`);
        return Promise.resolve(deliveries);
      },
    );
    return { batch, log, errors };
  }

  it('is one delivery for the hand-offs of one turn, after they ran; the next turn has its own', async () => {
    const { batch, log } = recording();
    batch.add(handOff(() => log.push('a')));
    const first = batch.turnDelivery();
    batch.add(handOff(() => log.push('b')));
    expect(batch.turnDelivery()).to.equal(first);
    expect(log).to.deep.equal([]);
    expect(await first).to.equal(1);
    expect(log).to.deep.equal(['a', 'b', 'deliver 1']);
    batch.add(handOff(() => log.push('c')));
    const second = batch.turnDelivery();
    expect(second).to.not.equal(first);
    expect(await second).to.equal(2);
    expect(log).to.deep.equal(['a', 'b', 'deliver 1', 'c', 'deliver 2']);
  });

  it('a turn without such a request delivers nothing; drain() delivers a waiting turn at once', async () => {
    const { batch, log } = recording();
    batch.add(handOff(() => log.push('a')));
    await turn();
    expect(log).to.deep.equal(['a']);
    batch.add(handOff(() => log.push('b')));
    const delivery = batch.turnDelivery();
    batch.drain(); // what flush() does first
    expect(log).to.deep.equal(['a', 'b', 'deliver 1']);
    expect(await delivery).to.equal(1);
    await turn();
    expect(log).to.deep.equal(['a', 'b', 'deliver 1']);
  });

  it('waits for async hooks still pending, and still delivers when a hand-off throws', async () => {
    const { batch, log, errors } = recording();
    let release!: () => void;
    batch.add(
      handOff(() => {
        batch.wait(
          new Promise<void>((resolve) => (release = resolve)).then(() => void log.push('hook')),
        );
        throw new Error('boom');
      }),
    );
    const delivery = batch.turnDelivery();
    await turn();
    await turn();
    expect(log).to.deep.equal([]); // the hook has not settled
    release();
    await delivery;
    expect(log).to.deep.equal(['hook', 'deliver 1']);
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['boom']);
  });

  it('a delivery that throws is reported and the turn still settles', async () => {
    const errors: unknown[] = [];
    const batch = new HandOffBatch(
      (err) => errors.push(err),
      () => {
        throw new Error('no flush');
      },
    );
    batch.add(handOff(() => undefined));
    await batch.turnDelivery();
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['no flush']);
  });
});

describe('request/hand-off-batch: settle(), for flush() and shutdown()', () => {
  it('runs what waits, hands over requests still open, and waits for pending work', async () => {
    const ran: string[] = [];
    const batch = new HandOffBatch(() => undefined, delivered);
    batch.add(handOff(() => ran.push('finished')));
    const open = handOff(() => ran.push('still streaming'));
    batch.open(open);
    const closedAgain = batch.open(handOff(() => void ran.push('closed')));
    batch.closed(closedAgain);
    batch.closed(closedAgain); // twice: a no-op
    let release!: () => void;
    batch.wait(new Promise<void>((resolve) => (release = resolve)));
    const settling = batch.settle();
    expect(ran).to.deep.equal(['finished', 'still streaming']);
    expect(settling).to.be.an.instanceOf(Promise);
    let settled = false;
    void settling!.then(() => (settled = true));
    await turn();
    expect(settled).to.equal(false);
    release();
    await settling;
    expect(batch.settle()).to.equal(undefined); // nothing pending any more
  });
});

describe('request/hand-off-batch: open requests and the garbage collector', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;

  /**
   * Bytes still held after a young-generation GC by 2,000 finished requests
   * that went through `open()`/`closed()` (16 at a time, ~2 KB each) of a
   * batch that has lived long enough to be in the old generation, as in a
   * running app; or, with `useBatch` false, of the same requests alone.
   */
  function heldAfterMinorGc(useBatch: boolean): number {
    const batch = new HandOffBatch(() => undefined, delivered);
    gc();
    gc(); // the batch is promoted, as any long-lived object
    const before = process.memoryUsage().heapUsed;
    const inFlight: (ReturnType<HandOffBatch['open']> | undefined)[] = new Array(16);
    for (let i = 0; i < 2000; i++) {
      const request = { body: `${'x'.repeat(2000)}${i}` };
      const opened = useBatch ? batch.open(handOff(() => void request.body.length)) : undefined;
      const slot = i % inFlight.length;
      const done = inFlight[slot];
      if (done) batch.closed(done);
      inFlight[slot] = opened;
    }
    gc({ type: 'minor' });
    return process.memoryUsage().heapUsed - before;
  }

  it('keeps no finished request alive through young-generation GCs (a Set of hand-offs did)', () => {
    const alone = heldAfterMinorGc(false);
    const withBatch = heldAfterMinorGc(true);
    // With a Set, V8's replaced hash tables kept ~1.8 MB of finished requests; the requests alone leave ~90 KB.
    expect(withBatch, `${withBatch} bytes held, ${alone} without the batch`).to.be.below(
      alone + 500_000,
    );
  });

  it('settle() hands over the open requests oldest first, whichever closed in between', () => {
    const ran: number[] = [];
    const batch = new HandOffBatch(() => undefined, delivered);
    const opened = [1, 2, 3, 4].map((n) => batch.open(handOff(() => ran.push(n))));
    batch.closed(opened[0]!);
    batch.closed(opened[2]!);
    batch.settle();
    expect(ran).to.deep.equal([2, 4]);
  });
});

describe('request/middleware-config: the hand-off batch', () => {
  it('is one per client, however many middlewares share it (with waitUntil and flushOnResponse too)', async () => {
    const client = new OursClient({
      token: 't',
      apiUrl: 'http://127.0.0.1:9/api/v1',
      logger: false,
    });
    const first = resolveMiddlewareConfig({ client }, nodeResponse);
    expect(first.handOffs).to.be.an.instanceOf(HandOffBatch);
    expect(resolveMiddlewareConfig({ client }, nodeResponse).handOffs).to.equal(first.handOffs);
    for (const serverless of [{ waitUntil: () => undefined }, { flushOnResponse: true }]) {
      const config = resolveMiddlewareConfig({ client, ...serverless }, nodeResponse);
      expect(config.handOffs).to.equal(first.handOffs); // flush() still waits for their async hooks
    }
    await client.shutdown();
  });

  it("the client's flush() runs the hand-offs that wait, before it looks at the queue", async () => {
    const client = new OursClient({
      token: 't',
      apiUrl: 'http://127.0.0.1:9/api/v1',
      logger: false,
    });
    const { handOffs } = resolveMiddlewareConfig({ client }, nodeResponse);
    handOffs.add(handOff(() => client.track({ event: 'Waiting', userId: 'v1' })));
    const flushing = client.flush(); // nothing listens on port 9: the event is queued, then fails or waits
    expect(client.stats().tracked).to.equal(1);
    await client.shutdown({ timeoutMs: 50 });
    await flushing;
  });
});
