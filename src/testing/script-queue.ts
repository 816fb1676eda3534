import { REPLY_KEYS, type MockScript } from './script';
import type { MockPath } from './types';

const PATHS: readonly string[] = [
  '/track',
  '/batch',
  '/identify',
  '/experiments/assignments',
  '/experiments/personalization',
];

/**
 * What the queue needs to know about a request to pick the script item for it.
 */
export interface ScriptContext {
  endpoint: MockPath;
  gzip: boolean;
  wireBytes: number;
  /** Undefined when the body could not be decompressed. */
  decodedBytes: number | undefined;
}

interface Pending {
  script: MockScript;
  left: number;
}

/**
 * The scripted responses, in the order they were added. Each request takes the first
 * item that matches it, so items for another path or condition wait their turn.
 *
 * @example
 * const queue = new ScriptQueue();
 * queue.add([{ status: 500 }]);
 * queue.take({ endpoint: '/track', gzip: false, wireBytes: 10, decodedBytes: 10 }); // { status: 500 }
 */
export class ScriptQueue {
  private items: Pending[] = [];

  /** Validates every item first, so a typo throws at the call site, not mid-test. */
  add(scripts: readonly MockScript[]): void {
    scripts.forEach(assertScript);
    for (const script of scripts) {
      this.items.push({ script, left: script.times === 'always' ? Infinity : (script.times ?? 1) });
    }
  }

  /** Returns (and uses up one turn of) the first item matching the request. */
  take(ctx: ScriptContext): MockScript | undefined {
    const i = this.items.findIndex((item) => matches(item.script, ctx));
    const item = this.items[i];
    if (!item) return undefined;
    item.left -= 1;
    if (item.left <= 0) this.items.splice(i, 1);
    return item.script;
  }

  clear(): void {
    this.items = [];
  }
}

/** Conditional items (rows, body limit, gzip) only match the requests they are about. */
function matches(script: MockScript, ctx: ScriptContext): boolean {
  if (script.path !== undefined && script.path !== ctx.endpoint) return false;
  if (script.rows) return ctx.endpoint === '/batch';
  if (script.rejectGzip) return ctx.gzip;
  if (script.maxBodyBytes !== undefined) {
    const size = script.measure === 'wire' ? ctx.wireBytes : ctx.decodedBytes;
    return size !== undefined && size > script.maxBodyBytes;
  }
  return true;
}

/**
 * Rejects scripts the types cannot catch (plain JS callers, computed values).
 *
 * @example
 * assertScript({ status: 200 }); // throws: a 2xx is what the mock does anyway
 */
export function assertScript(script: MockScript): void {
  const s = script as Record<string, unknown>;
  const keys = REPLY_KEYS.filter((k) => s[k] !== undefined);
  if (keys.length > 1) fail(`sets ${keys.join(' and ')}; an item does one thing`);
  if (s.path !== undefined && !PATHS.includes(s.path as string)) {
    fail(`path must be one of ${PATHS.join(', ')}`);
  }
  if (s.times !== undefined && s.times !== 'always' && !isCount(s.times, 1)) {
    fail(`times must be a positive integer or 'always'`);
  }
  if (s.delayMs !== undefined && !isCount(s.delayMs, 0)) fail('delayMs must be an integer >= 0');
  if (s.status !== undefined && !(isCount(s.status, 400) && (s.status as number) <= 599)) {
    fail('status must be an integer from 400 to 599');
  }
  if (s.rows !== undefined && typeof s.rows !== 'function') fail('rows must be a function');
  if (s.maxBodyBytes !== undefined && !isCount(s.maxBodyBytes, 0)) {
    fail('maxBodyBytes must be an integer >= 0');
  }
  if (s.measure !== undefined && s.measure !== 'decoded' && s.measure !== 'wire') {
    fail(`measure must be 'decoded' or 'wire'`);
  }
  if (s.drop !== undefined && s.drop !== 'before-response' && s.drop !== 'mid-response') {
    fail(`drop must be 'before-response' or 'mid-response'`);
  }
  for (const flag of ['rejectGzip', 'hang'] as const) {
    if (s[flag] !== undefined && s[flag] !== true) fail(`${flag} must be true`);
  }
}

function isCount(value: unknown, min: number): boolean {
  return Number.isInteger(value) && (value as number) >= min;
}

function fail(problem: string): never {
  throw new TypeError(`mock.respondWith(): a script item ${problem}`);
}
