import { randomFillSync } from 'node:crypto';

/** UUIDs per fill of the random bytes: one `randomFillSync` call for this many events. */
const PER_FILL = 256;
const random = Buffer.allocUnsafeSlow(16 * PER_FILL);
let used = PER_FILL;
/** One UUID's text, written byte by byte, then read as one string. */
const text = Buffer.allocUnsafeSlow(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * A random UUID v4, as `crypto.randomUUID()` gives it, from random bytes
 * filled a few KB at a time. Node's own builds the text by joining twenty
 * small strings, about half a KB of garbage for each event's `distinctId`
 * (bench/RESULTS.md, issue 19): here it is written as bytes and read once,
 * one 36-character string.
 */
export function randomUUID(): string {
  if (used === PER_FILL) {
    randomFillSync(random);
    used = 0;
  }
  const from = 16 * used++;
  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = 0x2d; // -
    let byte = random[from + i]!;
    if (i === 6) byte = (byte & 0x0f) | 0x40; // the version: 4
    if (i === 8) byte = (byte & 0x3f) | 0x80; // the variant: 10xx (RFC 9562)
    text[at++] = HEX[byte >> 4]!;
    text[at++] = HEX[byte & 0x0f]!;
  }
  return text.toString('latin1', 0, 36);
}
