import { withOurs } from 'ours-middleware/next';
import { client } from '../../../lib/ours';

// The route handler of the README: one event, answered at once.
export const POST = withOurs(
  async (request, ctx) => {
    const body = (await request.json()) as { plan?: string };
    ctx.ours.track('Signed Up', { plan: body.plan ?? 'free' });
    return Response.json({ ok: true });
  },
  { client, setVisitorCookie: true, trustProxy: 'vercel' },
);

// A streamed response: the event goes once the body is done, not before.
export const GET = withOurs(
  (_request, ctx) => {
    ctx.ours.track('Stream Read');
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode('a'));
        await new Promise((resolve) => setTimeout(resolve, 50));
        controller.enqueue(encoder.encode('b'));
        controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain' } });
  },
  { client },
);
