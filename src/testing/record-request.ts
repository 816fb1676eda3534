import type { IncomingMessage } from 'node:http';
import { experimentRoute } from './experiments';
import type { BodyResult } from './read-body';
import type { MockState } from './state';
import type { MockPath, MockRequest } from './types';

/** The production API lives under /api/v1, so the mock does too (`mock.url` is a drop-in). */
const BASE = '/api/v1';
const ENDPOINTS: readonly string[] = ['/track', '/batch', '/identify'];
/** Headers that may carry credentials; recorded as `[redacted]`. */
const SECRET_HEADER = /authorization|cookie|token|api-key/i;

/**
 * The URL path of a request (query string dropped) and the endpoint it names, if any.
 *
 * @example
 * routeOf(req); // { path: '/api/v1/batch', endpoint: '/batch' }
 */
export function routeOf(req: IncomingMessage): { path: string; endpoint: MockPath | null } {
  const path = new URL(req.url ?? '/', 'http://mock').pathname;
  const rest = path.startsWith(BASE) ? path.slice(BASE.length) : '';
  return {
    path,
    endpoint: ENDPOINTS.includes(rest)
      ? (rest as MockPath)
      : (experimentRoute(rest)?.endpoint ?? null),
  };
}

/**
 * Appends a request to `state.requests`, without credentials, before it is answered
 * (`status` is filled in when an answer goes out, and stays `null` if none does).
 *
 * @example
 * const record = recordRequest(state, req, '/api/v1/track', '/track', body);
 * record.status = 200;
 */
export function recordRequest(
  state: MockState,
  req: IncomingMessage,
  path: string,
  endpoint: MockPath | null,
  body: BodyResult,
): MockRequest {
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([name, value]) => [
      name,
      SECRET_HEADER.test(name) ? '[redacted]' : value,
    ]),
  );
  const record: MockRequest = {
    method: req.method ?? 'GET',
    path,
    endpoint,
    status: null,
    headers,
    gzip: body.gzip,
    bytes: body.wireBytes,
    body: body.ok ? redactToken(body.value) : undefined,
    receivedAt: Date.now(),
  };
  state.requests.push(record);
  state.changed();
  return record;
}

/** Recorded bodies end up in assertion diffs and CI logs: never keep the token there. */
function redactToken(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('token' in value))
    return value;
  return { ...value, token: '[redacted]' };
}
