import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { selfSignedCert } from './self-signed';

const run = promisify(execFile);

/**
 * A private CA, as a company proxy or a self-hosted endpoint has: trusted
 * through NODE_EXTRA_CA_CERTS, which Node reads at start, so in a child.
 */
describe('security: HTTPS to a server whose CA is given by NODE_EXTRA_CA_CERTS', function () {
  this.timeout(30_000);
  let dir: string | undefined;
  let certPath: string;
  let server: Server;
  let apiUrl: string;
  let handled = 0;

  before(async function () {
    const made = selfSignedCert();
    if (!made) return this.skip();
    dir = made.dir;
    certPath = made.certPath;
    const pem = (path: string) => readFileSync(path);
    server = createServer({ key: pem(made.keyPath), cert: pem(certPath) }, (req, res) => {
      handled++;
      req.resume();
      req.on('end', () => res.writeHead(200).end('{"success":true}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apiUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });

  after(() => {
    server?.closeAllConnections();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const trackIn = async (env: NodeJS.ProcessEnv): Promise<string[]> => {
    const fixture = join(__dirname, 'fixtures', 'track-once.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture, apiUrl], { env });
    return stdout.trim().split('\n');
  };

  it('the default transport trusts it: delivered', async () => {
    const [report, ...errors] = await trackIn({
      ...process.env,
      NODE_EXTRA_CA_CERTS: certPath,
    });
    expect(JSON.parse(report!)).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    expect(errors).to.deep.equal([]);
    expect(handled).to.equal(1);
  });

  it('control: without it, the same server is refused (a certificate error, reported)', async () => {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const [report, ...errors] = await trackIn(env);
    expect(JSON.parse(report!)).to.deep.equal({ delivered: 0, failed: 1, dropped: 0 });
    expect(errors.join('\n')).to.match(/certificate/);
    expect(handled).to.equal(1); // still only the first test's request
  });
});
