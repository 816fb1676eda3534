import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { MAX_RESPONSE_CHARS, type FetchLike, type FetchResponseLike } from './fetch-like';

/**
 * Kept-alive sockets idle longer than this are closed rather than reused: a
 * server that closes an idle connection first would otherwise reset the next
 * request sent on it. Servers that announce `Keep-Alive: timeout=N` shorten it.
 */
const IDLE_SOCKET_MS = 4000;

/** Errors of a kept-alive socket that the server closed while we picked it up. */
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE']);

/**
 * The client's default `fetch`: Node's own http(s) client over one pool of
 * kept-alive connections per client (`maxSockets` = `maxInFlight`), whose
 * idle sockets never keep the process alive. Node's global fetch (undici)
 * costs more CPU per request (measured in
 * docs/design.md), which a busy server pays every batch. Only what the client needs:
 * redirects handed back, never followed (`redirect: 'manual'`), no decompression (we
 * send no Accept-Encoding), a response body read up to the cap the client parses.
 */
export function httpFetch(maxSockets: number, idleSocketMs = IDLE_SOCKET_MS): FetchLike {
  const options = { keepAlive: true, maxSockets, timeout: idleSocketMs };
  const agents = { http: new http.Agent(options), https: new https.Agent(options) };

  const send = (
    url: URL,
    init: Parameters<FetchLike>[1],
    firstTry: boolean,
  ): Promise<FetchResponseLike> =>
    new Promise((resolve, reject) => {
      if (init.signal.aborted) return reject(init.signal.reason); // never open a connection for a cancelled request
      const secure = url.protocol === 'https:';
      const request = (secure ? https : http).request(url, {
        method: init.method,
        headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
        agent: secure ? agents.https : agents.http,
        signal: init.signal,
      });
      request.on('response', (res) => resolve(responseOf(res, res.statusCode ?? 0)));
      request.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive socket that the server closed as we reused it: send once more on a fresh one rather
        // than back off for seconds. Should the first copy have arrived, its events keep their distinctId.
        if (
          firstTry &&
          request.reusedSocket &&
          STALE_SOCKET.has(err.code ?? '') &&
          !init.signal.aborted
        ) {
          return resolve(send(url, init, false));
        }
        reject(err);
      });
      request.end(init.body);
    });

  return (url, init) => send(new URL(url), init, true);
}

function responseOf(res: IncomingMessage, status: number): FetchResponseLike {
  return {
    status,
    headers: { get: (name) => headerValue(res.headers[name.toLowerCase()]) },
    text: () => readText(res, MAX_RESPONSE_CHARS),
  };
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The body as text; past `maxChars` reading stops and the text is cut there (+1, so callers see it was cut). */
function readText(res: IncomingMessage, maxChars: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > maxChars) {
        res.destroy();
        resolve(text.slice(0, maxChars + 1));
      }
    });
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}
