import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTmpDir } from '../test/tmp-dir';
import { writeFileAtomic, writeJsonAtomic } from './atomic-write';
import { readJson } from './json';
import { z } from 'zod';
import { InvalidInputError } from '../errors';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTmpDir()));
afterEach(() => cleanup());

describe('writeFileAtomic', () => {
  it('should write text, bytes and chunk lists, creating parent directories', async () => {
    await writeFileAtomic(join(dir, 'a/b/c.txt'), 'héllo');
    expect(await readFile(join(dir, 'a/b/c.txt'), 'utf8')).toBe('héllo');
    await writeFileAtomic(join(dir, 'bytes.bin'), new Uint16Array([1, 2]));
    expect([...(await readFile(join(dir, 'bytes.bin')))]).toEqual([1, 0, 2, 0]);
    await writeFileAtomic(join(dir, 'chunks.bin'), ['ab', new Uint8Array([0x63])]);
    expect(await readFile(join(dir, 'chunks.bin'), 'utf8')).toBe('abc');
  });

  it('should replace an existing file and leave no temporary files behind', async () => {
    const file = join(dir, 'x.txt');
    await writeFile(file, 'old');
    await writeFileAtomic(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['x.txt']);
  });

  it('should leave the old file untouched and remove the temp file when the write fails', async () => {
    const file = join(dir, 'x.txt');
    await writeFile(file, 'old');
    const bad = ['ok', 42 as unknown as string];
    await expect(writeFileAtomic(file, bad)).rejects.toThrow();
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['x.txt']);
  });

  it('should fail when the target is a directory and leave no temp file', async () => {
    await mkdir(join(dir, 'isdir'));
    await expect(writeFileAtomic(join(dir, 'isdir'), 'x')).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['isdir']);
  });
});

describe('writeJsonAtomic / readJson', () => {
  const Schema = z.object({ name: z.string(), n: z.number().int() });

  it('should round-trip a value through a schema', async () => {
    await writeJsonAtomic(join(dir, 'v.json'), { name: 'a', n: 3 });
    expect(await readJson(join(dir, 'v.json'), Schema)).toEqual({ name: 'a', n: 3 });
    expect((await readFile(join(dir, 'v.json'), 'utf8')).endsWith('\n')).toBe(true);
  });

  it('should report line and column of malformed JSON', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, '{\n  "name": "a",\n  "n": 3,\n}\n');
    const error = (await readJson(file).catch((e) => e)) as InvalidInputError;
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.file).toBe(file);
    expect(error.line).toBe(4);
    expect(error.message).toContain(`${file}:4`);
    expect(error.message).toMatch(/malformed JSON at column 1/);
  });

  it('should report truncated JSON', async () => {
    const file = join(dir, 'trunc.json');
    await writeFile(file, '{"name": "a", "n": [1, 2');
    await expect(readJson(file)).rejects.toThrow(/unexpected end of input/);
  });

  it('should name the field that fails the schema', async () => {
    const file = join(dir, 'wrong.json');
    await writeFile(file, JSON.stringify({ name: 'a', n: 'three' }));
    const error = await readJson(file, Schema).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.field).toBe('n');
    expect(error.message).toMatch(/field "n".*expected number/);
  });

  it('should say when the file is missing', async () => {
    await expect(readJson(join(dir, 'nope.json'))).rejects.toThrow(/nope\.json: JSON file not found/);
  });
});
