import { expect } from 'chai';
import { sleep } from './wait';

/** Fails the test after which an unhandled rejection was reported, for every test of the suite it is called in. */
export function failOnUnhandledRejections(): void {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => void rejections.push(reason);
  before(() => process.on('unhandledRejection', onRejection));
  after(() => process.off('unhandledRejection', onRejection));
  afterEach(async () => {
    await sleep(5); // an unhandled rejection is reported after the microtask queue drains
    expect(rejections.splice(0).map(String)).to.deep.equal([]);
  });
}
