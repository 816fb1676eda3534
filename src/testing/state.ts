import { describeIssue, type ContractIssue } from '../contract/check';
import { ExperimentBook } from './experiments';
import { ScriptQueue } from './script-queue';
import type { MockEvent, MockIdentify, MockRequest, MockViolation, WaitForOptions } from './types';

/**
 * Everything a mock records, plus its script queue. The arrays are cleared in place on
 * `reset()`, so a reference a test kept stays the live list.
 *
 * @example
 * const state = new MockState();
 * state.events.push({ event: 'x' });
 * state.changed();
 */
export class MockState {
  readonly events: MockEvent[] = [];
  readonly identifies: MockIdentify[] = [];
  readonly requests: MockRequest[] = [];
  readonly violations: MockViolation[] = [];
  readonly scripts = new ScriptQueue();
  /** Declared experiments and personalizations, and recorded impressions. */
  readonly experiments = new ExperimentBook();
  private readonly listeners = new Set<() => void>();

  /** Calls `listener` after each recorded change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  addViolations(path: string, issues: readonly ContractIssue[]): void {
    for (const issue of issues)
      this.violations.push({ ...issue, path, message: describeIssue(issue) });
  }

  reset(): void {
    for (const list of [this.events, this.identifies, this.requests, this.violations])
      list.length = 0;
    this.scripts.clear();
    this.experiments.clear();
  }

  /** distinctIds carried by more than one accepted event, each listed once. */
  duplicates(): string[] {
    const seen = new Map<string, number>();
    for (const { distinctId } of this.events) {
      if (typeof distinctId === 'string') seen.set(distinctId, (seen.get(distinctId) ?? 0) + 1);
    }
    return [...seen].filter(([, count]) => count > 1).map(([id]) => id);
  }
}

/**
 * Resolves with a copy of the counted list once it holds `count` items; rejects on
 * timeout or when `closed` fires, with what did arrive, to make the failure readable.
 *
 * @example
 * const events = await waitForCount(state, 2, { timeoutMs: 500 }, closing.signal);
 */
export function waitForCount<T extends 'events' | 'identifies' | 'requests' = 'events'>(
  state: MockState,
  count: number,
  options: WaitForOptions & { of?: T },
  closed: AbortSignal,
): Promise<MockState[T]> {
  const { timeoutMs = 5000, of = 'events' } = options;
  const list = state[of] as MockState[T];
  if (list.length >= count) return Promise.resolve([...list] as MockState[T]);
  return new Promise((resolve, reject) => {
    const finish = (error?: string): void => {
      clearTimeout(timer);
      unsubscribe();
      closed.removeEventListener('abort', onClose);
      if (error)
        reject(
          new Error(
            `mock.waitFor(${count}${of === 'events' ? '' : `, ${of}`}): ${error}; ${summary(state, of)}`,
          ),
        );
      else resolve([...list] as MockState[T]);
    };
    const onClose = (): void => finish('the mock was closed');
    const timer = setTimeout(() => finish(`timed out after ${timeoutMs} ms`), timeoutMs);
    const unsubscribe = state.subscribe(() => list.length >= count && finish());
    closed.addEventListener('abort', onClose);
  });
}

/** What arrived so far: counts, the last request statuses, the first violations. */
function summary(state: MockState, of: string): string {
  const got = `got ${state[of as 'events'].length} ${of}`;
  const seen = state.requests.slice(-10).map((r) => `${r.path} -> ${r.status ?? 'no answer'}`);
  const requests = `${state.requests.length} request(s)${seen.length ? ` (${seen.join(', ')})` : ''}`;
  const bad = state.violations.slice(0, 3).map((v) => v.message);
  const violations = bad.length ? `; contract violations: ${bad.join('; ')}` : '';
  return `${got} from ${requests}${violations}`;
}
