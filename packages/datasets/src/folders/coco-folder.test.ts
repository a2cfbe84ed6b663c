import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { AbortedError, ConfigurationError, ImageCaptionPairSchema, InvalidInputError } from '@synth2/core';
import { evaluateCaptions, readJsonFile } from '@synth2/eval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFloat32 } from '../shapes/render';
import { makeSplits } from '../shapes/splits';
import { exportCocoFolder } from './coco-export';
import { CocoCaptionsSchema, loadCocoFolder } from './coco-folder';
import type { SkippedEntry } from './pair-stream';
import { sharedDataset } from './test-data';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'synth2-coco-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const splits = makeSplits({ train: 12, test: 9, holdOutFraction: 0.25, seed: 3 });

/** A COCO folder with one copy of the test split, then edited by `edit`. */
async function brokenFolder(
  name: string,
  edit: (ann: any, dir: string) => Promise<void> | void,
): Promise<string> {
  const dir = join(tmp, name);
  await exportCocoFolder(splits.test, dir);
  const ann = JSON.parse(await readFile(join(dir, 'captions.json'), 'utf8'));
  await edit(ann, dir);
  await writeFile(join(dir, 'captions.json'), JSON.stringify(ann));
  return dir;
}

describe('exportCocoFolder', () => {
  it('should write PNG images and COCO caption annotations that round-trip through loadCocoFolder', async () => {
    const dir = join(tmp, 'round-trip');
    const result = await exportCocoFolder(splits.test, dir);
    expect(result).toMatchObject({ images: 9, captions: 45 });
    expect((await readdir(join(dir, 'images'))).filter((f) => f.endsWith('.png'))).toHaveLength(9);
    const ann = CocoCaptionsSchema.parse(JSON.parse(await readFile(join(dir, 'captions.json'), 'utf8')));
    // the COCO annotations format: numeric ids, file_name, image_id, caption
    expect(ann.images[0]).toMatchObject({
      id: 1,
      file_name: `${splits.test.items[0].imageId}.png`,
      width: 32,
      height: 32,
    });
    expect(ann.annotations[0]).toEqual({ id: 1, image_id: 1, caption: splits.test.items[0].captions[0] });
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.heldOutPairs).toEqual(splits.manifest.heldOutPairs);
    expect(manifest.split).toBe('test');

    const stream = loadCocoFolder(dir);
    const pairs = await stream.toArray();
    expect(stream.report).toEqual({ loaded: 9, skipped: [] });
    expect(pairs).toHaveLength(9);
    pairs.forEach((pair, i) => {
      const item = splits.test.items[i];
      expect(ImageCaptionPairSchema.parse(pair).captions).toEqual(item.captions);
      expect(pair.image?.width).toBe(32);
      expect(pair.image!.data).toEqual(toFloat32(item.pixels));
    });
  });

  it("should be read by @synth2/eval's COCO reader and evaluator", async () => {
    const dir = join(tmp, 'eval');
    const { annotations } = await exportCocoFolder(splits.test, dir);
    const references = (await readJsonFile(annotations)) as Parameters<
      typeof evaluateCaptions
    >[0]['references'];
    // predict each image's first reference: a perfect-ish captioner; an unrelated caption scores far lower
    const good = splits.test.items.map((item, i) => ({ image_id: i + 1, caption: item.captions[0] }));
    const bad = splits.test.items.map((_, i) => ({
      image_id: i + 1,
      caption: 'a man riding a horse on a beach',
    }));
    const a = await evaluateCaptions({ references, predictions: good });
    const b = await evaluateCaptions({ references, predictions: bad });
    expect(a.imageIds).toEqual(splits.test.items.map((_, i) => i + 1));
    expect(a.dropped ?? []).toEqual([]);
    expect(a.metrics.CIDEr!).toBeGreaterThan(b.metrics.CIDEr! + 1);
  });

  it('should refuse to overwrite an existing folder unless asked, and leave no partial folder on failure', async () => {
    const dir = join(tmp, 'exists');
    await exportCocoFolder(splits.train, dir);
    await expect(exportCocoFolder(splits.train, dir)).rejects.toThrow(ConfigurationError);
    await exportCocoFolder(splits.test, dir, { overwrite: true });
    expect(JSON.parse(await readFile(join(dir, 'captions.json'), 'utf8')).images).toHaveLength(9);

    const bad = {
      name: 'bad',
      items: [{ ...splits.test.items[0] }, { ...splits.test.items[1], pixels: new Uint8Array(5) }],
    };
    await expect(exportCocoFolder(bad, join(tmp, 'bad'))).rejects.toThrow(/pixels hold 5 bytes/);
    const controller = new AbortController();
    const aborted = exportCocoFolder(splits.train, join(tmp, 'aborted'), {
      abortSignal: controller.signal,
      onProgress: (d) => d === 3 && controller.abort(),
    });
    await expect(aborted).rejects.toThrow(AbortedError);
    expect((await readdir(tmp)).filter((f) => f.includes('bad') || f.includes('aborted'))).toEqual([]);
  });
});

describe('exportCocoFolder image ids', () => {
  it('should refuse an id that would write outside the target, or twice, before writing anything', async () => {
    const marker = `x-${basename(tmp)}`;
    const evil = {
      name: 'evil',
      items: [{ ...splits.test.items[0] }, { ...splits.test.items[1], imageId: `../../../${marker}` }],
    };
    const target = join(tmp, 'evil');
    const error = await exportCocoFolder(evil, target).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      /field "items\[1\]\.imageId": "\.\.\/\.\.\/\.\.\/x-.*" cannot be used as a file name: it contains a path separator/,
    );
    // where the id pointed: images/ of the temporary folder beside the target, three levels up
    for (const up of [
      join(tmp, '..', `${marker}.png`),
      join(tmp, `${marker}.png`),
      resolve(tmp, '..', '..', `${marker}.png`),
    ]) {
      await expect(readFile(up)).rejects.toThrow(/ENOENT/);
    }
    expect((await readdir(tmp)).filter((f) => f.includes('evil'))).toEqual([]);
    for (const id of ['..', 'a\\b', '']) {
      await expect(
        exportCocoFolder([{ ...splits.test.items[0], imageId: id }], join(tmp, 'evil')),
      ).rejects.toThrow(/cannot be used as a file name/);
    }
    const twice = [
      { ...splits.test.items[0] },
      { ...splits.test.items[1], imageId: splits.test.items[0].imageId },
    ];
    await expect(exportCocoFolder(twice, join(tmp, 'evil'))).rejects.toThrow(
      /image id "shapes-test-000000" is used twice/,
    );
    expect((await readdir(tmp)).filter((f) => f.includes('evil'))).toEqual([]);
  });
});

describe('loadCocoFolder', () => {
  it('should refuse image paths that leave the image folder (.., absolute, symlink), naming the entry and the file', async () => {
    // a real image outside the dataset, so a loader that followed the paths would load it
    const outside = join(tmp, 'outside');
    await mkdir(outside, { recursive: true });
    const source = join(tmp, 'outside-src');
    await exportCocoFolder(splits.test, source);
    await copyFile(
      join(source, 'images', `${splits.test.items[0].imageId}.png`),
      join(outside, 'secret.png'),
    );
    const dir = await brokenFolder('escape', async (ann, d) => {
      ann.images[0].file_name = '../../outside/secret.png';
      ann.images[1].file_name = join(outside, 'secret.png');
      await symlink(join(outside, 'secret.png'), join(d, 'images', 'link.png'));
      ann.images[2].file_name = 'link.png';
    });
    const error = await loadCocoFolder(dir, { image: false })
      .toArray()
      .catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.file).toBe(join(dir, 'captions.json'));
    expect(error.message).toMatch(
      /captions\.json: image 1 \(\.\.\/\.\.\/outside\/secret\.png\): field "file_name": path "\.\.\/\.\.\/outside\/secret\.png" climbs out of its folder with "\.\."; paths read from a data file must stay inside .*escape\/images\..*\(2 more problems/,
    );
    const stream = loadCocoFolder(dir, { onError: 'skip', image: false });
    const pairs = await stream.toArray();
    expect(pairs).toHaveLength(6);
    expect(pairs.every((p) => p.imagePath.startsWith(join(dir, 'images')))).toBe(true);
    expect(stream.report.skipped.map((s) => [s.problem, s.entry])).toEqual([
      ['unsafe-path', 'image 1 (../../outside/secret.png)'],
      ['unsafe-path', `image 2 (${join(outside, 'secret.png')})`],
      ['unsafe-path', 'image 3 (link.png)'],
    ]);
    expect(stream.report.skipped.map((s) => s.message)).toEqual([
      expect.stringMatching(/climbs out/),
      expect.stringMatching(/is absolute/),
      expect.stringMatching(/leads outside its folder through a symlink/),
    ]);
  });

  it('should resize images through core', async () => {
    const dir = join(tmp, 'resize');
    await exportCocoFolder(splits.train, dir);
    const pairs = await loadCocoFolder(dir, { image: { size: 16 } }).toArray();
    expect(pairs[0].image).toMatchObject({ width: 16, height: 16 });
    expect(pairs[0].image!.data.length).toBe(16 * 16 * 3);
  });

  it('should report a missing image file with its entry, and skip it on request', async () => {
    const dir = await brokenFolder('missing', async (_ann, d) => {
      await rm(join(d, 'images', `${splits.test.items[2].imageId}.png`));
    });
    // 'throw' fails before the first pair: no partial output
    const yielded: string[] = [];
    const run = async () => {
      for await (const pair of loadCocoFolder(dir)) yielded.push(pair.imageId);
    };
    await expect(run()).rejects.toThrow(/image 3 \(shapes-test-000002\.png\): image file not found/);
    expect(yielded).toEqual([]);
    const skipped: SkippedEntry[] = [];
    const stream = loadCocoFolder(dir, { onError: 'skip', onSkip: (e) => skipped.push(e) });
    const pairs = await stream.toArray();
    expect(pairs).toHaveLength(8);
    expect(stream.report.skipped).toEqual(skipped);
    expect(skipped).toMatchObject([{ problem: 'missing-image', entry: 'image 3 (shapes-test-000002.png)' }]);
  });

  it('should report an image without captions and a caption for an unknown image', async () => {
    const dir = await brokenFolder('orphans', (ann) => {
      ann.annotations = ann.annotations.filter((a: any) => a.image_id !== 4);
      ann.annotations.push({ id: 999, image_id: 77, caption: 'a caption about nothing' });
    });
    const error = await loadCocoFolder(dir)
      .toArray()
      .catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      /annotation 999 \(image_id 77\): caption for an image id that is not in "images"/,
    );
    expect(error.message).toMatch(/1 more problem/);
    expect(error.message).toMatch(/onError: 'skip'/);
    const stream = loadCocoFolder(dir, { onError: 'skip', image: false });
    expect(await stream.toArray()).toHaveLength(8);
    expect(stream.report.skipped.map((s) => [s.problem, s.entry])).toEqual([
      ['unknown-image', 'annotation 999 (image_id 77)'],
      ['no-captions', 'image 4 (shapes-test-000003.png)'],
    ]);
  });

  it('should report an unreadable image with its entry', async () => {
    const dir = await brokenFolder('corrupt', async (_ann, d) => {
      await writeFile(join(d, 'images', `${splits.test.items[5].imageId}.png`), 'this is not a png');
    });
    await expect(loadCocoFolder(dir).toArray()).rejects.toThrow(
      /image 6 \(shapes-test-000005\.png\): cannot decode image/,
    );
    const stream = loadCocoFolder(dir, { onError: 'skip' });
    expect(await stream.toArray()).toHaveLength(8);
    expect(stream.report.skipped).toMatchObject([
      { problem: 'unreadable-image', entry: 'image 6 (shapes-test-000005.png)' },
    ]);
  });

  it('should name the file and field of malformed annotations', async () => {
    const dir = join(tmp, 'malformed');
    await exportCocoFolder(splits.test, dir);
    await writeFile(join(dir, 'captions.json'), '{"images": [], "annotations": [ {"image_id": 1} ]}');
    await expect(loadCocoFolder(dir).toArray()).rejects.toThrow(/captions\.json.*caption/);
    await writeFile(join(dir, 'captions.json'), '{"images": [');
    await expect(loadCocoFolder(dir).toArray()).rejects.toThrow(/captions\.json.*malformed JSON/);
    await expect(loadCocoFolder(join(tmp, 'nope')).toArray()).rejects.toThrow(/COCO folder not found/);
  });

  const coco = sharedDataset('coco-mini');
  it.skipIf(!coco)(
    'should stream the real coco-mini folder (official layout), decoded and resized',
    async () => {
      const stream = loadCocoFolder(coco!, { image: { size: 32 } });
      let n = 0;
      let captions = 0;
      for await (const pair of stream) {
        n++;
        captions += pair.captions.length;
        expect(pair.image!.data.length).toBe(32 * 32 * 3);
        expect(pair.captions.length).toBeGreaterThanOrEqual(5);
      }
      // 80 train + 79 val images with captions in annotations/captions_{train,val}2017.json
      expect(n).toBe(159);
      expect(captions).toBeGreaterThanOrEqual(159 * 5);
      expect(stream.report.skipped).toEqual([]);
    },
  );
});
