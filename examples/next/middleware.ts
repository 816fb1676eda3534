import { NextResponse } from 'next/server';
import { withOurs } from 'ours-middleware/next';
import { OursClient } from 'ours-middleware';

// The edge runtime has its own client. Here the first visit gets the visitor
// cookie the browser SDK reads, so pages and routes see the same visitor.
const client = new OursClient({ token: process.env.OURS_TOKEN });

export default withOurs(
  (request, event) => {
    if (request.method === 'GET') event.ours.track('Page Requested');
    return NextResponse.next();
  },
  { client, setVisitorCookie: true },
);

export const config = { matcher: ['/((?!_next/|api/|favicon.ico).*)'] };
