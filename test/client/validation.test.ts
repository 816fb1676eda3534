import { expect } from 'chai';
import { OursClient, OursValidationError, type TrackEvent } from '../../src/index';
import { clientFor, TOKEN, withMock } from '../support/client';

const DAY = 24 * 60 * 60 * 1000;

describe('client validation against the contract', () => {
  const t = withMock();

  /** Tracks one invalid event and returns the error it was reported with. */
  async function rejected(event: unknown): Promise<OursValidationError> {
    const { client, errors } = clientFor(t.mock);
    client.track(event as TrackEvent);
    client.track({ event: 'Still fine', userId: 'v' }); // one bad event loses nothing else
    await client.flush();
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Still fine']);
    expect(client.stats()).to.include({ tracked: 2, dropped: 1, delivered: 1 });
    await client.shutdown();
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(OursValidationError);
    return errors[0] as OursValidationError;
  }

  const cases: [string, unknown, string, string, (number | string)?][] = [
    ['a missing event name', { userId: 'v' }, 'event', 'is required'],
    ['an empty event name', { event: '', userId: 'v' }, 'event', 'must not be empty', 1],
    [
      'an event name over 1000 characters',
      { event: 'x'.repeat(1001), userId: 'v' },
      'event',
      'over the maximum',
      1000,
    ],
    [
      'an event name of 1001 emoji (characters are code points, as JSON Schema counts them)',
      { event: '🚀'.repeat(1001), userId: 'v' },
      'event',
      'is 1001 characters, over the maximum',
      1000,
    ],
    [
      'a userId over 400 characters',
      { event: 'E', userId: 'v'.repeat(401) },
      'userId',
      'over the maximum',
      400,
    ],
    [
      'an object in eventProperties',
      { event: 'E', userId: 'v', eventProperties: { cart: { a: 1 } } },
      'eventProperties.cart',
      'must be a string, a finite number, a boolean or null, got an object',
    ],
    [
      'NaN in eventProperties',
      { event: 'E', userId: 'v', eventProperties: { n: NaN } },
      'eventProperties.n',
      'finite number, a boolean or null, got NaN',
    ],
    [
      'no identity, and another problem',
      { event: 'E', eventProperties: { n: NaN } },
      'eventProperties.n',
      'got NaN',
    ],
    [
      'an array in consent',
      { event: 'E', userId: 'v', userProperties: { consent: { ads: ['x'] } } },
      'userProperties.consent.ads',
      'must be a string',
    ],
    [
      'a userProperties.email over 2000',
      { event: 'E', userId: 'v', userProperties: { email: 'e'.repeat(2001) } },
      'userProperties.email',
      'over the maximum',
      2000,
    ],
    [
      'a number for a string field',
      { event: 'E', userId: 'v', userProperties: { zip: 12345 } },
      'userProperties.zip',
      'must be a string',
    ],
    [
      'a string for a boolean field',
      { event: 'E', userId: 'v', defaultProperties: { webview: 'yes' } },
      'defaultProperties.webview',
      'must be a boolean',
    ],
    [
      'an unknown top-level field',
      { event: 'E', userId: 'v', userid: 'typo' },
      'userid',
      'not a field of the Ours API',
    ],
    [
      'an unknown defaultProperties field',
      { event: 'E', userId: 'v', defaultProperties: { colour: 'red' } },
      'defaultProperties.colour',
      'not a field',
    ],
    [
      'identityContext without userAgent',
      { event: 'E', userId: 'v', identityContext: { ip: '1.2.3.4' } },
      'identityContext.userAgent',
      'is required',
    ],
    [
      'a time older than 7 days',
      { event: 'E', userId: 'v', time: Date.now() - 8 * DAY },
      'time',
      'more than 7 days old',
      '7 days',
    ],
    [
      'a time in seconds',
      { event: 'E', userId: 'v', time: Math.floor(Date.now() / 1000) },
      'time',
      'looks like seconds',
    ],
    [
      'a time in the future',
      { event: 'E', userId: 'v', time: Date.now() + 60 * 60_000 },
      'time',
      'in the future',
    ],
    ['a token inside the event', { event: 'E', userId: 'v', token: 'x' }, 'token', 'not a field'],
  ];
  for (const [name, event, field, problem, limit] of cases) {
    it(`drops and reports ${name}, naming the field${limit === undefined ? '' : ' and the limit'}`, async () => {
      const err = await rejected(event);
      expect(err.field).to.equal(field);
      expect(err.problem).to.include(problem);
      if (limit !== undefined) expect(err.limit).to.equal(limit);
      expect(err.message).to.include(field);
    });
  }

  it('counts characters as code points: 1000 emoji (2000 UTF-16 units) fit a 1000-character field', async () => {
    const { client, errors } = clientFor(t.mock);
    const event = '🚀'.repeat(1000);
    client.track({ event, userId: 'é'.repeat(399) + '😀' });
    await client.flush();
    expect(errors).to.deep.equal([]);
    expect(t.mock.events.map((e) => e.event)).to.deep.equal([event]);
    await client.shutdown();
  });

  it('coerces custom values to strings, leaves out undefined, keeps explicit null', async () => {
    const { client } = clientFor(t.mock);
    client.track({
      event: 'E',
      userId: 'v',
      eventProperties: { n: 1.5, b: true, s: 's', u: undefined, z: null },
      userProperties: { custom_properties: { age: 40 }, first_name: null },
    });
    await client.flush();
    const [sent] = t.mock.events;
    expect(sent!.eventProperties).to.deep.equal({ n: '1.5', b: 'true', s: 's', z: null });
    expect(sent!.userProperties).to.deep.equal({
      custom_properties: { age: '40' },
      first_name: null,
    });
    await client.shutdown();
  });

  it('never sends an empty consent object (it would wipe stored consent)', async () => {
    const { client } = clientFor(t.mock);
    client.track({ event: 'E', userId: 'v', userProperties: { consent: { ads: undefined } } });
    await client.flush();
    expect(t.mock.events[0]!.userProperties).to.deep.equal({});
    await client.shutdown();
  });

  it('accepts a Date for time and keeps a given distinctId', async () => {
    const { client } = clientFor(t.mock);
    const when = new Date(Date.now() - DAY);
    client.track({ event: 'E', email: 'a@b.co', time: when, distinctId: 'pi_123' });
    await client.flush();
    expect(t.mock.events[0]).to.include({ time: when.getTime(), distinctId: 'pi_123' });
    await client.shutdown();
  });

  it('throws the same error from the call with strict: true', async () => {
    const { client } = clientFor(t.mock, { strict: true });
    expect(() => client.track({ event: '', userId: 'v' })).to.throw(
      OursValidationError,
      /event must not be empty \(limit: 1\)/,
    );
    expect(() => client.identify({ userId: 'v' } as never)).to.throw(
      OursValidationError,
      /userProperties is required/,
    );
    expect(client.stats().dropped).to.equal(2);
    await client.shutdown();
  });

  it('never throws or rejects for bad input without strict', async () => {
    const client = new OursClient({ token: TOKEN, apiUrl: t.mock.url, logger: false });
    for (const bad of [
      undefined,
      null,
      42,
      'str',
      [],
      { event: Symbol('x') },
      { event: 'E', userId: 'v', eventProperties: { big: 10n } },
    ]) {
      expect(() => client.track(bad as never)).not.to.throw();
      expect(() => client.identify(bad as never)).not.to.throw();
    }
    expect(client.stats().dropped).to.equal(14);
    await client.shutdown();
  });
});
