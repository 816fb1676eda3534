import { expect } from 'chai';
import type { IdentifyEvent, TrackEvent } from '../../src/index';
import { adapterSuite } from './harness';

const VISITOR = { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000001' };

adapterSuite('adapter: a beforeSend that changes the event after returning it', (t) => {
  it('the event is sent as it was when beforeSend returned it; later changes reach nothing', async () => {
    const errors: Error[] = [];
    let changedLater = 0;
    const beforeSend = (event: TrackEvent | IdentifyEvent): TrackEvent | IdentifyEvent => {
      setImmediate(() => {
        // What an app's buggy cache or pool might do to an object it handed over.
        if (!('event' in event)) return;
        event.event = ''; // invalid, were it validated now
        event.eventProperties = { email: 'ada@example.com' };
        changedLater++;
      });
      return event;
    };
    const app = await t.start({ ours: { beforeSend } });
    app.client.on('error', (err) => errors.push(err));
    app.handle(({ ours }) => ours.track('Signed Up', { plan: 'pro' }));
    await app.get('/', { headers: VISITOR });
    const [event] = await t.mock.waitFor(1);
    await app.client.flush();
    expect(changedLater).to.equal(1);
    expect(event!.event).to.equal('Signed Up');
    expect(event!.eventProperties).to.deep.equal({ plan: 'pro' });
    expect(errors).to.deep.equal([]);
  });
});
