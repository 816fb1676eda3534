import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DropInfo, OursClient } from '../../../src/index';

/** A retry budget that rides out any test outage, with short delays. */
export const PATIENT_RETRY = {
  initialDelayMs: 20,
  maxDelayMs: 100,
  jitterMs: [0, 0] as const,
  maxAttempts: 100_000,
};

/** Temporary directories, removed after the suite. */
export function tempDirs(): { make(): string; cleanup(): void } {
  const dirs: string[] = [];
  return {
    make() {
      const dir = mkdtempSync(join(tmpdir(), 'ours-store-'));
      dirs.push(dir);
      return dir;
    },
    cleanup() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Segment files in a directory, sorted. */
export function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();
}

export { sleep, until } from '../../support/wait';

/** Every `drop` a client reports. */
export function drops(client: OursClient): DropInfo[] {
  const seen: DropInfo[] = [];
  client.on('drop', (d) => seen.push(d));
  return seen;
}

/** The invariant of ClientStats, which recovered and dropped stored events must keep. */
export function balanced(client: OursClient): boolean {
  const s = client.stats();
  return s.tracked === s.delivered + s.failed + s.dropped + s.queued + s.inFlight + s.held;
}

/** distinctIds `${prefix}-0` .. `${prefix}-${n - 1}`, sorted as strings. */
export function ids(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`).sort();
}

/**
 * Registers the clients a test makes, and shuts down after each test those it
 * did not: a failed assertion must leave no client delivering into the next
 * test, or holding the process open so that mocha never reports.
 */
export function shutDownAfterEach(): <T extends { client: OursClient }>(made: T) => T {
  const open: OursClient[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.shutdown({ timeoutMs: 100 })));
  });
  return (made) => {
    open.push(made.client);
    return made;
  };
}
