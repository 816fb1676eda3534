import type { ServerResponse } from 'node:http';

/**
 * Calls `done` when the response is over: `finish` once it was sent, `close`
 * when the client went away first. Node 20 also emits `close` after `finish`,
 * for HTTP/1 and HTTP/2 responses alike; listening to both does not rely on
 * it. `done` runs once or twice and must tolerate the second call.
 * Plain listeners: `once()` wrappers and removing them cost more than the
 * rest of the hand-off (bench `parts`), and the response is dropped right after.
 * Both frameworks end on Node's ServerResponse, so this works for Koa too,
 * where code after `await next()` runs before the body is written.
 */
export function onResponseDone(res: ServerResponse, done: () => void): void {
  if (res.writableFinished || res.destroyed) return done();
  res.on('finish', done);
  res.on('close', done);
}

/**
 * For serverless platforms that freeze the process once the response ends:
 * delays `res.end()` until `beforeEnd()` settles or `timeoutMs` passes, so
 * delivery finishes while the function still runs. Opt-in (`flushOnResponse`)
 * because it holds the response back by up to `timeoutMs`.
 */
export function holdEnd(res: ServerResponse, beforeEnd: () => Promise<unknown>, timeoutMs: number): void {
  const end = res.end;
  res.end = function endAfterFlush(this: ServerResponse, ...args: unknown[]) {
    res.end = end;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    Promise.race([beforeEnd().catch(() => undefined), deadline]).then(() => {
      clearTimeout(timer);
      (end as (...a: unknown[]) => void).apply(res, args);
    });
    return res;
  } as ServerResponse['end'];
}
