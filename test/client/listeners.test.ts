import { expect } from 'chai';
import { OursClient, type DropInfo, type OursError } from '../../src/index';
import { captureLogger, expectBalanced, FAST_RETRY, TOKEN, withMock } from '../support/client';
import { until } from '../support/wait';

describe("client: the app's error and drop listeners", () => {
  const t = withMock();
  const unhandled: unknown[] = [];
  const onRejection = (reason: unknown): void => void unhandled.push(reason);
  before(() => process.on('unhandledRejection', onRejection));
  after(() => process.off('unhandledRejection', onRejection));
  afterEach(() => expect(unhandled.splice(0)).to.deep.equal([]));

  function client(options: ConstructorParameters<typeof OursClient>[0] = {}) {
    const logger = captureLogger();
    const c = new OursClient({
      token: TOKEN,
      apiUrl: t.mock.url,
      retry: FAST_RETRY,
      flushIntervalMs: 20,
      logger,
      ...options,
    });
    return { client: c, logger };
  }

  it('a first error listener that throws (or rejects) hides the error from no later one; each failure is logged', async () => {
    const { client: c, logger } = client();
    const heard: string[] = [];
    c.on('error', () => {
      throw new Error('app listener bug');
    });
    c.on('error', async () => Promise.reject(new Error('async app listener bug')));
    c.on('error', (err: OursError) => heard.push(err.name));
    t.mock.respondWith({ status: 400 });
    c.track({ event: 'E', userId: 'v' });
    expect(await c.flush()).to.include({ failed: 1 });
    await until(() => logger.lines.length >= 2, 'both listener failures to be logged');
    expect(heard).to.deep.equal(['OursDeliveryError']);
    expect(logger.lines.map((l) => l.msg).sort()).to.deep.equal([
      "your client.on('error') listener threw: app listener bug",
      "your client.on('error') listener threw: async app listener bug",
    ]);
    expectBalanced(c);
    await c.shutdown();
  });

  it('track() from inside a drop listener and an error listener: counted, delivered, no recursion', async () => {
    const { client: c } = client({ maxQueueSize: 1 });
    const drops: DropInfo[] = [];
    c.on('drop', (info: DropInfo) => {
      drops.push(info);
      // The queue is still full: this one is dropped too, from inside the listener, once.
      if (drops.length === 1) c.track({ event: 'FromDrop', userId: 'v' });
    });
    let fromError = 0;
    c.on('error', () => {
      if (fromError++ === 0) c.track({ event: 'FromError', userId: 'v' });
    });
    c.track({ event: 'Kept', userId: 'v' });
    c.track({ event: 'Dropped', userId: 'v' }); // past maxQueueSize
    expect(drops.map((d) => d.reason)).to.deep.equal(['queue_full', 'queue_full']);
    await c.flush();
    t.mock.respondWith({ status: 400 });
    c.track({ event: 'Refused', userId: 'v' });
    await c.flush();
    await c.flush(); // the event the error listener tracked
    expect(t.mock.events.map((e) => e.event).sort()).to.deep.equal(['FromError', 'Kept']);
    expect(c.stats()).to.include({ tracked: 5, delivered: 2, failed: 1, dropped: 2 });
    expectBalanced(c);
    await c.shutdown();
  });
});
