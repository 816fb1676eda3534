import { expect } from 'chai';
import { createRequire } from 'node:module';
import Koa from 'koa';
import Koa2 from 'koa2';
import proxyaddr from 'proxy-addr';
import type { IncomingMessage } from 'node:http';
import {
  compileTrust,
  forwardedIp,
  koaIp,
  normalizeIp,
  requestIpAddress,
  type TrustSetting,
} from '../../src/request/client-ip';

const requireHere = createRequire(__filename);
type CompileTrust = (v: unknown) => (addr: string, i: number) => boolean;
const expressCompileTrust: Record<string, CompileTrust> = {
  express5: (requireHere('express/lib/utils') as { compileTrust: CompileTrust }).compileTrust,
  express4: (requireHere('express4/lib/utils') as { compileTrust: CompileTrust }).compileTrust,
};

describe('request/client-ip: normalizeIp', () => {
  const cases: [unknown, string | undefined][] = [
    ['203.0.113.9', '203.0.113.9'],
    ['  203.0.113.9 ', '203.0.113.9'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['[::1]', '::1'],
    ['[::1]:443', '::1'],
    ['"[2001:db8::1]:8080"', '2001:db8::1'],
    ['1.2.3.4:80', '1.2.3.4'],
    ['"1.2.3.4"', '1.2.3.4'],
    ['::ffff:7f00:1', '::ffff:7f00:1'], // hex form is valid IPv6, kept
    ['unknown', undefined],
    ['_hidden', undefined],
    ['1.2.3', undefined],
    ['999.1.1.1', undefined],
    ['[::1', undefined],
    ['', undefined],
    [undefined, undefined],
    [['1.2.3.4'], undefined],
    ['1'.repeat(1000), undefined],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)?.slice(0, 40)} -> ${String(expected)}`, () => {
      expect(normalizeIp(input)).to.equal(expected);
    });
  }
});

describe('request/client-ip: forwardedIp (proxy-addr / Express semantics)', () => {
  const XFF = '198.51.100.7, 203.0.113.1, 10.0.0.2';
  const SOCKET = '::ffff:10.0.0.1';
  const cases: [string, TrustSetting, string][] = [
    ['trust nothing: the socket', false, '10.0.0.1'],
    ['1 hop: rightmost XFF entry', 1, '10.0.0.2'],
    ['2 hops', 2, '203.0.113.1'],
    ['3 hops: leftmost', 3, '198.51.100.7'],
    ['10 hops: leftmost', 10, '198.51.100.7'],
    ['true: leftmost, client-chosen', true, '198.51.100.7'],
    ['CIDR list: walks trusted private hops', '10.0.0.0/8', '203.0.113.1'],
    ['CIDR array + names', ['loopback', '10.0.0.0/8', '203.0.113.0/24'], '198.51.100.7'],
    ['CIDR that does not cover the socket', '192.168.0.0/16', '10.0.0.1'],
    [
      'function',
      (addr: string) => addr.startsWith('10.') || addr.endsWith('10.0.0.1'),
      '203.0.113.1',
    ],
  ];
  for (const [name, setting, expected] of cases) {
    it(name, () => {
      expect(forwardedIp(SOCKET, XFF, compileTrust(setting))).to.equal(expected);
    });
    for (const [express, compile] of Object.entries(expressCompileTrust)) {
      it(`${name}: same as ${express}'s req.ip`, () => {
        const req = {
          headers: { 'x-forwarded-for': XFF },
          socket: { remoteAddress: SOCKET },
          connection: { remoteAddress: SOCKET },
        };
        const theirs = proxyaddr(req as unknown as IncomingMessage, compile(setting));
        expect(forwardedIp(SOCKET, XFF, compileTrust(setting))).to.equal(normalizeIp(theirs));
      });
    }
  }

  it('normalises the chosen hop (port, brackets) and rejects junk', () => {
    expect(forwardedIp('10.0.0.1', '1.2.3.4:5678', compileTrust(1))).to.equal('1.2.3.4');
    expect(forwardedIp('10.0.0.1', 'garbage', compileTrust(1))).to.equal(undefined);
    expect(forwardedIp(undefined, '1.2.3.4', compileTrust(1))).to.equal(undefined);
    expect(forwardedIp('10.0.0.1', undefined, compileTrust(1))).to.equal('10.0.0.1');
  });

  it('walks only the rightmost 4 KiB of a huge XFF (trusted hops are appended on the right)', () => {
    const huge =
      Array.from({ length: 2000 }, (_, i) => `10.9.${i % 250}.1`).join(', ') +
      ', 203.0.113.5, 10.0.0.2';
    expect(forwardedIp('10.0.0.1', huge, compileTrust(2))).to.equal('203.0.113.5');
  });

  it('throws on an invalid CIDR at compile time, like Express', () => {
    expect(() => compileTrust('10.0.0.0/99')).to.throw();
  });
});

describe('request/client-ip: koaIp', () => {
  const XFF = '198.51.100.7, 203.0.113.1, 10.0.0.2';

  it('no forwarded value (proxy off, or no header): the socket address', () => {
    expect(koaIp('::ffff:10.0.0.1', undefined, 1)).to.equal('10.0.0.1');
    expect(koaIp('10.0.0.1', '', 0)).to.equal('10.0.0.1');
  });

  it("maxIpsCount 0: the leftmost entry, as Koa's ctx.ip (client-chosen: the adapter warns)", () => {
    expect(koaIp('10.0.0.1', XFF, 0)).to.equal('198.51.100.7');
  });

  it('an empty pick falls back to the socket address, as in Koa', () => {
    expect(koaIp('10.0.0.1', ', 203.0.113.1', 0)).to.equal('10.0.0.1');
  });

  for (const [name, K] of [
    ['koa 3', Koa],
    ['koa 2', Koa2],
  ] as const) {
    for (const n of [0, 1, 2, 3, 5]) {
      for (const xff of [XFF, '1.1.1.1', '1.1.1.1,2.2.2.2', ' 1.1.1.1 ,  2.2.2.2 ', ' , 2.2.2.2']) {
        it(`proxy on, maxIpsCount ${n}, XFF ${JSON.stringify(xff)}: same as ${name}'s ctx.ip`, () => {
          const app = new (K as typeof Koa)({ proxy: true, maxIpsCount: n });
          const req = {
            headers: { 'x-forwarded-for': xff },
            socket: { remoteAddress: '10.0.0.1' },
          };
          const ctx = app.createContext(req as never, {} as never);
          expect(koaIp('10.0.0.1', xff, n)).to.equal(normalizeIp(ctx.ip));
        });
      }
    }
  }
});

describe('request/client-ip: requestIpAddress (opt-in, spoofable)', () => {
  it('returns what request-ip picks: a client-set X-Client-IP wins', () => {
    expect(
      requestIpAddress({ 'x-client-ip': '6.6.6.6', 'x-forwarded-for': '1.1.1.1' }, '10.0.0.1'),
    ).to.equal('6.6.6.6');
  });

  it('falls back to the socket address, normalised', () => {
    expect(requestIpAddress({}, '::ffff:10.0.0.1')).to.equal('10.0.0.1');
    expect(requestIpAddress({}, undefined)).to.equal(undefined);
  });

  it('never throws on odd header shapes (falls back to the socket)', () => {
    expect(requestIpAddress({ 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'] }, '10.0.0.1')).to.equal(
      '10.0.0.1',
    );
  });
});
