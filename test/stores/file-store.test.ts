import { expect } from 'chai';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileStore, OursError, type FileStoreOptions } from '../../src/index';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { clientFor, TOKEN } from '../support/client';
import {
  balanced,
  drops,
  ids,
  PATIENT_RETRY,
  segments,
  sleep,
  tempDirs,
  shutDownAfterEach,
  until,
} from './support/helpers';

describe('fileStore: delivery', () => {
  const closing = shutDownAfterEach();
  let mock: MockOurs;
  const dirs = tempDirs();
  before(async () => (mock = await createMockOurs({ token: TOKEN })));
  afterEach(() => {
    expect(mock.violations.map((v) => v.message)).to.deep.equal([]);
    mock.reset();
  });
  after(async () => {
    await mock.close();
    dirs.cleanup();
  });

  function durableClient(
    dir: string,
    options: Partial<FileStoreOptions> = {},
    retry = PATIENT_RETRY,
  ) {
    const store = fileStore({ dir, flushMs: 20, ...options });
    return closing({ store, ...clientFor(mock, { store, retry }) });
  }

  function trackAll(
    client: { track: (e: { event: string; userId: string; distinctId: string }) => void },
    prefix: string,
    n: number,
  ): void {
    for (let i = 0; i < n; i++)
      client.track({ event: 'Stored', userId: `u-${i}`, distinctId: `${prefix}-${i}` });
  }

  it('delivers like the memory store and leaves an empty directory after shutdown', async () => {
    const dir = dirs.make();
    const { client, errors } = durableClient(dir);
    trackAll(client, 'a', 50);
    client.identify({ externalId: 'x-1', userProperties: { email: 'a@b.co' } });
    expect(await client.flush()).to.deep.equal({ delivered: 51, failed: 0, dropped: 0 });
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('a', 50));
    expect(mock.identifies).to.have.length(1);
    await client.shutdown();
    expect(readdirSync(dir)).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
  });

  it('207 rows: resends only the failed rows, with the same distinctId; a rejected row is settled and never resent', async () => {
    const dir = dirs.make();
    const { client, errors } = durableClient(dir);
    mock.respondWith({
      rows: (_e, i) => (i === 1 ? 'queue_failed' : i === 2 ? 'invalid_event' : 'ok'),
    });
    trackAll(client, 'r', 4);
    expect(await client.flush()).to.deep.equal({ delivered: 3, failed: 1, dropped: 0 });
    expect(mock.events.map((e) => e.distinctId)).to.deep.equal(['r-0', 'r-3', 'r-1']);
    expect(errors.map((e) => e.message).join()).to.include('rejected as invalid');
    await client.shutdown();
    const again = durableClient(dir);
    await sleep(200);
    expect(mock.events).to.have.length(3);
    await again.client.shutdown();
    expect(segments(dir)).to.deep.equal([]);
  });

  it('a shutdown deadline leaves undelivered events on disk; the next start delivers them with the same distinctIds', async () => {
    const dir = dirs.make();
    const { client, errors } = durableClient(dir);
    mock.respondWith({ status: 503, times: 'always' });
    trackAll(client, 'd', 10);
    await mock.waitFor(1, { of: 'requests' });
    expect(await client.shutdown({ timeoutMs: 100 })).to.deep.equal({
      delivered: 0,
      failed: 10,
      dropped: 0,
    });
    expect(errors.map((e) => e.message).join()).to.include('stay in the durable store');
    // The deadline resolves the shutdown; the store still writes its window after it.
    await until(() => segments(dir).length === 1, 'the events written to a segment');
    mock.reset();
    const next = durableClient(dir);
    await mock.waitFor(10);
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('d', 10));
    await until(() => next.client.stats().delivered === 10, 'the recovered events to settle');
    expect(next.client.stats()).to.include({ tracked: 10, delivered: 10, queued: 0, inFlight: 0 });
    await next.client.shutdown();
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('stops at maxBytes on disk: new events are dropped and reported, none of those accepted is lost', async () => {
    const dir = dirs.make();
    const { client, store } = durableClient(dir, { maxBytes: 8192 });
    const dropped = drops(client);
    mock.respondWith({ status: 503, times: 'always' });
    trackAll(client, 'b', 200);
    const accepted = 200 - client.stats().dropped;
    expect(accepted).to.be.within(40, 120);
    expect(dropped.every((d) => d.reason === 'queue_full')).to.equal(true);
    expect(dropped).to.have.length(200 - accepted);
    expect(store.diskBytes).to.be.at.most(8192);
    await sleep(100);
    mock.reset();
    await mock.waitFor(accepted);
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(
      Array.from({ length: accepted }, (_, i) => `b-${i}`).sort(),
    );
    expect(mock.duplicates()).to.deep.equal([]);
    await client.shutdown();
    expect(segments(dir)).to.deep.equal([]);
  });

  it('rolls segments over and deletes each one once all its events are settled', async () => {
    const dir = dirs.make();
    const { client } = durableClient(dir, { segmentBytes: 4096 });
    mock.respondWith({ status: 503, times: 'always' });
    trackAll(client, 's', 300);
    await until(() => segments(dir).length >= 3, 'segments on disk');
    mock.reset();
    await client.flush();
    await until(() => segments(dir).length === 0, 'settled segments to be deleted', 5000);
    expect(mock.events).to.have.length(300);
    await client.shutdown();
  });

  it('drops stored events older than the 7-day window with a report, and sends the rest', async () => {
    const dir = dirs.make();
    const writer = fileStore({ dir, flushMs: 10 });
    writer.open({ recovered() {}, dropped() {}, error: (err) => expect.fail(err.message) });
    const now = Date.now();
    const row = (id: string, time: number) =>
      JSON.stringify({ event: 'Aged', userId: 'u', distinctId: id, time });
    for (const [id, time] of [
      ['old-1', now - 8 * 86_400_000],
      ['new-1', now - 1000],
      ['old-2', now - 7 * 86_400_000 - 5000],
      ['new-2', now],
    ] as const) {
      const json = row(id, time);
      expect(writer.append({ json, bytes: json.length, path: '/batch' })).to.equal(true);
    }
    const identify = JSON.stringify({ externalId: 'x', userProperties: { email: 'a@b.co' } });
    writer.append({ json: identify, bytes: identify.length, path: '/identify' });
    await writer.close();
    const { client, errors } = durableClient(dir);
    const dropped = drops(client);
    await mock.waitFor(2);
    await mock.waitFor(1, { of: 'identifies' });
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(['new-1', 'new-2']);
    expect(dropped).to.deep.equal([{ reason: 'expired', count: 2 }]);
    await until(
      () => client.stats().queued + client.stats().inFlight === 0,
      'the client to settle',
    );
    expect(client.stats()).to.include({ tracked: 5, delivered: 3, dropped: 2 });
    expect(balanced(client)).to.equal(true);
    expect(errors).to.deep.equal([]);
    await client.shutdown();
    const again = durableClient(dir);
    const droppedAgain = drops(again.client);
    await sleep(150);
    expect(droppedAgain).to.deep.equal([]);
    await again.client.shutdown();
  });

  it('keeps the stats balanced while recovered events wait, retry and settle', async () => {
    const dir = dirs.make();
    const first = durableClient(dir);
    mock.respondWith({ status: 503, times: 'always' });
    trackAll(first.client, 'k', 30);
    await first.client.shutdown({ timeoutMs: 50 });
    mock.reset();
    mock.respondWith({ status: 500 }, { status: 503 });
    const { client } = durableClient(dir);
    const interval = setInterval(
      () => expect(balanced(client), JSON.stringify(client.stats())).to.equal(true),
      1,
    );
    await mock.waitFor(30);
    await until(() => client.stats().delivered === 30, 'settled');
    clearInterval(interval);
    expect(client.stats()).to.include({ tracked: 30, delivered: 30, failed: 0 });
    await client.shutdown();
  });
});

describe('fileStore: failures are reported, never thrown', () => {
  const closing = shutDownAfterEach();
  let mock: MockOurs;
  const dirs = tempDirs();
  before(async () => (mock = await createMockOurs({ token: TOKEN })));
  afterEach(() => mock.reset());
  after(async () => {
    await mock.close();
    dirs.cleanup();
  });

  it('an unusable directory is reported, and events are still delivered from memory', async () => {
    const file = join(dirs.make(), 'a-file');
    writeFileSync(file, 'not a directory');
    const { client, errors } = closing(
      clientFor(mock, { store: fileStore({ dir: join(file, 'sub') }) }),
    );
    client.track({ event: 'E', userId: 'v', distinctId: 'mem-1' });
    expect(await client.flush()).to.deep.equal({ delivered: 1, failed: 0, dropped: 0 });
    await until(() => errors.length > 0, 'the error');
    expect(errors[0]).to.be.instanceOf(OursError);
    expect(errors[0]!.message).to.match(
      /event store: fileStore: .*cannot be used.*kept in memory only/,
    );
    await client.shutdown();
  });

  it('a directory in use by another store is reported, and that second client still delivers', async () => {
    const dir = dirs.make();
    const first = closing(clientFor(mock, { store: fileStore({ dir }) }));
    const second = closing(clientFor(mock, { store: fileStore({ dir }) }));
    await until(() => second.errors.length > 0, 'the error');
    expect(second.errors[0]!.message).to.match(/is in use .*give each process its own directory/);
    second.client.track({ event: 'E', userId: 'v' });
    expect(await second.client.flush()).to.include({ delivered: 1 });
    await second.client.shutdown();
    await first.client.shutdown();
    expect(first.errors).to.deep.equal([]);
  });

  it('the directory deleted while running: the failed writes are reported as such, the events delivered from memory', async () => {
    const dir = join(dirs.make(), 'store');
    const { client, errors } = closing(clientFor(mock, { store: fileStore({ dir, flushMs: 20 }) }));
    await until(() => !client.stats().recovering, 'the store to open');
    rmSync(dir, { recursive: true, force: true });
    mock.respondWith({ status: 503, times: 3 }); // the events wait, so the store writes them
    for (let i = 0; i < 5; i++) client.track({ event: 'E', userId: 'v', distinctId: `gone-${i}` });
    expect(await client.flush()).to.include({ delivered: 5, failed: 0 });
    await client.shutdown();
    expect(errors.length).to.be.greaterThan(0);
    expect(errors.map((e) => e.message)).to.satisfy((messages: string[]) =>
      messages.every((m) => /ENOENT: no such file or directory, open .*\.seg/.test(m)),
    );
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('gone', 5));
  });

  it('the directory deleted under an open segment: said at the next window, the events delivered from memory', async () => {
    const dir = join(dirs.make(), 'store');
    const { client, errors } = closing(
      clientFor(mock, { store: fileStore({ dir, flushMs: 20 }), retry: PATIENT_RETRY }),
    );
    mock.respondWith({ status: 503, times: 'always' });
    for (let i = 0; i < 5; i++) client.track({ event: 'E', userId: 'v', distinctId: `open-${i}` });
    await until(() => existsSync(dir) && segments(dir).length === 1, 'a segment written');
    await mock.waitFor(2, { of: 'requests' }); // and its window over, most likely
    rmSync(dir, { recursive: true, force: true });
    for (let i = 5; i < 10; i++) client.track({ event: 'E', userId: 'v', distinctId: `open-${i}` });
    await until(() => errors.length > 0, 'the error');
    // Rarely the rm lands within the segment's first window, whose sync of the directory then fails.
    const deleted = new RegExp(
      `${dir} was deleted while in use|ENOENT: no such file or directory, open '${dir}'`,
    );
    expect(errors.map((e) => e.message)).to.satisfy((messages: string[]) =>
      messages.every((m) => deleted.test(m)),
    );
    mock.reset();
    expect(await client.flush()).to.include({ failed: 0 });
    expect(mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('open', 10));
  });

  it('rejects bad options at construction', () => {
    expect(() => fileStore({ dir: '' })).to.throw(/fileStore\.dir/);
    expect(() => fileStore({ dir: '/tmp/x', maxBytes: 100 })).to.throw(/fileStore\.maxBytes/);
    expect(() => fileStore({ dir: '/tmp/x', flushMs: 0 })).to.throw(/fileStore\.flushMs/);
  });
});
