import { oursTracker } from 'ours-middleware/next';
import { client } from '../../../lib/ours';

export const dynamic = 'force-dynamic';

// Behind middleware.ts, which mints the visitor: this render of the same request reads it.
export default async function MiddlewareVisitorPage() {
  const ours = await oursTracker({ client, url: '/mw/visitor' });
  ours.track('Visitor Page Rendered');
  return <p>visitor {ours.context.userId ?? 'none'}</p>;
}
