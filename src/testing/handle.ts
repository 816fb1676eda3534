import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeIssue } from '../contract/check';
import { answerBatch } from './batch';
import { answerExperiment, checkExperimentBody, experimentRoute } from './experiments';
import { readBody } from './read-body';
import { failure, hang, sendJson, sendPartial, type Reply } from './replies';
import type { MockScript, RowResolver } from './script';
import { recordRequest, routeOf } from './record-request';
import type { MockState } from './state';
import type { MockEvent, MockIdentify, MockPath, MockRequest } from './types';
import { checkBody, MAX_BATCH_EVENTS, type BodyCheck } from './validate-body';

/**
 * What the handler shares with the server that owns it.
 */
export interface HandlerEnv {
  state: MockState;
  /** The only token accepted, when the mock was given one. */
  token: string | undefined;
  /** The only experiment token accepted, when the mock was given one. */
  experimentToken?: string | undefined;
  /** Fires on `close()`: ends delays and hangs so nothing outlives the server. */
  closing: AbortSignal;
}

/**
 * Answers one request: read and check the body, apply the next matching script item,
 * otherwise accept and record it like the real API.
 *
 * @example
 * server.on('request', (req, res) => void handleRequest(env, req, res));
 */
export async function handleRequest(
  env: HandlerEnv,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { path, endpoint } = routeOf(req);
  const body = await readBody(req);
  const record = recordRequest(env.state, req, path, endpoint, body);
  if (!endpoint || req.method !== 'POST') {
    return finish(env, res, record, wrongRoute(env, path, endpoint));
  }
  // Checked even when a script decides the answer: violations are about what was sent.
  const experiment = endpoint.startsWith('/experiments/')
    ? experimentRoute(path.slice(path.indexOf('/experiments/')))
    : undefined;
  const check = !body.ok
    ? undefined
    : experiment
      ? experimentCheck(experiment, body.value)
      : checkBody(endpoint, body.value);
  env.state.addViolations(path, body.ok ? check!.all : [body.issue]);
  const { gzip, wireBytes, decodedBytes } = body;
  const script = env.state.scripts.take({ endpoint, gzip, wireBytes, decodedBytes });
  if (script?.delayMs) await sleep(script.delayMs, undefined, { signal: env.closing });
  if (script?.hang) return hang(res, env.closing);
  if (script?.drop === 'before-response') return void req.socket.destroy();
  const reply =
    scripted(endpoint, script) ??
    (body.ok
      ? experiment
        ? experimentReply(env, experiment, body.value, check!)
        : accept(env, endpoint, body.value, check!, script?.rows)
      : failure(endpoint, body.status, describeIssue(body.issue), { limit: body.issue.limit }));
  finish(env, res, record, reply, script?.drop === 'mid-response');
}

function finish(
  env: HandlerEnv,
  res: ServerResponse,
  record: MockRequest,
  reply: Reply,
  partial = false,
): void {
  record.status = reply.status;
  if (partial) sendPartial(res, reply);
  else sendJson(res, reply);
  env.state.changed();
}

/** A client posting elsewhere has the wrong base URL or method: a violation worth seeing. */
function wrongRoute(env: HandlerEnv, path: string, endpoint: MockPath | null): Reply {
  const issue = endpoint
    ? { field: 'method', problem: 'must be POST' }
    : { field: 'path', problem: 'is not an endpoint of the Ours API' };
  env.state.addViolations(path, [issue]);
  return failure(endpoint, endpoint ? 405 : 404, describeIssue(issue));
}

/** The answer a script item imposes, if it is not the normal one. */
function scripted(endpoint: MockPath, script: MockScript | undefined): Reply | undefined {
  if (script?.status !== undefined) {
    const headers =
      script.retryAfter === undefined ? undefined : { 'retry-after': String(script.retryAfter) };
    return failure(endpoint, script.status, script.error ?? `scripted failure (${script.status})`, {
      headers,
    });
  }
  if (script?.maxBodyBytes !== undefined) {
    return failure(endpoint, 413, 'request body is over the size limit', {
      limit: script.maxBodyBytes,
    });
  }
  if (script?.rejectGzip) return failure(endpoint, 415, 'Content-Encoding gzip is not supported');
  return undefined;
}

type ExperimentRoute = NonNullable<ReturnType<typeof experimentRoute>>;

/** An experiments body's issues, shaped like the event endpoints' (each one rejects the request). */
function experimentCheck(route: ExperimentRoute, value: unknown): BodyCheck {
  const all = checkExperimentBody(route.endpoint, route.key, value);
  return { all, whole: all, rows: new Map(), tooMany: false };
}

/** 400 for a body that breaks the experiments contract, else the declared experiment's answer. */
function experimentReply(
  env: HandlerEnv,
  route: ExperimentRoute,
  value: unknown,
  check: BodyCheck,
): Reply {
  if (check.all.length > 0)
    return failure(route.endpoint, 400, check.all.map(describeIssue).join('; '));
  return answerExperiment(
    env.state.experiments,
    env.experimentToken,
    route.endpoint,
    route.key,
    value,
  );
}

/** The real API's path: auth, contract checks, then record what was accepted. */
function accept(
  env: HandlerEnv,
  endpoint: MockPath,
  value: unknown,
  check: BodyCheck,
  rows?: RowResolver,
): Reply {
  const { token, ...rest } = (value ?? {}) as Record<string, unknown>;
  // A wrong token is 401 even if the body has other problems; a missing one is a 400 below.
  if (env.token !== undefined && typeof token === 'string' && token !== '' && token !== env.token) {
    return failure(endpoint, 401, 'the token is not valid for this source');
  }
  if (check.tooMany) {
    return failure(endpoint, 413, `events has more than ${MAX_BATCH_EVENTS} items`, {
      limit: MAX_BATCH_EVENTS,
    });
  }
  if (check.whole.length > 0) {
    return failure(endpoint, 400, check.whole.map(describeIssue).join('; '));
  }
  if (endpoint === '/batch') {
    const { reply, accepted } = answerBatch(rest.events as unknown[], check.rows, rows);
    env.state.events.push(...accepted);
    return reply;
  }
  if (endpoint === '/track') env.state.events.push(rest as unknown as MockEvent);
  else env.state.identifies.push(rest as unknown as MockIdentify);
  return { status: 200, body: { success: true } };
}
