import { expect } from 'chai';
import type { IdentifyEvent, TrackEvent } from '../../src/index';
import { captureLogger, expectBalanced } from '../support/client';
import { adapterSuite, pendingStream, sleep } from './harness';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0';
/** A visitor id as the browser SDK writes it (a UUID v4: other ids are no visitor). */
const V1 = '0b7c5a4e-2f1d-4c3b-8a9e-6d5f4e3c2b1a';
const VISITOR = { cookie: 'ours_device_id=0b7c5a4e-2f1d-4c3b-8a9e-6d5f4e3c2b1a', 'user-agent': UA };
const FIRST_VISIT = { 'user-agent': UA };

/** The `ours_device_id` values a response set. */
function visitorCookies(headers: { 'set-cookie'?: string[] }): string[] {
  return (headers['set-cookie'] ?? [])
    .filter((c) => c.startsWith('ours_device_id='))
    .map((c) => c.split(';')[0]!.slice('ours_device_id='.length));
}

adapterSuite('adapter: one request, one tracker', (t) => {
  describe('ours() mounted twice (app level, then on a router)', () => {
    for (const second of ['the same middleware', 'a second ours()'] as const) {
      it(`${second}: setVisitorCookie sets one ours_device_id, and every event of the request has it as userId`, async () => {
        const app = await t.start({
          ours: { setVisitorCookie: true },
          mountAgain: {
            ours: second === 'the same middleware' ? 'same' : { setVisitorCookie: true },
            between: (ours) => ours.track('Between Mounts'),
          },
        });
        app.handle(({ ours }) => ours.track('In Handler'));
        const reply = await app.get('/', { headers: FIRST_VISIT });
        const minted = visitorCookies(reply.headers);
        expect(minted).to.have.length(1);
        const events = await t.mock.waitFor(2);
        expect(events.map((e) => [e.event, e.userId])).to.have.deep.members([
          ['Between Mounts', minted[0]],
          ['In Handler', minted[0]],
        ]);
      });

      it(`${second}: a setIdentity() made before the second mount holds for the rest of the request`, async () => {
        const app = await t.start({
          mountAgain: {
            ours: second === 'the same middleware' ? 'same' : {},
            between: (ours) => ours.setIdentity({ externalId: 'u_42', email: 'ada@example.com' }),
          },
        });
        app.handle(({ ours }) => ours.track('After Login'));
        await app.get('/', { headers: VISITOR });
        const [event] = await t.mock.waitFor(1);
        expect(event).to.include({
          event: 'After Login',
          userId: V1,
          externalId: 'u_42',
          email: 'ada@example.com',
        });
      });
    }

    it('a second ours() with other options says so once, at debug level; the same one mounted twice says nothing', async () => {
      const logger = captureLogger();
      const client = t.client({ logger });
      const app = await t.start({
        ours: { client },
        mountAgain: { ours: { client, gpc: 'drop' } },
      });
      app.handle(({ ours }) => ours.track('E'));
      await app.get('/', { headers: VISITOR });
      await app.get('/', { headers: VISITOR });
      await t.mock.waitFor(2);
      const debug = logger.lines.filter(
        (l) => l.level === 'debug' && /mounted twice/.test(l.msg ?? ''),
      );
      expect(debug).to.have.length(1);
      expect(logger.lines.filter((l) => l.level !== 'debug')).to.deep.equal([]);

      const quiet = captureLogger();
      const same = await t.start({
        ours: { client: t.client({ logger: quiet }) },
        mountAgain: { ours: 'same' },
      });
      same.handle(({ ours }) => ours.track('E'));
      await same.get('/', { headers: VISITOR });
      await t.mock.waitFor(3);
      expect(quiet.lines).to.deep.equal([]);
    });
  });

  describe('per-event hooks see their own event', () => {
    it('beforeSend redacting one event in place (current_url, ip) leaves the other events of the request whole', async () => {
      const beforeSend = (event: TrackEvent | IdentifyEvent): TrackEvent | IdentifyEvent => {
        if (!('event' in event) || event.event !== 'Redacted') return event;
        delete event.defaultProperties!.current_url;
        delete event.defaultProperties!.ip;
        event.identityContext!.ip = '0.0.0.0';
        event.eventProperties!.secret = '[redacted]';
        return event;
      };
      const app = await t.start({ ours: { beforeSend } });
      const shared = { secret: 's3cr3t' };
      app.handle(({ ours }) => {
        ours.track('Before', shared);
        ours.track('Redacted', shared);
        ours.track('After', shared);
      });
      await app.get('/page?x=1', { headers: VISITOR });
      const events = await t.mock.waitFor(3);
      const byName = Object.fromEntries(events.map((e) => [e.event, e]));
      expect(byName.Redacted!.defaultProperties).not.to.have.property('current_url');
      expect(byName.Redacted!.identityContext!.ip).to.equal('0.0.0.0');
      expect(byName.Redacted!.eventProperties).to.deep.equal({ secret: '[redacted]' });
      for (const name of ['Before', 'After']) {
        expect(byName[name]!.defaultProperties!.current_url, name).to.match(
          /^http:\/\/127\.0\.0\.1:\d+\/page\?x=1$/,
        );
        expect(byName[name]!.defaultProperties!.ip, name).to.equal('127.0.0.1');
        expect(byName[name]!.identityContext!.ip, name).to.equal('127.0.0.1');
        expect(byName[name]!.eventProperties, name).to.deep.equal({ secret: 's3cr3t' });
      }
      expect(shared).to.deep.equal({ secret: 's3cr3t' }); // the app's own object is not touched either
    });

    it('beforeSend enriching one event in place does not enrich the others', async () => {
      const beforeSend = (event: TrackEvent | IdentifyEvent): TrackEvent | IdentifyEvent => {
        if ('event' in event && event.event === 'Enriched')
          event.defaultProperties!.referrer = 'https://enriched.example/';
        return event;
      };
      const app = await t.start({ ours: { beforeSend } });
      app.handle(({ ours }) => {
        ours.track('Enriched');
        ours.track('Plain');
      });
      await app.get('/', { headers: VISITOR });
      const events = await t.mock.waitFor(2);
      const referrers = Object.fromEntries(
        events.map((e) => [e.event, e.defaultProperties!.referrer]),
      );
      expect(referrers).to.deep.equal({ Enriched: 'https://enriched.example/', Plain: undefined });
    });

    it('skip and identify are asked once per request, though its calls are handed over twice (during and after the response)', async () => {
      let skips = 0;
      let identifies = 0;
      const app = await t.start({
        ours: {
          skip: () => (skips++, false),
          identify: () => (identifies++, { externalId: 'u_1' }),
        },
      });
      app.handle(({ ours, res }) => {
        ours.track('During');
        res.on('finish', () => setImmediate(() => ours.track('After Response')));
      });
      await app.get('/', { headers: VISITOR });
      const events = await t.mock.waitFor(2);
      expect(events.map((e) => [e.event, e.externalId])).to.have.deep.members([
        ['During', 'u_1'],
        ['After Response', 'u_1'],
      ]);
      expect({ skips, identifies }).to.deep.equal({ skips: 1, identifies: 1 });
    });
  });

  describe('the visitor cookie and the response', () => {
    it('an error thrown after the first track() keeps the minted cookie on the error response, the one the event carries', async () => {
      const app = await t.start({ ours: { setVisitorCookie: true } });
      app.handle(({ ours }) => {
        ours.track('Not Found Seen');
        throw Object.assign(new Error('no such page'), { status: 404, expose: true });
      });
      const reply = await app.get('/missing', { headers: FIRST_VISIT });
      expect(reply.status).to.be.oneOf([404, 500]); // Koa answers the error's status, the harness' Express handler 500
      const minted = visitorCookies(reply.headers);
      expect(minted).to.have.length(1);
      const [event] = await t.mock.waitFor(1);
      expect(event!.userId).to.equal(minted[0]);
    });

    if (t.fw.nodeResponse)
      it('with headers already sent, no visitor is minted: the event is reported as such (not "userId is missing") and counted as dropped', async () => {
        const app = await t.start({ ours: { setVisitorCookie: true } });
        app.handle(({ ours, res }) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('streaming\n');
          ours.track('Too Late');
          res.end();
        });
        const reply = await app.get('/', { headers: FIRST_VISIT });
        expect(visitorCookies(reply.headers)).to.deep.equal([]);
        await app.client.flush();
        expect(t.mock.events).to.deep.equal([]);
        expect(app.clientErrors.map((e) => e.message)).to.have.length(1);
        expect(app.clientErrors[0]!.message)
          .to.match(/setVisitorCookie/)
          .and.match(/headers were already sent/);
        expect(app.client.stats()).to.include({ tracked: 1, dropped: 1, held: 0 });
        expectBalanced(app.client);
      });

    if (t.fw.nodeResponse)
      it('with headers already sent, an event identified otherwise (identify) is still sent, without a userId', async () => {
        const app = await t.start({
          ours: { setVisitorCookie: true, identify: () => ({ externalId: 'u_7' }) },
        });
        app.handle(({ ours, res }) => {
          res.writeHead(200);
          res.write('x');
          ours.track('Streamed');
          res.end();
        });
        await app.get('/', { headers: FIRST_VISIT });
        const [event] = await t.mock.waitFor(1);
        expect(event).to.include({ event: 'Streamed', externalId: 'u_7' });
        expect(event).not.to.have.property('userId');
        expect(app.clientErrors).to.deep.equal([]);
      });
  });

  describe('requests still streaming at flush() and shutdown()', () => {
    if (t.fw.nodeResponse)
      it('four downloads that tracked and still stream: counted as held, then delivered by shutdown(), and the report adds up', async () => {
        const app = await t.start();
        const bodies = [0, 1, 2, 3].map(() => pendingStream());
        let started = 0;
        app.handle(({ ours, req }) => {
          ours.track('Download Started', { file: req.url ?? '' });
          return bodies[started++];
        });
        const replies = bodies.map((_, i) =>
          app.get(`/file-${i}`, { headers: VISITOR }).catch(() => undefined),
        );
        while (started < 4) await sleep(5);
        await sleep(30); // several flush intervals: nothing leaves while the responses stream
        expect(t.mock.events).to.deep.equal([]);
        expect(app.client.stats()).to.include({ tracked: 4, held: 4, queued: 0 });
        expectBalanced(app.client);
        const report = await app.client.shutdown({ timeoutMs: 2000 });
        expect(report).to.deep.equal({ delivered: 4, failed: 0, dropped: 0 });
        expect(t.mock.events.map((e) => e.eventProperties!.file).sort()).to.deep.equal([
          '/file-0',
          '/file-1',
          '/file-2',
          '/file-3',
        ]);
        expect(app.client.stats()).to.include({ tracked: 4, delivered: 4, held: 0 });
        expectBalanced(app.client);
        for (const body of bodies) body.finish();
        await Promise.all(replies);
        expect(app.client.stats()).to.include({ tracked: 4, delivered: 4, dropped: 0 }); // the ends hand nothing over twice
      });

    it('flush() hands over a streaming request: its events are in the report; its later calls still go out', async () => {
      const app = await t.start();
      const body = pendingStream();
      let tracker: { track(e: string): void } | undefined;
      app.handle(({ ours }) => {
        ours.track('Early');
        tracker = ours;
        return body;
      });
      const reply = app.get('/', { headers: VISITOR });
      while (!tracker) await sleep(5);
      const report = await app.client.flush();
      expect(report.delivered).to.equal(1);
      tracker.track('Later');
      body.finish();
      await reply;
      const events = await t.mock.waitFor(2);
      expect(events.map((e) => e.event)).to.deep.equal(['Early', 'Later']);
      expectBalanced(app.client);
    });
  });
});
