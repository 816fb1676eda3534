/**
 * A process that tracks events through a durable store, for the crash tests.
 * Run by `forkTracker()` with its config as JSON in argv[2]. It tracks
 * `count` events (distinctIds `${prefix}-${i}`), waits until the store's
 * window has surely been written, says `tracked`, then waits to be killed or
 * told to `shutdown`. With `exitAtOnce` it calls process.exit() right after
 * tracking instead, to test the write at exit.
 */
import Redis from 'ioredis';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OursClient, fileStore, redisStore, type FileStore } from '../../../src/index';
import { PATIENT_RETRY, sleep } from './helpers';

export interface MiddlewareConfig {
  apiUrl: string;
  token: string;
  count: number;
  prefix: string;
  file?: { dir: string; flushMs?: number };
  redis?: { port: number; stream: string; consumer: string; claimIdleMs: number };
  exitAtOnce?: boolean;
}

const config = JSON.parse(process.argv[2]!) as MiddlewareConfig;
const redis = config.redis ? new Redis({ port: config.redis.port, host: '127.0.0.1' }) : undefined;
const store = config.file
  ? fileStore({ dir: config.file.dir, flushMs: config.file.flushMs ?? 50 })
  : redisStore({
      redis: redis!,
      stream: config.redis!.stream,
      consumer: config.redis!.consumer,
      claimIdleMs: config.redis!.claimIdleMs,
    });
const client = new OursClient({
  token: config.token,
  apiUrl: config.apiUrl,
  store,
  retry: PATIENT_RETRY,
  flushIntervalMs: 20,
  logger: false,
});
const errors: string[] = [];
client.on('error', (err) => errors.push(err.message));

process.on('message', (msg: { type: string; timeoutMs?: number }) => {
  if (msg.type !== 'shutdown') return;
  void client.shutdown({ timeoutMs: msg.timeoutMs ?? 5000 }).then((report) => {
    process.send!({ type: 'done', report, stats: client.stats(), errors }, () => {
      redis?.disconnect();
      process.disconnect();
    });
  });
});

/** Bytes of segment files on disk. */
function onDisk(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

/** Waits until every tracked event is in the store (the API being down, none is settled). */
async function written(): Promise<void> {
  if (config.count === 0) return;
  const deadline = Date.now() + 15_000;
  const done = async (): Promise<boolean> => {
    if (config.file) return onDisk(config.file.dir) === (store as FileStore).diskBytes;
    const { stream, consumer } = config.redis!;
    const mine = (await redis!.call(
      'XPENDING',
      stream,
      'ours',
      '-',
      '+',
      config.count + 1,
      consumer,
    )) as unknown[];
    return mine.length >= config.count;
  };
  while (!(await done().catch(() => false)) && Date.now() < deadline) await sleep(20);
}

void (async () => {
  for (let i = 0; i < config.count; i++)
    client.track({ event: 'Crash Test', userId: `u-${i}`, distinctId: `${config.prefix}-${i}` });
  if (config.exitAtOnce) process.exit(0);
  await written();
  if (process.connected) process.send!({ type: 'tracked', stats: client.stats(), errors });
})();
