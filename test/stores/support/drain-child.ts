/**
 * The README's drain recipe in a process of its own: a client started on a
 * directory another process left, `flush()`, then `shutdown()`. Prints
 * `FLUSHED <report> <stats>` and `SHUTDOWN <report> <stats>`, then exits.
 * Argument: JSON `{ apiUrl, token, dir }`.
 */
import { OursClient, fileStore } from '../../../src/index';

const { apiUrl, token, dir } = JSON.parse(process.argv[2]!) as {
  apiUrl: string;
  token: string;
  dir: string;
};

void (async () => {
  const client = new OursClient({ token, apiUrl, store: fileStore({ dir }), logger: false });
  const flushed = await client.flush();
  console.log(`FLUSHED ${JSON.stringify(flushed)} ${JSON.stringify(client.stats())}`);
  const report = await client.shutdown();
  console.log(`SHUTDOWN ${JSON.stringify(report)} ${JSON.stringify(client.stats())}`);
})();
