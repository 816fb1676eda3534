'use server';

import { oursTracker } from 'ours-middleware/next';
import { client } from '../lib/ours';

// A server action can set cookies, so it can mint the visitor.
export async function subscribe(): Promise<void> {
  const ours = await oursTracker({ client, setVisitorCookie: true });
  ours.track('Newsletter Subscribed');
}
