import { platform } from '#platform';
import { batchText } from '../platform/batch-text';
import { abortable } from '../deadline';
import { MAX_RESPONSE_CHARS, type FetchLike } from '../fetch-like';
import { version } from '../version';

export type { FetchLike, FetchResponseLike } from '../fetch-like';
export { MAX_RESPONSE_CHARS } from '../fetch-like';

/** What came back: a status and the parsed JSON body (undefined if not JSON). */
export interface ApiResponse {
  status: number;
  body: unknown;
  retryAfter: string | null;
  /** Where a 3xx leads: named in the error, never followed. */
  location: string | null;
}

/** Sent with every request, so Ours can tell this library's traffic apart. */
export const USER_AGENT = `ours-middleware/${version} ${platform.runtime}`;

/** Compresses a request body: on libuv's thread pool on Node, with `CompressionStream` on the web. */
export function compress(body: string | Uint8Array): Promise<Uint8Array> {
  if (!platform.gzip) throw new Error('gzip is not available on this platform'); // the client never asks for it then
  return platform.gzip(body);
}

/**
 * The request body: the events' JSON (serialised once, when queued) joined
 * with the token spliced in, gzipped when `gzip` is on.
 * `tokenPrefix` is `{"token":"…"`, built once per client. A plain `/batch`
 * body goes to the client's own fetch as bytes, to the app's as a string.
 */
export function encodeBody(
  tokenPrefix: string,
  request: { path: string; events: readonly { json: string }[]; gzip: boolean },
  plainAsString: boolean,
): Promise<Uint8Array | string> {
  if (request.path !== '/batch') {
    const json = `${tokenPrefix},${request.events[0]!.json.slice(1)}`;
    return request.gzip ? compress(json) : Promise.resolve(json);
  }
  const head = `${tokenPrefix},"events":[`;
  if (request.gzip) return platform.gzipBatch(head, request.events);
  if (plainAsString) return Promise.resolve(batchText(head, request.events));
  return Promise.resolve(platform.plainBatch(head, request.events));
}

/**
 * POSTs one body under one absolute deadline that covers the response body
 * too (a server that sends headers and then stalls still times out).
 * `cancel` aborts it early (shutdown); once it has, nothing is sent. Rejects
 * on network errors, timeouts and cancellation.
 */
export async function post(
  fetchFn: FetchLike,
  url: string,
  body: Uint8Array | string,
  gzip: boolean,
  timeoutMs: number,
  cancel: AbortSignal,
): Promise<ApiResponse> {
  if (cancel.aborted) throw new Error('cancelled by shutdown'); // its abort event has fired already: never send
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`request timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  timer.unref?.(); // workerd's timers are numbers
  const onCancel = (): void => controller.abort(new Error('cancelled by shutdown'));
  cancel.addEventListener('abort', onCancel, { once: true });
  const { signal } = controller;
  try {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
    };
    if (gzip) headers['content-encoding'] = 'gzip';
    // The deadline holds even when the fetch function ignores its signal.
    const res = await abortable(
      fetchFn(url, { method: 'POST', headers, body, signal, redirect: 'manual' }),
      signal,
    );
    const text = await abortable(res.text(), signal);
    return {
      status: res.status,
      body: parseJson(text),
      retryAfter: res.headers.get('retry-after'),
      location: res.headers.get('location'),
    };
  } catch (err) {
    // Prefer the abort reason ("timed out") over fetch's generic AbortError.
    throw signal.aborted ? (signal.reason as Error) : withCause(err);
  } finally {
    clearTimeout(timer);
    cancel.removeEventListener('abort', onCancel);
  }
}

/**
 * Node's fetch rejects with a bare "fetch failed" and the reason in `cause`
 * ("connect ECONNREFUSED ...", "self-signed certificate"): put it in the
 * message, which is what gets reported.
 */
function withCause(err: unknown): unknown {
  const cause = (err as { cause?: { message?: unknown } } | undefined)?.cause;
  if (
    !(err instanceof Error) ||
    typeof cause?.message !== 'string' ||
    err.message.includes(cause.message)
  )
    return err;
  return new Error(`${err.message}: ${cause.message}`, { cause: err });
}

function parseJson(text: string): unknown {
  if (!text || text.length > MAX_RESPONSE_CHARS) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
