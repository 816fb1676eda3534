// A deterministic pool of a few hundred real-looking Chrome User-Agent strings
// (plus the client hints Chrome sends with them), built from real
// version x platform combinations, so the overhead bench sees the variety of a
// real site without shipping a data file. Same list on every run.
//
// Shapes follow what Chrome actually sends:
//  - Chrome >= 101 desktop/Android: the "reduced" UA (`Chrome/<major>.0.0.0`,
//    Android 10 and model `K`), with sec-ch-ua hints;
//  - Chrome 80..100: full build numbers, real OS versions and Android models;
//  - Chrome on iOS: `CriOS/<full version>` inside a WebKit UA (no hints).

/** Real stable builds of Chrome 80..100 (the last before UA reduction). */
const FULL_BUILDS = [
  '80.0.3987.163',
  '81.0.4044.138',
  '83.0.4103.116',
  '84.0.4147.135',
  '85.0.4183.121',
  '86.0.4240.198',
  '87.0.4280.141',
  '88.0.4324.190',
  '89.0.4389.128',
  '90.0.4430.212',
  '91.0.4472.164',
  '92.0.4515.159',
  '93.0.4577.82',
  '94.0.4606.81',
  '95.0.4638.69',
  '96.0.4664.110',
  '97.0.4692.99',
  '98.0.4758.102',
  '99.0.4844.84',
  '100.0.4896.127',
];

/** Desktop platform tokens of real Chrome UAs. */
const DESKTOP = [
  { token: 'Windows NT 10.0; Win64; x64', platform: '"Windows"' },
  { token: 'Macintosh; Intel Mac OS X 10_15_7', platform: '"macOS"' },
  { token: 'X11; Linux x86_64', platform: '"Linux"' },
  { token: 'X11; CrOS x86_64 14541.0.0', platform: '"Chrome OS"' },
];

/** Older desktop platforms seen with pre-reduction Chrome. */
const OLD_DESKTOP = [
  'Windows NT 10.0; Win64; x64',
  'Windows NT 6.1; Win64; x64',
  'Windows NT 6.3; Win64; x64',
  'Macintosh; Intel Mac OS X 10_14_6',
  'Macintosh; Intel Mac OS X 11_2_3',
  'X11; Linux x86_64',
];

/** Android versions and device models of pre-reduction Chrome UAs. */
const ANDROID_DEVICES = [
  'Android 9; SM-G960F',
  'Android 10; SM-A505F',
  'Android 11; SM-G991B',
  'Android 11; Pixel 5',
  'Android 12; Pixel 6',
  'Android 10; Redmi Note 8 Pro',
  'Android 11; M2101K6G',
  'Android 12; SM-S908B',
];

/** iOS versions with the Chrome-on-iOS builds that shipped for them. */
const IOS = [
  { os: '15_6', crios: '104.0.5112.99' },
  { os: '16_1', crios: '107.0.5304.101' },
  { os: '16_3', crios: '110.0.5481.114' },
  { os: '16_5', crios: '114.0.5735.124' },
  { os: '17_0', crios: '117.0.5938.117' },
  { os: '17_1', crios: '119.0.6045.169' },
  { os: '17_2', crios: '120.0.6099.119' },
  { os: '17_3', crios: '121.0.6167.138' },
  { os: '17_4', crios: '123.0.6312.52' },
  { os: '17_5', crios: '125.0.6422.80' },
];

const WEBKIT = 'AppleWebKit/537.36 (KHTML, like Gecko)';

/** The low-entropy `sec-ch-ua` Chrome sends for a major version (GREASE brand as Chrome picks it). */
function secChUa(major) {
  const grease = ['Not_A Brand', 'Not A(Brand', 'Not/A)Brand', 'Not)A;Brand'][major % 4];
  return `"Chromium";v="${major}", "Google Chrome";v="${major}", "${grease}";v="${major % 3 === 0 ? 99 : 8}"`;
}

function build() {
  const pool = [];
  // Reduced UA: Chrome 101..131 on four desktop platforms and Android (5 x 31 = 155).
  for (let major = 101; major <= 131; major++) {
    for (const { token, platform } of DESKTOP) {
      pool.push({
        ua: `Mozilla/5.0 (${token}) ${WEBKIT} Chrome/${major}.0.0.0 Safari/537.36`,
        hints: {
          'sec-ch-ua': secChUa(major),
          'sec-ch-ua-mobile': '?0',
          'sec-ch-ua-platform': platform,
        },
      });
    }
    pool.push({
      ua: `Mozilla/5.0 (Linux; Android 10; K) ${WEBKIT} Chrome/${major}.0.0.0 Mobile Safari/537.36`,
      hints: {
        'sec-ch-ua': secChUa(major),
        'sec-ch-ua-mobile': '?1',
        'sec-ch-ua-platform': '"Android"',
      },
    });
  }
  // Full builds 80..100 on older desktops (20 x 6 = 120); hints from Chrome 89 on.
  for (const full of FULL_BUILDS) {
    const major = Number(full.split('.')[0]);
    for (const token of OLD_DESKTOP) {
      const platform = token.startsWith('Windows')
        ? '"Windows"'
        : token.startsWith('Mac')
          ? '"macOS"'
          : '"Linux"';
      pool.push({
        ua: `Mozilla/5.0 (${token}) ${WEBKIT} Chrome/${full} Safari/537.36`,
        hints:
          major >= 89
            ? {
                'sec-ch-ua': secChUa(major),
                'sec-ch-ua-mobile': '?0',
                'sec-ch-ua-platform': platform,
              }
            : {},
      });
    }
  }
  // Full builds 90..100 on real Android devices (11 x 8 = 88).
  for (const full of FULL_BUILDS.filter((b) => Number(b.split('.')[0]) >= 90)) {
    const major = Number(full.split('.')[0]);
    for (const device of ANDROID_DEVICES) {
      pool.push({
        ua: `Mozilla/5.0 (Linux; ${device}) ${WEBKIT} Chrome/${full} Mobile Safari/537.36`,
        hints: {
          'sec-ch-ua': secChUa(major),
          'sec-ch-ua-mobile': '?1',
          'sec-ch-ua-platform': '"Android"',
        },
      });
    }
  }
  // Chrome on iPhone and iPad (10 x 2 = 20); iOS Chrome sends no client hints.
  for (const { os, crios } of IOS) {
    pool.push({
      ua: `Mozilla/5.0 (iPhone; CPU iPhone OS ${os} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${crios} Mobile/15E148 Safari/604.1`,
      hints: {},
    });
    pool.push({
      ua: `Mozilla/5.0 (iPad; CPU OS ${os} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${crios} Mobile/15E148 Safari/604.1`,
      hints: {},
    });
  }
  return pool;
}

/** `{ ua, hints }` entries: 383 distinct Chrome User-Agents, always in the same order. */
export const USER_AGENTS = Object.freeze(build());

/** A deterministic PRNG (mulberry32), so "random" request data is the same every run. */
export function prng(seed = 0x5eed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A UUID v4 drawn from `rand` (deterministic visitor ids). */
export function uuidFrom(rand) {
  const hex = [];
  for (let i = 0; i < 32; i++) hex.push(Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const CAMPAIGNS = [
  '?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&utm_term=running+shoes&gclid=EAIaIQobChMI8pLx',
  '?utm_source=facebook&utm_medium=paid_social&utm_campaign=retargeting_q2&utm_content=carousel_3&fbclid=IwAR2xK9',
  '?utm_source=newsletter&utm_medium=email&utm_campaign=weekly_digest_42',
  '?utm_source=bing&utm_medium=cpc&utm_campaign=brand&msclkid=3b1f0e2d4c',
];
const REFERERS = [
  'https://www.google.com/',
  'https://www.facebook.com/',
  'https://l.instagram.com/',
  'https://www.bing.com/search?q=shoes',
];
const LANGUAGES = [
  'en-US,en;q=0.9',
  'en-GB,en;q=0.9,de;q=0.8',
  'de-DE,de;q=0.9,en;q=0.8',
  'fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7',
];

/**
 * One realistic browser request per pool entry: visitor cookie, `_fbp`, a
 * Chrome UA with its hints, a UTM query, Referer, Accept-Language.
 * Returns `[{ path, headers }]`, deterministic.
 */
export function realisticRequests(count = USER_AGENTS.length, seed = 0x5eed) {
  const rand = prng(seed);
  const out = [];
  for (let i = 0; i < count; i++) {
    const { ua, hints } = USER_AGENTS[i % USER_AGENTS.length];
    const visitor = uuidFrom(rand);
    const fbp = `fb.1.${1714000000000 + Math.floor(rand() * 1e9)}.${Math.floor(rand() * 2 ** 31)}`;
    const ga = `GA1.1.${Math.floor(rand() * 2 ** 31)}.${1714000000 + Math.floor(rand() * 1e6)}`;
    out.push({
      path: `/${CAMPAIGNS[i % CAMPAIGNS.length]}`,
      headers: {
        'user-agent': ua,
        ...hints,
        accept:
          'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
        'accept-encoding': 'gzip, deflate, br',
        'accept-language': LANGUAGES[i % LANGUAGES.length],
        referer: REFERERS[i % REFERERS.length],
        cookie: `_ga=${ga}; ours_device_id=${visitor}; _fbp=${fbp}; cookie_consent=all`,
      },
    });
  }
  return out;
}
