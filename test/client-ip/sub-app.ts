import express5, { type Request } from 'express';
import express4 from 'express4';
import { ours as oursExpress } from '../../adapters/express';
import type { MockEvent } from '../../src/testing';
import { send, type Bed } from '../adapters/harness';

/**
 * One request to `/sub/x` of an Express sub-app that trusts one proxy hop,
 * mounted under a parent that trusts none (the parent mounts `ours()`): what
 * `read` says of the sub-app's own `req`, and the event it tracked. `setupSub`
 * sees the sub-app before its route.
 */
export async function throughSubApp<T>(
  t: Bed,
  headers: Record<string, string>,
  read: (req: Request) => T,
  setupSub?: (sub: ReturnType<typeof express5>) => void,
): Promise<{ theirs: T; event: MockEvent }> {
  const express = t.fw.name === 'Express 4' ? express4 : express5;
  const app = express();
  app.use(oursExpress({ client: t.client() }));
  const sub = express();
  sub.set('trust proxy', 1);
  setupSub?.(sub);
  let theirs: T | undefined;
  sub.get('/x', (req, res) => {
    theirs = read(req as Request);
    req.ours.track('E');
    res.send('ok');
  });
  app.use('/sub', sub);
  await send(await t.listen(app), '/sub/x', { headers });
  const [event] = await t.mock.waitFor(1);
  return { theirs: theirs as T, event: event! };
}
