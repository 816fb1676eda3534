import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { gzipOnPool, keptCompressors } from '../../src/platform/gzip-compressors';

/** A body of `size` bytes: JSON-like text, or random bytes that gzip cannot shrink (several output chunks). */
function body(size: number, random: boolean, tag: number): Buffer {
  if (random) return randomBytes(size);
  const unit = `{"event":"Order ${tag}","i":${tag},"pad":"${'é'.repeat(tag % 40)}"},`;
  return Buffer.from(unit.repeat(Math.ceil(size / unit.length)).slice(0, size));
}

describe('gzip compressors kept between bodies', () => {
  it('every body is one whole gzip member of exactly its input, alone or many at once, whatever came before', async () => {
    const sizes = [0, 1, 300, 64 * 1024, 200_000, 600_000];
    for (let round = 0; round < 12; round++) {
      const inputs = sizes
        .slice(0, 1 + (round % sizes.length))
        .map((size, i) => body(size, (round + i) % 3 === 0, round * 10 + i));
      const outputs = await Promise.all(inputs.map((input) => gzipOnPool(input)));
      outputs.forEach((out, i) => {
        expect([out[0], out[1]], `round ${round}, body ${i}: gzip magic`).to.deep.equal([
          0x1f, 0x8b,
        ]);
        expect(gunzipSync(out).equals(inputs[i]!), `round ${round}, body ${i}`).to.equal(true);
      });
      // One after another too: each reuses a compressor the round above reset.
      for (const input of inputs)
        expect(gunzipSync(await gzipOnPool(input)).equals(input)).to.equal(true);
    }
  });

  it('text bodies are compressed as UTF-8', async () => {
    const text = JSON.stringify({
      events: Array.from({ length: 300 }, (_, i) => ({ e: 'é 😀', i })),
    });
    expect(gunzipSync(await gzipOnPool(text)).toString('utf8')).to.equal(text);
  });

  it('keeps at most two compressors, however many bodies were compressed at once', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => gzipOnPool(body(50_000, false, i))));
    expect(keptCompressors()).to.equal(2);
  });

  it('kept compressors do not hold the process open', () => {
    const script = `require(${JSON.stringify(require.resolve('../../src/platform/gzip-compressors'))})
      .gzipOnPool(Buffer.alloc(100000, 97)).then(() => console.log('compressed'))`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(run.stdout.trim()).to.equal('compressed');
    expect(run.status, run.stderr).to.equal(0); // exited by itself, before the timeout's kill
  });
});
