import { MAX_TIMER_MS } from '../../deadline';
import { describeValue, OursConfigError } from '../../errors';
import { wholeOption } from '../../whole-option';
import { optionNames, refuseUnknownOptions } from '../../unknown-options';

/** Options of `fileStore()`. */
export interface FileStoreOptions {
  /** Directory for the events of ONE process (created if missing); give each process or worker its own. */
  dir: string;
  /** The write window: appends are written together this long after the first; what a crash can lose. @defaultValue 100 */
  flushMs?: number | undefined;
  /** Bytes the directory may hold; `track()` drops new events (reported as `queue_full`) past it. @defaultValue 268435456 (256 MiB) */
  maxBytes?: number | undefined;
  /** `fdatasync` the segment files written in each window, so that a power cut loses no more than a crash. @defaultValue true */
  fsync?: boolean | undefined;
  /** Size at which a new segment file starts. @defaultValue maxBytes / 16, from 4 KiB to 8 MiB */
  segmentBytes?: number | undefined;
}

export type ResolvedFileStoreOptions = Required<FileStoreOptions>;

const MIB = 1024 * 1024;
const FILE_STORE_OPTIONS = optionNames<FileStoreOptions>({
  dir: true,
  flushMs: true,
  maxBytes: true,
  fsync: true,
  segmentBytes: true,
});

/** Defaults applied and every value checked, at construction (the only time a store throws). */
export function resolveFileStoreOptions(options: FileStoreOptions): ResolvedFileStoreOptions {
  refuseUnknownOptions(options, FILE_STORE_OPTIONS, 'fileStore()', 'fileStore.');
  if (typeof options?.dir !== 'string' || options.dir === '') {
    throw new OursConfigError(
      'fileStore.dir',
      `must be a directory path, one per process, got ${describeValue(options?.dir)}`,
    );
  }
  if (options.fsync !== undefined && typeof options.fsync !== 'boolean') {
    throw new OursConfigError(
      'fileStore.fsync',
      `must be true or false, got ${describeValue(options.fsync)}`,
    );
  }
  const maxBytes = wholeOption('fileStore.maxBytes', options.maxBytes, 256 * MIB, 4096);
  const segmentDefault = Math.min(8 * MIB, Math.max(4096, Math.floor(maxBytes / 16)));
  return {
    dir: options.dir,
    flushMs: wholeOption('fileStore.flushMs', options.flushMs, 100, 1, MAX_TIMER_MS),
    maxBytes,
    fsync: options.fsync ?? true,
    segmentBytes: wholeOption('fileStore.segmentBytes', options.segmentBytes, segmentDefault, 1),
  };
}
