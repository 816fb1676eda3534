import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import {
  OursClient,
  OursDeliveryError,
  type ClientOptions,
  type FetchLike,
  type OursError,
} from '../../src/index';
import { captureLogger, expectBalanced, FAST_RETRY, TOKEN } from '../support/client';

/** What the hand-made API answers every request with. */
interface Answer {
  status: number;
  body?: string;
  headers?: OutgoingHttpHeaders;
}

/**
 * An API that answers what the test says, whatever the contract says: the
 * mock answers only as the contract does. Records the path of each request.
 */
async function lyingApi(answer: Answer): Promise<{ url: string; paths: string[]; server: Server }> {
  const paths: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    paths.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.writeHead(answer.status, answer.headers).end(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/v1`, paths, server };
}

describe('client: answers outside the contract (2xx, 3xx, a 200 that says it failed)', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) (s.closeAllConnections(), s.close());
  });

  /** A client on a lying API; one track and one identify, flushed. */
  async function deliverTo(answer: Answer, options: ClientOptions = {}, listen = true) {
    const api = await lyingApi(answer);
    servers.push(api.server);
    const logger = captureLogger();
    const client = new OursClient({
      token: TOKEN,
      apiUrl: api.url,
      retry: FAST_RETRY,
      flushIntervalMs: 20,
      logger,
      ...options,
    });
    const errors: OursError[] = [];
    if (listen) client.on('error', (err) => errors.push(err));
    client.track({ event: 'E', userId: 'v' });
    client.identify({ userId: 'v', userProperties: { email: 'a@b.example' } });
    const report = await client.flush();
    expectBalanced(client);
    const stats = client.stats();
    await client.shutdown();
    const lines = (level: string) =>
      logger.lines.filter((l) => l.level === level).map((l) => l.msg ?? '');
    return {
      report,
      stats,
      errors,
      paths: api.paths,
      warnings: lines('warn'),
      logged: lines('error'),
    };
  }

  for (const status of [201, 202, 204])
    for (const endpoint of ['batch', 'track'] as const)
      it(`${status} to /${endpoint} and /identify: accepted (a 2xx), delivered, never resent`, async () => {
        const { report, stats, errors, paths, warnings } = await deliverTo(
          { status },
          { endpoint },
        );
        expect(report).to.include({ delivered: 2, failed: 0 });
        expect(stats).to.include({ delivered: 2, failed: 0, retried: 0 });
        expect(paths.sort()).to.deep.equal([`/api/v1/${endpoint}`, '/api/v1/identify'].sort());
        expect(errors).to.deep.equal([]);
        expect(warnings).to.deep.equal([]); // not the API's status, but a gateway's fair answer
      });

  it('200 that is not JSON: delivered (its status says accepted), and one error event says the body is not the API’s', async () => {
    const { report, stats, errors, paths, warnings } = await deliverTo({
      status: 200,
      body: '<html>ok</html>',
    });
    expect(report).to.include({ delivered: 2, failed: 0 });
    expect(stats).to.include({ retried: 0 });
    expect(paths).to.have.length(2);
    expect(errors).to.have.length(1); // once a minute, not once per request
    expect(errors[0]).to.be.instanceOf(OursDeliveryError).and.include({ count: 0, status: 200 });
    expect(errors[0]!.message).to.include('HTTP 200').and.include('not a JSON object');
    expect(errors[0]!.message).to.include('counted delivered');
    expect(warnings).to.deep.equal([]); // the listener heard it
  });

  it('200 that is not JSON, and no error listener: one line of the logger instead', async () => {
    const { report, logged } = await deliverTo({ status: 200, body: '<html>ok</html>' }, {}, false);
    expect(report).to.include({ delivered: 2, failed: 0 });
    expect(logged).to.have.length(1); // once a minute, not once per request
    expect(logged[0]).to.include('HTTP 200').and.include('not a JSON object');
  });

  for (const endpoint of ['batch', 'track'] as const)
    it(`200 {success:false} without failed rows to /${endpoint}: delivered as its status says, never resent, and an error event`, async () => {
      const { report, stats, errors, paths, warnings } = await deliverTo(
        { status: 200, body: '{"success":false,"accepted":0,"failed":1,"results":[]}' },
        { endpoint },
      );
      expect(report).to.include({ delivered: 2, failed: 0 });
      expect(stats).to.include({ retried: 0 });
      expect(paths).to.have.length(2);
      expect(warnings).to.deep.equal([]);
      expect(errors).to.have.length(1);
      expect(errors[0]!.message).to.include('success: false and no failed row');
    });

  it("200 with an invalid_event row: the row fails as the rows say, the rest delivered, nothing said of /batch's body", async () => {
    const body = JSON.stringify({
      success: false,
      accepted: 0,
      failed: 1,
      results: [{ index: 0, success: false, code: 'invalid_event', message: 'bad' }],
    });
    const { report, errors, warnings } = await deliverTo({ status: 200, body });
    expect(report).to.include({ delivered: 1, failed: 1 }); // the identify's /identify 200 is delivered
    const about = (path: string) => errors.filter((e) => e.message.includes(path));
    expect(about('/batch').map((e) => e.message)).to.have.length(1); // the row, not the body
    expect(about('/batch')[0]!.message).to.include('row 0').and.include('bad');
    expect(about('/identify').map((e) => e.message)).to.have.length(1); // /identify's 200 without success: true is odd
    expect(warnings).to.deep.equal([]);
  });

  const fetches: [string, FetchLike | undefined][] = [
    ['the default fetch (node:http)', undefined],
    ["Node's global fetch", fetch as unknown as FetchLike],
  ];
  for (const [name, fetchFn] of fetches)
    for (const status of [301, 302, 307, 308])
      it(`${status} with ${name}: failed at once, not retried nor followed, the error names the Location and apiUrl`, async () => {
        const location = 'https://api.example/api/v1/batch';
        const { report, stats, errors, paths } = await deliverTo(
          { status, headers: { location }, body: 'moved' },
          fetchFn ? { fetch: fetchFn } : {},
        );
        expect(report).to.include({ delivered: 0, failed: 2 });
        expect(stats).to.include({ failed: 2, retried: 0 });
        expect(paths).to.have.length(2); // one each for /batch and /identify: no retry, no hop to the Location
        expect(errors).to.have.length(2);
        for (const err of errors) {
          expect(err.message).to.include(`HTTP ${status}`).and.include(location);
          expect(err.message).to.include('apiUrl is wrong');
          expect((err as OursError & { status?: number }).status).to.equal(status);
        }
      });

  for (const header of ['0x10', '1e3'])
    it(`429 with Retry-After "${header}" (neither delta-seconds nor a date): the usual backoff, not ${header} seconds`, async () => {
      const api = await lyingApi({ status: 429, headers: { 'retry-after': header } });
      servers.push(api.server);
      const client = new OursClient({
        token: TOKEN,
        apiUrl: api.url,
        retry: { ...FAST_RETRY, maxAttempts: 2 },
        flushIntervalMs: 20,
        logger: false,
      });
      const errors: OursError[] = [];
      client.on('error', (err) => errors.push(err));
      client.track({ event: 'E', userId: 'v' });
      const started = performance.now();
      expect(await client.flush()).to.include({ failed: 1 });
      expect(performance.now() - started).to.be.below(10_000); // FAST_RETRY's backoff is milliseconds; 0x10 would be 16 s
      expect(api.paths).to.have.length(2);
      expect(errors[0]!.message).to.include('gave up after 2 attempts');
      await client.shutdown();
    });

  it('a 3xx without a Location says so', async () => {
    const { errors } = await deliverTo({ status: 303 });
    expect(errors).to.have.length(2);
    expect(errors[0]!.message).to.include('no Location');
  });
});
