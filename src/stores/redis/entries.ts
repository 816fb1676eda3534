import type { EventPath } from '../event-store';
import { pathOf } from '../stored-event';
import type { RedisLike, StreamNames } from './commands';

/** A stream entry read back: the event it holds, or `undefined` fields when it is not one of ours. */
export interface StoredEntry {
  id: string;
  path: EventPath | undefined;
  json: string | undefined;
  /** Deleted from the stream while still pending (settled, but its XACK was lost). */
  deleted: boolean;
}

/** Entries read or claimed per command. */
const COUNT = 500;

/** `[id, [field, value, ...]]`, or `[id, null]` for an entry deleted while pending. */
function parseEntry(raw: unknown): StoredEntry | undefined {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') return undefined;
  const [id, fields] = raw as [string, unknown];
  const entry: StoredEntry = {
    id,
    path: undefined,
    json: undefined,
    deleted: !Array.isArray(fields),
  };
  if (!Array.isArray(fields)) return entry;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [name, value] = [String(fields[i]), String(fields[i + 1])];
    if (name === 'p') entry.path = pathOf(value);
    else if (name === 'j') entry.json = value;
  }
  return entry;
}

function parseEntries(raw: unknown): StoredEntry[] {
  return Array.isArray(raw)
    ? raw.map(parseEntry).filter((e): e is StoredEntry => e !== undefined)
    : [];
}

/**
 * Entries still pending for this consumer name: what an earlier process with
 * the same name (a restarted container keeps its hostname, and often its pid)
 * leased and never settled. Reads the pending list from the start, in pages.
 */
export async function* ownPending(
  redis: RedisLike,
  { stream, group, consumer }: StreamNames,
): AsyncGenerator<StoredEntry[]> {
  let after = '0';
  for (;;) {
    const reply = (await redis.call(
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      COUNT,
      'STREAMS',
      stream,
      after,
    )) as [string, unknown][] | null;
    const entries = parseEntries(reply?.[0]?.[1]);
    if (!entries.length) return;
    yield entries;
    after = entries.at(-1)!.id;
  }
}

/**
 * One XAUTOCLAIM page: entries of any consumer of the group idle longer than
 * `minIdleMs` (their owner stopped touching them: it died), now this
 * consumer's. Returns the cursor to go on from, `0-0` once the list is done.
 */
export async function claimIdle(
  redis: RedisLike,
  { stream, group, consumer }: StreamNames,
  minIdleMs: number,
  cursor: string,
): Promise<{ cursor: string; entries: StoredEntry[] }> {
  const reply = (await redis.call(
    'XAUTOCLAIM',
    stream,
    group,
    consumer,
    minIdleMs,
    cursor,
    'COUNT',
    COUNT,
  )) as [string, unknown] | null;
  return {
    cursor: typeof reply?.[0] === 'string' ? reply[0] : '0-0',
    entries: parseEntries(reply?.[1]),
  };
}
