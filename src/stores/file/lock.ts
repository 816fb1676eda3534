import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
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
 * This process as the files it writes name it. Texts end with a newline: one
 * without is still being written (or was cut short by a crash).
 */
interface Writer {
  /** The text of a `LOCK` or a claim: pid, host, boot id and start time. */
  text: string;
  /** The part of a temporary file's name that says who wrote it: `<pid>-<start>-<host>-<boot>`. */
  tag: string;
  /** A hash of the host name: another host's processes cannot be seen. */
  host: string;
  /** The boot id's first 8 digits: every process of another boot is gone. */
  boot: string;
}

/** In a temporary's name, `x` stands for a value unknown (off Linux). */
const named = (value: string): string => (value === UNKNOWN ? 'x' : value);
const unnamed = (value: string | undefined): string | undefined =>
  value === 'x' ? UNKNOWN : value;

function writerOf(boot: string, start: string): Writer {
  const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
  const bootShort = boot === UNKNOWN ? UNKNOWN : boot.replace(/-/g, '').slice(0, 8);
  return {
    text: `${process.pid} ${hostname()} ${boot} ${start}\n`,
    tag: `${process.pid}-${named(start)}-${host}-${named(bootShort)}`,
    host,
    boot: bootShort,
  };
}

/**
 * A temporary file `create()` and `replace()` link or rename from, named by
 * its writer: whoever finds it after a crash can tell from the name alone
 * (never from its text, which may not be written yet) whether the writer is
 * gone and can no longer link it.
 */
const temporary = (path: string, writer: Writer): string =>
  `${path}.${writer.tag}-${randomBytes(4).toString('hex')}.tmp`;

/**
 * Creates `path` holding `text`, or returns false if it exists. Linked from a
 * file written whole, so no reader ever sees it empty.
 */
async function create(path: string, writer: Writer): Promise<boolean> {
  const whole = temporary(path, writer);
  await writeFile(whole, writer.text, { flag: 'wx', mode: 0o600 });
  try {
    await link(whole, path).catch((err: NodeJS.ErrnoException) =>
      // A file system without hard links: created, then written. Readers take
      // a text without its final newline for one being written (see `take`).
      err.code === 'EEXIST'
        ? Promise.reject(err)
        : writeFile(path, writer.text, { flag: 'wx', mode: 0o600 }),
    );
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    await unlink(whole).catch(() => undefined);
  }
}

/** Puts `writer.text` in place of `path` at once: readers see the old text or the new, never an empty file. */
async function replace(path: string, writer: Writer): Promise<void> {
  const whole = temporary(path, writer);
  await writeFile(whole, writer.text, { flag: 'wx', mode: 0o600 });
  await rename(whole, path).catch(async (err: unknown) => {
    await unlink(whole).catch(() => undefined);
    throw err;
  });
}

/** The text of `path`, or undefined when there is no such file. */
async function read(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

/** Rounds of 5 ms a stale lock's claimer is given to replace it. */
const CLAIM_TRIES = 400;

/**
 * How long a text without its final newline is taken for one being written
 * (on a file system without hard links) before it is judged a crash's
 * leftover: far longer than a write takes, even on a loaded machine.
 */
const PARTIAL_MS = 10_000;

const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

const claimOf = (path: string, stale: string): string =>
  `${path}.${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`;

/**
 * Writes the lock file (or a claim), or names the live process that holds
 * it. A stale one is replaced under a claim on its text: processes started
 * together after a crash all find it stale, and without the claim each would
 * overwrite it and believe the directory its own. A claim whose claimer died
 * is itself stale and taken over the same way, under a claim of its own:
 * nothing is ever removed that another process may be about to act on.
 */
async function take(path: string, writer: Writer): Promise<string | undefined> {
  let partialSince: number | undefined;
  let waits = 0;
  for (;;) {
    if (await create(path, writer)) return undefined;
    const stale = await read(path);
    if (stale === undefined) continue; // released meanwhile: create it
    if (!stale.endsWith('\n')) {
      partialSince ??= performance.now();
      if (performance.now() - partialSince < PARTIAL_MS) {
        await pause(5);
        continue;
      }
    } else {
      partialSince = undefined;
      const holder = await holderOf(stale);
      if (holder) return holder;
    }
    const claim = claimOf(path, stale);
    const claimer = await take(claim, writer);
    if (claimer === undefined) {
      try {
        // Unless a claimer before this one has replaced it already.
        if ((await read(path)) === stale) {
          await replace(path, writer);
          return undefined;
        }
      } finally {
        await unlink(claim).catch(() => undefined);
      }
    } else if (++waits > CLAIM_TRIES) return `${claimer}: it is taking the directory over`;
    else await pause(5); // read the lock again once its claimer has replaced it
  }
}

/** `<pid>-<start>-<host>-<boot>-<random>.tmp`, at the end of a temporary's name. */
const TEMPORARY = /\.(\d+)-(\d+|x)-([0-9a-f]{8})-([0-9a-f]{8}|x)-[0-9a-f]+\.tmp$/;

/** A claim: `LOCK.<hash>`, or a claim on a claim `LOCK.<hash>.<hash>`. */
const CLAIM = /^LOCK(\.[0-9a-f]{16})+$/;

/**
 * Whether a temporary's writer is gone for good: of this host, and of another
 * boot, or dead, or its pid now another process's (or this process's, which
 * has none in flight in a directory it holds).
 */
async function writerGone(name: string, me: Writer): Promise<boolean> {
  const [, pidText, start, host, boot] = TEMPORARY.exec(name) ?? [];
  if (host !== me.host) return false;
  if (differ(unnamed(boot), me.boot)) return true;
  const pid = Number(pidText);
  if (pid === process.pid || !alive(pid)) return true;
  return differ(unnamed(start), await startTime(pid));
}

/**
 * Removes what processes killed while taking the lock left beside it, once
 * this process holds it: temporaries whose writer is gone, and claims whose
 * claimer is not alive. A claim only ever guards the replacement of the stale
 * text it is named after, which a held `LOCK` no longer holds.
 */
async function removeLeftovers(dir: string, me: Writer): Promise<void> {
  for (const name of await readdir(dir).catch(() => [])) {
    if (!name.startsWith('LOCK.')) continue;
    const path = join(dir, name);
    const gone = TEMPORARY.test(name)
      ? await writerGone(name, me)
      : CLAIM.test(name) && !(await holderOf((await read(path).catch(() => '')) ?? ''));
    if (gone) await unlink(path).catch(() => undefined);
  }
}

/**
 * Takes a directory for one store: two processes appending to and deleting
 * the same segments would lose events. The `LOCK` file names the holder: pid,
 * host, boot id and start time. It is stale when that process is gone, when
 * its pid now belongs to another process (after a reboot, or reused), when it
 * names this very process with no store of ours holding it (a container
 * restarted with the same pid), or when it comes from another host (a volume
 * moved to a new machine). Once held, the leftovers of crashes while taking
 * it are removed. Resolves with the release function, or with a sentence
 * saying who holds the directory.
 */
export async function lockDir(dir: string): Promise<(() => Promise<void>) | string> {
  const key = resolve(dir);
  if (held.has(key)) return 'another fileStore of this process uses it';
  held.add(key);
  const path = join(dir, 'LOCK');
  try {
    const { boot, start } = await identity(process.pid);
    const me = writerOf(boot, start);
    await mkdir(dir, { recursive: true });
    const holder = await take(path, me);
    if (holder) {
      held.delete(key);
      return holder;
    }
    await removeLeftovers(dir, me);
    return async () => {
      held.delete(key);
      if ((await read(path).catch(() => undefined)) === me.text)
        await unlink(path).catch(() => undefined);
    };
  } catch (err) {
    held.delete(key);
    throw err;
  }
}
