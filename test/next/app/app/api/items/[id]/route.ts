import { withOurs } from 'ours-middleware/next';
import { client } from '../../../../lib/ours';

type Params = { id: string };

// Next's own ctx.params (a Promise from Next 15 on, a plain object in 14): both work through withOurs.
export const GET = withOurs<{ params: Params | Promise<Params> }>(
  async (_request, ctx) => {
    const { id } = await ctx.params;
    ctx.ours.track('Item Viewed', { id });
    return Response.json({ id });
  },
  { client, collectIp: false },
);
