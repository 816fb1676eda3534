import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** Directories locked by a store of this process. */
const held = new Set<string>();

/** Written where a value is unknown (off Linux: no `/proc`). */
const UNKNOWN = '-';

/**
 * What names a process beyond its pid, which the kernel reuses: the boot it
 * runs in and its start time (clock ticks after that boot, field 22 of
 * `/proc/<pid>/stat`). Together they never repeat. Unknown off Linux.
 */
interface Identity {
  boot: string;
  start: string;
}

async function bootId(): Promise<string> {
  return (
    (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => UNKNOWN)).trim() ||
    UNKNOWN
  );
}

async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
  return start && /^\d+$/.test(start) ? start : UNKNOWN;
}

async function identity(pid: number): Promise<Identity> {
  return { boot: await bootId(), start: await startTime(pid) };
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Differ only when both are known: an old lock, or one written off Linux, falls back to the pid alone. */
const differ = (a: string | undefined, b: string): boolean =>
  a !== undefined && a !== UNKNOWN && b !== UNKNOWN && a !== b;

/**
 * Whether the process a lock names is still the one that wrote it: on this
 * host, alive, and (where the lock records them) in the same boot and started
 * at the same time, so that after a reboot or a pid reused by an unrelated
 * process the lock is stale.
 */
async function holderOf(text: string): Promise<string | undefined> {
  const [pidText, host, boot, start] = text.trim().split(' ');
  const pid = Number(pidText);
  if (host !== hostname() || pid === process.pid || !alive(pid)) return undefined;
  const now = await identity(pid);
  if (differ(boot, now.boot) || differ(start, now.start)) return undefined;
  return `process ${pid} uses it`;
}

/**
 * Creates `path` holding `text`, or returns false if it exists. Linked from a
 * file written whole, so no reader ever sees it empty (and judges it stale).
 */
async function create(path: string, text: string): Promise<boolean> {
  const whole = `${path}.${randomUUID()}.tmp`; // containers sharing a volume may share a pid too
  await writeFile(whole, text, { mode: 0o600 });
  try {
    await link(whole, path).catch((err: NodeJS.ErrnoException) =>
      // A file system without hard links: created, then written.
      err.code === 'EEXIST'
        ? Promise.reject(err)
        : writeFile(path, text, { flag: 'wx', mode: 0o600 }),
    );
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    await unlink(whole).catch(() => undefined);
  }
}

/** Rounds of 5 ms a stale lock's claimer is given to replace it. */
const CLAIM_TRIES = 400;

const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Writes the lock file, or names the live process that holds it. A stale
 * lock is replaced under a claim on its text: processes started together
 * after a crash all find it stale, and without the claim each would
 * overwrite it and believe the directory its own.
 */
async function take(path: string, me: string): Promise<string | undefined> {
  for (let tries = 0; ; tries++) {
    if (await create(path, me)) return undefined;
    const stale = await readFile(path, 'utf8').catch(() => '');
    const holder = await holderOf(stale);
    if (holder) return holder;
    const claim = `${path}.${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`;
    if (await create(claim, me)) {
      try {
        // Unless a claimer before this one has replaced it already.
        if ((await readFile(path, 'utf8').catch(() => '')) === stale) {
          await writeFile(path, me, { mode: 0o600 });
          return undefined;
        }
      } finally {
        await unlink(claim).catch(() => undefined);
      }
    } else {
      // Its claimer is replacing it: read the lock again once it has.
      const claimer = await readFile(claim, 'utf8').catch(() => '');
      const alive = claimer && (await holderOf(claimer));
      if (!alive)
        await unlink(claim).catch(() => undefined); // died claiming
      else if (tries >= CLAIM_TRIES) return `${alive}: it is taking the directory over`;
      await pause(5);
    }
  }
}

/**
 * Takes a directory for one store: two processes appending to and deleting
 * the same segments would lose events. The `LOCK` file names the holder: pid,
 * host, boot id and start time. It is stale when that process is gone, when
 * its pid now belongs to another process (after a reboot, or reused), when it
 * names this very process with no store of ours holding it (a container
 * restarted with the same pid), or when it comes from another host (a volume
 * moved to a new machine). Resolves with the release function, or with a
 * sentence saying who holds the directory.
 */
export async function lockDir(dir: string): Promise<(() => Promise<void>) | string> {
  const key = resolve(dir);
  if (held.has(key)) return 'another fileStore of this process uses it';
  held.add(key);
  const path = join(dir, 'LOCK');
  try {
    const { boot, start } = await identity(process.pid);
    const me = `${process.pid} ${hostname()} ${boot} ${start}\n`;
    await mkdir(dir, { recursive: true });
    const holder = await take(path, me);
    if (holder) {
      held.delete(key);
      return holder;
    }
    return async () => {
      held.delete(key);
      if ((await readFile(path, 'utf8').catch(() => '')) === me)
        await unlink(path).catch(() => undefined);
    };
  } catch (err) {
    held.delete(key);
    throw err;
  }
}
