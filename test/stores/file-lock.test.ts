import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fileStore } from '../../src/index';
import { clientFor, TOKEN, withMock } from '../support/client';
import { leftBehind as leftBehindIn } from './support/fork';
import { ids, PATIENT_RETRY, sleep, tempDirs, until } from './support/helpers';

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
    clientFor(t.mock, { store: fileStore({ dir, flushMs: 20 }), retry: PATIENT_RETRY });

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

/**
 * `create()` writes `LOCK.<uuid>.tmp` and links it as `LOCK`: a process
 * killed in between leaves the temporary. The next holder removes it, unless
 * its writer may still link it: a live process, or one that cannot be told.
 */
describe('fileStore: what a crash while taking the LOCK left beside it', function () {
  this.timeout(30_000);
  const t = withMock();
  const dirs = tempDirs();
  let live: ChildProcess;
  let deadPid: number;
  before(async () => {
    live = spawn('sleep', ['60'], { stdio: 'ignore' });
    const gone = spawn('true', { stdio: 'ignore' });
    await once(gone, 'exit');
    deadPid = gone.pid!;
  });
  after(async () => {
    live.kill('SIGKILL');
    await once(live, 'exit').catch(() => undefined);
    dirs.cleanup();
  });

  const me = (pid: number) => `${pid} ${hostname()} ${BOOT_ID} ${startTime(pid)}\n`;

  it("removes a dead process's LOCK temporaries and claims; keeps a live one's, and a half-written one until it is old", async () => {
    const dir = dirs.make();
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const deadTmp = file('LOCK.0b1c2d3e-dead.tmp', `${deadPid} ${hostname()} ${BOOT_ID} 1\n`);
    const deadClaim = file('LOCK.0123456789abcdef', `${deadPid} ${hostname()} ${BOOT_ID} 1\n`);
    const liveTmp = file('LOCK.0b1c2d3e-live.tmp', me(live.pid!));
    const halfWritten = file('LOCK.0b1c2d3e-half.tmp', `${live.pid}`); // no newline yet: being written
    const oldHalf = file('LOCK.0b1c2d3e-old.tmp', '');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    utimesSync(oldHalf, twoMinutesAgo, twoMinutesAgo);
    const { client, errors } = clientFor(t.mock, { store: fileStore({ dir, flushMs: 20 }) });
    client.track({ event: 'E', userId: 'v' });
    await client.flush(); // the store is open: the lock taken, the strays looked at
    expect(errors).to.deep.equal([]);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).to.equal(me(process.pid));
    const left = (path: string) => existsSync(path);
    expect({
      deadTmp: left(deadTmp),
      deadClaim: left(deadClaim),
      oldHalf: left(oldHalf),
      liveTmp: left(liveTmp),
      halfWritten: left(halfWritten),
    }).to.deep.equal({
      deadTmp: false,
      deadClaim: false,
      oldHalf: false,
      liveTmp: true,
      halfWritten: true,
    });
    await client.shutdown();
  });
});
