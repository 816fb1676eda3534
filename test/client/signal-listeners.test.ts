import { expect } from 'chai';
import { OursClient } from '../../src/index';
import { TOKEN } from '../support/client';

describe('handleSignals (on by default): process listeners', () => {
  const counts = (): number[] => ['SIGINT', 'SIGTERM', 'exit'].map((e) => process.listenerCount(e));

  it('many clients add one listener per signal, not one each; shutting them down removes it', async () => {
    const before = counts();
    const clients = Array.from(
      { length: 50 },
      () => new OursClient({ token: TOKEN, apiUrl: 'http://127.0.0.1:9/api/v1', logger: false }),
    );
    const during = counts();
    during.forEach((n, i) => expect(n).to.be.at.most(before[i]! + 1));
    expect(process.listenerCount('SIGTERM')).to.be.at.least(1);
    await Promise.all(clients.map((c) => c.shutdown({ timeoutMs: 100 })));
    expect(counts()).to.deep.equal(before);
  });

  it('handleSignals: false adds none', async () => {
    const before = counts();
    const client = new OursClient({
      token: TOKEN,
      apiUrl: 'http://127.0.0.1:9/api/v1',
      logger: false,
      handleSignals: false,
    });
    const during = counts();
    await client.shutdown({ timeoutMs: 100 });
    // Another suite's live client may have installed them already: then they are unchanged either way.
    expect(during).to.deep.equal(before);
  });
});
