import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors';
import { sha256File } from './file-hash';

describe('sha256File', () => {
  it('should give the SHA-256 and size of a file larger than one read chunk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synth2-hash-'));
    const file = join(dir, 'blob.bin');
    const data = randomBytes(3 * (1 << 20) + 17);
    await writeFile(file, data);
    expect(await sha256File(file)).toEqual({ sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length });
  });

  it('should hash an empty file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synth2-hash-'));
    await writeFile(join(dir, 'empty'), '');
    expect(await sha256File(join(dir, 'empty'))).toEqual({
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      bytes: 0,
    });
  });

  it('should name a missing file in an InvalidInputError', async () => {
    const file = join(tmpdir(), 'synth2-no-such-file-for-hash');
    const error = await sha256File(file).catch((e: unknown) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/not found/);
  });

  it('should stop with the abort reason when aborted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synth2-hash-'));
    await writeFile(join(dir, 'blob.bin'), randomBytes(1 << 20));
    const abort = new AbortController();
    abort.abort(new Error('stop now'));
    await expect(sha256File(join(dir, 'blob.bin'), { abortSignal: abort.signal })).rejects.toThrow('stop now');
  });
});
