import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fileStore } from '../../src/index';
import { lockDir } from '../../src/stores/file/lock';
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

/** Who wrote a LOCK temporary, as its name says: `<pid>-<start>-<host>-<boot>`. */
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const BOOT = BOOT_ID.replace(/-/g, '').slice(0, 8);
const tmp = (pid: number, start: string, boot = BOOT, host = HOST) =>
  `${pid}-${start}-${host}-${boot}-0a1b2c3d.tmp`;

/**
 * A process killed while taking the LOCK leaves the temporary it links from
 * (`LOCK.<writer>.tmp`) or a claim (`LOCK.<hash>`). The next holder removes
 * those whose writer is provably gone, and only those: a live one may still
 * link its own.
 */
describe('fileStore: what a crash while taking the LOCK left beside it', function () {
  this.timeout(30_000);
  const t = withMock();
  const closing = shutDownAfterEach();
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

  it("removes a gone writer's temporaries and claims; keeps a live writer's, and another host's", async () => {
    const dir = dirs.make();
    const deadText = `${deadPid} ${hostname()} ${BOOT_ID} 1\n`;
    const start = startTime(live.pid!);
    const files = {
      deadTmp: [`LOCK.${tmp(deadPid, '1')}`, deadText],
      deadClaim: ['LOCK.0123456789abcdef', deadText],
      deadClaimTmp: [`LOCK.0123456789abcdef.${tmp(deadPid, '1')}`, deadText],
      reusedPidTmp: [`LOCK.${tmp(live.pid!, String(Number(start) + 1))}`, ''],
      liveTmp: [`LOCK.${tmp(live.pid!, start)}`, ''], // not written yet
      liveClaim: ['LOCK.fedcba9876543210', `${live.pid} ${hostname()} ${BOOT_ID} ${start}\n`],
      otherBootTmp: [`LOCK.${tmp(live.pid!, start, '00000000')}`, ''],
      otherHostTmp: [`LOCK.${tmp(deadPid, '1', BOOT, '01234567')}`, deadText],
    };
    for (const [name, text] of Object.values(files)) writeFileSync(join(dir, name!), text!);
    const { client, errors } = closing(
      clientFor(t.mock, { store: fileStore({ dir, flushMs: 20 }) }),
    );
    client.track({ event: 'E', userId: 'v' });
    await client.flush(); // the store is open: the lock taken, the leftovers looked at
    expect(errors).to.deep.equal([]);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).to.match(new RegExp(`^${process.pid} `));
    const left = Object.fromEntries(
      Object.entries(files).map(([what, [name]]) => [what, existsSync(join(dir, name!))]),
    );
    expect(left).to.deep.equal({
      deadTmp: false,
      deadClaim: false,
      deadClaimTmp: false,
      reusedPidTmp: false,
      liveTmp: true,
      liveClaim: true,
      otherBootTmp: false,
      otherHostTmp: true,
    });
  });

  it("a stale LOCK under a dead claimer's claim is taken over; only the LOCK is left", async () => {
    const dir = dirs.make();
    const stale = `${deadPid} ${hostname()} ${BOOT_ID} 1\n`;
    writeFileSync(join(dir, 'LOCK'), stale);
    const claim = `LOCK.${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`;
    writeFileSync(join(dir, claim), `${deadPid} ${hostname()} ${BOOT_ID} 2\n`);
    const release = await lockDir(dir);
    expect(release).to.be.a('function');
    expect(readdirSync(dir)).to.deep.equal(['LOCK']);
    await (release as () => Promise<void>)();
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('a LOCK without its final newline is one being written (no hard links): not taken for stale', async () => {
    const dir = dirs.make();
    writeFileSync(join(dir, 'LOCK'), ''); // created, not written yet
    const taking = lockDir(dir);
    await sleep(100); // it has read the LOCK, empty, by now (and would have taken it over)
    writeFileSync(
      join(dir, 'LOCK'),
      `${live.pid} ${hostname()} ${BOOT_ID} ${startTime(live.pid!)}\n`,
    );
    const result = await taking;
    if (typeof result === 'function') await result();
    expect(result).to.equal(`process ${live.pid} uses it`);
  });
});
