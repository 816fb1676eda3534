import type { ServerResponse } from 'node:http';
import { responseSchemas } from '../contract/schema';
import type { MockPath } from './types';

/**
 * A JSON answer the mock is about to send.
 */
export interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * Fields a failure body may carry beyond `success` and `error`.
 *
 * @example
 * failure('/batch', 413, 'too big', { limit: 1000 } satisfies FailureExtras);
 */
export interface FailureExtras {
  limit?: number | string;
  results?: unknown[];
  headers?: Record<string, string>;
}

/**
 * The body the contract documents for a failure `status` on `endpoint`: exactly its
 * fields, so a client that validates responses sees what production sends. Exceptions:
 * every 400 carries `error` (the mock's main diagnostic), every 413 carries `limit`, and a
 * status the contract does not list for that endpoint gets `{ success: false, error }`.
 *
 * @example
 * failure('/track', 429, 'rate limited').body; // { success: false }
 * failure('/batch', 500, 'queue down').body;   // { success: false, error: 'queue down', retryable: true }
 */
export function failure(
  endpoint: MockPath | null,
  status: number,
  error: string,
  extras: FailureExtras = {},
): Reply {
  const key = endpoint?.slice(1) ?? '';
  const declared = responseSchemas[key]?.[status]?.properties;
  const body: Record<string, unknown> = { success: false };
  if (!declared || declared.error || status === 400) body.error = error;
  if (declared?.retryable) body.retryable = true;
  if (status === 413) body.limit = extras.limit ?? 'unknown';
  if (declared?.results && extras.results) body.results = extras.results;
  return { status, body, ...(extras.headers ? { headers: extras.headers } : {}) };
}

/**
 * Sends `reply` as JSON with an exact Content-Length.
 *
 * @example
 * sendJson(res, { status: 200, body: { success: true } });
 */
export function sendJson(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

/**
 * Sends the status line, headers (with the full Content-Length) and half the body, then
 * destroys the socket once that much is flushed: the client sees a response start and
 * then break, as with a proxy dying mid-stream.
 *
 * @example
 * sendPartial(res, { status: 200, body: { success: true } });
 */
export function sendPartial(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  });
  // The write callback runs once the bytes reach the socket; destroying earlier could
  // discard them and turn this into a plain "connection dropped".
  res.write(text.slice(0, Math.ceil(text.length / 2)), () => res.socket?.destroy());
}

/**
 * Never answers: resolves when the client goes away or the mock closes, so the handler
 * does not outlive either.
 *
 * @example
 * await hang(res, closing.signal);
 */
export function hang(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || res.destroyed) return resolve();
    const done = (): void => {
      signal.removeEventListener('abort', done);
      res.off('close', done);
      resolve();
    };
    signal.addEventListener('abort', done);
    res.on('close', done);
  });
}
