import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
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

/** Writes the lock file, or names the live process that holds it. */
async function take(path: string, me: string): Promise<string | undefined> {
  try {
    await writeFile(path, me, { flag: 'wx', mode: 0o600 });
    return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = await holderOf(await readFile(path, 'utf8').catch(() => ''));
  if (holder) return holder;
  await writeFile(path, me, { mode: 0o600 });
  return undefined;
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
