import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory; `cleanup()` removes it. */
export async function makeTmpDir(prefix = 'synth2-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with a fresh temporary directory that is removed afterwards (also on failure). */
export async function withTmpDir<T>(fn: (dir: string) => Promise<T> | T, prefix?: string): Promise<T> {
  const { dir, cleanup } = await makeTmpDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await cleanup();
  }
}
