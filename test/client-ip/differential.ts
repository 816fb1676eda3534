import type { MockEvent, MockOurs } from '../../src/testing';
import type { HandlerArgs, TestApp } from '../adapters/harness';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const VISITOR = '0b6f2a5e-9a4d-4c1e-8f3a-2d1c5b7e9f10';

/**
 * Sends each of `requests` (extra headers) to `app`, one event each, and
 * returns per request what the framework said (`theirs`, read in the
 * handler) and what its event says (`ours`), by the request's index: the
 * events' order is no promise.
 */
export async function differential<T>(
  app: TestApp,
  mock: MockOurs,
  requests: readonly Record<string, string | string[]>[],
  path: string,
  theirs: (h: HandlerArgs) => T,
  ours: (event: MockEvent) => T,
): Promise<{ theirs: T[]; ours: T[] }> {
  const out = { theirs: [] as T[], ours: [] as T[] };
  app.handle((h) => {
    const i = Number(h.req.headers['x-case']);
    out.theirs[i] = theirs(h);
    h.ours.track('E', { case: i });
  });
  for (const [i, headers] of requests.entries()) {
    await app.get(path, {
      headers: {
        cookie: `ours_device_id=${VISITOR}`,
        'user-agent': UA,
        'x-case': String(i),
        ...headers,
      },
    });
  }
  for (const e of await mock.waitFor(requests.length))
    out.ours[Number(e.eventProperties!['case'])] = ours(e);
  return out;
}
