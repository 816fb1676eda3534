import { expect } from 'chai';
import { randomUUID } from '../../src/platform/buffered-uuid';
import { platform } from '../../src/platform/node';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('buffered UUIDs (the Node platform’s randomUUID)', () => {
  it('is the platform’s randomUUID', () => {
    expect(platform.randomUUID).to.equal(randomUUID);
  });

  it('gives UUID v4 text, all different, across many fills of the random bytes', () => {
    const ids = Array.from({ length: 5000 }, () => randomUUID());
    const bad = ids.filter((id) => !V4.test(id));
    expect(bad, 'not UUID v4').to.deep.equal([]);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('every hex digit turns up in every random position, and all four variants', () => {
    const ids = Array.from({ length: 4000 }, () => randomUUID().replaceAll('-', ''));
    for (let position = 0; position < 32; position++) {
      if (position === 12) continue; // the version, always 4
      const seen = new Set(ids.map((id) => id[position]));
      expect(seen.size, `position ${position}`).to.equal(position === 16 ? 4 : 16);
    }
  });
});
