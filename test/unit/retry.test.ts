import { expect } from 'chai';
import { BackoffGate, backoffDelay, parseRetryAfter } from '../../src/client/backoff';

const CONTRACT = {
  initialDelayMs: 2000,
  maxDelayMs: 60_000,
  jitterMs: [1000, 5000] as const,
  maxAttempts: 10,
};

describe('backoff (the contract: 2 s doubling to 60 s, plus 1 to 5 s of jitter)', () => {
  it('doubles from 2 s and caps at 60 s, before jitter', () => {
    const noJitter = () => 0;
    const delays = [1, 2, 3, 4, 5, 6, 7, 12].map((n) => backoffDelay(n, CONTRACT, noJitter) - 1000);
    expect(delays).to.deep.equal([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('adds jitter between 1 and 5 s inclusive', () => {
    expect(backoffDelay(1, CONTRACT, () => 0)).to.equal(3000);
    expect(backoffDelay(1, CONTRACT, () => 0.999999)).to.equal(7000);
    for (let i = 0; i < 200; i++) expect(backoffDelay(3, CONTRACT)).to.be.within(9000, 13000);
  });

  it('one gate: consecutive failures grow the wait, a success resets it, Retry-After is a floor', () => {
    const gate = new BackoffGate({ ...CONTRACT, jitterMs: [0, 0] });
    const now = 1_000_000;
    expect(gate.waitMs(now)).to.equal(0);
    expect(gate.failure(undefined, gate.round, now)).to.equal(2000);
    expect(gate.waitMs(now + 500)).to.equal(1500);
    expect(gate.failure(undefined, gate.round, now)).to.equal(4000);
    gate.success();
    expect(gate.failure(30_000, gate.round, now)).to.equal(30_000);
    expect(gate.waitMs(now)).to.equal(30_000);
  });

  it('requests sent together that fail together double the wait once, not once each', () => {
    const gate = new BackoffGate({ ...CONTRACT, jitterMs: [0, 0] });
    const now = 1_000_000;
    const sentTogether = gate.round;
    const delays = [1, 2, 3, 4].map(() => gate.failure(undefined, sentTogether, now));
    expect(delays).to.deep.equal([2000, 2000, 2000, 2000]);
    const retryRound = gate.round;
    expect(retryRound).to.not.equal(sentTogether);
    expect(gate.failure(undefined, retryRound, now + 2000)).to.equal(4000);
    expect(gate.failure(undefined, retryRound, now + 2000)).to.equal(4000);
    expect(gate.failure(undefined, gate.round, now + 6000)).to.equal(8000);
  });

  it('parses Retry-After as seconds or an HTTP date, and ignores nonsense', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).to.equal(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).to.equal(10_000);
    expect(parseRetryAfter('-1', now)).to.equal(undefined);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter(null, now)).to.equal(undefined);
    expect(parseRetryAfter('999999', now)).to.equal(300_000); // five minutes at most
    expect(parseRetryAfter('36000', now)).to.equal(300_000);
    expect(parseRetryAfter('300', now)).to.equal(300_000);
    expect(parseRetryAfter('299', now)).to.equal(299_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 10:00:00 GMT', now)).to.equal(300_000);
    expect(parseRetryAfter(' 7 ', now)).to.equal(7000);
    expect(parseRetryAfter('0.2', now)).to.equal(200); // not HTTP's, but some servers send fractions
    for (const garbage of ['0x10', '1e3', '.5', 'Infinity', '', '5s'])
      expect(parseRetryAfter(garbage, now), garbage).to.equal(undefined); // not delta-seconds, not a date
  });
});
