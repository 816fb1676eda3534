import { expect } from 'chai';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createMockOurs } from '../../src/testing';

const DIST = join(__dirname, '../../dist/cjs');

/** A fresh copy of the built package's modules, as a bundler that bundles it per route (Next.js) makes one. */
function freshCopy<T>(entry: string): T {
  for (const key of Object.keys(require.cache)) if (key.startsWith(DIST)) delete require.cache[key];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(DIST, entry)) as T;
}

describe('two copies of the package in one process', () => {
  it("a client made by one copy works with another copy's middleware (Next.js route bundles, a client kept on globalThis)", async () => {
    const mock = await createMockOurs();
    const { OursClient } = freshCopy<typeof import('../../src/index')>('src/index.js');
    const { oursNode } = freshCopy<typeof import('../../adapters/node')>('adapters/node.js');
    const client = new OursClient({
      token: 'copies-token-123456',
      apiUrl: mock.url,
      logger: false,
      flushIntervalMs: 50,
    });
    const track = oursNode({ client }); // another copy's OursClient class: refused before
    const server = createServer((req, res) => {
      track(req, res).track('Copied', {}, { userId: 'user-1' });
      res.end('ok');
    }).listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as { port: number };
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).to.equal('ok');
      const [event] = await mock.waitFor(1);
      expect(event!.event).to.equal('Copied');
      expect(client.stats()).to.include({ tracked: 1 });
    } finally {
      server.close();
      await client.shutdown();
      await mock.close();
    }
  });
});
