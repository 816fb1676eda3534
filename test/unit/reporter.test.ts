import { expect } from 'chai';
import { Emitter } from '../../src/emitter';
import { OursDeliveryError, OursError } from '../../src/errors';
import type { Logger } from '../../src/logger';
import { Reporter } from '../../src/reporter';

const TOKEN = 'tok_live_0123456789';

function logger() {
  const lines: { level: string; obj: unknown; msg: string }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) =>
    void lines.push({ level, obj, msg: msg ?? '' });
  const log: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { log, lines };
}

describe('reporter: how failures surface', () => {
  it('with an error listener: an error event, the token cut out of message and stack', () => {
    const emitter = new Emitter();
    const { log, lines } = logger();
    const got: OursError[] = [];
    emitter.on('error', (err: OursError) => got.push(err));
    new Reporter(emitter, log, TOKEN).error(new OursError(`proxy said: bad token ${TOKEN}`));
    expect(got).to.have.length(1);
    expect(got[0]!.message).to.equal('proxy said: bad token [redacted]');
    expect(got[0]!.stack).to.not.include(TOKEN);
    expect(lines).to.deep.equal([]);
  });

  it('without a listener: never throws; logs once a minute per kind of failure, with its facts', () => {
    const { log, lines } = logger();
    const reporter = new Reporter(new Emitter(), log, TOKEN);
    for (let i = 0; i < 3; i++) reporter.error(new OursDeliveryError('gave up', 2, 500));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.deep.include({ level: 'error', msg: 'gave up' });
    expect(lines[0]!.obj).to.include({ count: 2, status: 500 });
  });

  it('a listener that throws is logged, not thrown into the caller', () => {
    const emitter = new Emitter();
    const { log, lines } = logger();
    emitter.on('error', () => {
      throw new Error('listener bug');
    });
    expect(() => new Reporter(emitter, log, TOKEN).error(new OursError('x'))).to.not.throw();
    expect(lines[0]!.msg).to.include('listener threw: listener bug');
  });

  it('a listener that throws stops no other: each hears the error, each throw is logged', () => {
    const emitter = new Emitter();
    const { log, lines } = logger();
    const heard: string[] = [];
    emitter.on('error', () => {
      throw new Error('first listener bug');
    });
    emitter.once('error', (err: OursError) => heard.push(`once: ${err.message}`));
    emitter.on('error', (err: OursError) => {
      heard.push(`third: ${err.message}`);
      throw new Error('third listener bug');
    });
    const reporter = new Reporter(emitter, log, TOKEN);
    reporter.error(new OursError('x'));
    reporter.error(new OursError('y'));
    expect(heard).to.deep.equal(['once: x', 'third: x', 'third: y']); // the once listener heard one
    expect(lines.map((l) => l.msg)).to.deep.equal([
      "your client.on('error') listener threw: first listener bug",
      "your client.on('error') listener threw: third listener bug",
      "your client.on('error') listener threw: first listener bug",
      "your client.on('error') listener threw: third listener bug",
    ]);
  });

  it('an async listener that rejects is logged, never an unhandled rejection', async () => {
    const emitter = new Emitter();
    const { log, lines } = logger();
    const unhandled: unknown[] = [];
    const onRejection = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      emitter.on('drop', async () => {
        await Promise.resolve();
        throw new Error(`async listener bug ${TOKEN}`);
      });
      new Reporter(emitter, log, TOKEN).drop({ reason: 'queue_full', count: 1 }, 1);
      await new Promise((resolve) => setImmediate(resolve)); // past the microtasks an unhandled rejection is raised after
      expect(unhandled).to.deep.equal([]);
      expect(lines.map((l) => l.msg)).to.deep.equal([
        "your client.on('drop') listener threw: async listener bug [redacted]",
      ]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('drops: a drop event for every one; the log line counts those held back since the last', () => {
    const emitter = new Emitter();
    const { log, lines } = logger();
    const drops: unknown[] = [];
    emitter.on('drop', (info: unknown) => drops.push(info));
    const reporter = new Reporter(emitter, log, TOKEN);
    reporter.drop({ reason: 'queue_full', count: 1 }, 1, 'queue full');
    reporter.drop({ reason: 'queue_full', count: 1 }, 2, 'queue full');
    reporter.drop({ reason: 'invalid', count: 1 }, 3); // no log message: an error says it
    expect(drops).to.have.length(3);
    expect(lines.map((l) => l.msg)).to.deep.equal(['queue full']);
  });

  it('warnOnce: once per key, the token cut out of the fields too', () => {
    const { log, lines } = logger();
    const reporter = new Reporter(new Emitter(), log, TOKEN);
    reporter.warnOnce('retry', { url: `https://x/?t=${TOKEN}` }, 'retrying');
    reporter.warnOnce('retry', {}, 'retrying');
    reporter.warnOnce('unauthorized', {}, 'bad token', 'error');
    expect(lines.map((l) => `${l.level} ${l.msg}`)).to.deep.equal([
      'warn retrying',
      'error bad token',
    ]);
    expect(JSON.stringify(lines[0]!.obj)).to.not.include(TOKEN);
  });
});
