import { OursClient, type OursError } from 'ours-middleware';

/** What the client reported (hook failures, bad input), for the tests to read at /api/errors. */
export const reported: string[] = ((globalThis as { __oursReported?: string[] }).__oursReported ??=
  []);

function makeClient(): OursClient {
  const client = new OursClient({
    token: process.env.OURS_TOKEN,
    apiUrl: process.env.OURS_API_URL,
    flushIntervalMs: 100,
    logger: false,
  });
  client.on('error', (err: OursError) => void reported.push(err.message));
  return client;
}

/** One client per server process: every route shares it (and its batches). */
export const client: OursClient = ((globalThis as { __oursClient?: OursClient }).__oursClient ??=
  makeClient());
