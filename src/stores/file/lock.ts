import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** Directories locked by a store of this process. */
const held = new Set<string>();

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes the lock file, or names the live process that holds it. */
async function take(path: string, me: string): Promise<string | undefined> {
  try {
    await writeFile(path, me, { flag: 'wx', mode: 0o600 });
    return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const [pid, host] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
  if (host === hostname() && Number(pid) !== process.pid && alive(Number(pid))) return `process ${pid} uses it`;
  await writeFile(path, me, { mode: 0o600 });
  return undefined;
}

/**
 * Takes a directory for one store: two processes appending to and deleting
 * the same segments would lose events. The `LOCK` file names the holder's pid
 * and host; it is stale when that process is gone, when it names this very
 * process with no store of ours holding it (a container restarted with the
 * same pid), or when it comes from another host (a volume moved to a new
 * machine). Resolves with the release function, or with a sentence saying
 * who holds the directory.
 */
export async function lockDir(dir: string): Promise<(() => Promise<void>) | string> {
  const key = resolve(dir);
  if (held.has(key)) return 'another fileStore of this process uses it';
  held.add(key);
  const path = join(dir, 'LOCK');
  const me = `${process.pid} ${hostname()}\n`;
  try {
    await mkdir(dir, { recursive: true });
    const holder = await take(path, me);
    if (holder) {
      held.delete(key);
      return holder;
    }
  } catch (err) {
    held.delete(key);
    throw err;
  }
  return async () => {
    held.delete(key);
    if ((await readFile(path, 'utf8').catch(() => '')) === me) await unlink(path).catch(() => undefined);
  };
}
