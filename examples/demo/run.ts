/**
 * `npm run demo`: the Express example against a mock Ours API, on this
 * machine only (loopback, no token, no network).
 *
 * It starts the mock (`ours-middleware/testing`) and the example app, sends
 * the requests a few browsers would (and one curl would, which has no
 * visitor), flushes the client, prints what the mock received and what the
 * app's log said, and exits 0 when every expected event arrived and all of
 * them were valid against the Ours API contract (1 otherwise).
 *
 * `npm run demo -- --json` also prints each request body exactly as Ours
 * received it (the wire field names; the token redacted by the mock).
 *
 * Imports are relative for the reason given at the top of ../express/app.ts.
 */
import { createServer, type Server } from 'node:http';
import type { DropInfo, Logger, OursError } from '../../src/index';
import { createMockOurs, type MockEvent, type MockIdentify } from '../../src/testing';
import { createApp, SESSION_COOKIE } from '../express/app';

const TOKEN = 'demo-token';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const WINDOWS_CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
/** Visitor ids as the Ours browser SDK stores them in `ours_device_id`. */
const PHONE_VISITOR = '3f2b8c1e-9d4a-4f6b-8e2a-7c5d1a0b9e64';
const DESKTOP_VISITOR = 'a71c0d5e-2b8f-4c3a-9e61-5d4f8b2c7a10';
/** Meta's browser cookie, as its pixel sets it. */
const PHONE_FBP = 'fb.1.1718000000000.1234567890';
const ORDER_ID = 'ord_1001';
const SHOW_JSON = process.argv.includes('--json');

interface Visit {
  /** What the request stands for, printed next to it. */
  label: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: unknown;
  expectStatus: number;
}

async function main(): Promise<number> {
  const problems: string[] = [];
  const mock = await createMockOurs({ token: TOKEN });
  // What the app's log would show: the client's warnings and errors.
  const told: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (_obj, msg) => void told.push(String(msg)),
    error: (_obj, msg) => void told.push(String(msg)),
  };
  const { app, tracking } = createApp({
    token: TOKEN,
    apiUrl: mock.url,
    flushIntervalMs: 50,
    logger,
  });
  const clientErrors: OursError[] = [];
  tracking.client.on('error', (err) => clientErrors.push(err));
  const drops: DropInfo[] = [];
  tracking.client.on('drop', (info) => drops.push(info));
  const server = createServer(app);
  const base = await listen(server);

  console.log(
    'ours-middleware demo: the Express example app sending to a mock Ours API, on loopback only',
  );
  console.log(`  mock Ours API  ${mock.url}  (token '${TOKEN}')`);
  console.log(`  example app    ${base}\n`);

  // --- what browsers send --------------------------------------------------
  const phone = {
    'user-agent': IPHONE_SAFARI,
    'accept-language': 'en-GB,en;q=0.9',
    // The app trusts a proxy on loopback: these are the visitors' real addresses.
    'x-forwarded-for': '203.0.113.7',
    cookie: `ours_device_id=${PHONE_VISITOR}; _fbp=${PHONE_FBP}`,
  };
  const desktop = {
    'user-agent': WINDOWS_CHROME,
    'accept-language': 'de-DE,de;q=0.9,en;q=0.8',
    'sec-ch-ua': '"Not/A)Brand";v="8", "Chromium";v="126", "Google Chrome";v="126"',
    'sec-ch-ua-mobile': '?0',
    'sec-ch-ua-platform': '"Windows"',
    'x-forwarded-for': '198.51.100.23',
    cookie: `ours_device_id=${DESKTOP_VISITOR}`,
  };
  const visits: Visit[] = [
    {
      label: 'iPhone Safari, from a Google ad',
      method: 'GET',
      path: '/?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&utm_term=running%20shoes&gclid=EAIaIQobChMI',
      headers: { ...phone, accept: 'text/html', referer: 'https://www.google.com/' },
      expectStatus: 200,
    },
    {
      label: 'desktop Chrome, from a Facebook post',
      method: 'GET',
      path: '/?fbclid=IwAR2xK9yP3v7QmZ',
      headers: { ...desktop, accept: 'text/html', referer: 'https://l.facebook.com/' },
      expectStatus: 200,
    },
    {
      label: 'the iPhone visitor signs up',
      method: 'POST',
      path: '/signup',
      headers: { ...phone, 'content-type': 'application/json', referer: `${base}/` },
      body: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', plan: 'pro' },
      expectStatus: 201,
    },
    {
      label: `and buys (order ${ORDER_ID})`,
      method: 'POST',
      path: '/purchase',
      headers: { ...phone, 'content-type': 'application/json', referer: `${base}/checkout` },
      body: { orderId: ORDER_ID, total: 59.9, currency: 'EUR' },
      expectStatus: 200,
    },
    {
      label: 'a load balancer probe: skipped',
      method: 'GET',
      path: '/healthz',
      headers: { 'user-agent': 'kube-probe/1.30' },
      expectStatus: 200,
    },
    {
      label: 'curl: no cookie, not logged in, so no visitor',
      method: 'GET',
      path: '/?from=curl',
      headers: { 'user-agent': 'curl/8.5.0' },
      expectStatus: 200,
    },
  ];

  console.log('Requests, as browsers send them:');
  let session: string | undefined;
  for (const visit of visits) {
    const headers = { ...visit.headers };
    if (session && headers.cookie) headers.cookie += `; ${session}`;
    const res = await fetch(base + visit.path, {
      method: visit.method,
      headers,
      body: visit.body === undefined ? undefined : JSON.stringify(visit.body),
    });
    await res.arrayBuffer();
    session ??= sessionCookie(res.headers.get('set-cookie'));
    console.log(
      `  ${res.status} ${visit.method.padEnd(4)} ${clip(visit.path, 54).padEnd(54)}  ${visit.label}`,
    );
    if (res.status !== visit.expectStatus)
      problems.push(
        `${visit.method} ${visit.path} answered ${res.status}, expected ${visit.expectStatus}`,
      );
  }

  // Closing the server waits for every response to finish, and so for every
  // event to be handed to the client; flush() then delivers them.
  await close(server);
  const report = await withTimeout(tracking.client.flush(), 10_000, 'tracking.client.flush()');
  const stats = tracking.client.stats();
  const filtered = drops.filter((d) => d.reason === 'filtered').reduce((n, d) => n + d.count, 0);
  console.log(
    `\nAfter tracking.client.flush(): ${stats.delivered} delivered, ${stats.failed} failed, ${stats.dropped - filtered} dropped, ${filtered} filtered by skip, ${stats.queued} queued`,
  );

  // --- what Ours received -------------------------------------------------
  const events = [...mock.events].sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  console.log('\nWhat the Ours API received:');
  events.forEach((event, i) => console.log(`\n${describeEvent(event, i + 1)}`));
  mock.identifies.forEach((identify) => console.log(`\n${describeIdentify(identify)}`));

  // --- what was not sent, and what the app was told -------------------------
  const lost = drops.filter((d) => d.reason !== 'filtered'); // the health check, skipped on purpose, is counted above
  console.log(
    `\nNot sent: ${lost.map((d) => `${d.count} event (reason ${d.reason})`).join(', ') || 'nothing'}. The app's log said:`,
  );
  for (const line of told) console.log(wrap(line, '  '));

  if (SHOW_JSON) {
    console.log('\nThe request bodies exactly as Ours received them (--json):');
    for (const req of mock.requests) {
      console.log(
        `\n${req.method} ${req.path}${req.gzip ? ` (gzip, ${req.bytes} bytes on the wire)` : ''} -> ${req.status}`,
      );
      console.log(JSON.stringify(req.body, null, 2));
    }
  }

  // --- checks ----------------------------------------------------------------
  const names = events.map((e) => e.event).sort();
  const expected = ['Order Completed', 'Page Viewed', 'Page Viewed', 'Signed Up'];
  if (names.join() !== expected.join())
    problems.push(
      `events received: ${names.join(', ') || 'none'}; expected: ${expected.join(', ')}`,
    );
  if (mock.identifies.length !== 1)
    problems.push(`${mock.identifies.length} identifies received, expected 1`);
  if (events.some((e) => e.defaultProperties?.pathname === '/healthz'))
    problems.push('the health check was tracked despite skip');
  const order = events.find((e) => e.event === 'Order Completed');
  if (order && (order.distinctId !== ORDER_ID || order.externalId === undefined))
    problems.push('Order Completed lacks its distinctId or the session user');
  const signup = events.find((e) => e.event === 'Signed Up');
  if (signup && (signup.userId !== PHONE_VISITOR || signup.email !== 'ada@example.com'))
    problems.push('Signed Up lacks the visitor or the email');
  // Expected drops: the skipped health check (filtered: the app chose not to send it) and the curl request's page view (no_visitor).
  const reasons = drops
    .map((d) => d.reason)
    .sort()
    .join();
  if (reasons !== 'filtered,no_visitor')
    problems.push(
      `drops: ${JSON.stringify(drops)}; expected the health check as filtered and the curl request's page view as no_visitor`,
    );
  if (report.failed + stats.failed + stats.queued + stats.held > 0)
    problems.push('some events were not delivered');
  if (!told.some((line) => line.includes('setVisitorCookie: true')))
    problems.push("the app's log did not say how to give a request a visitor");
  for (const err of clientErrors) problems.push(`client error: ${err.message}`);
  for (const v of mock.violations) problems.push(`contract violation: ${v.message}`);

  const valid = mock.violations.length === 0;
  console.log(
    `\n${events.length} events, ${mock.identifies.length} identify${mock.identifies.length === 1 ? '' : 's'}, ` +
      (valid
        ? 'all valid against the Ours API contract.'
        : `${mock.violations.length} contract violations.`),
  );

  await tracking.client.shutdown({ timeoutMs: 2000 });
  await mock.close();
  if (problems.length === 0) return 0;
  console.error(`\nDemo FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return 1;
}

// --- printing ----------------------------------------------------------------

/** Longest printed line. */
const WIDTH = 100;
const INDENT = ' '.repeat(15);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function describeEvent(event: MockEvent, n: number): string {
  const dp = event.defaultProperties ?? {};
  const lines = [`[${n}] ${event.event}`];
  row(lines, 'visitor', who(event));
  if (event.distinctId && !UUID.test(event.distinctId))
    row(lines, 'distinctId', [event.distinctId, '(set by the app: Ours keeps one event per id)']);
  const device = [
    dp.device_type,
    words(dp.device_vendor, dp.device_model),
    words(dp.os_name, dp.os_version),
    words(dp.browser_name, dp.browser_version),
    dp.browser_language,
  ];
  row(lines, 'device', [device.filter(Boolean).join(' · ')]);
  row(lines, 'page', [clip(dp.current_url ?? '', WIDTH - INDENT.length)]);
  row(
    lines,
    'campaign',
    pairs(Object.entries(dp).filter(([k]) => k.startsWith('utm_') || k.endsWith('clid'))),
  );
  row(lines, 'referrer', [dp.referrer ?? '']);
  row(
    lines,
    'meta',
    pairs([
      ['fbc', dp.fbc],
      ['fbp', dp.fbp],
    ]),
  );
  row(lines, 'ip', [dp.ip ?? '']);
  row(lines, 'properties', pairs(Object.entries(event.eventProperties ?? {})));
  return lines.join('\n');
}

function describeIdentify(identify: MockIdentify): string {
  const { custom_properties: custom, ...props } = identify.userProperties;
  const lines = ['[identify]'];
  row(lines, 'visitor', who(identify));
  row(
    lines,
    'profile',
    pairs([
      ...Object.entries(props),
      ...Object.entries(custom ?? {}).map(([k, v]): [string, unknown] => [`custom.${k}`, v]),
    ]),
  );
  row(lines, 'ip', [identify.defaultProperties?.ip ?? '']);
  return lines.join('\n');
}

function who(e: {
  userId?: string | null;
  externalId?: string | null;
  email?: string | null;
}): string[] {
  return pairs([
    ['userId', e.userId],
    ['externalId', e.externalId],
    ['email', e.email],
  ]);
}

/** `key=value` for each value that is set. */
function pairs(entries: [string, unknown][]): string[] {
  return entries
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}=${String(v)}`);
}

function words(...parts: (string | null | undefined)[]): string {
  return parts.filter(Boolean).join(' ');
}

/** A labelled row of items, wrapped between items at WIDTH; left out when empty. */
function row(lines: string[], label: string, items: string[]): void {
  let line = `    ${label.padEnd(11)}`;
  let first = true;
  for (const item of items.filter(Boolean)) {
    if (!first && line.length + 2 + item.length > WIDTH) {
      lines.push(line);
      line = INDENT + item;
    } else line += (first ? '' : '  ') + item;
    first = false;
  }
  if (!first) lines.push(line);
}

/** `text` wrapped between words at WIDTH, every line starting with `indent`. */
function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(' ')) {
    if (line.length > indent.length && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent;
    }
    line += (line.length > indent.length ? ' ' : '') + word;
  }
  lines.push(line);
  return lines.join('\n');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// --- plumbing ------------------------------------------------------------------

/** `name=value` of the session cookie in a Set-Cookie header. */
function sessionCookie(header: string | null): string | undefined {
  const pair = header?.split(';', 1)[0];
  return pair?.startsWith(`${SESSION_COOKIE}=`) ? pair : undefined;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address && typeof address === 'object') resolve(`http://127.0.0.1:${address.port}`);
      else reject(new Error('the server has no port'));
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections(); // fetch keeps connections alive
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed, so the process ends by itself; this only guards the demo from hanging.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    console.error('Demo FAILED:', err);
    process.exit(1);
  },
);
