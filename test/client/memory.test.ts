import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { clientFor, withMock } from '../support/client';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('client memory per queued event', () => {
  const t = withMock();

  it('holds each queued event as one flat JSON string (not the rope JSON.stringify returns)', async () => {
    const COUNT = 20_000;
    // Nothing leaves until flush(): the whole batch stays queued while we measure.
    const { client } = clientFor(t.mock, {
      flushAt: 500,
      flushIntervalMs: 60_000,
      maxQueueSize: COUNT + 1,
    });
    const event = (i: number) => ({
      event: 'Order Completed',
      externalId: `user_${i}`,
      eventProperties: {
        order_id: `ord_${100_000 + i}`,
        total: 19.99 + (i % 100),
        currency: 'USD',
        items: 1 + (i % 5),
      },
      defaultProperties: {
        ip: `203.0.113.${i & 255}`,
        current_url: 'https://shop.example.com/checkout/complete',
      },
    });
    client.track(event(0)); // warm up the code paths before the baseline
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 1; i <= COUNT; i++) client.track(event(i));
    gc();
    const perEvent = (process.memoryUsage().heapUsed - before) / COUNT;
    const jsonLength = JSON.stringify({
      ...event(1),
      distinctId: crypto.randomUUID(),
      time: Date.now(),
    }).length;
    // Flat: the string (~1 byte per character + a header) and its queue entry, ~410 bytes here.
    // As V8's rope of builder parts it would be ~560.
    expect(
      perEvent,
      `${perEvent.toFixed(0)} bytes held per ${jsonLength}-character event`,
    ).to.be.below(jsonLength + 150);
    expect((await client.flush()).delivered).to.equal(COUNT + 1);
    await client.shutdown();
  });
});
