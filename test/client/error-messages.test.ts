/**
 * Issue 11: every delivery error shows the URL it used (never the token), and
 * each message is one sentence that says what to do, printed once, without a
 * doubled prefix or an object repeating it.
 */
import { expect } from 'chai';
import { OursClient, OursDeliveryError, type OursError } from '../../src/index';
import { consoleLogger } from '../../src/logger';
import { freePort } from '../support/http';
import { clientFor, FAST_RETRY, TOKEN, withMock } from '../support/client';

describe('error messages', () => {
  const t = withMock();
  const SECRET = 'tok_live_NEVER_PRINTED_4242';

  it('a 404 names the URL it was sent to and says to check apiUrl; the token is not in it', async () => {
    const apiUrl = `${t.mock.url}/v2`; // a path the API does not have
    const { client, errors } = clientFor(t.mock, { apiUrl, token: SECRET });
    client.track({ event: 'E', externalId: 'u' });
    await client.flush();
    expect(errors).to.have.length(1);
    const err = errors[0] as OursDeliveryError;
    expect(err).to.be.instanceOf(OursDeliveryError);
    expect(err.status).to.equal(404);
    expect(err.message).to.equal(
      `1 events rejected with HTTP 404 from POST ${apiUrl}/batch: check apiUrl, which should be the API base URL ending in /api/v1`,
    );
    expect(err.message + String(err.stack)).not.to.include(SECRET);
    await client.shutdown();
    t.mock.reset(); // the mock notes the wrong path as a violation: here it is the point
  });

  it('a network error names the URL, through every retry to the final loss', async () => {
    const apiUrl = `http://127.0.0.1:${await freePort()}/api/v1`;
    const client = new OursClient({
      token: SECRET,
      apiUrl,
      retry: { ...FAST_RETRY, maxAttempts: 2 },
      flushIntervalMs: 5,
      logger: false,
    });
    const errors: OursError[] = [];
    client.on('error', (err) => errors.push(err));
    client.track({ event: 'E', externalId: 'u' });
    await client.flush();
    expect(errors).to.have.length(1);
    expect(errors[0]!.message).to.match(
      new RegExp(
        `^gave up after 2 attempts; last error: network error on POST ${apiUrl.replace(/\./g, '\\.')}/batch: .*ECONNREFUSED`,
      ),
    );
    expect(errors[0]!.message).not.to.include(SECRET);
    await client.shutdown();
  });

  it('the console logger prints one line per problem: one prefix, no object after it', () => {
    const printed: unknown[][] = [];
    const real = { warn: console.warn, error: console.error };
    console.warn = (...args: unknown[]) => void printed.push(args);
    console.error = (...args: unknown[]) => void printed.push(args);
    try {
      const client = new OursClient({
        token: TOKEN,
        apiUrl: t.mock.url,
        logger: consoleLogger,
        handleSignals: false,
      });
      client.track({ event: '', externalId: 'u' }); // a validation error, through the logger
      client.identify({ externalId: 'u', userProperties: 'x' } as never);
      void client.shutdown();
    } finally {
      Object.assign(console, real);
    }
    expect(printed.length).to.be.at.least(1);
    for (const args of printed) {
      expect(args).to.have.length(1); // no `{}` or `{ err: { message } }` repeating the line
      expect(String(args[0])).to.match(/^\[ours-middleware\] (?!ours-middleware)/);
    }
    expect(String(printed[0]![0])).to.equal(
      '[ours-middleware] track dropped: event must not be empty (limit: 1)',
    );
  });
});
