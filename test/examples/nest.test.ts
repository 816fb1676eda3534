import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { send } from '../adapters/harness';

const root = resolve(__dirname, '../..');
const TOKEN = 'nest-example-token';
const VISITOR = {
  cookie: 'ours_device_id=00000000-0000-4000-8000-0000000000a1',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0',
};

/** Starts examples/nest/server.ts in a child (Nest needs its own tsconfig: decorators); resolves with its port. */
async function startNest(
  platform: 'express' | 'fastify',
  mock: MockOurs,
): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const env = {
    ...process.env,
    PLATFORM: platform,
    PORT: '0',
    OURS_TOKEN: TOKEN,
    OURS_API_URL: mock.url,
    TSX_TSCONFIG_PATH: 'examples/nest/tsconfig.json',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/nest/server.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const port = await new Promise<number>((done, fail) => {
    child.stdout!.on('data', () => {
      const m = /listening on (\d+)/.exec(output);
      if (m) done(Number(m[1]));
    });
    child.once('exit', (code) =>
      fail(new Error(`the Nest example exited (${code}) before listening:\n${output}`)),
    );
  });
  return { child, port, output: () => output };
}

describe('examples: the NestJS app (a real Nest app, Express and Fastify platforms)', function () {
  this.timeout(60_000);

  it('type-checks with its own tsconfig (experimentalDecorators), with no cast for request.ours or @Ours()', async () => {
    const tsc = require.resolve('typescript/bin/tsc');
    await promisify(execFile)(
      process.execPath,
      [tsc, '-p', 'examples/nest/tsconfig.json', '--noEmit'],
      { cwd: root },
    ).catch((err: Error & { stdout?: string }) => {
      throw new Error(`tsc failed:\n${err.stdout ?? ''}`);
    });
  });

  for (const platform of ['express', 'fastify'] as const) {
    it(`${platform}: @Ours() and the platform's request track, an exception filter's answer keeps its event, skip holds, SIGTERM delivers`, async () => {
      const mock = await createMockOurs({ token: TOKEN });
      const nest = await startNest(platform, mock);
      try {
        const replies = [];
        for (const path of ['/?utm_source=nest', '/pricing', '/sold-out', '/health'])
          replies.push((await send(nest.port, path, { headers: VISITOR })).status);
        expect(replies).to.deep.equal([200, 200, 409, 200]);
        nest.child.kill('SIGTERM');
        const [code] = await once(nest.child, 'exit');
        expect(code, nest.output()).to.equal(0);
        expect(nest.output()).to.match(/shut down: 3 delivered, 0 failed/);
        const events = mock.events.map((e) => [e.event, e.userId, e.defaultProperties!.pathname]);
        expect(events).to.have.deep.members([
          ['Page Viewed', '00000000-0000-4000-8000-0000000000a1', '/'],
          ['Pricing Viewed', '00000000-0000-4000-8000-0000000000a1', '/pricing'],
          ['Sold Out Seen', '00000000-0000-4000-8000-0000000000a1', '/sold-out'],
        ]);
        expect(mock.events.find((e) => e.event === 'Page Viewed')!.defaultProperties).to.include({
          utm_source: 'nest',
          ip: '127.0.0.1',
        });
        expect(mock.violations).to.deep.equal([]);
      } finally {
        nest.child.kill('SIGKILL');
        await mock.close();
      }
    });
  }
});
