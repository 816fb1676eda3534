import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createApp } from '../../examples/koa/app';
import type { OursError } from '../../src/index';
import { createMockOurs, type MockOurs } from '../../src/testing';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');

describe('examples: npm run demo', function () {
  this.timeout(60_000);

  it('runs the Express example against the mock, prints every event, the no-visitor drop and what the app was told, the wire JSON with --json, and exits 0', async () => {
    const env = { ...process.env };
    delete env.OURS_TOKEN;
    delete env.OURS_API_URL;
    // execFile rejects on a non-zero exit code, with the output on the error.
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'examples/demo/run.ts', '--json'],
      { cwd: root, env, timeout: 50_000 },
    ).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`the demo failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    expect(stderr).to.equal('');
    for (const name of [
      '[1] Page Viewed',
      '[2] Page Viewed',
      'Signed Up',
      'Order Completed',
      '[identify]',
    ])
      expect(stdout).to.include(name);
    expect(stdout).to.match(/utm_source=google/);
    expect(stdout).to.match(/fbc=fb\.1\.\d+\.IwAR2xK9yP3v7QmZ/);
    expect(stdout).to.match(/distinctId ord_1001/);
    expect(stdout).to.match(/^4 events, 1 identify, all valid against the Ours API contract\.$/m);
    // The curl request (no cookie, no login): not sent, and the log says how to fix it.
    expect(stdout).to.match(/200 GET +\/\?from=curl +curl: no cookie/);
    expect(stdout).to.include("Not sent: 1 event (reason no_visitor). The app's log said:");
    const unwrapped = stdout.replace(/\n {2}(?=\S)/g, ' '); // the demo wraps the log line at 100 columns
    for (const remedy of [
      'no ours_device_id cookie',
      'setVisitorCookie: true',
      'identify: (req) =>',
      'req.ours.setIdentity(',
    ])
      expect(unwrapped).to.include(remedy);
    // --json: the bodies as Ours received them, with the wire field names.
    expect(stdout).to.include('The request bodies exactly as Ours received them (--json):');
    expect(stdout).to.match(/^POST \/api\/v1\/batch \(gzip, \d+ bytes on the wire\) -> 200$/m);
    expect(stdout).to.include('"token": "[redacted]"');
    expect(stdout).to.include('"distinctId": "ord_1001"');
    expect(stdout).to.match(/"time": \d{13}/);
    expect(stdout).to.match(
      /"identityContext": \{\n\s+"ip": "203\.0\.113\.7",\n\s+"userAgent": "Mozilla/,
    );
    expect(stdout).not.to.include('"token": "demo-token"');
    // eslint-disable-next-line no-control-regex -- the escape that starts a colour
    expect(stdout).not.to.match(/\x1b\[/); // no colours when not on a terminal
  });
});

describe('examples: the Koa app', function () {
  this.timeout(20_000);
  const TOKEN = 'koa-example-token';
  const VISITOR = '0b7e3f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
  const IPHONE =
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
  let mock: MockOurs;
  let server: Server;
  let base: string;
  let example: ReturnType<typeof createApp>;
  let clientErrors: OursError[];

  beforeEach(async () => {
    mock = await createMockOurs({ token: TOKEN });
    example = createApp({ token: TOKEN, apiUrl: mock.url, flushIntervalMs: 20, logger: false });
    clientErrors = [];
    example.tracking.client.on('error', (err) => clientErrors.push(err));
    server = createServer(example.app.callback());
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    base = `http://127.0.0.1:${address !== null && typeof address === 'object' ? address.port : 0}`;
  });

  afterEach(async () => {
    await new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
    await example.tracking.client.shutdown({ timeoutMs: 2000 });
    await mock.close();
  });

  const browser = (extra: Record<string, string> = {}): Record<string, string> => ({
    'user-agent': IPHONE,
    'x-forwarded-for': '203.0.113.9',
    cookie: `ours_device_id=${VISITOR}`,
    ...extra,
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = browser()) =>
    fetch(base + path, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('sends a page view, a sign-up with its identify, and an idempotent purchase, all valid', async () => {
    const page = await fetch(
      `${base}/?utm_source=newsletter&utm_campaign=launch&fbclid=fb_click_1`,
      {
        headers: browser({ referer: 'https://news.example.org/issue/12' }),
      },
    );
    expect(page.status).to.equal(200);
    expect(await page.text()).to.include('Welcome');

    const signup = await post('/signup', {
      email: 'grace@example.com',
      firstName: 'Grace',
      lastName: 'Hopper',
      plan: 'pro',
    });
    expect(signup.status).to.equal(201);
    expect(await signup.json()).to.deep.equal({ userId: 'u_1001' });
    const session = signup.headers.get('set-cookie')?.split(';', 1)[0];
    expect(session).to.match(/^shop_session=[0-9a-f-]{36}$/);

    const purchase = await post(
      '/purchase',
      { orderId: 'ord_77', total: 120.5, currency: 'USD' },
      browser({ cookie: `ours_device_id=${VISITOR}; ${session}` }),
    );
    expect(purchase.status).to.equal(200);
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);

    await example.tracking.client.flush();
    const events = await mock.waitFor(3);
    const [identify] = await mock.waitFor(1, { of: 'identifies' });
    expect(mock.violations).to.deep.equal([]);
    expect(clientErrors).to.deep.equal([]);
    expect(events.map((e) => e.event).sort()).to.deep.equal([
      'Order Completed',
      'Page Viewed',
      'Signed Up',
    ]);
    const byName = (name: string) => events.find((e) => e.event === name)!;

    const view = byName('Page Viewed');
    expect(view.userId).to.equal(VISITOR);
    expect(view.externalId).to.equal(undefined);
    expect(view.identityContext).to.deep.equal({ ip: '203.0.113.9', userAgent: IPHONE });
    expect(view.defaultProperties).to.deep.include({
      ip: '203.0.113.9', // trustProxy: 'loopback' takes X-Forwarded-For from the loopback peer
      pathname: '/',
      utm_source: 'newsletter',
      utm_campaign: 'launch',
      fbclid: 'fb_click_1',
      referrer: 'https://news.example.org/issue/12',
      referring_domain: 'news.example.org',
      device_type: 'mobile',
      os_name: 'iOS',
      browser_name: 'Mobile Safari',
    });
    expect(view.defaultProperties!.fbc).to.match(/^fb\.1\.\d+\.fb_click_1$/);

    const signedUp = byName('Signed Up');
    expect(signedUp).to.deep.include({
      userId: VISITOR,
      externalId: 'u_1001',
      email: 'grace@example.com',
    });
    expect(signedUp.eventProperties).to.deep.equal({ plan: 'pro', method: 'email' });
    expect(identify).to.deep.include({
      userId: VISITOR,
      externalId: 'u_1001',
      email: 'grace@example.com',
    });
    expect(identify!.userProperties).to.deep.equal({
      email: 'grace@example.com',
      first_name: 'Grace',
      last_name: 'Hopper',
      custom_properties: { plan: 'pro' },
    });

    // The session cookie resolves the user through the identify option.
    const order = byName('Order Completed');
    expect(order).to.deep.include({
      userId: VISITOR,
      externalId: 'u_1001',
      email: 'grace@example.com',
      distinctId: 'ord_77',
    });
    expect(order.eventProperties).to.deep.equal({
      orderId: 'ord_77',
      total: '120.5',
      currency: 'USD',
    });
    expect(order.defaultProperties).to.deep.include({ pathname: '/purchase' });

    // The health check was skipped.
    expect(events.some((e) => e.defaultProperties?.pathname === '/healthz')).to.equal(false);
  });

  it('sends the same distinctId when a purchase is posted twice, so Ours keeps one', async () => {
    const body = { orderId: 'ord_dup', total: 10, currency: 'EUR' };
    expect((await post('/purchase', body)).status).to.equal(200);
    expect((await post('/purchase', body)).status).to.equal(200);
    await example.tracking.client.flush();
    const events = await mock.waitFor(2);
    expect(events.map((e) => e.distinctId)).to.deep.equal(['ord_dup', 'ord_dup']);
    expect(mock.duplicates()).to.deep.equal(['ord_dup']);
  });

  it('answers bad bodies with 400, 413 and 415 and tracks nothing for them', async () => {
    const bad = await fetch(`${base}/signup`, {
      method: 'POST',
      headers: browser({ 'content-type': 'application/json' }),
      body: '{"email":',
    });
    expect(bad.status).to.equal(400);
    expect((await post('/signup', { email: 'not-an-email', firstName: 'X' })).status).to.equal(400);
    expect(
      (await post('/purchase', { orderId: 'o1', total: 'lots', currency: 'EUR' })).status,
    ).to.equal(400);
    expect((await post('/purchase', ['an', 'array'])).status).to.equal(400);
    const huge = await post('/signup', {
      email: 'a@b.co',
      firstName: 'A',
      padding: 'x'.repeat(20_000),
    });
    expect(huge.status).to.equal(413);
    const form = await fetch(`${base}/signup`, {
      method: 'POST',
      headers: browser({ 'content-type': 'text/plain' }),
      body: 'email=a@b.co',
    });
    expect(form.status).to.equal(415);
    expect((await fetch(`${base}/nope`, { method: 'POST' })).status).to.equal(404);
    await example.tracking.client.flush();
    expect(mock.events).to.deep.equal([]);
    expect(mock.identifies).to.deep.equal([]);
  });
});
