import { expect } from 'chai';
import { isIP } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { platform as node } from '../../src/platform/node';
import { platform as web } from '../../src/platform/web';

// The web platform runs in workerd and the edge runtime (test/runtimes); here
// its pure parts are held to the Node platform's answers.
describe('platform: web beside node', () => {
  it('isIP answers as net.isIP', () => {
    const cases = [
      '1.2.3.4',
      '255.255.255.255',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3',
      '::1',
      '::',
      '2001:db8::1',
      '::ffff:1.2.3.4',
      'fe80::1:2:3:4:5:6',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8:9',
      ':::1',
      '2001:db8::g',
      'localhost',
      '',
      ' 1.2.3.4',
      '[::1]',
      '1.2.3.4:80',
    ];
    expect(cases.map((c) => web.isIP(c))).to.deep.equal(cases.map((c) => isIP(c)));
  });

  it('gzip: CompressionStream output gunzips to the body, bytes or string', async () => {
    const body = JSON.stringify({
      events: Array.from({ length: 200 }, (_, i) => ({ event: 'é Event', i })),
    });
    expect(gunzipSync(await web.gzip!(body)).toString()).to.equal(body);
    expect(gunzipSync(await web.gzip!(new TextEncoder().encode(body))).toString()).to.equal(body);
  });

  it('plainBatch and gzipBatch: the head, the events joined by commas, and ]}, on both', async () => {
    const events = [{ json: '{"a":"é"}' }, { json: '{"b":"😀"}' }];
    const body = '{"x":[{"a":"é"},{"b":"😀"}]}';
    expect(Buffer.from(node.plainBatch('{"x":[', events)).toString()).to.equal(body);
    expect(web.plainBatch('{"x":[', events)).to.equal(body);
    expect(gunzipSync(await node.gzipBatch('{"x":[', events)).toString()).to.equal(body);
    expect(gunzipSync(await web.gzipBatch('{"x":[', events)).toString()).to.equal(body);
  });

  it('gzipBatch on Node: concurrent and shrinking batches never share or leak input bytes', async () => {
    // Input buffers are reused between batches: two at once must not write into one,
    // and a small batch after a large one must not carry the large one's tail.
    const batch = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({
        json: JSON.stringify({ tag, i, pad: 'é'.repeat(i % 50) }),
      }));
    const expected = (events: { json: string }[]) =>
      `{"h":[${events.map((e) => e.json).join(',')}]}`;
    const big = batch(3000, 'big');
    const small = batch(3, 'small');
    const others = [big, batch(1000, 'a'), batch(10, 'b'), small, batch(2000, 'c')];
    const outputs = await Promise.all(others.map((events) => node.gzipBatch('{"h":[', events)));
    outputs.forEach((out, i) => expect(gunzipSync(out).toString()).to.equal(expected(others[i]!)));
    for (const events of [big, small, big, small])
      expect(gunzipSync(await node.gzipBatch('{"h":[', events)).toString()).to.equal(
        expected(events),
      );
  });

  it('hashKey: stable, different for different keys, short', () => {
    const long = 'v'.repeat(4000);
    expect(web.hashKey(long)).to.equal(web.hashKey(long));
    expect(web.hashKey(long)).not.to.equal(web.hashKey(`${long}w`));
    expect(web.hashKey(long).length).to.be.below(40);
  });

  it('Node-only parts: a config error naming the option, when called', () => {
    expect(() => web.fileStore({ dir: '/tmp/x' })).to.throw(
      /option `store` cannot be fileStore\(\) on this platform/,
    );
    expect(() => web.redisStore({ redis: {} as never })).to.throw(
      /option `store` cannot be redisStore\(\)/,
    );
    expect(web.watchSignals).to.equal(undefined);
  });
});
