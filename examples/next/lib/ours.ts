import { OursClient } from 'ours-middleware';

/**
 * One client per server process, shared by every route (kept on globalThis
 * so `next dev`'s reloads do not make one per edit). OURS_TOKEN must be set
 * at `next build` too: Next evaluates route modules to collect page data.
 */
export const client: OursClient = ((globalThis as { oursClient?: OursClient }).oursClient ??=
  new OursClient({ token: process.env.OURS_TOKEN }));
client.on('error', (err) => console.error(`[ours] ${err.message}`));
