import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fileStore } from '../../src/index';
import { clientFor, TOKEN, withMock } from '../support/client';
import { leftBehind as leftBehindIn } from './support/fork';
import { ids, PATIENT_RETRY, shutDownAfterEach, sleep, tempDirs, until } from './support/helpers';

const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/**
 * The LOCK file names its owner by pid, host, boot id and start time: a pid
 * the kernel gave to another process (after a reboot, or reused) does not
 * keep the directory locked.
 */
describe('fileStore: the LOCK survives pid reuse (Linux)', function () {
  this.timeout(30_000);
  const t = withMock();
  const closing = shutDownAfterEach();
  const dirs = tempDirs();
  /** A live process unrelated to any store: the pid a LOCK names after a reboot. */
  let stranger: ChildProcess;
  before(() => void (stranger = spawn('sleep', ['60'], { stdio: 'ignore' })));
  after(async () => {
    stranger.kill('SIGKILL');
    await once(stranger, 'exit').catch(() => undefined);
    dirs.cleanup();
  });

  /** A directory a killed process left with `n` events, its LOCK then rewritten to `lock`. */
  async function leftBehind(prefix: string, n: number, lock: string): Promise<string> {
    const dir = await leftBehindIn(t.mock, TOKEN, dirs.make(), prefix, n);
    writeFileSync(join(dir, 'LOCK'), lock);
    return dir;
  }

  const startOn = (dir: string) =>
    closing(clientFor(t.mock, { store: fileStore({ dir, flushMs: 20 }), retry: PATIENT_RETRY }));

  it('a live unrelated process with another start time: the lock is stale, the events are delivered', async () => {
    const other = String(Number(startTime(stranger.pid!)) + 1);
    const dir = await leftBehind(
      'reused',
      30,
      `${stranger.pid} ${hostname()} ${BOOT_ID} ${other}\n`,
    );
    const { client, errors } = startOn(dir);
    await t.mock.waitFor(30, { timeoutMs: 10_000 });
    expect(t.mock.events.map((e) => e.distinctId).sort()).to.deep.equal(ids('reused', 30));
    expect(errors).to.deep.equal([]);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).to.match(new RegExp(`^${process.pid} `));
    await client.shutdown();
  });

  it('a live process of another boot (same start time): the lock is stale, the events are delivered', async () => {
    const dir = await leftBehind(
      'reboot',
      10,
      `${stranger.pid} ${hostname()} 00000000-0000-0000-0000-000000000000 ${startTime(stranger.pid!)}\n`,
    );
    const { client, errors } = startOn(dir);
    await t.mock.waitFor(10, { timeoutMs: 10_000 });
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  it('the very process the lock names (same boot, same start time) keeps the directory', async () => {
    const dir = await leftBehind(
      'owned',
      5,
      `${stranger.pid} ${hostname()} ${BOOT_ID} ${startTime(stranger.pid!)}\n`,
    );
    const { client, errors } = startOn(dir);
    await until(() => errors.length > 0, 'the error');
    expect(errors[0]!.message).to.include(`process ${stranger.pid} uses it`);
    await sleep(100);
    expect(t.mock.events).to.have.length(0);
    await client.shutdown();
  });
});
