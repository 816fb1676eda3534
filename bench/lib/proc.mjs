// Child processes for the bench: pinned to a core with taskset when it exists,
// talking over IPC, and always killed: on normal exit, on an error, on
// SIGINT/SIGTERM, and (from their side) when this process goes away.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';

const children = new Set();

/** taskset is used when present and the machine has at least 2 cores. */
export const PINNING =
  spawnSync('taskset', ['-c', '0', 'true']).status === 0 && availableParallelism() >= 2;
/** The app (or the client under test) runs here. */
export const APP_CPU = '0';
/** Load generator, sink and mock run here. */
export const LOAD_CPU = '1';

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const child of children) {
      try {
        child.kill('SIGKILL');
      } catch {}
    }
    children.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error(err);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error(err);
    killAll();
    process.exit(1);
  });
}

/**
 * Starts `node <script> <args>` pinned to `cpu` (when pinning works), with an
 * IPC channel. Resolves once the child sends `{ type: 'ready', ... }`, with a
 * handle to talk to it. Its stderr and stdout are kept (last 8 kB) for errors.
 */
export async function startChild(
  script,
  args = [],
  { cpu, nodeArgs = [], env = {}, readyTimeoutMs = 20_000 } = {},
) {
  hookExit();
  const nodeCmd = [...nodeArgs, script, ...args];
  const [cmd, argv] =
    PINNING && cpu !== undefined
      ? ['taskset', ['-c', cpu, process.execPath, ...nodeCmd]]
      : [process.execPath, nodeCmd];
  const child = spawn(cmd, argv, {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  children.add(child);
  let log = '';
  const keep = (chunk) => {
    log = (log + chunk.toString()).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const handle = new ChildHandle(child, exited, () => log);
  const ready = await Promise.race([
    handle.next('ready'),
    exited.then(({ code, signal }) => {
      throw new Error(`${script} exited (${code ?? signal}) before it was ready:\n${log}`);
    }),
    timeout(readyTimeoutMs, `${script} not ready after ${readyTimeoutMs} ms:\n${log}`),
  ]);
  handle.ready = ready;
  return handle;
}

class ChildHandle {
  constructor(child, exited, log) {
    this.child = child;
    this.exited = exited;
    this.log = log;
    this.waiting = new Map();
    this.inbox = [];
    child.on('message', (msg) => {
      const waiter = this.waiting.get(msg.type);
      if (waiter) {
        this.waiting.delete(msg.type);
        waiter(msg);
      } else this.inbox.push(msg);
    });
  }

  /** The next message of `type` (already received, or to come). */
  next(type) {
    const i = this.inbox.findIndex((m) => m.type === type);
    if (i !== -1) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return new Promise((resolve) => this.waiting.set(type, resolve));
  }

  /** Sends `{ type, ...payload }` and waits for the reply of type `reply` (default: same type). */
  async ask(type, payload = {}, { reply = type, timeoutMs = 120_000 } = {}) {
    this.child.send({ type, ...payload });
    return Promise.race([
      this.next(reply),
      this.exited.then(({ code, signal }) => {
        throw new Error(`child exited (${code ?? signal}) while asked '${type}':\n${this.log()}`);
      }),
      timeout(timeoutMs, `no '${reply}' reply within ${timeoutMs} ms:\n${this.log()}`),
    ]);
  }

  /** Asks the child to exit, then kills it if it has not within `graceMs`. */
  async stop(graceMs = 3000) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      this.child.send({ type: 'exit' });
    } catch {}
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

function timeout(ms, message) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

/**
 * For the child side: exit when the parent goes away, and after `maxLifeMs`
 * whatever happens, so nothing outlives a crashed or killed bench.
 */
export function guardChild(maxLifeMs = 15 * 60_000) {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg) => {
    if (msg?.type === 'exit') process.exit(0);
  });
  setTimeout(() => process.exit(3), maxLifeMs).unref();
}

/** Runs `fn` and waits `ms`. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export { once };
