/**
 * A process that takes the LOCK of each directory it is given at an agreed
 * moment, as processes started together after a crash do, and says which it
 * got. It stays alive (holding them) until killed.
 */
import { lockDir } from '../../../src/stores/file/lock';

interface Start {
  dirs: string[];
  /** `Date.now()` of the first attempt: the one clock processes share. */
  at: number;
  stepMs: number;
}

process.on('message', (start: Start) => void takeAll(start));
process.send!('ready');

async function takeAll({ dirs, at, stepMs }: Start): Promise<void> {
  const held: boolean[] = [];
  for (const [i, dir] of dirs.entries()) {
    while (Date.now() < at + i * stepMs); // spin: every process leaves the same millisecond
    held.push(typeof (await lockDir(dir)) !== 'string');
  }
  process.send!(held);
}
