import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { ClientStats, FlushReport } from '../../../src/index';
import type { MockOurs } from '../../../src/testing';
import type { MiddlewareConfig } from './tracker-child';

export interface TrackerMessage {
  type: 'tracked' | 'done';
  stats: ClientStats;
  errors: string[];
  report?: FlushReport;
}

/** A tracker child process and its messages. */
export class Tracker {
  readonly messages: TrackerMessage[] = [];
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  constructor(readonly child: ChildProcess) {
    child.on('message', (msg) => this.messages.push(msg as TrackerMessage));
    this.exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  }

  /** Resolves with the first message of this type. */
  async next(type: TrackerMessage['type'], timeoutMs = 20_000): Promise<TrackerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.type === type);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(
          `tracker exited (${this.child.exitCode ?? this.child.signalCode}) before '${type}'`,
        );
      if (Date.now() > deadline)
        throw new Error(`tracker sent no '${type}' within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  async shutdown(timeoutMs = 5000): Promise<TrackerMessage> {
    this.child.send({ type: 'shutdown', timeoutMs });
    const done = await this.next('done', timeoutMs + 10_000);
    await this.exited;
    return done;
  }
}

/** Trackers not yet killed or shut down. */
const live = new Set<Tracker>();

/** Kills the trackers still running: a failed test's would keep mocha from exiting. */
export async function killTrackers(): Promise<void> {
  await Promise.all([...live].map((tracker) => tracker.kill()));
}

export function forkTracker(config: MiddlewareConfig): Tracker {
  const child = fork(join(__dirname, 'tracker-child.ts'), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const tracker = new Tracker(child);
  live.add(tracker);
  void tracker.exited.then(() => live.delete(tracker));
  return tracker;
}

/**
 * What a process killed during an outage leaves in `dir`: `n` events
 * (distinctIds `${prefix}-${i}`) written and never delivered. The mock is
 * down (503) while it runs, and reset after.
 */
export async function leftBehind(
  mock: MockOurs,
  token: string,
  dir: string,
  prefix: string,
  n: number,
): Promise<string> {
  mock.respondWith({ status: 503, times: 'always' });
  const tracker = forkTracker({ apiUrl: mock.url, token, count: n, prefix, file: { dir } });
  await tracker.next('tracked');
  await tracker.kill();
  mock.reset();
  return dir;
}
