import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncDir } from '@synth2/core/internal';

/**
 * Writes a whole directory atomically: `write(tmpDir)` fills a fresh sibling temp directory, which then replaces
 * `dir` by rename. Readers see the old directory or the complete new one; if `write` throws, the temp directory is
 * removed and `dir` is untouched. (Replacing an existing `dir` takes two renames; a crash between them leaves the
 * old copy as `dir.old-*` beside it, never a half-written `dir`.)
 */
export async function writeDirAtomic(dir: string, write: (tmpDir: string) => Promise<void>): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(target)}.tmp-${tag}`);
  await mkdir(tmp);
  try {
    await write(tmp);
    await fsyncDir(tmp);
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (exists) {
      const old = join(parent, `.${basename(target)}.old-${tag}`);
      await rename(target, old);
      await rename(tmp, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
    await fsyncDir(parent);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}
