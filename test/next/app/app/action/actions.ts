'use server';

import { oursTracker } from 'ours-middleware/next';
import { client } from '../../lib/ours';

// A server action: it can set the visitor cookie.
export async function subscribe(): Promise<void> {
  const ours = await oursTracker({ client, setVisitorCookie: true });
  ours.track('Subscribed', { via: 'action' });
}
