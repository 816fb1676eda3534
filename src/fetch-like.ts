// The fetch shape the client sends through, apart from transport.ts so that
// the platforms' own fetch (node-http-fetch.ts) can use it without a cycle.

/** The part of a fetch Response the client reads. */
export interface FetchResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * Any fetch-compatible function: Node's global fetch (undici), node-fetch 2/3,
 * or a test double. It is asked not to follow redirects (`redirect: 'manual'`):
 * the client reads a 3xx as a wrong `apiUrl` and reports where it leads.
 */
export type FetchLike = (
  url: string,
  init: {
    method: 'POST';
    headers: Record<string, string>;
    body: Uint8Array | string;
    signal: AbortSignal;
    redirect: 'manual';
  },
) => Promise<FetchResponseLike>;

/** Cap on a response body we read: the contract's largest is a 1000-row result list. */
export const MAX_RESPONSE_CHARS = 1024 * 1024;
