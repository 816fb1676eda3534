import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { OursClient } from '../../src/index';
import { RateLimitedLog } from '../../src/logger';

const TEN_MINUTES = 10 * 60_000;

/**
 * Steps the wall clock (`Date.now`) back by `ms` until `restore()`: what NTP,
 * a VM restored from a snapshot or a container whose host clock ran fast does.
 */
function stepWallClockBack(ms: number): { restore(): void } {
  const real = Date.now;
  Date.now = () => real() - ms;
  return { restore: () => void (Date.now = real) };
}

/**
 * Durations are measured on the monotonic clock: a step of the wall clock
 * stretches no backoff and mutes no log. (test/unit/architecture.test.ts
 * keeps `Date.now()` to the places that need the wall clock.)
 */
describe('a wall clock stepped back', function () {
  this.timeout(15_000);
  let api: Server;
  let apiUrl: string;
  /** Status the API answers each request with, in order; 200 once the list is used up. */
  let statuses: number[] = [];
  let requests = 0;
  let step: { restore(): void } | undefined;

  before(async () => {
    // A plain server, not the mock: the mock would judge event times by the stepped clock.
    api = createServer((req, res) => {
      req.resume().on('end', () => {
        requests++;
        const status = statuses.shift() ?? 200;
        res
          .writeHead(status, { 'content-type': 'application/json' })
          .end(
            status === 200
              ? '{"success":true}'
              : '{"success":false,"error":"down","retryable":true}',
          );
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/v1`;
  });
  afterEach(() => {
    step?.restore();
    step = undefined;
    requests = 0;
  });
  after(async () => {
    api.closeAllConnections();
    await new Promise((resolve) => api.close(resolve));
  });

  it('does not stretch a 300 ms backoff (a step back of ten minutes after the failure)', async () => {
    statuses = [503];
    const client = new OursClient({
      token: 'clock-token',
      apiUrl,
      logger: false,
      flushIntervalMs: 20,
      retry: { initialDelayMs: 300, maxDelayMs: 300, jitterMs: [0, 0] },
    });
    client.track({ event: 'Clock', externalId: 'u', distinctId: 'clock-1' });
    try {
      const flushed = client.flush();
      while (client.stats().retried === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      step = stepWallClockBack(TEN_MINUTES); // the gate closed for 300 ms; now the wall clock says ten minutes earlier
      const t0 = performance.now();
      const outcome = await Promise.race([
        flushed,
        new Promise((resolve) => setTimeout(resolve, 5000, 'stalled')),
      ]);
      expect(outcome).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
      expect(performance.now() - t0, 'backoff left (ms)').to.be.below(3000);
      expect(requests).to.equal(2);
    } finally {
      await client.shutdown({ timeoutMs: 100 });
    }
  });

  it('does not mute a rate-limited log line for the length of the step', async () => {
    const log = new RateLimitedLog(50);
    expect(log.take('outage')).to.equal(0);
    step = stepWallClockBack(TEN_MINUTES);
    expect(log.take('outage'), 'within the interval').to.equal(-1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(log.take('outage'), 'once the interval has passed').to.equal(1);
  });
});
