import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../../support/http';

/** How to get the server the Redis store tests need, said when it is missing. */
export const INSTALL_HINT =
  'the redisStore tests need a real redis-server (6.2 or later) on PATH: install it with ' +
  '`apt-get update && apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)';

export interface RedisServer {
  port: number;
  stop(): Promise<void>;
}

/** Waits for redis-server to say it is ready; rejects with its output if it exits first. */
function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start in 30 s:\n${output}`)),
      30_000, // a loaded machine is slow to start it
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    });
  });
}

/**
 * Starts a throwaway redis-server on loopback, on a free port, with no
 * persistence. Throws (failing the suite, never skipping it) when
 * redis-server is not installed.
 */
export async function startRedis(): Promise<RedisServer> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(`redis-server not found: ${INSTALL_HINT}`);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      await ready(child);
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt < 2) continue; // the port was taken meanwhile
      throw err;
    }
    return {
      port,
      async stop() {
        if (child.exitCode !== null) return;
        child.kill('SIGKILL');
        await once(child, 'exit');
      },
    };
  }
}
