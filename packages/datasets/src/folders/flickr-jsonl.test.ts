import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '@synth2/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSplits } from '../shapes/splits';
import { exportCocoFolder } from './coco-export';
import { parseCsv } from './csv';
import { loadFlickrFolder } from './flickr-folder';
import { loadJsonlManifest } from './jsonl-manifest';
import { sharedDataset } from './test-data';

let tmp: string;
/** Three valid PNGs: a.png, b.png, c.png, plus a corrupt bad.png. */
let images: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'synth2-folders-'));
  const src = join(tmp, 'src');
  const { train } = makeSplits({ train: 3, seed: 1 });
  await exportCocoFolder(train, src);
  images = join(tmp, 'images');
  await mkdir(images);
  for (const [i, name] of ['a', 'b', 'c'].entries())
    await copyFile(join(src, 'images', `${train.items[i].imageId}.png`), join(images, `${name}.png`));
  await writeFile(join(images, 'bad.png'), 'not an image');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function flickrFolder(name: string, csv: string): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir);
  await writeFile(join(dir, 'captions.csv'), csv);
  return dir;
}

describe('parseCsv', () => {
  it('should read RFC-4180 quoting, escaped quotes, CRLF and embedded newlines', () => {
    const rows = parseCsv(
      'image,caption\r\na.jpg,"A dog, running ."\r\nb.jpg,"He said ""hi""\nthen left"\n\nc.jpg,plain\n',
    );
    expect(rows.map((r) => r.fields)).toEqual([
      ['image', 'caption'],
      ['a.jpg', 'A dog, running .'],
      ['b.jpg', 'He said "hi"\nthen left'],
      ['c.jpg', 'plain'],
    ]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 3, 6]);
    expect(() => parseCsv('a,"open\n')).toThrow(/unterminated quoted field starting on line 1/);
  });
});

describe('loadFlickrFolder', () => {
  it('should group captions by image and decode the images', async () => {
    const dir = await flickrFolder(
      'ok',
      'image,caption\na.png,A red circle .\na.png,"A circle, red ."\nb.png,A star .\n',
    );
    const stream = loadFlickrFolder({ captions: join(dir, 'captions.csv'), images }, { image: { size: 8 } });
    const pairs = await stream.toArray();
    expect(pairs.map((p) => [p.imageId, p.captions])).toEqual([
      ['a.png', ['A red circle .', 'A circle, red .']],
      ['b.png', ['A star .']],
    ]);
    expect(pairs[0].image).toMatchObject({ width: 8, height: 8 });
  });

  it('should report captions for unknown images, images without captions, bad rows and unreadable images', async () => {
    const dir = await flickrFolder(
      'bad',
      'image,caption\na.png,ok caption\nmissing.png,a caption for an image that is not there\nb.png,\nc.png,x,y\nbad.png,a corrupt file\n',
    );
    const source = { captions: join(dir, 'captions.csv'), images };
    const error = await loadFlickrFolder(source)
      .toArray()
      .catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/captions\.csv:5: expected 2 fields, found 3/);
    const stream = loadFlickrFolder(source, { onError: 'skip' });
    const pairs = await stream.toArray();
    expect(pairs.map((p) => p.imageId)).toEqual(['a.png']);
    expect(stream.report.skipped.map((s) => [s.problem, s.entry])).toEqual([
      ['malformed-entry', 'line 5'],
      ['no-captions', 'image b.png (line 4)'],
      ['missing-image', 'image missing.png (line 3)'],
      ['unreadable-image', 'image bad.png (line 6)'],
    ]);
  });

  it('should reject a CSV without the image,caption header', async () => {
    const dir = await flickrFolder('header', 'file,text\na.png,hello\n');
    await expect(loadFlickrFolder({ captions: join(dir, 'captions.csv'), images }).toArray()).rejects.toThrow(
      /header must name the columns "image" and "caption"/,
    );
  });

  const flickr = sharedDataset('flickr8k-1k');
  it.skipIf(!flickr)('should stream the real flickr8k-1k folder', async () => {
    const all = loadFlickrFolder(flickr!, { image: false });
    const pairs = await all.toArray();
    expect(pairs).toHaveLength(1000);
    expect(pairs.every((p) => p.captions.length === 5)).toBe(true);
    expect(pairs.some((p) => p.captions.some((c) => c.includes(',')))).toBe(true);
    let decoded = 0;
    for await (const pair of loadFlickrFolder(flickr!, { image: { size: 32 } })) {
      expect(pair.image!.data.length).toBe(32 * 32 * 3);
      if (++decoded === 50) break;
    }
    expect(decoded).toBe(50);
  });
});

describe('path containment', () => {
  it('should refuse Flickr image entries that climb out of the image folder', async () => {
    // tmp/src/images holds real PNGs: a loader that followed "../src/images/…" from tmp/images would read them
    const dir = await flickrFolder(
      'escape',
      'image,caption\na.png,A red circle .\n../src/images/shapes-train-000000.png,Stolen .\n/etc/hostname,Host .\n',
    );
    const source = { captions: join(dir, 'captions.csv'), images };
    const error = await loadFlickrFolder(source, { image: false })
      .toArray()
      .catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      /captions\.csv:3: image \.\.\/src\/images\/shapes-train-000000\.png \(line 3\): field "image": path "\.\.\/src\/images\/shapes-train-000000\.png" climbs out of its folder/,
    );
    const stream = loadFlickrFolder(source, { onError: 'skip', image: false });
    expect((await stream.toArray()).map((p) => p.imageId)).toEqual(['a.png']);
    expect(stream.report.skipped.map((s) => [s.problem, s.line])).toEqual([
      ['unsafe-path', 3],
      ['unsafe-path', 4],
    ]);
  });

  it('should refuse JSONL manifest paths that are absolute, climb out, or follow a symlink out', async () => {
    const dir = join(tmp, 'jsonl-escape');
    await mkdir(dir);
    await symlink(images, join(dir, 'linked'));
    await copyFile(join(images, 'a.png'), join(dir, 'a.png'));
    const file = join(dir, 'manifest.jsonl');
    await writeFile(
      file,
      [
        JSON.stringify({ image: 'a.png', caption: 'inside' }),
        JSON.stringify({ image: '../images/b.png', caption: 'climbs' }),
        JSON.stringify({ file_name: join(images, 'c.png'), caption: 'absolute' }),
        JSON.stringify({ file: 'linked/a.png', caption: 'symlinked folder' }),
      ].join('\n'),
    );
    await expect(loadJsonlManifest(file, { image: false }).toArray()).rejects.toThrow(
      /manifest\.jsonl:2: line 2 \(\.\.\/images\/b\.png\): field "image": path "\.\.\/images\/b\.png" climbs out/,
    );
    const stream = loadJsonlManifest(file, { onError: 'skip', image: false });
    expect((await stream.toArray()).map((p) => p.captions[0])).toEqual(['inside']);
    expect(
      stream.report.skipped.map((s) => [
        s.problem,
        s.line,
        s.message.match(/climbs out|is absolute|symlink/)?.[0],
      ]),
    ).toEqual([
      ['unsafe-path', 2, 'climbs out'],
      ['unsafe-path', 3, 'is absolute'],
      ['unsafe-path', 4, 'symlink'],
    ]);
  });
});

describe('loadJsonlManifest', () => {
  it('should read image paths relative to the manifest and report bad lines', async () => {
    const file = join(tmp, 'manifest.jsonl');
    await writeFile(
      file,
      [
        JSON.stringify({ image: 'images/a.png', captions: ['one', 'two'], id: 'A', extra: 1 }),
        JSON.stringify({ file: 'images/b.png', caption: 'three' }),
        '{"image": "images/c.png", "captions": [',
        JSON.stringify({ image: 'images/c.png', captions: [] }),
        JSON.stringify({ image: 'images/nope.png', captions: ['x'] }),
        JSON.stringify({ image: 'images/bad.png', captions: ['y'] }),
        JSON.stringify({ captions: ['no path'] }),
        '',
      ].join('\n'),
    );
    const error = await loadJsonlManifest(file)
      .toArray()
      .catch((e) => e);
    expect(error.message).toMatch(/manifest\.jsonl:3: malformed JSON/);
    const stream = loadJsonlManifest(file, { onError: 'skip', image: { size: 4 } });
    const pairs = await stream.toArray();
    expect(pairs.map((p) => [p.imageId, p.captions, p.meta?.extra])).toEqual([
      ['A', ['one', 'two'], 1],
      ['images/b.png', ['three'], undefined],
    ]);
    expect(stream.report.skipped.map((s) => [s.problem, s.line])).toEqual([
      ['malformed-entry', 3],
      ['no-captions', 4],
      ['malformed-entry', 7],
      ['missing-image', 5],
      ['unreadable-image', 6],
    ]);
  });

  const coco = sharedDataset('coco-mini');
  it.skipIf(!coco)('should stream the real coco-mini index.jsonl', async () => {
    const stream = loadJsonlManifest(join(coco!, 'index.jsonl'), { image: false });
    const pairs = await stream.toArray();
    expect(pairs).toHaveLength(239);
    expect(pairs[0].imageId).toBe('790');
    expect(pairs.every((p) => p.captions.length === 5)).toBe(true);
    let n = 0;
    for await (const pair of loadJsonlManifest(join(coco!, 'index.jsonl'), { image: { size: 32 } })) {
      expect(pair.image!.data.length).toBe(32 * 32 * 3);
      if (++n === 20) break;
    }
  });
});
