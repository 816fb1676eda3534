import { expect } from 'chai';
import { abortable, answerWithin, MAX_TIMER_MS, settleWithin, within } from '../../src/deadline';

const never = new Promise<never>(() => undefined);
const late = (): Error => new Error('too late');

describe('deadline: waiting on what a deadline may cut short', () => {
  it('within: true when the work settles first, false at the deadline', async () => {
    expect(await within(1000, Promise.resolve())).to.equal(true);
    expect(
      await within(
        1000,
        Promise.reject(new Error('x')).catch(() => undefined),
      ),
    ).to.equal(true);
    expect(await within(5, never)).to.equal(false);
  });

  it('within: a wait a hair past the timer range (a deadline minus now) waits, not 1 ms', async () => {
    // Node turns a delay past 2^31-1 ms into 1 ms: a shutdown with the largest timeoutMs would give up at once.
    const warnings: string[] = [];
    const onWarning = (w: Error): number => warnings.push(w.name);
    process.on('warning', onWarning);
    let finish!: () => void;
    const work = new Promise<void>((resolve) => (finish = resolve));
    const waited = within(MAX_TIMER_MS + 2e-7, work);
    const outcome = await Promise.race([
      waited,
      new Promise((r) => setTimeout(r, 50, 'still waiting')),
    ]);
    process.off('warning', onWarning);
    finish(); // settles the wait, which clears its timer
    expect(await waited).to.equal(true);
    expect(outcome).to.equal('still waiting');
    expect(warnings).to.not.include('TimeoutOverflowWarning');
  });

  it('answerWithin: the value, or undefined at the deadline or on a rejection', async () => {
    expect(await answerWithin(Promise.resolve(7), 1000)).to.equal(7);
    expect(await answerWithin(never, 5)).to.equal(undefined);
    expect(await answerWithin(Promise.reject(new Error('x')), 1000)).to.equal(undefined);
  });

  it('settleWithin: the outcome, or the late error at the deadline; a rejection after it is ignored', async () => {
    expect(await settleWithin(Promise.resolve('ok'), 1000, late)).to.equal('ok');
    const failed = await settleWithin(Promise.reject(new Error('own')), 1000, late).catch(
      (err: Error) => err.message,
    );
    expect(failed).to.equal('own');
    let rejectLater!: (err: Error) => void;
    const slow = new Promise<string>((_, reject) => (rejectLater = reject));
    const outcome = await settleWithin(slow, 5, late).catch((err: Error) => err.message);
    expect(outcome).to.equal('too late');
    rejectLater(new Error('after the deadline')); // handled inside: no unhandled rejection
  });

  it('abortable: the outcome unless the signal aborts first, also when it had aborted already', async () => {
    const controller = new AbortController();
    const pending = abortable(never, controller.signal).catch((err: Error) => err.message);
    controller.abort(new Error('stop'));
    expect(await pending).to.equal('stop');
    expect(
      await abortable(Promise.resolve(1), controller.signal).catch((err: Error) => err.message),
    ).to.equal('stop');
    expect(await abortable(Promise.resolve(2), new AbortController().signal)).to.equal(2);
  });
});
