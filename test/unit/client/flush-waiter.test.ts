import { expect } from 'chai';
import { FlushWaiter, type AwaitedEvent, type FlushReport } from '../../../src/client/flush-waiter';

const event = (): AwaitedEvent => ({ json: '{}', bytes: 2, path: '/batch' });

/** Whether `promise` has settled once the microtasks queued now have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('client/flush-waiter: one flush() call', () => {
  it('resolves once every event it adopted has settled, with their outcomes and the drops it was given', async () => {
    const waiter = new FlushWaiter(undefined, 2);
    const [a, b] = [event(), event()];
    waiter.adopt(a);
    waiter.adopt(b);
    waiter.resolveIfDone();
    a.waiter!.settle('delivered');
    expect(await settled(waiter.promise)).to.equal(false);
    b.waiter!.settle('failed');
    expect(await waiter.promise).to.deep.equal({ delivered: 1, failed: 1, dropped: 2 });
    expect(waiter.done && waiter.reported).to.equal(true);
  });

  it('an event an earlier flush adopted stays that flush’s; the later one waits for the earlier report and adds it', async () => {
    const first = new FlushWaiter(undefined, 0);
    const shared = event();
    first.adopt(shared);
    const second = new FlushWaiter(first, 1);
    second.adopt(shared); // already the first's
    second.resolveIfDone();
    expect(second.done).to.equal(true); // nothing of its own
    expect(await settled(second.promise)).to.equal(false); // but the first has not reported
    shared.waiter!.settle('delivered');
    first.resolveIfDone();
    const reports: FlushReport[] = await Promise.all([first.promise, second.promise]);
    expect(reports).to.deep.equal([
      { delivered: 1, failed: 0, dropped: 0 },
      { delivered: 1, failed: 0, dropped: 1 },
    ]);
  });

  it('hold() keeps it pending (a store still recovering) until release()', async () => {
    const waiter = new FlushWaiter(undefined, 0);
    waiter.hold();
    waiter.resolveIfDone();
    expect(await settled(waiter.promise)).to.equal(false);
    waiter.release();
    expect(await waiter.promise).to.deep.equal({ delivered: 0, failed: 0, dropped: 0 });
  });

  it('takes drops while pending, and refuses them once its report is handed out', async () => {
    const waiter = new FlushWaiter(undefined, 0);
    waiter.hold();
    expect(waiter.addDropped(3)).to.equal(true);
    waiter.release();
    expect((await waiter.promise).dropped).to.equal(3);
    expect(waiter.addDropped(1)).to.equal(false);
  });
});
