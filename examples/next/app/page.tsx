import { oursTracker } from 'ours-middleware/next';
import { client } from '../lib/ours';
import { subscribe } from './actions';

export const dynamic = 'force-dynamic';

// A server component reads the request through next/headers (it cannot set cookies: middleware.ts does).
export default async function Home() {
  const ours = await oursTracker({ client, url: '/' });
  ours.track('Home Viewed');
  return (
    <form action={subscribe}>
      <button type="submit">Subscribe</button>
    </form>
  );
}
