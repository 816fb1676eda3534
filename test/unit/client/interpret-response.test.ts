import { expect } from 'chai';
import { interpret, type SentRequest } from '../../../src/client/interpret-response';
import type { ApiResponse } from '../../../src/client/post-events';
import type { EventPath, QueuedEvent } from '../../../src/stores/event-store';

const URL = 'https://api.example/api/v1/batch';

function sent(count: number, path: EventPath = '/batch', gzip = true): SentRequest {
  const events: QueuedEvent[] = Array.from({ length: count }, (_, i) => ({
    json: `{"event":"e${i}"}`,
    bytes: 13,
    path,
  }));
  return { path, events, gzip };
}

const answer = (status: number, body?: unknown, retryAfter: string | null = null): ApiResponse => ({
  status,
  body,
  retryAfter,
  location: null,
});

describe('client/interpret-response: what an answer means for its events', () => {
  it('200: every event delivered, the backoff reset', () => {
    const request = sent(3);
    const verdict = interpret(request, answer(200), URL);
    expect(verdict).to.deep.include({ ok: true, failed: [], unauthorized: false });
    expect(verdict.delivered).to.deep.equal(request.events);
    expect(verdict.retry).to.equal(undefined);
  });

  it('207 with rows: accepted rows delivered, invalid rows failed, transport failures retried; unlisted rows accepted', () => {
    const request = sent(4);
    const rows = [
      { index: 0, success: true },
      { index: 1, success: false, code: 'invalid_event', message: 'bad' },
      { index: 2, success: false, code: 'queue_failed' },
    ];
    const verdict = interpret(request, answer(207, { results: rows }), URL);
    const [e0, e1, e2, e3] = request.events;
    expect(verdict.delivered).to.deep.equal([e0, e3]);
    expect(verdict.failed).to.have.length(1);
    expect(verdict.failed[0]!.events).to.deep.equal([e1]);
    expect(verdict.failed[0]!.message).to.include('row 1').and.include('bad');
    expect(verdict.retry?.events).to.deep.equal([e2]);
  });

  it('a row listed twice or out of range is read once, never twice', () => {
    const request = sent(2);
    const rows = [
      { index: 0, success: true },
      { index: 0, success: false, code: 'queue_failed' },
      { index: 9, success: true },
    ];
    const verdict = interpret(request, answer(207, { results: rows }), URL);
    expect(verdict.delivered).to.deep.equal(request.events);
    expect(verdict.retry).to.equal(undefined);
  });

  it('207 without rows: everything is resent (distinctId makes it harmless)', () => {
    const request = sent(2);
    const verdict = interpret(request, answer(207, {}), URL);
    expect(verdict.delivered).to.deep.equal([]);
    expect(verdict.retry?.events).to.deep.equal(request.events);
  });

  it('413: split in halves and resent at once; a single event fails, naming the limit', () => {
    const request = sent(5);
    const split = interpret(request, answer(413), URL);
    expect(split.resend?.parts.map((p) => p.length)).to.deep.equal([3, 2]);
    expect(split.resend?.gzip).to.equal(true);
    const single = interpret(sent(1), answer(413, { limit: 32768 }), URL);
    expect(single.failed[0]!.message).to.include('too large').and.include('limit 32768');
  });

  it('415 with gzip: resent once without; without gzip it is final', () => {
    expect(interpret(sent(2), answer(415), URL).resend).to.deep.include({ gzip: false });
    const plain = interpret(sent(2, '/batch', false), answer(415), URL);
    expect(plain.resend).to.equal(undefined);
    expect(plain.failed).to.have.length(1);
  });

  it('401 and 403: failed, and flagged so the client says it loudly', () => {
    for (const status of [401, 403]) {
      const verdict = interpret(sent(2), answer(status), URL);
      expect(verdict.unauthorized).to.equal(true);
      expect(verdict.failed[0]!.message).to.include('refused the token');
    }
  });

  it('408, 429 and 5xx: retried with the Retry-After the answer gave', () => {
    for (const status of [408, 429, 500, 503]) {
      const verdict = interpret(sent(2, '/track'), answer(status, undefined, '3'), URL);
      expect(verdict.retry?.afterMs, String(status)).to.equal(3000);
      expect(verdict.failed).to.deep.equal([]);
    }
  });

  it('a /batch 500 with rows: only the rows that failed are retried', () => {
    const request = sent(2);
    const verdict = interpret(
      request,
      answer(500, {
        results: [
          { index: 0, success: true },
          { index: 1, success: false, code: 'queue_failed' },
        ],
      }),
      URL,
    );
    expect(verdict.delivered).to.deep.equal([request.events[0]]);
    expect(verdict.retry?.events).to.deep.equal([request.events[1]]);
  });

  it('a 200 whose body contradicts it is still delivered, and flagged only when no row names a failure', () => {
    const rows = (code: string) => ({
      success: false,
      results: [{ index: 0, success: false, code, message: 'm' }],
    });
    expect(interpret(sent(1), answer(200, { success: true }), URL).oddBody).to.equal(undefined);
    expect(interpret(sent(1), answer(200, rows('queue_failed')), URL).oddBody).to.equal(undefined);
    expect(interpret(sent(1), answer(200, rows('invalid_event')), URL).oddBody).to.equal(undefined);
    const odd = interpret(sent(2), answer(200, { success: false }), URL);
    expect(odd.oddBody).to.equal('success: false and no failed row');
    expect(odd.delivered).to.have.length(2);
    expect(interpret(sent(1, '/track'), answer(200), URL).oddBody).to.include('not a JSON object');
    expect(interpret(sent(1), answer(202), URL).oddBody).to.equal(undefined); // not the contract's status
  });

  it('404 says to check apiUrl; another 4xx quotes the API error, cut to 500 characters', () => {
    expect(interpret(sent(1), answer(404), URL).failed[0]!.message).to.include('check apiUrl');
    const message = interpret(sent(1), answer(422, { error: 'x'.repeat(900) }), URL).failed[0]!
      .message;
    expect(message).to.include('HTTP 422');
    expect(message.length).to.be.below(700);
  });
});
