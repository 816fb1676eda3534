import type { NextCookieOptions, NextCookieStore } from './next-server';

/** The attributes of a `Set-Cookie` line, as `cookies().set()` takes them. */
function cookieOptions(attributes: string[]): NextCookieOptions {
  const options: NextCookieOptions = {};
  for (const attribute of attributes) {
    const [key = '', value = ''] = attribute.split('=');
    switch (key.trim().toLowerCase()) {
      case 'path':
        options.path = value;
        break;
      case 'max-age':
        options.maxAge = Number(value);
        break;
      case 'domain':
        options.domain = value;
        break;
      case 'samesite':
        options.sameSite = value.toLowerCase() === 'none' ? 'none' : 'lax';
        break;
      case 'secure':
        options.secure = true;
        break;
      case 'httponly':
        options.httpOnly = true;
        break;
    }
  }
  return options;
}

/**
 * Sets one of the tracker's own `Set-Cookie` lines (visitor id, opt-out: a
 * name, a URL-safe value, known attributes) through Next's cookie API:
 * `cookies()` of a server action, or a `NextResponse`'s `cookies`, which in
 * middleware also passes it on to the same request's pages.
 */
export function setCookieLine(store: Pick<NextCookieStore, 'set'>, cookie: string): void {
  const [pair = '', ...attributes] = cookie.split(';');
  const eq = pair.indexOf('=');
  store.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim(), cookieOptions(attributes));
}
