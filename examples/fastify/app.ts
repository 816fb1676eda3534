/**
 * A small shop on Fastify 5 with `request.ours`: page views app-wide, a
 * sign-up that sets the identity, a purchase sent once per order
 * (`distinctId`), a skipped health check, and `identify(request)` reading a
 * fake session header.
 *
 * Imports: in your own app, write
 *     import { ours } from 'ours-middleware/fastify';
 * (this example lives inside the package, see examples/koa/app.ts).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { ours, type OursFastifyOptions } from '../../adapters/fastify';

/** Builds the shop, with `options` for the plugin (`client` or `token`...). Await `app.ready()` or `listen()`. */
export function createApp(options: OursFastifyOptions = {}): FastifyInstance {
  const app = Fastify({ trustProxy: 'loopback' }); // behind a proxy on this host: its X-Forwarded-For is believed
  void app.register(ours, {
    skip: (request) => request.url === '/health',
    identify: (request) => {
      const user = request.headers['x-demo-user'];
      return typeof user === 'string' ? { externalId: user } : undefined;
    },
    ...options,
  });

  app.get('/', async (request) => {
    request.ours.track('Page Viewed');
    return { page: 'home' };
  });

  app.post<{ Body: { email?: string } }>('/signup', async (request, reply) => {
    const email = request.body?.email;
    if (!email) return reply.code(400).send({ error: 'email is required' });
    request.ours.setIdentity({ externalId: `u_${email.split('@')[0]}`, email });
    request.ours.identify({ email });
    request.ours.track('Signed Up');
    return reply.code(201).send({ ok: true });
  });

  app.post<{ Params: { id: string } }>('/orders/:id/complete', async (request) => {
    // distinctId: a retried request sends the same order once.
    request.ours.track(
      'Order Completed',
      { orderId: request.params.id },
      { distinctId: `order-${request.params.id}` },
    );
    return { ok: true };
  });

  app.get('/health', async () => 'ok');
  return app;
}
