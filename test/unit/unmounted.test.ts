import { expect } from 'chai';
import { defineOursAccessor } from '../../src/request/unmounted';
import type { RequestTracker } from '../../src/request/tracker';

describe('request/unmounted: req.ours where ours() did not run', () => {
  class FakeRequest {}
  defineOursAccessor(FakeRequest.prototype, 'req', 'mount it before the routes that track');
  const ours = (): RequestTracker => (new FakeRequest() as { ours: RequestTracker }).ours;

  it('offers every method of the tracker, none of which throws or rejects', async () => {
    const stand = ours();
    expect(() => stand.track('E')).not.to.throw();
    expect(() => stand.identify({ email: 'a@example.com' })).not.to.throw();
    expect(() => stand.setIdentity({ externalId: 'u' })).not.to.throw();
    expect(() => stand.optOut()).not.to.throw();
    const variant = await stand.experiment('checkout');
    expect(variant).to.include({ inExperiment: false, isControl: true, experimentKey: 'checkout' });
    expect(await stand.personalization()).to.deep.equal({ personalizations: [], properties: {} });
    expect(stand.redirect(variant)).to.equal(false);
  });

  it('names where to mount the middleware when context is read', () => {
    expect(() => ours().context).to.throw(
      /ours\(\) did not run for this request: mount it before the routes/,
    );
  });

  it('stores what the middleware assigns', () => {
    const req = new FakeRequest() as { ours: unknown };
    const tracker = { track() {} };
    req.ours = tracker;
    expect(req.ours).to.equal(tracker);
  });
});
