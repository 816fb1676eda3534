/**
 * Seeded generator of malformed and hostile HTTP requests: everything HTTP/1.1
 * (and Node's parser) lets a client send: request targets of visible ASCII
 * (0x21-0x7E; anything else only percent-encoded), header values of tab,
 * 0x20-0x7E and obs-text 0x80-0xFF; chosen to break parsers. Request `i` of seed
 * `s` is always the same request, so a failure names what to replay.
 */

/** mulberry32: small, fast, good enough to fuzz with. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzRequest {
  method: 'GET' | 'POST';
  path: string;
  /** Raw `[name, value, name, value, ...]`: headers may repeat. */
  headers: string[];
}

class Pick {
  constructor(readonly random: () => number) {}
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  one<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  /** `n` characters from `alphabet`. */
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

const ASCII = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
/** Latin-1 upper half: allowed in header values as obs-text (never in a request target). */
const HIGH = Array.from({ length: 0x100 - 0x80 }, (_, i) => String.fromCharCode(0x80 + i)).join('');
/** What may appear in a header value: tab, visible ASCII, space, obs-text. */
const VALUE_CHARS = `\t ${ASCII}${HIGH}`;
const TARGET_CHARS = ASCII;
/** Non-ASCII as a request target can carry it: percent-encoded UTF-8 (valid or not). */
const ENCODED_NON_ASCII = [
  '%C3%A9',
  '%E2%80%AE',
  '%F0%9F%92%A9',
  '%EF%BB%BF',
  '%E9',
  '%C3',
  '%00',
  '%0D%0A',
  '%1B%5B31m',
  '%7F',
  '%E2%80%8B',
];

const BROKEN_ESCAPES = [
  '%',
  '%%',
  '%E0%A4',
  '%E0%A4%A',
  '%ZZ',
  '%0',
  '%00',
  '%C0%AF',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%uD800',
  '%FF%FE',
  '%25',
  '%2',
  '+%+',
];
const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '__proto__[polluted]',
  'constructor[prototype][polluted]',
  '__proto__.polluted',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
];
const QUERY_KEYS = [
  'utm_source',
  'UTM_SOURCE',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'gclid',
  'fbclid',
  'msclkid',
  'li_did',
  'clickid',
  'ours_user_id',
  'a[b][c][d]',
  'a[]',
  'a[0]',
  'a[999999]',
  'utm_source[]',
  'utm_source[x]',
  'x',
  '',
  'q',
  '%C3%A9',
  '%E0%A4',
  ...PROTO_KEYS,
];
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'curl/8.5.0',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
];
const IPS = [
  '203.0.113.7',
  '198.51.100.23',
  '2001:db8::1',
  '[2001:db8::1]',
  '[2001:db8::1]:443',
  '::ffff:192.0.2.1',
  '[::ffff:192.0.2.1]:80',
  '::1',
  '127.0.0.1',
  'fe80::1%eth0',
  '1.2.3.4:8080',
  '0.0.0.0',
  '255.255.255.255',
  '::',
  '2001:db8:0:0:0:0:0:1',
  '::ffff:c000:0201',
  'unknown',
  '_hidden',
  '',
  ' ',
  '999.1.1.1',
  '1.2.3',
  '01.02.03.04',
  '0x7f.1',
  'localhost',
  '"[::1]"',
  'evil.example',
  '1.2.3.4, ',
];
const REFERERS = [
  'http://[not a url',
  'https://',
  '::::',
  'javascript:alert(1)',
  'data:text/html,<script>',
  'http://exa mple.com/',
  'https://ü.example/é',
  'http://%zz/',
  'http://a.b/%E0%A4',
  '//no-scheme.example/path',
  'ftp://files.example/',
  'https://example.com:99999/',
  'https://[::1]:443/x?y#z',
  'http://user:pass@example.com/',
  'https://example.com/?__proto__[polluted]=1',
  'about:blank',
  '',
  'https://xn--nxasmq6b.example/',
];
const LANGS = [
  '',
  '*',
  'en-US,en;q=0.9',
  'de-DE',
  'zz-ZZZZZZZZZ-1',
  ';;;,,,',
  'en-US;q=abc',
  'é',
  'x'.repeat(300),
];

/** A value with the oddities of header values: broken escapes, `=`, quotes, obs-text. */
function oddValue(p: Pick, max = 40): string {
  switch (p.int(8)) {
    case 0:
      return p.one(BROKEN_ESCAPES);
    case 1:
      return `${p.chars('abc=', p.int(5))}=${p.chars('xyz==', p.int(5))}`;
    case 2:
      return `"${p.chars(VALUE_CHARS.replace(/[";]/g, ''), p.int(max))}"`;
    case 3:
      return p.chars(HIGH, 1 + p.int(max));
    case 4:
      return p.one(PROTO_KEYS);
    case 5:
      return '';
    case 6:
      return `${p.one(BROKEN_ESCAPES)}${p.chars(ASCII.replace(/;/g, ''), p.int(max))}`;
    default:
      return p.chars(VALUE_CHARS.replace(/;/g, ''), p.int(max));
  }
}

function queryPair(p: Pick): string {
  const key = p.chance(0.2)
    ? p.chars(TARGET_CHARS.replace(/[&#=]/g, ''), 1 + p.int(12))
    : p.one(QUERY_KEYS);
  if (p.chance(0.1)) return key; // no '='
  const value = p.chance(0.5)
    ? p.chars(TARGET_CHARS.replace(/[&#]/g, ''), p.int(30))
    : p.one([
        ...BROKEN_ESCAPES,
        ...ENCODED_NON_ASCII,
        'x=y=z',
        '',
        '%20',
        'a+b',
        p.one(PROTO_KEYS),
      ]);
  return `${key}=${value}`;
}

function path(p: Pick): string {
  let base = p.one([
    '/',
    '/p',
    '/a/b/c',
    '/%E0%A4',
    '/%',
    '/%C3%A9',
    '/;jsessionid=1',
    '//double//slash',
    '/..%2f..%2fetc',
    '/__proto__/constructor',
    '/x.json',
    `/${p.one(ENCODED_NON_ASCII)}`,
  ]);
  if (p.chance(0.05)) base = `/${p.chars(TARGET_CHARS.replace(/[?#]/g, ''), 1 + p.int(200))}`;
  if (p.chance(0.15)) return base;
  const pairs: string[] = [];
  const n = p.chance(0.05) ? 300 + p.int(400) : p.int(25);
  const repeated = p.chance(0.2) ? p.one(QUERY_KEYS) : undefined;
  for (let i = 0; i < n; i++)
    pairs.push(repeated && p.chance(0.5) ? `${repeated}=${p.int(1000)}` : queryPair(p));
  const sep = p.chance(0.1) ? p.one(['&&', '&;', ';']) : '&';
  const fragment = p.chance(0.05) ? `#${p.chars(TARGET_CHARS, p.int(20))}` : '';
  return `${base}?${pairs.join(sep)}${fragment}`;
}

function cookieHeader(p: Pick): string {
  const pairs: string[] = [];
  const n = p.int(12);
  for (let i = 0; i < n; i++) {
    switch (p.int(7)) {
      case 0:
        pairs.push(`ours_device_id=${p.chance(0.5) ? `v-${p.int(1e9)}` : oddValue(p)}`);
        break;
      case 1:
        pairs.push(`ours_sid=${p.chance(0.5) ? 'sid_' : ''}${oddValue(p)}`);
        break;
      case 2:
        pairs.push(
          `_fbc=${p.chance(0.5) ? `fb.1.${p.int(2e12)}.${oddValue(p, 10)}` : oddValue(p)}`,
        );
        break;
      case 3:
        pairs.push(`_fbp=${oddValue(p)}`);
        break;
      case 4:
        pairs.push(`${p.one(PROTO_KEYS)}=${oddValue(p)}`);
        break;
      case 5:
        pairs.push(
          p.one([
            '=',
            '==',
            'noequals',
            '=novalue',
            ';',
            ' ',
            'a=b=c',
            '%E0%A4=%E0',
            'ours_device_id',
            ' ours_device_id =  spaced  ',
          ]),
        );
        break;
      default:
        pairs.push(`${p.chars('abcdefgh_', 1 + p.int(8))}=${oddValue(p)}`);
    }
  }
  let header = pairs.join(p.one(['; ', ';', ' ; ', ';\t']));
  if (p.chance(0.08)) {
    // 10 kB of cookies, with ours somewhere in or after it
    const junk = Array.from(
      { length: 400 },
      (_, i) => `junk${i}=${p.chars('abcdefxyz0123456789', 20)}`,
    ).join('; ');
    header = p.chance(0.5) ? `${junk}; ${header}` : `${header}; ${junk}`;
  }
  return header;
}

function forwardedFor(p: Pick): string {
  const n = p.chance(0.05) ? 50 + p.int(200) : 1 + p.int(5);
  return Array.from({ length: n }, () =>
    p.chance(0.85) ? p.one(IPS) : oddValue(p, 20).replace(/,/g, ''),
  ).join(p.one([', ', ',', ' , ']));
}

function forwarded(p: Pick): string {
  const element = (): string => {
    const parts = [
      `for=${p.one(['192.0.2.60', '"[2001:db8:cafe::17]:4711"', 'unknown', '_hidden', '"::ffff:1.2.3.4"', oddValue(p, 10).replace(/[,;]/g, '')])}`,
    ];
    if (p.chance(0.5)) parts.push(`proto=${p.one(['http', 'https', 'gopher', ''])}`);
    if (p.chance(0.3)) parts.push(`by=${p.one(IPS)}`);
    if (p.chance(0.2)) parts.push(`host=${p.one(['evil.example', '"a:b"', ''])}`);
    return parts.join(';');
  };
  return Array.from({ length: 1 + p.int(4) }, element).join(', ');
}

function userAgent(p: Pick): string {
  const r = p.random();
  if (r < 0.1) return ''; // 0 bytes
  if (r < 0.11) return `${p.one(UAS)} ${p.chars('abcdefghij ()/;.', 100 * 1024)}`; // 100 kB
  if (r < 0.3) return p.chars(VALUE_CHARS, 1 + p.int(600));
  if (r < 0.4) return `${p.one(UAS)}${oddValue(p)}`;
  return p.one(UAS);
}

/** Request `index` of `seed`. `id` goes in `x-fuzz-id` so the app can echo it. */
export function fuzzRequest(seed: number, index: number, id: string): FuzzRequest {
  const p = new Pick(prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0));
  // Raw header arrays get no automatic Host, and HTTP/1.1 requires one.
  const host = p.chance(0.9)
    ? 'fuzz.example'
    : p.one([
        'EXAMPLE.com',
        'example.com:80',
        '[::1]:8080',
        'xn--nxasmq6b.example',
        'a.b.c.d.e.f',
        '127.0.0.1',
        'é.example',
      ]);
  const headers: string[] = ['host', host, 'x-fuzz-id', id];
  const add = (name: string, value: string): void => void headers.push(name, value);
  if (p.chance(0.8)) add('cookie', cookieHeader(p));
  if (p.chance(0.1)) add('cookie', cookieHeader(p)); // a second Cookie header
  if (p.chance(0.9)) add('user-agent', userAgent(p));
  if (p.chance(0.4))
    add('referer', p.chance(0.8) ? p.one(REFERERS) : p.chars(VALUE_CHARS, p.int(100)));
  if (p.chance(0.4)) add('accept-language', p.chance(0.7) ? p.one(LANGS) : oddValue(p));
  if (p.chance(0.5)) add('x-forwarded-for', forwardedFor(p));
  if (p.chance(0.1)) add('x-forwarded-for', forwardedFor(p)); // repeated
  if (p.chance(0.3)) add('forwarded', forwarded(p));
  for (const name of [
    'x-real-ip',
    'x-client-ip',
    'cf-connecting-ip',
    'true-client-ip',
    'fastly-client-ip',
    'x-forwarded-host',
    'x-forwarded-proto',
  ]) {
    if (p.chance(0.1)) add(name, p.chance(0.7) ? p.one(IPS) : oddValue(p));
  }
  if (p.chance(0.2))
    add(
      'sec-ch-ua',
      p.one(['"Chromium";v="124", "Not-A.Brand";v="99"', '"', '"a";v=', ';;;', oddValue(p, 60)]),
    );
  if (p.chance(0.1)) add('sec-ch-ua-full-version-list', oddValue(p, 200));
  if (p.chance(0.1)) add('sec-ch-ua-platform', oddValue(p, 20));
  if (p.chance(0.1)) add('sec-ch-ua-mobile', p.one(['?0', '?1', '?maybe', '']));
  if (p.chance(0.1)) add('sec-ch-ua-model', oddValue(p, 30));
  if (p.chance(0.1)) add('sec-gpc', p.one(['1', '0', ' 1 ', 'yes', '']));
  if (p.chance(0.05))
    add(p.one(['__proto__', 'constructor', 'prototype', 'hasOwnProperty']), oddValue(p));
  return { method: p.chance(0.9) ? 'GET' : 'POST', path: path(p), headers };
}
