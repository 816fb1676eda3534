/**
 * Transport-level abuse, on every adapter as a black box: a request body the
 * app never reads, a flood of header lines, a 16 KB Cookie header, raw
 * non-UTF-8 bytes in the request target and the User-Agent, and a client on
 * IPv6 or reaching a dual-stack server over IPv4 (`::ffff:127.0.0.1`). Each
 * request is answered as the app answers it, and its event is valid (the
 * harness's afterEach checks the mock saw no contract violation).
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { expect } from 'chai';
import { adapterSuite, closeServer } from './harness';
import { send } from '../support/http';
import { until } from '../support/wait';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const VISITOR = '0b6f2a5e-9a4d-4c1e-8f3a-2d1c5b7e9f10';

/** Writes `head` (and `body`) on a raw socket to 127.0.0.1:`port`; resolves with the whole raw response. */
function raw(port: number, head: string[], body?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(Buffer.from([...head, 'Connection: close', '', ''].join('\r\n'), 'latin1'));
      if (body) socket.write(body);
      socket.end();
    });
    let response = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('end', () => resolve(response));
    // The server may answer and close before the whole body was written: what it said counts.
    socket.on('error', (err) => (response ? resolve(response) : reject(err)));
  });
}

/** A raw connection to 127.0.0.1:`port`, with what it has received so far. */
async function rawConnection(port: number): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined); // the server may reset it: what it said counts
  return { socket, received: () => received };
}

adapterSuite('adapter: transport-level abuse', (t) => {
  it('a request body the app never reads: answered, its event sent once', async () => {
    const app = await t.start();
    app.handle(({ ours }) => void ours.track('Upload Ignored'));
    const body = Buffer.alloc(512 * 1024, 0x61);
    const reply = await raw(
      app.port,
      [
        'POST /upload HTTP/1.1',
        `Host: 127.0.0.1:${app.port}`,
        `Cookie: ours_device_id=${VISITOR}`,
        `User-Agent: ${UA}`,
        'Content-Type: text/plain',
        `Content-Length: ${body.length}`,
      ],
      body,
    );
    expect(reply).to.match(/^HTTP\/1\.1 200 /);
    const [event] = await t.mock.waitFor(1);
    expect(event).to.deep.include({ event: 'Upload Ignored', userId: VISITOR });
    expect(app.clientErrors).to.deep.equal([]);
  });

  // Node keeps the first 1,000 header lines (maxHeadersCount 2000 counts names and values) and drops the rest.
  it("900 header lines (under Node's maxHeadersCount): answered, the visitor and User-Agent read", async () => {
    const app = await t.start({ maxHeaderSize: 64 * 1024 });
    app.handle(({ ours }) => void ours.track('E'));
    const filler = Array.from({ length: 900 }, (_, i) => `X-F${i}: v`);
    const reply = await raw(app.port, [
      'GET /many HTTP/1.1',
      `Host: 127.0.0.1:${app.port}`,
      ...filler,
      `Cookie: ours_device_id=${VISITOR}`,
      `User-Agent: ${UA}`,
    ]);
    expect(reply).to.match(/^HTTP\/1\.1 200 /);
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal(VISITOR);
    expect(event!.defaultProperties!.user_agent).to.equal(UA);
  });

  it('a 16 KB Cookie header with the visitor cookie last: the visitor is read, not minted anew over it', async () => {
    const app = await t.start({ maxHeaderSize: 64 * 1024, ours: { setVisitorCookie: true } });
    app.handle(({ ours }) => void ours.track('E'));
    const jar = Array.from({ length: 160 }, (_, i) => `c${i}=${'v'.repeat(96)}`).join('; ');
    const reply = await app.get('/jar', {
      headers: { cookie: `${jar}; ours_device_id=${VISITOR}`, 'user-agent': UA },
    });
    expect(reply.status).to.equal(200);
    expect(reply.headers['set-cookie'] ?? []).to.satisfy((lines: string[]) =>
      lines.every((l) => !l.startsWith('ours_device_id=')),
    );
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal(VISITOR);
  });

  // Raw bytes above 0x7f in the request target are refused by Node's parser (400) before any app
  // code runs; percent-escapes of invalid UTF-8 get through, raw bytes in a header value too.
  it('non-UTF-8 in the URL (%FF, %E0%A4, an overlong %C0%AF) and raw bytes in User-Agent: answered, the event valid', async () => {
    const app = await t.start();
    app.handle(({ ours }) => void ours.track('E'));
    const reply = await raw(app.port, [
      'GET /caf%E9/%FF%FE/%C0%AF?utm_source=%FF%C3%28&utm_medium=%E0%A4&gclid=G%80 HTTP/1.1',
      `Host: 127.0.0.1:${app.port}`,
      `Cookie: ours_device_id=${VISITOR}`,
      `User-Agent: ${UA} \x80\xfe`,
    ]);
    // Fastify's router answers a path that does not decode with its own 400, before any route.
    if (t.fw.kind === 'fastify') return expect(reply).to.match(/^HTTP\/1\.1 400 /);
    expect(reply).to.match(/^HTTP\/1\.1 200 /);
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal(VISITOR);
    expect(event!.defaultProperties).to.deep.include({
      pathname: '/caf%E9/%FF%FE/%C0%AF',
      user_agent: `${UA} \x80\xfe`,
    });
  });

  it('an IPv6 client: its address is the IP', async () => {
    const app = await t.start({ host: '::1' });
    app.handle(({ ours }) => void ours.track('E'));
    await app.get('/v6', { headers: { cookie: `ours_device_id=${VISITOR}`, 'user-agent': UA } });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties!.ip).to.equal('::1');
    expect(event!.identityContext?.ip).to.equal('::1');
  });

  it('a dual-stack server reached over IPv4: the socket says ::ffff:127.0.0.1, the event 127.0.0.1', async () => {
    const client = t.client();
    const listener = await t.fw.app(
      t.fw.ours({ client }),
      () =>
        ({ ours, req }) => {
          peers.push(req.socket.remoteAddress);
          ours.track('E');
        },
      [],
    );
    const peers: (string | undefined)[] = [];
    const server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '::', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await send(port, '/mapped', {
        headers: { cookie: `ours_device_id=${VISITOR}`, 'user-agent': UA },
      });
      expect(peers).to.deep.equal(['::ffff:127.0.0.1']);
      const [event] = await t.mock.waitFor(1);
      expect(event!.defaultProperties!.ip).to.equal('127.0.0.1');
      expect(event!.identityContext?.ip).to.equal('127.0.0.1');
    } finally {
      await closeServer(server);
    }
  });

  it("the framework's own trust function throws (Express trust proxy, Fastify trustProxy): answered, the event sent, the throw reported", async () => {
    const boom = (): boolean => {
      throw new Error('trust boom');
    };
    if (t.fw.kind !== 'express' && t.fw.kind !== 'fastify') return;
    const app = await t.start({
      setup: (target) =>
        t.fw.kind === 'express' ? target.set('trust proxy', boom) : void (target.trustProxy = boom),
    });
    app.handle(({ ours }) => void ours.track('E'));
    const reply = await app.get('/t', {
      headers: {
        cookie: `ours_device_id=${VISITOR}`,
        'user-agent': UA,
        'x-forwarded-proto': 'https',
      },
    });
    expect(reply.status).to.equal(200);
    const [event] = await t.mock.waitFor(1);
    expect(event!.userId).to.equal(VISITOR);
    expect(event!.defaultProperties!.ip).to.equal('127.0.0.1');
    // Fastify 4 believes X-Forwarded-Proto whenever trustProxy is set, and never lets the function's throw out.
    if (t.fw.name === 'Fastify 4') return;
    expect(event!.defaultProperties!.current_url).to.equal(`http://127.0.0.1:${app.port}/t`);
    await until(() => app.clientErrors.length > 0, 'the throw reported');
    expect(String(app.clientErrors[0])).to.match(
      /the app's trust ?proxy function threw: trust boom; the event goes on as if the proxy were untrusted/i,
    );
  });

  it('collectIp: false on an IPv6 client: no IP anywhere', async () => {
    const app = await t.start({ host: '::1', ours: { collectIp: false } });
    app.handle(({ ours }) => void ours.track('E'));
    await app.get('/v6', { headers: { cookie: `ours_device_id=${VISITOR}`, 'user-agent': UA } });
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).to.not.have.property('ip');
    expect(event).to.not.have.property('identityContext');
  });

  it('three pipelined HTTP/1.1 requests on one connection: each answered, each event once', async () => {
    const app = await t.start();
    app.handle(({ ours, req }) => void ours.track('Pipelined', { path: req.url }));
    const { socket, received } = await rawConnection(app.port);
    const head = (path: string): string =>
      `GET ${path} HTTP/1.1\r\nHost: x\r\nCookie: ours_device_id=${VISITOR}\r\nUser-Agent: ${UA}\r\n\r\n`;
    socket.write(head('/one') + head('/two') + head('/three')); // one write: the server parses all three at once
    try {
      await until(() => received().split('HTTP/1.1 200').length === 4, 'three answers');
      await until(
        () => t.mock.events.length === 3,
        'three events, while the connection stays open',
      );
    } finally {
      socket.destroy();
    }
    expect(t.mock.events.map((e) => e.eventProperties!['path']).sort()).to.deep.equal([
      '/one',
      '/three',
      '/two',
    ]);
    expect(t.mock.duplicates()).to.deep.equal([]);
  });

  it('a response that ends while the client still uploads (the app read part of the body): its event goes then', async () => {
    const app = await t.start();
    app.handle(async ({ ours, req }) => {
      await once(req, 'data'); // reading: the rest of the body may come later, or never
      ours.track('Answered Mid-Upload');
    });
    const { socket, received } = await rawConnection(app.port);
    socket.write(
      `GET /upload HTTP/1.1\r\nHost: x\r\nCookie: ours_device_id=${VISITOR}\r\nUser-Agent: ${UA}\r\nContent-Length: 1048576\r\n\r\n`,
    );
    socket.write('x'.repeat(1024)); // and no more
    try {
      await until(() => received().startsWith('HTTP/1.1 200'), 'the answer');
      await until(() => t.mock.events.length === 1, 'the event, while the upload is unfinished');
    } finally {
      socket.destroy();
    }
    expect(t.mock.events[0]!.event).to.equal('Answered Mid-Upload');
  });

  it('a client that aborts mid-body of a streamed response: its event still goes, once', async () => {
    const app = await t.start();
    const { Readable } = await import('node:stream');
    let pushed = 0;
    app.handle(({ ours }) => {
      ours.track('Stream Aborted');
      return new Readable({
        read() {
          if (pushed++ < 200) setTimeout(() => this.push('x'.repeat(1024)), 5);
          else this.push(null);
        },
      });
    });
    await new Promise<void>((resolve, reject) => {
      const socket = connect(app.port, '127.0.0.1', () =>
        socket.write(
          `GET /s HTTP/1.1\r\nHost: x\r\nCookie: ours_device_id=${VISITOR}\r\nUser-Agent: ${UA}\r\n\r\n`,
        ),
      );
      socket.once('data', () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', reject);
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('Stream Aborted');
  });
});
