import { expect } from 'chai';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { checkValue } from '../../src/contract/check';
import { responseSchemas } from '../../src/contract/schema';
import {
  createMockOurs,
  MAX_BODY_BYTES,
  type MockOurs,
  type MockScript,
} from '../../src/testing/index';

const TOKEN = 'test-token';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

interface PostOptions {
  gzip?: boolean;
  headers?: Record<string, string>;
  raw?: Buffer | string;
  signal?: AbortSignal;
}

/** POSTs JSON to the mock with global fetch, as a client would. */
async function post(
  mock: MockOurs,
  path: string,
  body: unknown,
  options: PostOptions = {},
): Promise<Answer> {
  const json = Buffer.from(JSON.stringify(body));
  const payload = options.raw ?? (options.gzip ? gzipSync(json) : json);
  const res = await fetch(mock.url + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.gzip ? { 'content-encoding': 'gzip' } : {}),
      ...options.headers,
    },
    // A copy into a plain Uint8Array: DOM's BodyInit type does not take a Node Buffer.
    body: typeof payload === 'string' ? payload : new Uint8Array(payload),
    signal: options.signal,
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    headers: res.headers,
  };
}

/** A node:http POST that reports what arrived before the connection ended, if it broke. */
function rawPost(
  url: string,
  body: unknown,
): Promise<{ status?: number; text: string; error?: Error }> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let text = '';
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        status = res.statusCode;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status, text }));
        res.on('error', (error) => resolve({ status, text, error }));
      },
    );
    req.on('error', (error) => resolve({ status, text, error }));
    req.end(JSON.stringify(body));
  });
}

const now = (): number => Date.now();
const track = (extra: Record<string, unknown> = {}) => ({
  token: TOKEN,
  event: 'Signup',
  distinctId: 'd-1',
  ...extra,
});
const row = (distinctId: string, extra: Record<string, unknown> = {}) => ({
  event: 'Purchase',
  distinctId,
  ...extra,
});
const batch = (...rows: unknown[]) => ({ token: TOKEN, events: rows });

function expectContractBody(path: 'batch' | 'track' | 'identify', answer: Answer): void {
  expect(checkValue(responseSchemas[path]![answer.status]!, answer.body, '')).to.deep.equal([]);
}

describe('ours-middleware/testing: createMockOurs', () => {
  let mock: MockOurs;
  beforeEach(async () => {
    mock = await createMockOurs({ token: TOKEN });
  });
  afterEach(() => mock.close());

  describe('normal operation', () => {
    it('serves /api/v1 on 127.0.0.1 and records /track without the token', async () => {
      expect(mock.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      const answer = await post(mock, '/track', track({ time: now() - 1000 }));
      expect(answer).to.include({ status: 200 });
      expect(answer.body).to.deep.equal({ success: true });
      expect(mock.events).to.have.length(1);
      expect(mock.events[0])
        .to.include({ event: 'Signup', distinctId: 'd-1' })
        .and.not.have.property('token');
      const [req] = mock.requests;
      expect(req).to.include({
        path: '/api/v1/track',
        endpoint: '/track',
        status: 200,
        gzip: false,
        method: 'POST',
      });
      expect(req!.bytes).to.equal(
        Buffer.byteLength(JSON.stringify(track({ time: (req!.body as { time: number }).time }))),
      );
      expect(req!.body).to.include({ token: '[redacted]', event: 'Signup' });
      expect(req!.receivedAt).to.be.closeTo(now(), 5000);
      expect(mock.violations).to.deep.equal([]);
    });

    it('records /identify bodies in identifies, not events', async () => {
      const answer = await post(mock, '/identify', {
        token: TOKEN,
        userId: 'u1',
        userProperties: { email: 'a@b.c' },
      });
      expect(answer.status).to.equal(200);
      expect(mock.identifies).to.deep.equal([{ userId: 'u1', userProperties: { email: 'a@b.c' } }]);
      expect(mock.events).to.deep.equal([]);
    });

    it('accepts a /batch with 200 and one result per row, recording rows in order', async () => {
      const answer = await post(mock, '/batch', batch(row('a'), row('b')));
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({
        success: true,
        accepted: 2,
        failed: 0,
        results: [
          { index: 0, success: true },
          { index: 1, success: true },
        ],
      });
      expectContractBody('batch', answer);
      expect(mock.events.map((e) => e.distinctId)).to.deep.equal(['a', 'b']);
    });

    it('records duplicate distinctIds and lists them in duplicates()', async () => {
      await post(mock, '/batch', batch(row('a'), row('b')));
      await post(mock, '/track', track({ distinctId: 'a' }));
      expect(mock.events).to.have.length(3);
      expect(mock.duplicates()).to.deep.equal(['a']);
    });

    it('redacts credential headers in recorded requests', async () => {
      await post(mock, '/track', track(), {
        headers: { authorization: 'Bearer secret', 'x-trace': 'keep' },
      });
      expect(mock.requests[0]!.headers).to.include({
        authorization: '[redacted]',
        'x-trace': 'keep',
      });
      expect(JSON.stringify(mock.requests)).not.to.include(TOKEN).and.not.to.include('secret');
    });

    it('reset() clears recorded data and pending scripts', async () => {
      mock.respondWith({ status: 500, times: 'always' });
      await post(mock, '/track', track({ event: '' }));
      mock.reset();
      expect([mock.events, mock.requests, mock.violations]).to.deep.equal([[], [], []]);
      expect((await post(mock, '/track', track())).status).to.equal(200);
    });
  });

  describe('encoding and content type', () => {
    it('understands gzip bodies and records the compressed wire size', async () => {
      const body = batch(row('a'), row('b'));
      expect((await post(mock, '/batch', body, { gzip: true })).status).to.equal(200);
      expect(mock.requests[0]).to.include({
        gzip: true,
        bytes: gzipSync(JSON.stringify(body)).length,
      });
      expect(mock.events).to.have.length(2);
    });

    it('answers 400 to invalid gzip and records a violation', async () => {
      const answer = await post(mock, '/batch', null, { gzip: true, raw: 'not gzip at all' });
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.equal('body is not valid gzip');
      expectContractBody('batch', answer);
      expect(mock.violations.map((v) => v.message)).to.deep.equal(['body is not valid gzip']);
    });

    it('answers 415 to other encodings and to non-JSON content types', async () => {
      const br = await post(mock, '/batch', batch(row('a')), {
        headers: { 'content-encoding': 'br' },
      });
      const text = await post(mock, '/track', track(), {
        headers: { 'content-type': 'text/plain' },
      });
      expect([br.status, text.status]).to.deep.equal([415, 415]);
      expectContractBody('batch', br);
      expect(mock.violations.map((v) => v.field)).to.deep.equal([
        'Content-Encoding',
        'Content-Type',
      ]);
      expect(mock.events).to.deep.equal([]);
    });

    it('answers 400 to invalid JSON', async () => {
      const answer = await post(mock, '/track', null, { raw: '{"event": ' });
      expect(answer).to.deep.include({
        status: 400,
        body: { success: false, error: 'body is not valid JSON' },
      });
    });

    it('caps decompressed bodies: a gzip bomb gets 413 with the limit', async () => {
      const bomb = gzipSync(Buffer.alloc(MAX_BODY_BYTES + 1, 32));
      const answer = await post(mock, '/batch', null, { gzip: true, raw: bomb });
      expect(answer.status).to.equal(413);
      expect(answer.body).to.include({ success: false, limit: MAX_BODY_BYTES });
      expectContractBody('batch', answer);
    });
    it('caps bodies on the wire too: 413, and the mock keeps serving', async () => {
      const answer = await post(mock, '/track', null, {
        raw: Buffer.alloc(MAX_BODY_BYTES + 1, 32),
      });
      expect(answer.status).to.equal(413);
      expect(answer.body).to.include({ limit: MAX_BODY_BYTES });
      expect(mock.requests[0]).to.include({ bytes: MAX_BODY_BYTES + 1, body: undefined });
      expect((await post(mock, '/track', track())).status).to.equal(200);
    });
  });

  describe('contract validation', () => {
    it('answers 400 naming the offending field, and records nothing', async () => {
      const answer = await post(
        mock,
        '/track',
        track({ userProperties: { email: 'x'.repeat(2001) } }),
      );
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.include('userProperties.email').and.include('2000');
      expect(mock.violations[0]).to.include({
        field: 'userProperties.email',
        limit: 2000,
        path: '/api/v1/track',
      });
      expect(mock.events).to.deep.equal([]);
    });

    it('answers 400 to a missing token and 401 to a wrong one', async () => {
      const { token: _omit, ...noToken } = track();
      const missing = await post(mock, '/track', noToken);
      const wrong = await post(mock, '/batch', { ...batch(row('a')), token: 'other' });
      expect(missing.status).to.equal(400);
      expect(missing.body.error).to.include('token is required');
      expect(wrong.status).to.equal(401);
      expectContractBody('batch', wrong);
      expect(JSON.stringify(wrong.body)).not.to.include('other');
      expect(mock.events).to.deep.equal([]);
    });

    it('accepts any token when created without one', async () => {
      const open = await createMockOurs();
      try {
        expect((await post(open, '/track', track({ token: 'whatever' }))).status).to.equal(200);
      } finally {
        await open.close();
      }
    });

    it('rejects time in the future (beyond 60 s of skew), older than 7 days, or in seconds', async () => {
      expect((await post(mock, '/track', track({ time: now() + 30_000 }))).status).to.equal(200);
      const future = await post(mock, '/track', track({ time: now() + 120_000 }));
      const old = await post(mock, '/track', track({ time: now() - 8 * 86_400_000 }));
      const seconds = await post(mock, '/track', track({ time: Math.floor(now() / 1000) }));
      expect([future.status, old.status, seconds.status]).to.deep.equal([400, 400, 400]);
      expect(future.body.error).to.include('time is in the future');
      expect(old.body.error).to.include('time is more than 7 days in the past');
      expect(seconds.body.error).to.include('looks like seconds');
      expect(mock.events).to.have.length(1);
    });

    it('gives 207 with invalid_event for bad /batch rows and records the good ones', async () => {
      const answer = await post(
        mock,
        '/batch',
        batch(row('a'), { event: 'NoId' }, row('c', { time: now() + 3_600_000 })),
      );
      expect(answer.status).to.equal(207);
      expectContractBody('batch', answer);
      expect(answer.body).to.include({ success: false, accepted: 1, failed: 2 });
      const results = answer.body.results as Array<Record<string, unknown>>;
      expect(results.map((r) => r.code ?? 'ok')).to.deep.equal([
        'ok',
        'invalid_event',
        'invalid_event',
      ]);
      expect(results[1]!.message).to.include('events[1].distinctId is required');
      expect(results[2]!.message).to.include('events[2].time is in the future');
      expect(mock.events.map((e) => e.distinctId)).to.deep.equal(['a']);
      expect(mock.violations.map((v) => v.field)).to.deep.equal([
        'events[1].distinctId',
        'events[2].time',
      ]);
    });

    it('answers 400 when every /batch row is invalid, and 413 above 1000 rows', async () => {
      const allBad = await post(mock, '/batch', batch({ event: '' }, { distinctId: 'x' }));
      expect(allBad.status).to.equal(400);
      expect(allBad.body.error).to.include('every row failed validation');
      const tooMany = await post(
        mock,
        '/batch',
        batch(...Array.from({ length: 1001 }, (_, i) => row(`r${i}`))),
      );
      expect(tooMany.status).to.equal(413);
      expect(tooMany.body).to.include({ limit: 1000 });
      expect(mock.events).to.deep.equal([]);
    });

    it('answers 404 outside the API paths and records a violation', async () => {
      const res = await fetch(mock.url.replace('/api/v1', '') + '/track', {
        method: 'POST',
        body: '{}',
      });
      expect(res.status).to.equal(404);
      expect(mock.violations.map((v) => v.message)).to.deep.equal([
        'path is not an endpoint of the Ours API',
      ]);
    });
  });

  describe('respondWith: statuses', () => {
    it('answers the next request with 429 + Retry-After and the contract body, then goes back to normal', async () => {
      mock.respondWith({ status: 429, retryAfter: 2 });
      const limited = await post(mock, '/track', track());
      expect(limited.status).to.equal(429);
      expect(limited.headers.get('retry-after')).to.equal('2');
      expect(limited.body).to.deep.equal({ success: false });
      expect(mock.events).to.deep.equal([]);
      expect((await post(mock, '/track', track())).status).to.equal(200);
      expect(mock.requests.map((r) => r.status)).to.deep.equal([429, 200]);
    });

    it('gives /batch 500 the retryable body', async () => {
      mock.respondWith({ status: 500, error: 'queue down' });
      const answer = await post(mock, '/batch', batch(row('a')));
      expect(answer.body).to.deep.equal({ success: false, error: 'queue down', retryable: true });
      expectContractBody('batch', answer);
    });

    it('honours times, then always, in order', async () => {
      mock.respondWith({ status: 503, times: 2 }, { status: 500, times: 'always' });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await post(mock, '/track', track())).status);
      expect(statuses).to.deep.equal([503, 503, 500, 500]);
    });

    it('applies a path-scoped item only to that path; `{}` lets one request through', async () => {
      mock.respondWith({ status: 500, path: '/identify' }, {}, { status: 502 });
      expect((await post(mock, '/track', track())).status).to.equal(200);
      expect((await post(mock, '/track', track())).status).to.equal(502);
      const identify = await post(mock, '/identify', {
        token: TOKEN,
        userId: 'u',
        userProperties: {},
      });
      expect(identify.status).to.equal(500);
    });

    it('throws a TypeError at the call site for an item that cannot work', () => {
      expect(() => mock.respondWith({ status: 200 })).to.throw(TypeError, /400 to 599/);
      expect(() => mock.respondWith({ times: 0 })).to.throw(TypeError, /times/);
      const mixed = { status: 500, hang: true } as unknown as MockScript;
      expect(() => mock.respondWith(mixed)).to.throw(TypeError, /status and hang/);
      // @ts-expect-error: an item does one thing
      const typed: MockScript = { status: 500, drop: 'mid-response' };
      expect(typed).to.exist;
    });
  });

  describe('respondWith: /batch rows', () => {
    it('gives 207 with per-row results and records only ok rows', async () => {
      mock.respondWith({
        rows: (e, i) => (i === 1 ? 'queue_failed' : e.event === 'Bad' ? 'invalid_event' : 'ok'),
      });
      const answer = await post(
        mock,
        '/batch',
        batch(row('a'), row('b'), row('c', { event: 'Bad' })),
      );
      expect(answer.status).to.equal(207);
      expectContractBody('batch', answer);
      const results = answer.body.results as Array<Record<string, unknown>>;
      expect(results.map((r) => r.code ?? 'ok')).to.deep.equal([
        'ok',
        'queue_failed',
        'invalid_event',
      ]);
      expect(mock.events.map((e) => e.distinctId)).to.deep.equal(['a']);
    });

    it('gives 500 with results when no row is accepted and some failed the queue', async () => {
      mock.respondWith({ rows: () => 'queue_failed' });
      const answer = await post(mock, '/batch', batch(row('a'), row('b')));
      expect(answer.status).to.equal(500);
      expectContractBody('batch', answer);
      expect(answer.body).to.include({ retryable: true });
      expect((answer.body.results as unknown[]).length).to.equal(2);
      expect(mock.events).to.deep.equal([]);
    });

    it('does not match /track, so it waits for the next /batch', async () => {
      mock.respondWith({ rows: () => 'invalid_event' });
      expect((await post(mock, '/track', track())).status).to.equal(200);
      expect((await post(mock, '/batch', batch(row('a')))).status).to.equal(400);
      expect((await post(mock, '/batch', batch(row('a')))).status).to.equal(200);
    });
  });

  describe('respondWith: 413 and 415', () => {
    it('answers 413 with the limit only to bodies above maxBodyBytes (decoded by default)', async () => {
      mock.respondWith({ maxBodyBytes: 300, times: 'always' });
      const big = batch(...Array.from({ length: 20 }, (_, i) => row(`r${i}`)));
      const tooBig = await post(mock, '/batch', big, { gzip: true }); // small on the wire, big decoded
      expect(tooBig.status).to.equal(413);
      expect(tooBig.body).to.deep.equal({
        success: false,
        error: 'request body is over the size limit',
        limit: 300,
      });
      expect((await post(mock, '/batch', batch(row('a')))).status).to.equal(200);
      expect(mock.violations).to.deep.equal([]);
    });

    it("measures the wire size with measure: 'wire'", async () => {
      mock.respondWith({ maxBodyBytes: 300, measure: 'wire', times: 'always' });
      const big = batch(...Array.from({ length: 20 }, (_, i) => row(`r${i}`)));
      expect((await post(mock, '/batch', big, { gzip: true })).status).to.equal(200);
      expect((await post(mock, '/batch', big)).status).to.equal(413);
    });

    it('answers 415 to gzip only, so a client can fall back to plain JSON', async () => {
      mock.respondWith({ rejectGzip: true, times: 'always' });
      const gz = await post(mock, '/batch', batch(row('a')), { gzip: true });
      expect(gz.status).to.equal(415);
      expectContractBody('batch', gz);
      expect((await post(mock, '/batch', batch(row('a')))).status).to.equal(200);
      expect(mock.events).to.have.length(1);
    });
  });

  describe('respondWith: timing and broken connections', () => {
    it('delays the answer by delayMs', async () => {
      mock.respondWith({ delayMs: 150 });
      const started = now();
      expect((await post(mock, '/track', track())).status).to.equal(200);
      expect(now() - started).to.be.at.least(140);
    });

    it('hangs until the client gives up, then serves the next request normally', async () => {
      mock.respondWith({ hang: true });
      const error = await post(mock, '/track', track(), { signal: AbortSignal.timeout(150) }).catch(
        (e: Error) => e,
      );
      expect(error).to.be.instanceOf(Error).with.property('name', 'TimeoutError');
      expect(mock.requests[0]).to.include({ status: null });
      expect(mock.events).to.deep.equal([]);
      expect((await post(mock, '/track', track())).status).to.equal(200);
    });

    it('destroys the socket before answering, recording nothing', async () => {
      mock.respondWith({ drop: 'before-response' });
      const result = await rawPost(mock.url + '/track', track());
      expect(result.status).to.equal(undefined);
      expect(result.error).to.be.instanceOf(Error);
      expect(mock.events).to.deep.equal([]);
      expect(mock.requests[0]).to.include({ status: null });
    });

    it('resets mid-response after recording, so a retry shows up as a duplicate', async () => {
      mock.respondWith({ drop: 'mid-response' });
      const result = await rawPost(mock.url + '/track', track());
      expect(result.status).to.equal(200);
      expect(result.error).to.be.instanceOf(Error);
      expect(result.text.length)
        .to.be.greaterThan(0)
        .and.lessThan(JSON.stringify({ success: true }).length);
      await post(mock, '/track', track()); // the client retries: same distinctId
      expect(mock.duplicates()).to.deep.equal(['d-1']);
    });
  });

  describe('waitFor and close', () => {
    it('resolves once enough events arrived', async () => {
      const waiting = mock.waitFor(2, { timeoutMs: 1000 });
      setTimeout(() => void post(mock, '/batch', batch(row('a'), row('b'))), 50);
      expect((await waiting).map((e) => e.distinctId)).to.deep.equal(['a', 'b']);
      await post(mock, '/identify', { token: TOKEN, userId: 'u', userProperties: {} });
      expect(await mock.waitFor(1, { of: 'identifies' })).to.have.length(1);
    });

    it('rejects on timeout with a message saying what arrived', async () => {
      await post(mock, '/track', track({ event: '' }));
      const error = await mock.waitFor(1, { timeoutMs: 100 }).catch((e: Error) => e);
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message)
        .to.include('mock.waitFor(1): timed out after 100 ms')
        .and.include('got 0 events from 1 request(s) (/api/v1/track -> 400)')
        .and.include('event must not be empty');
    });

    it('closes fast with a hung request in flight, rejects waiters, and is idempotent', async () => {
      mock.respondWith({ hang: true });
      const inFlight = rawPost(mock.url + '/track', track());
      await mock.waitFor(1, { of: 'requests' });
      const waiter = mock.waitFor(5, { timeoutMs: 10_000 }).catch((e: Error) => e);
      const started = now();
      await Promise.all([mock.close(), mock.close()]);
      expect(now() - started).to.be.lessThan(500);
      expect((await inFlight).error).to.be.instanceOf(Error);
      expect(((await waiter) as Error).message).to.include('the mock was closed');
      const refused = await fetch(mock.url + '/track', { method: 'POST' }).catch((e: Error) => e);
      expect(refused).to.be.instanceOf(Error);
    });
  });
});
