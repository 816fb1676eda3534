import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { tempDirs } from './support/helpers';

const PROCESSES = 4;
const ROUNDS = 100;

/** A pid above Linux's largest `pid_max`: never alive. */
const DEAD_PID = 4_194_305;

function firstMessage(child: ChildProcess): Promise<unknown> {
  return once(child, 'message').then(([message]) => message as unknown);
}

describe('fileStore: processes started together on a directory with a stale LOCK', function () {
  this.timeout(60_000);
  const dirs = tempDirs();
  const children: ChildProcess[] = [];
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => once(child, 'exit')));
    dirs.cleanup();
  });

  it(`exactly one of ${PROCESSES} takes it over, in each of ${ROUNDS} rounds; the LOCK names it and nothing else is left`, async () => {
    const stale = `${DEAD_PID} ${hostname()} - -\n`;
    const rounds = Array.from({ length: ROUNDS }, () => {
      const dir = dirs.make();
      writeFileSync(join(dir, 'LOCK'), stale);
      return dir;
    });
    for (let i = 0; i < PROCESSES; i++)
      children.push(
        fork(join(__dirname, 'support', 'lock-child.ts'), [], {
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
      );
    await Promise.all(children.map(firstMessage)); // 'ready'
    const results = children.map(firstMessage);
    const at = Date.now() + 500;
    for (const child of children) child.send({ dirs: rounds, at, stepMs: 30 });
    const held = (await Promise.all(results)) as boolean[][];

    rounds.forEach((dir, round) => {
      const holders = children.filter((_, i) => held[i]![round]);
      expect(
        holders,
        `round ${round}: ${JSON.stringify(held.map((h) => h[round]))}`,
      ).to.have.length(1);
      expect(readFileSync(join(dir, 'LOCK'), 'utf8')).to.match(new RegExp(`^${holders[0]!.pid} `));
      expect(readdirSync(dir)).to.deep.equal(['LOCK']);
    });
  });
});
