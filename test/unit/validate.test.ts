import { expect } from 'chai';
import { checkIdentify, checkTrack, MAX_EVENT_AGE_MS, NO_VISITOR } from '../../src/validate';
import type { TrackEvent } from '../../src/events';

const NOW = Date.UTC(2026, 0, 15);

describe('validate: events against the contract', () => {
  it('completes a valid track once: distinctId and time stamped, the input left as it was', () => {
    const input: TrackEvent = {
      event: 'Signed Up',
      userId: 'v1',
      eventProperties: { plan: 'pro' },
    };
    const checked = checkTrack(input, NOW);
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    expect(checked.body).to.include({ event: 'Signed Up', userId: 'v1', time: NOW });
    expect(checked.body.distinctId).to.match(/^[0-9a-f-]{36}$/);
    expect(input).to.not.have.property('distinctId');
  });

  it('keeps a distinctId the caller gave (a retry of the same event)', () => {
    const checked = checkTrack({ event: 'E', userId: 'v', distinctId: 'order-42' }, NOW);
    expect(checked.ok && checked.body.distinctId).to.equal('order-42');
  });

  it('an event with no visitor has exactly the NO_VISITOR issue, so the client can advise', () => {
    const checked = checkTrack({ event: 'E' }, NOW);
    expect(checked.ok).to.equal(false);
    if (!checked.ok) expect(checked.issues).to.deep.equal([NO_VISITOR]);
  });

  it('time: a Date or milliseconds, not in the future, not over 7 days old (and says when it looks like seconds)', () => {
    const issues = (time: unknown) => {
      const checked = checkTrack({ event: 'E', userId: 'v', time: time as number }, NOW);
      return checked.ok ? [] : checked.issues.map((i) => `${i.field} ${i.problem}`);
    };
    expect(issues(new Date(NOW - 1000))).to.deep.equal([]);
    expect(issues(NOW + 60_000)[0]).to.include('in the future');
    expect(issues(NOW - MAX_EVENT_AGE_MS - 1)[0]).to.include('more than 7 days old');
    expect(issues(Math.floor(NOW / 1000))[0]).to.include('looks like seconds');
    expect(issues('yesterday')[0]).to.include('must be a Date or milliseconds');
  });

  it('names the field and the limit of a value over it', () => {
    const checked = checkTrack({ event: 'x'.repeat(10_000), userId: 'v' }, NOW);
    expect(checked.ok).to.equal(false);
    if (!checked.ok) {
      expect(checked.issues[0]!.field).to.equal('event');
      expect(checked.issues[0]!.limit).to.not.equal(undefined);
    }
  });

  it('refuses what is not an object, and an identify without userProperties', () => {
    expect(checkTrack(null as unknown as TrackEvent, NOW)).to.deep.include({ ok: false });
    const identify = checkIdentify({ userId: 'v' } as never);
    expect(identify.ok).to.equal(false);
    if (!identify.ok) expect(identify.issues.map((i) => i.field)).to.include('userProperties');
    expect(checkIdentify({ userId: 'v', userProperties: { email: 'a@b.co' } }).ok).to.equal(true);
  });

  it('refuses a key that is not a field of the API, __proto__ included, and pollutes nothing', () => {
    const input = JSON.parse(
      '{"event":"E","userId":"v","__proto__":{"polluted":true}}',
    ) as TrackEvent;
    const checked = checkTrack(input, NOW);
    expect(checked.ok).to.equal(false);
    if (!checked.ok)
      expect(checked.issues).to.deep.equal([
        { field: '__proto__', problem: 'is not a field of the Ours API' },
      ]);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});
