import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { crc32, crc32Table } from '../../src/stores/file/crc32';
import {
  encodeAcks,
  encodeRecords,
  plausibleRecord,
  recordSize,
  scanFrames,
} from '../../src/stores/file/frame';
import { checkStored } from '../../src/stores/stored-event';
import type { EventPath } from '../../src/index';

const rows = [
  '{"event":"a","time":1}',
  '{"event":"ünïcødé ✓ 🎉","time":2}',
  '{"userProperties":{}}',
];
const paths: EventPath[] = ['/batch', '/track', '/identify'];

function encode(): Buffer {
  const events = rows.map((json, i) => ({ json, path: paths[i]! }));
  const sizes = rows.map(recordSize);
  return encodeRecords(
    events,
    sizes,
    sizes.reduce((a, b) => a + b, 0),
  );
}

const decode = (buf: Buffer) => scanFrames(buf, plausibleRecord, true);

describe('fileStore: record format', () => {
  it('the portable CRC-32 matches the reference value and the native one', () => {
    const check = Buffer.from('123456789');
    expect(crc32Table(check, 0, check.length)).to.equal(0xcbf43926);
    const data = randomBytes(10_000);
    expect(crc32Table(data, 17, 9000)).to.equal(crc32(data, 17, 9000));
  });

  it('round-trips records, multi-byte UTF-8 included', () => {
    const buf = encode();
    const { frames, bad } = decode(buf);
    expect(bad).to.equal(0);
    expect(frames.map((f) => buf.toString('utf8', f.start + 1, f.end))).to.deep.equal(rows);
    expect(frames.map((f) => String.fromCharCode(buf[f.start]!))).to.deep.equal(['b', 't', 'i']);
    expect(frames[1]!.offset).to.equal(recordSize(rows[0]!));
  });

  it('finds a torn tail at every possible cut', () => {
    const buf = encode();
    const last = decode(buf).frames[2]!;
    for (let cut = last.offset + 1; cut < buf.length; cut++) {
      const { frames, bad } = decode(buf.subarray(0, cut));
      expect(frames, `cut at ${cut}`).to.have.length(2);
      expect(bad).to.equal(1);
    }
  });

  it('skips a flipped bit anywhere in a record and reads on', () => {
    const clean = encode();
    const [first, second] = decode(clean).frames;
    for (let at = second!.offset; at < second!.end; at++) {
      const buf = Buffer.from(clean);
      buf[at] = buf[at]! ^ 0x04;
      const { frames, bad } = decode(buf);
      expect(
        frames.map((f) => f.offset),
        `flip at ${at}`,
      ).to.deep.equal([first!.offset, decode(clean).frames[2]!.offset]);
      expect(bad).to.equal(1);
    }
  });

  it('ack frames carry offsets', () => {
    const buf = encodeAcks([0, 4096, 2 ** 31]);
    const { frames } = scanFrames(buf, (_b, _s, len) => len % 4 === 0, false);
    expect(frames).to.have.length(1);
    expect([0, 4, 8].map((i) => buf.readUInt32LE(frames[0]!.start + i))).to.deep.equal([
      0,
      4096,
      2 ** 31,
    ]);
  });

  it('classifies stored events: expired past 7 days less a minute, identify never, bad JSON corrupt', () => {
    const now = Date.now();
    const day = 86_400_000;
    expect(checkStored(JSON.stringify({ time: now - 6 * day }), '/batch', now)).to.equal('ok');
    expect(checkStored(JSON.stringify({ time: now - 7 * day + 30_000 }), '/track', now)).to.equal(
      'expired',
    );
    expect(checkStored(JSON.stringify({ time: now - 30 * day }), '/identify', now)).to.equal('ok');
    expect(checkStored('{"time":', '/batch', now)).to.equal('corrupt');
  });
});
