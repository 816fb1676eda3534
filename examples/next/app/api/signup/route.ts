import { withOurs } from 'ours-middleware/next';
import { client } from '../../../lib/ours';

// POST /api/signup: the event goes after the response (through after() on Next 15+).
export const POST = withOurs(
  async (request, ctx) => {
    const { email } = (await request.json()) as { email?: string };
    ctx.ours.track('Signed Up', { plan: 'free' });
    if (email) ctx.ours.identify({ email });
    return Response.json({ ok: true });
  },
  { client, setVisitorCookie: true, trustProxy: 'vercel' },
);
