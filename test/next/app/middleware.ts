import { NextResponse, type NextFetchEvent, type NextRequest } from 'next/server';
import { withOurs } from 'ours-middleware/next';
import { OursClient } from 'ours-middleware';

// The edge runtime: its own client (a separate sandbox from the Node routes).
const client = new OursClient({
  token: process.env.OURS_TOKEN,
  apiUrl: process.env.OURS_API_URL,
  flushIntervalMs: 3_600_000,
});
const reported: string[] = [];
client.on('error', (err) => void reported.push(err.message));

export default withOurs<NextFetchEvent, NextRequest>(
  (request, event) => {
    // For the tests: what this sandbox's client counted and reported.
    if (request.nextUrl.pathname === '/mw/stats')
      return Response.json({ stats: client.stats(), reported });
    event.ours.track('Middleware Seen', { path: new URL(request.url).pathname });
    return NextResponse.next();
  },
  { client, setVisitorCookie: true },
);

export const config = { matcher: '/mw/:path*' };
