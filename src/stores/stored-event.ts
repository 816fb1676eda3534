import type { EventPath, QueuedEvent } from '../queue';
import { MAX_EVENT_AGE_MS } from '../validate';

/**
 * What the durable stores share about an event at rest: its path as one
 * character, and whether it is still worth sending after a restart.
 */
const CODES: Record<EventPath, string> = { '/batch': 'b', '/track': 't', '/identify': 'i' };
const PATHS: Record<string, EventPath> = { b: '/batch', t: '/track', i: '/identify' };

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
 * True when a stored track event is older than the API's 7-day window (less
 * {@link SEND_MARGIN_MS}): sending it would only earn an `invalid_event`.
 * `/identify` calls carry no time and never expire; JSON that does not parse
 * counts as expired, since it cannot be sent either.
 */
export function isExpired(json: string, path: EventPath, now: number): boolean {
  if (path === '/identify') return false;
  let time: unknown;
  try {
    time = (JSON.parse(json) as { time?: unknown }).time;
  } catch {
    return true;
  }
  return typeof time === 'number' && time < now - MAX_EVENT_AGE_MS + SEND_MARGIN_MS;
}

/** Why the stores report what they give up, in the words the client logs. */
export const EXPIRED_WHY = 'stored events older than the API\'s 7-day window were dropped';
export const UNREADABLE_WHY = 'unreadable stored events (a record torn by a crash, or corrupt) were dropped';
