import { describeIssue, type ContractIssue } from '../contract/check';
import { failure, type Reply } from './replies';
import type { RowOutcome, RowResolver } from './script';
import type { MockEvent } from './types';

/** One entry of a batch response's `results`, as the contract defines it. */
type RowResult =
  | { index: number; success: true }
  | { index: number; success: false; code: 'invalid_event' | 'queue_failed'; message: string };

/**
 * A `/batch` answer and the rows to record (only the accepted ones).
 */
export interface BatchOutcome {
  reply: Reply;
  accepted: MockEvent[];
}

const OUTCOMES: readonly RowOutcome[] = ['ok', 'queue_failed', 'invalid_event'];

/**
 * Judges each row (contract issues first, then the `rows` script) and builds the
 * response the contract prescribes for that mix: 200 all accepted, 207 some accepted,
 * 400 every row invalid, 500 (`retryable`, with `results`) none accepted and some rows
 * failed queue transport.
 *
 * @example
 * answerBatch(rows, check.rows, (_e, i) => (i === 0 ? 'queue_failed' : 'ok')).reply.status; // 207
 */
export function answerBatch(
  rows: readonly unknown[],
  rowIssues: ReadonlyMap<number, ContractIssue[]>,
  resolve: RowResolver = () => 'ok',
): BatchOutcome {
  const results = rows.map((row, index) =>
    judgeRow(row as MockEvent, index, rowIssues.get(index), resolve),
  );
  const accepted = rows.filter((_, i) => results[i]!.success) as MockEvent[];
  const failed = results.filter((r): r is Extract<RowResult, { success: false }> => !r.success);
  const counts = { accepted: accepted.length, failed: failed.length, results };
  if (failed.length === 0)
    return { reply: { status: 200, body: { success: true, ...counts } }, accepted };
  // The contract types `success` as a plain boolean on 207; false signals "not everything".
  if (accepted.length > 0)
    return { reply: { status: 207, body: { success: false, ...counts } }, accepted };
  if (failed.every((r) => r.code === 'invalid_event')) {
    const detail = failed
      .slice(0, 3)
      .map((r) => `events[${r.index}]: ${r.message}`)
      .join('; ');
    return { reply: failure('/batch', 400, `every row failed validation: ${detail}`), accepted };
  }
  const error = 'every accepted row failed queue transport';
  return { reply: failure('/batch', 500, error, { results: failed }), accepted };
}

function judgeRow(
  row: MockEvent,
  index: number,
  issues: ContractIssue[] | undefined,
  resolve: RowResolver,
): RowResult {
  if (issues) {
    return {
      index,
      success: false,
      code: 'invalid_event',
      message: issues.map(describeIssue).join('; '),
    };
  }
  const outcome = resolve(row, index);
  if (!OUTCOMES.includes(outcome)) {
    throw new TypeError(
      `mock rows script returned ${String(outcome)} for row ${index}; expected ${OUTCOMES.join(', ')}`,
    );
  }
  if (outcome === 'ok') return { index, success: true };
  const message =
    outcome === 'queue_failed'
      ? 'the ingest queue rejected this row (scripted)'
      : 'rejected by the rows script';
  return { index, success: false, code: outcome, message };
}
