import { withOurs } from 'ours-middleware/next';
import { client } from '../../../lib/ours';

// The handler throws after tracking: Next answers 500, and the event is still sent.
export const POST = withOurs(
  (_request, ctx) => {
    ctx.ours.track('Checkout Failed');
    throw new Error('the handler failed');
  },
  { client },
);
