import { platform } from '#platform';

/** Runs `body` with the platform's join window at `ms` (the default, 20 ms, is too short to tell apart from "at once" in a test). */
export async function withJoinWindow(ms: number, body: () => Promise<void>): Promise<void> {
  const own = platform as { joinBatchesMs: number };
  const before = own.joinBatchesMs;
  own.joinBatchesMs = ms;
  try {
    await body();
  } finally {
    own.joinBatchesMs = before;
  }
}
