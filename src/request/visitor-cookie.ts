import type { ServerResponse } from 'node:http';

/** Appends `cookie` to the response's `Set-Cookie`, next to the app's own cookies. */
export function addSetCookie(res: ServerResponse, cookie: string): void {
  const existing = res.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('set-cookie', [...list, cookie]);
}

/**
 * Puts `cookie` back if something removed it before the headers are written.
 * The event of a minted visitor carries its id, and an opt-out must outlast
 * the request, so the browser must get the cookie whatever the response
 * becomes: Koa's error handling (`ctx.throw` after a `track()` or an
 * `optOut()`) removes every header set so far, then writes the error
 * response. Installed only on a response that minted a visitor or opted
 * out; runs once.
 */
export function keepCookieOnWriteHead(res: ServerResponse, cookie: string): void {
  const writeHead = res.writeHead;
  res.writeHead = function writeHeadWithVisitorCookie(this: ServerResponse, ...args: unknown[]) {
    res.writeHead = writeHead;
    const current = res.getHeader('set-cookie');
    const kept = Array.isArray(current) ? current.includes(cookie) : current === cookie;
    if (!kept && !res.headersSent) addSetCookie(res, cookie);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}
