import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { OursClient, type FetchLike } from '../../src/index';
import { TOKEN, withMock } from '../support/client';

/** A forward proxy on loopback that records what goes through it (absolute-form requests and CONNECT tunnels). */
async function recordingProxy(): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const upstream = request(req.url!, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  server.on('connect', (req, socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = req.url!.split(':');
    const upstream = connect(Number(port), host!, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const PROXY_VARS = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'http_proxy',
  'https_proxy',
  'NO_PROXY',
  'no_proxy',
];

/**
 * The default transport (node:http) reads no proxy variables, as Node's own
 * http module does not; a proxy is a `fetch` away (docs/design.md, "Going
 * through a proxy").
 */
describe('client: HTTP_PROXY, HTTPS_PROXY and NO_PROXY', () => {
  const t = withMock();
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  const saved: Record<string, string | undefined> = {};
  before(async () => {
    proxy = await recordingProxy();
    for (const name of PROXY_VARS) saved[name] = process.env[name];
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'])
      process.env[name] = proxy.url;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
  });
  after(() => {
    for (const name of PROXY_VARS)
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    proxy.server.closeAllConnections();
    proxy.server.close();
  });

  // `localhost`, not 127.0.0.1: some proxy rules leave IP literals alone.
  const apiUrl = () => t.mock.url.replace('127.0.0.1', 'localhost');

  it('the default transport ignores them: it goes straight to apiUrl', async () => {
    const client = new OursClient({ token: TOKEN, apiUrl: apiUrl(), logger: false });
    client.track({ event: 'Direct', userId: 'v' });
    expect(await client.flush()).to.include({ delivered: 1 });
    await client.shutdown();
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Direct']);
    expect(proxy.seen).to.deep.equal([]);
  });

  it("a fetch on undici's EnvHttpProxyAgent honours them (the recipe in docs/design.md)", async function () {
    const undici = await import('undici').catch(() => undefined);
    if (!undici) return this.skip(); // undici comes with the dev tools here, not with the package
    const dispatcher = new undici.EnvHttpProxyAgent();
    const viaProxy: FetchLike = (url, init) => undici.fetch(url, { ...init, dispatcher });
    const client = new OursClient({
      token: TOKEN,
      apiUrl: apiUrl(),
      fetch: viaProxy,
      logger: false,
    });
    client.track({ event: 'Proxied', userId: 'v' });
    expect(await client.flush()).to.include({ delivered: 1 });
    await client.shutdown();
    expect(t.mock.events.map((e) => e.event)).to.deep.equal(['Proxied']);
    expect(proxy.seen).to.deep.equal([`CONNECT ${new URL(apiUrl()).host}`]);
    await dispatcher.close();
  });
});
