import { reported } from '../../../lib/ours';

export const dynamic = 'force-dynamic';

// For the tests: what the client reported so far.
export function GET() {
  return Response.json(reported);
}
