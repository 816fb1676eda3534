/**
 * A store of the app's own (SQLite, S3...) through the public `EventStore`
 * contract: what it gives up is counted, with or without a reason it cannot know.
 */
import { expect } from 'chai';
import { MemoryStore, OursClient, type DropInfo, type StoreHooks } from '../../src/index';
import { TOKEN, withMock } from '../support/client';

/** Gives up `count` events found at open, as a custom store that cannot classify them would. */
class GivingUpStore extends MemoryStore {
  constructor(
    private readonly lost: number,
    private readonly lostReason?: 'expired' | 'corrupt',
  ) {
    super();
  }
  async open(hooks: StoreHooks): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // recovery reads, after the constructor
    if (this.lostReason) hooks.dropped(this.lost, `${this.lost} rows unreadable`, this.lostReason);
    else hooks.dropped(this.lost, `${this.lost} rows unreadable`); // no reason: optional
  }
}

describe('stores: a custom store', () => {
  const t = withMock();

  for (const reason of [undefined, 'expired'] as const) {
    it(`hooks.dropped(count, why${reason ? ', reason' : ''}): counted as dropped, reason ${reason ?? "'corrupt'"}`, async () => {
      const drops: DropInfo[] = [];
      const client = new OursClient({
        token: TOKEN,
        apiUrl: t.mock.url,
        logger: false,
        store: new GivingUpStore(2, reason),
      });
      client.on('drop', (info) => drops.push(info));
      try {
        await client.flush();
        expect(drops).to.deep.equal([{ reason: reason ?? 'corrupt', count: 2 }]);
        expect(client.stats()).to.include({ tracked: 2, dropped: 2 });
      } finally {
        await client.shutdown();
      }
    });
  }
});
