import { platform } from '#platform';
import type { AwaitedEvent } from './flush-waiter';

/**
 * A `/batch` request's events, once its body is encoded: their JSON is read
 * again only to split the batch (413), resend part of it, or encode it
 * without gzip (415). Held meanwhile, every in-flight event's string is
 * copied by each young-generation GC until the API answers; released, the
 * body alone holds it (bench/RESULTS.md, issue 19). Only for the in-memory
 * store (a durable store may still write or read it) and where the platform
 * can read a body back (`bodyText`).
 */
export function releaseJson(events: readonly AwaitedEvent[]): void {
  for (const event of events) (event as { json: string }).json = '';
}

/** Puts each event's JSON back, read from the body it was encoded into (in the same order). */
export function restoreJson(
  events: readonly AwaitedEvent[],
  body: Uint8Array | string,
  gzip: boolean,
): void {
  const rows = (JSON.parse(platform.bodyText!(body, gzip)) as { events: unknown[] }).events;
  if (rows.length !== events.length)
    throw new Error(`a sent body held ${rows.length} events, not ${events.length}`);
  events.forEach((event, i) => ((event as { json: string }).json = JSON.stringify(rows[i])));
}
