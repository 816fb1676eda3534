import type { Cancellation } from '../cancellation';
import { post, type ApiResponse, type FetchLike } from '../client/post-events';

/** The page the visitor is on, for URL eligibility (bucketing ignores it). */
export interface PageContext {
  url: string;
  search?: string | undefined;
}

/**
 * The page context sent for URL eligibility: the event's `current_url` (the
 * same extracted, and once redacted, URL the events carry) and its query.
 *
 * @example
 * pageContext('https://shop.example/p?utm_source=meta'); // { url: '…', search: '?utm_source=meta' }
 */
export function pageContext(url: string | null | undefined): PageContext | undefined {
  if (typeof url !== 'string') return undefined;
  const query = url.indexOf('?');
  const hash = url.indexOf('#', query + 1);
  if (query === -1) return { url };
  return { url, search: url.slice(query, hash === -1 ? undefined : hash) };
}

/**
 * How one request to the experiments API ended:
 * `ok` with the 200 body; `final` for a 4xx other than 429 (asking again will
 * not help: unknown key, bad token); `transient` for 429, 5xx, timeouts and
 * network errors (the API may be back soon).
 */
export type ApiOutcome =
  { kind: 'ok'; body: unknown } | { kind: 'final' | 'transient'; status?: number; reason: string };

/**
 * The two endpoints of Ours' server-side experiments, posted with the
 * client's transport (`post()`: one deadline per request, no redirects,
 * capped response). The token travels in the body, as the API wants it.
 *
 * @example
 * const api = new ExperimentsApi(fetch, 'https://api.oursprivacy.com/api/v1', 'exp_…', 2000, new Cancellation());
 * const outcome = await api.assignment('pricing', 'visitor-1', { url: 'https://shop.example/pricing' }, true);
 */
export class ExperimentsApi {
  constructor(
    private readonly fetch: FetchLike,
    private readonly apiUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
    private readonly cancellation: Cancellation,
  ) {}

  assignment(
    key: string,
    visitorId: string,
    context: PageContext | undefined,
    trackImpression: boolean,
  ): Promise<ApiOutcome> {
    const body = {
      token: this.token,
      visitor_id: visitorId,
      context: context ?? null,
      track_impression: trackImpression,
    };
    return this.#post(`/experiments/assignments/${encodeURIComponent(key)}`, body);
  }

  personalization(visitorId: string): Promise<ApiOutcome> {
    return this.#post('/experiments/personalization', { token: this.token, visitor_id: visitorId });
  }

  /** Never rejects: every failure is an outcome. */
  async #post(path: string, body: Record<string, unknown>): Promise<ApiOutcome> {
    let res: ApiResponse;
    try {
      res = await this.cancellation.run((cancel) =>
        post(this.fetch, this.apiUrl + path, JSON.stringify(body), false, this.timeoutMs, cancel),
      );
    } catch (err) {
      return {
        kind: 'transient',
        reason: `network error: ${(err as Error)?.message ?? String(err)}`,
      };
    }
    if (res.status >= 200 && res.status < 300) return { kind: 'ok', body: res.body };
    if (res.status >= 300 && res.status < 400) {
      // Never followed: the token is in the body. The API does not redirect, so apiUrl is wrong.
      const reason = `HTTP ${res.status} redirecting to ${res.location ?? 'nowhere (no Location)'}: apiUrl is wrong`;
      return { kind: 'final', status: res.status, reason };
    }
    const error = (res.body as { error?: unknown } | undefined)?.error;
    const reason = `HTTP ${res.status}${typeof error === 'string' ? `: ${error.slice(0, 200)}` : ''}`;
    const final = res.status >= 400 && res.status < 500 && res.status !== 429;
    return { kind: final ? 'final' : 'transient', status: res.status, reason };
  }
}
