import * as zlib from 'node:zlib';

/**
 * CRC-32 (IEEE, as zip and gzip use it) of `buf[start, end)`. Node's native
 * `zlib.crc32` exists from Node 20.15 / 22.2; older versions get a table-driven
 * version, a few hundred MB/s, which is plenty for the write window and recovery.
 */
export type Crc32 = (buf: Uint8Array, start: number, end: number) => number;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The portable version; exported so tests can check it against the native one. */
export function crc32Table(buf: Uint8Array, start: number, end: number): number {
  const t = (table ??= makeTable());
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

export const crc32: Crc32 = native
  ? (buf, start, end) => native(buf.subarray(start, end)) >>> 0
  : crc32Table;
