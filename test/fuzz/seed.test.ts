import { expect } from 'chai';
import { fuzzRequest } from './generate';
import { DEFAULT_SEED, fuzzSeed, namingSeed } from './seed';

describe('fuzz seed', () => {
  it('is fixed unless FUZZ_SEED says otherwise, and the same seed sends the same requests', () => {
    expect(fuzzSeed(undefined)).to.equal(DEFAULT_SEED);
    expect(fuzzSeed('')).to.equal(DEFAULT_SEED);
    expect(fuzzSeed('42')).to.equal(42);
    expect(fuzzSeed('0x2a')).to.equal(42);
    expect(fuzzSeed('4294967295')).to.equal(2 ** 32 - 1);
    expect(fuzzSeed('random', () => 0.5)).to.equal(2 ** 31);
    const requests = (seed: number) => [0, 1, 999].map((i) => fuzzRequest(seed, i, `fz-${i}`));
    expect(requests(fuzzSeed('42'))).to.deep.equal(requests(42));
    expect(requests(42)).to.not.deep.equal(requests(43));
  });

  it('refuses a FUZZ_SEED that is no seed, rather than running seed 0 under its name', () => {
    for (const value of ['abc', '1.5', '-1', '4294967296', 'Infinity', '12abc'])
      expect(() => fuzzSeed(value), value).to.throw(
        `FUZZ_SEED must be a whole number from 0 to 4294967295 or 'random', not ${JSON.stringify(value)}`,
      );
  });

  it("a failure's message names the seed and how to replay it; a pass is untouched", async () => {
    const failure = await namingSeed(1234, 'test/fuzz/x.test.ts', () =>
      Promise.resolve().then(() => expect(1).to.equal(2)),
    ).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(failure?.message).to.match(
      /^seed 1234 \(replay: FUZZ_SEED=1234 npx mocha .*test\/fuzz\/x\.test\.ts\): expected 1 to equal 2$/,
    );
    expect(await namingSeed(1, 'f', () => Promise.resolve('ok'))).to.equal('ok');
  });
});
