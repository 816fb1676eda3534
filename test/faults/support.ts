/**
 * Shared by the fault, fuzz and security suites: real Express 5 and Koa 3
 * apps with `ours({ client })` mounted, a keep-alive HTTP driver with
 * bounded concurrency, process-level hooks that catch unhandled rejections
 * and uncaught exceptions, and the stats invariant.
 */
import type { Agent, IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { expectBalanced } from '../support/client';
import type { OursClient } from '../../src/index';
import type { MiddlewareOptions } from '../../src/request/middleware-options';
import { send, type Reply } from '../support/http';
import {
  closeServer,
  FRAMEWORKS,
  serveApp,
  type FrameworkName,
  type Tracker,
} from '../adapters/harness';

export type Kind = 'express' | 'koa';
export const KINDS: readonly Kind[] = ['express', 'koa'];
export const FRAMEWORK_NAME: Record<Kind, FrameworkName> = { express: 'Express 5', koa: 'Koa 3' };
const PREVIOUS_MAJOR: Record<Kind, FrameworkName> = { express: 'Express 4', koa: 'Koa 2' };

/** What a route handler gets, whatever the framework. */
export interface RouteArgs {
  ours: Tracker;
  req: IncomingMessage;
  /** Express `req` or Koa `ctx`. */
  target: unknown;
}

/** Returns the response body; the default tracks one event with the `x-id` header as distinctId. */
export type Route = (args: RouteArgs) => string;

/** Tracks `Fault Test` with distinctId `x-id` and answers `app:<id>`. */
export const trackById: Route = ({ ours, req }) => {
  const id = String(req.headers['x-id'] ?? 'none');
  ours.track('Fault Test', { seq: id }, { distinctId: id, externalId: 'user-1' });
  return `app:${id}`;
};

export interface AppOptions {
  route?: Route;
  /** Runs on the bare app first (trust proxy, app.proxy...). */
  setup?: (app: any) => void;
  maxHeaderSize?: number;
  /** More `ours()` options next to `client`. */
  ours?: Omit<MiddlewareOptions<any>, 'client'>;
  /** Express 4 / Koa 2 instead of Express 5 / Koa 3. */
  previousMajor?: boolean;
}

export interface RunningApp {
  readonly kind: Kind;
  readonly port: number;
  /** Errors that reached the framework's error handling. */
  readonly appErrors: unknown[];
  close(): Promise<void>;
}

/**
 * A real Express 5 or Koa 3 app (or 4 / 2) on 127.0.0.1 with `ours({ client })`
 * mounted, built by the adapter harness (`serveApp`): every response carries
 * `x-app: ours-test`, so a driver can tell the app's own answers.
 */
export async function startApp(
  kind: Kind,
  client: OursClient,
  options: AppOptions = {},
): Promise<RunningApp> {
  const name = (options.previousMajor ? PREVIOUS_MAJOR : FRAMEWORK_NAME)[kind];
  const fw = FRAMEWORKS.find((f) => f.name === name)!;
  const route = options.route ?? trackById;
  const appErrors: unknown[] = [];
  const { server, port } = await serveApp(
    fw,
    fw.ours({ client, ...options.ours }),
    () =>
      ({ ours, req, res, target }) => {
        const body = route({ ours, req, target });
        res.setHeader('x-app', 'ours-test');
        return body;
      },
    appErrors,
    { setup: options.setup, maxHeaderSize: options.maxHeaderSize ?? 16 * 1024 },
  );
  return { kind, port, appErrors, close: () => closeServer(server) };
}

/** A response as the driver saw it. */
export { send };
export type { Reply };

/** Runs `count` jobs with at most `concurrency` at once; resolves with their results in order. */
export async function pool<T>(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await job(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/**
 * Sends one request per id (`x-id` header) to the app and checks every
 * response is the app's own. Returns the response times. That tracking never
 * delays a response is shown by order (the responses end while the API still
 * holds a request), not by a bound in milliseconds: a loaded machine exceeds
 * any bound, and the latency itself is measured by the benches.
 */
export async function hit(
  app: RunningApp,
  ids: readonly string[],
  agent: Agent,
  concurrency = 8,
): Promise<number[]> {
  const replies = await pool(ids.length, concurrency, (i) =>
    send(app.port, `/page?n=${i}`, {
      headers: { 'x-id': ids[i]!, 'user-agent': 'FaultSuite/1.0' },
      agent,
    }),
  );
  replies.forEach((r, i) => {
    expect(r.status, `status of ${ids[i]}`).to.equal(200);
    expect(r.body).to.equal(`app:${ids[i]}`);
    expect(r.headers['x-app']).to.equal('ours-test');
  });
  expect(app.appErrors).to.deep.equal([]);
  return replies.map((r) => r.ms);
}

export { expectBalanced };

/** Checks the stats invariant every few ms until stopped; `stop()` throws the first imbalance seen. */
export function watchBalance(client: OursClient, everyMs = 2): { stop(): void; samples: number } {
  let failure: unknown;
  const state = { samples: 0 };
  const timer = setInterval(() => {
    state.samples++;
    try {
      expectBalanced(client);
    } catch (err) {
      failure ??= err;
    }
  }, everyMs);
  timer.unref(); // a failed test must not keep the process alive
  return {
    get samples() {
      return state.samples;
    },
    stop() {
      clearInterval(timer);
      if (failure) throw failure;
      expectBalanced(client);
    },
  };
}

/**
 * Records every unhandled rejection and uncaught exception while a suite
 * runs (installed in `before`, checked and removed in `after`).
 */
export function processHooks(): { install(): void; check(): void } {
  const seen: string[] = [];
  const onRejection = (reason: unknown): void =>
    void seen.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`);
  const onException = (err: Error, origin: string): void =>
    void seen.push(`${origin}: ${String(err?.stack ?? err)}`);
  return {
    install() {
      process.on('unhandledRejection', onRejection);
      process.on('uncaughtExceptionMonitor', onException);
    },
    check() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtExceptionMonitor', onException);
      expect(seen).to.deep.equal([]);
    },
  };
}

/** `[prefix-0, prefix-1, ...]`. */
export const idsOf = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** distinctIds of the events in one recorded `/batch` request body. */
export function batchIds(body: unknown): string[] {
  const events = (body as { events?: { distinctId?: string }[] } | undefined)?.events ?? [];
  return events.map((e) => String(e.distinctId));
}

export { sleep, until } from '../support/wait';
