import { withOurs } from 'ours-middleware/next';
import { client } from '../../../lib/ours';

// Every hook: skip (?skip=1), identify (async), beforeSend (throws on ?fail=1), consent, gpc.
export const GET = withOurs(
  (request, ctx) => {
    ctx.ours.track('Hooked', { step: 'one' });
    return new Response('hooked');
  },
  {
    client,
    skip: (request) => new URL(request.url).searchParams.has('skip'),
    identify: async (request) => ({ externalId: request.headers.get('x-user') ?? undefined }),
    beforeSend: (event, request) => {
      if (new URL(request.url).searchParams.has('fail'))
        throw new Error('beforeSend failed on purpose');
      if (!('event' in event)) return; // an identify call: sent as it is
      event.eventProperties = { ...event.eventProperties, enriched: 'yes' };
    },
    consent: 'cookie',
    gpc: 'drop',
    clientIp: (request) => request.headers.get('x-test-ip') ?? undefined,
  },
);
