import type { ServerResponse } from 'node:http';

/**
 * Calls `done` once, when the response is over: `finish` when it was sent,
 * or `close` when the client went away first (an aborted request fires only
 * `close`). Both frameworks end on Node's ServerResponse, so hooking it works
 * for Koa too, where code after `await next()` runs before the body is written.
 */
export function onResponseDone(res: ServerResponse, done: () => void): void {
  if (res.writableFinished || res.destroyed) {
    done();
    return;
  }
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    res.removeListener('finish', once);
    res.removeListener('close', once);
    done();
  };
  res.once('finish', once);
  res.once('close', once);
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
