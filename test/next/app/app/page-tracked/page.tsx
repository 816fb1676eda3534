import { oursTracker } from 'ours-middleware/next';
import { client } from '../../lib/ours';

export const dynamic = 'force-dynamic';

// A server component: it reads the request through next/headers; it cannot set cookies.
export default async function TrackedPage() {
  const ours = await oursTracker({ client, setVisitorCookie: true });
  ours.track('Page Rendered', { page: 'tracked' });
  return <p>tracked page, visitor {ours.context.userId ?? 'none'}</p>;
}
