/**
 * The fuzz runs' seed. Unset, a fixed one: every run sends the same
 * requests. `FUZZ_SEED=<n>` replays the run a failure names;
 * `FUZZ_SEED=random` explores a new one (and names it too).
 */
export const DEFAULT_SEED = 0x0005eed5;

/** The seed `FUZZ_SEED`'s value asks for; anything else than a seed or 'random' is refused, never read as 0. */
export function fuzzSeed(value: string | undefined, random = Math.random): number {
  if (value === undefined || value.trim() === '') return DEFAULT_SEED;
  if (value === 'random') return Math.floor(random() * 2 ** 32);
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new Error(
      `FUZZ_SEED must be a whole number from 0 to 4294967295 or 'random', not ${JSON.stringify(value)}`,
    );
  return seed;
}

/** `test`'s outcome; a failure's message starts with the seed, and how to run it again. */
export async function namingSeed<T>(
  seed: number,
  file: string,
  test: () => Promise<T>,
): Promise<T> {
  try {
    return await test();
  } catch (err) {
    if (err instanceof Error)
      err.message = `seed ${seed} (replay: FUZZ_SEED=${seed} npx mocha --no-config --node-option import=tsx --extension ts --timeout 120000 ${file}): ${err.message}`;
    throw err;
  }
}
