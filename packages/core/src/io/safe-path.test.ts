import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors';
import { makeTmpDir } from '../test/tmp-dir';
import {
  assertSafeFileName,
  createPathResolver,
  resolvePathInside,
  resolvePathInsideSync,
} from './safe-path';

let dir: string;
let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTmpDir());
  root = join(dir, 'data');
  await mkdir(join(root, 'images', 'sub'), { recursive: true });
  await mkdir(join(dir, 'outside'));
  await writeFile(join(dir, 'outside', 'secret.jpg'), 'secret');
  await writeFile(join(root, 'images', 'a.jpg'), 'a');
});
afterEach(() => cleanup());

const origin = { file: '/d/captions.json', field: 'images[0].file_name' };

async function refusal(entry: string): Promise<InvalidInputError> {
  const error = await resolvePathInside(root, entry, origin).catch((e) => e);
  expect(InvalidInputError.isInstance(error), `${entry} should be refused`).toBe(true);
  return error;
}

describe('resolvePathInside', () => {
  it('should resolve relative entries inside the folder, existing or not', async () => {
    expect(await resolvePathInside(root, 'images/a.jpg')).toBe(join(root, 'images', 'a.jpg'));
    expect(await resolvePathInside(root, './images/sub/../a.jpg')).toBe(join(root, 'images', 'a.jpg'));
    expect(await resolvePathInside(root, 'images/missing/b.jpg')).toBe(
      join(root, 'images', 'missing', 'b.jpg'),
    );
  });

  it('should refuse ".." escapes, absolute paths, NUL bytes and empty entries, naming the entry and its file', async () => {
    const climb = await refusal('../../outside/secret.jpg');
    expect(climb.message).toMatch(
      /^\/d\/captions\.json, field "images\[0\]\.file_name": path "\.\.\/\.\.\/outside\/secret\.jpg" climbs out/,
    );
    expect(climb.message).toContain(`must stay inside ${root}`);
    expect(climb.file).toBe('/d/captions.json');
    expect((await refusal('images/../../outside/secret.jpg')).message).toMatch(/climbs out/);
    expect((await refusal(join(dir, 'outside', 'secret.jpg'))).message).toMatch(/is absolute/);
    expect((await refusal('C:\\outside\\secret.jpg')).message).toMatch(/is absolute/);
    expect((await refusal('images/a.jpg\0.png')).message).toMatch(/NUL byte/);
    expect((await refusal('')).message).toMatch(/is empty/);
  });

  it('should refuse a symlink, or a symlinked folder, that leads outside', async () => {
    await symlink(join(dir, 'outside', 'secret.jpg'), join(root, 'images', 'link.jpg'));
    await symlink(join(dir, 'outside'), join(root, 'images', 'out'));
    expect((await refusal('images/link.jpg')).message).toMatch(/leads outside its folder through a symlink/);
    expect((await refusal('images/out/secret.jpg')).message).toMatch(/through a symlink/);
    expect((await refusal('images/out/not-there.jpg')).message).toMatch(/through a symlink/);
    // a symlink that stays inside, and a root that is itself a symlink, are fine
    await symlink(join(root, 'images', 'a.jpg'), join(root, 'images', 'inner.jpg'));
    expect(await resolvePathInside(root, 'images/inner.jpg')).toBe(join(root, 'images', 'inner.jpg'));
    await symlink(root, join(dir, 'alias'));
    expect(await resolvePathInside(join(dir, 'alias'), 'images/a.jpg')).toBe(
      join(dir, 'alias', 'images', 'a.jpg'),
    );
  });
});

describe('createPathResolver', () => {
  it('should check many entries against one folder, symlinks included', async () => {
    await symlink(join(dir, 'outside'), join(root, 'images', 'out'));
    const paths = createPathResolver(root);
    expect(await paths.resolve('images/a.jpg')).toBe(join(root, 'images', 'a.jpg'));
    await expect(paths.resolve('images/out/secret.jpg', { line: 3 })).rejects.toThrow(
      /^line 3: path .* through a symlink/,
    );
    await expect(paths.resolve('../outside/secret.jpg')).rejects.toThrow(/climbs out/);
    expect(await paths.resolve('images/sub/new.jpg')).toBe(join(root, 'images', 'sub', 'new.jpg'));
  });
});

describe('resolvePathInsideSync', () => {
  it('should refuse escapes without touching the disk', () => {
    expect(resolvePathInsideSync('/store', 'shard-00000.safetensors')).toBe('/store/shard-00000.safetensors');
    expect(() => resolvePathInsideSync('/store', '../x', { field: 'shards[0].file' })).toThrow(
      /field "shards\[0\]\.file": path "\.\.\/x" climbs out of its folder/,
    );
    expect(() => resolvePathInsideSync('/store', '/etc/passwd')).toThrow(/is absolute/);
  });
});

describe('assertSafeFileName', () => {
  it('should accept plain names and refuse separators, dots, NUL and empty names', () => {
    expect(assertSafeFileName('img-00001')).toBe('img-00001');
    expect(assertSafeFileName('.hidden..name')).toBe('.hidden..name');
    for (const [name, why] of [
      ['../../../x', /path separator/],
      ['a/b', /path separator/],
      ['a\\b', /path separator/],
      ['..', /names a folder/],
      ['.', /names a folder/],
      ['a\0b', /NUL byte/],
      ['', /is empty/],
    ] as const) {
      const error = (() => {
        try {
          assertSafeFileName(name, { field: 'imageId' });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(InvalidInputError.isInstance(error), name).toBe(true);
      expect(error!.message).toMatch(why);
      expect(error!.message).toMatch(/field "imageId"/);
    }
  });
});
