import type { EventPath, QueuedEvent, StoreHooks } from './event-store';
import type { StoreDropReason } from '../stats';
import { MAX_EVENT_AGE_MS } from '../validate';

/**
 * What the durable stores share about an event at rest: its path as one
 * character, and whether it is still worth sending after a restart.
 */
const CODES: Record<EventPath, string> = { '/batch': 'b', '/track': 't', '/identify': 'i' };
const PATHS: Record<string, EventPath> = { b: '/batch', t: '/track', i: '/identify' };

/** Why the stores report what they give up, in the words the client logs. */
const EXPIRED_WHY = "stored events older than the API's 7-day window were dropped";
const CORRUPT_WHY = 'unreadable stored events (a record torn by a crash, or corrupt) were dropped';

/** An event is sent this long after recovery at worst; past the window less this, the API would refuse it. */
export const SEND_MARGIN_MS = 60_000;

/** One ASCII character that stands for the path on disk or in a stream entry. */
export function pathCode(path: EventPath): string {
  return CODES[path];
}

/** The path a stored code stands for, or undefined for anything else (a corrupt or foreign record). */
export function pathOf(code: string): EventPath | undefined {
  return PATHS[code];
}

/** Rebuilds the event the client queued; `bytes` is counted the way the client counts it. */
export function storedEvent(json: string, path: EventPath, key: unknown): QueuedEvent {
  return { json, bytes: json.length, path, key };
}

/**
 * Whether a stored event can still be sent: `expired` when a track event is
 * older than the API's 7-day window (less {@link SEND_MARGIN_MS}; sending it
 * would only earn an `invalid_event`), `corrupt` when its JSON does not
 * parse. `/identify` calls carry no time and never expire.
 */
export function checkStored(json: string, path: EventPath, now: number): 'ok' | StoreDropReason {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return 'corrupt';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'corrupt';
  if (path === '/identify') return 'ok';
  const time = (parsed as { time?: unknown }).time;
  return typeof time === 'number' && time < now - MAX_EVENT_AGE_MS + SEND_MARGIN_MS
    ? 'expired'
    : 'ok';
}

/** Counts what a recovery gave up and reports it through the hooks, one line per kind. */
export class GiveUps {
  expired = 0;
  corrupt = 0;

  report(dropped: StoreHooks['dropped']): void {
    if (this.expired) dropped(this.expired, `${this.expired} ${EXPIRED_WHY}`, 'expired');
    if (this.corrupt) dropped(this.corrupt, `${this.corrupt} ${CORRUPT_WHY}`, 'corrupt');
    this.expired = this.corrupt = 0;
  }
}
