import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What `writeFileAtomic` accepts: text (UTF-8), bytes, or a list of them written one after another. */
export type AtomicWriteData = string | ArrayBufferView | readonly (string | ArrayBufferView)[];

/** Options of `writeFileAtomic`. */
export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o644 minus umask). */
  mode?: number;
  /** fsync the file before the rename (default true). */
  fsync?: boolean;
}

/** A temporary path in the same directory as `path` (so the final rename stays on one filesystem). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function toBytes(chunk: string | ArrayBufferView): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (!ArrayBuffer.isView(chunk))
    throw new TypeError(`writeFileAtomic: cannot write a ${typeof chunk}; pass a string or bytes`);
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory is written, fsynced and renamed over
 * `path`, so readers see either the old file or the whole new one, never a partial write. Parent directories are
 * created. On failure the temporary file is removed and `path` is left untouched.
 */
export async function writeFileAtomic(
  path: string,
  data: AtomicWriteData,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const chunks =
    typeof data === 'string' || ArrayBuffer.isView(data)
      ? [data]
      : (data as readonly (string | ArrayBufferView)[]);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx', options.mode ?? 0o644);
    for (const chunk of chunks) {
      const bytes = toBytes(chunk);
      let written = 0;
      while (written < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written);
        written += bytesWritten;
      }
    }
    if (options.fsync !== false) await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (error) {
    if (handle) await handle.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
  if (options.fsync !== false) await fsyncDir(dirname(path));
}

/** fsyncs a directory so a rename inside it is durable (best effort: not every platform allows it). */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // Some filesystems/platforms (Windows) refuse to open or fsync directories; the rename is still atomic.
  }
}

/** Writes `value` as pretty JSON (2-space indent, trailing newline) atomically. */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
  options: AtomicWriteOptions & { space?: number } = {},
): Promise<void> {
  const text = JSON.stringify(value, null, options.space ?? 2);
  if (text === undefined) throw new TypeError('writeJsonAtomic: value is not JSON-serialisable');
  await writeFileAtomic(path, `${text}\n`, options);
}
