import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError, Rng, writeJsonl } from '@synth2/core';
import { loadCocoFolder, loadFlickrFolder } from '@synth2/datasets';
import { saveImages } from './artifacts';
import { splitNames, type PipelineConfig, type SplitName } from './config';
import type { Reporter } from './reporter';

/**
 * The data stage for a real folder (`data.source` = a COCO-format folder or a Flickr-style folder with
 * `captions.csv`): images resized/centre-cropped to `imageSize`, shuffled with the seed and split into
 * train/val/test (sizes capped by what the folder holds). Entries that cannot be used are skipped and counted.
 */
export async function loadRealFolder(config: PipelineConfig, dir: string, reporter: Reporter) {
  const folder = config.data.source;
  if (!existsSync(folder)) {
    throw new ConfigurationError(`data.source "${folder}" is neither "shapes" nor an existing folder. Give a COCO-format or Flickr-style folder.`, {
      setting: 'data.source',
    });
  }
  const S = config.data.imageSize;
  const isFlickr = existsSync(join(folder, 'captions.csv')) || existsSync(join(folder, 'captions.txt'));
  const stream = isFlickr
    ? loadFlickrFolder(folder, { onError: 'skip', image: { size: S } })
    : loadCocoFolder(folder, { onError: 'skip', image: { size: S } });
  const pairs: { imageId: string; captions: string[]; pixels: Uint8Array }[] = [];
  for await (const pair of stream) {
    if (!pair.image) continue;
    const px = pair.image.data as Uint8Array | Float32Array;
    const pixels = px instanceof Uint8Array ? px : Uint8Array.from(px, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    pairs.push({ imageId: pair.imageId, captions: pair.captions, pixels });
    if (pairs.length % 100 === 0) reporter.progress({ stage: 'data', done: pairs.length, total: pairs.length + 100, unit: 'images' });
  }
  const skipped = stream.report.skipped.length;
  if (pairs.length < 3) throw new ConfigurationError(`${folder} has only ${pairs.length} usable image–caption pairs; need at least 3.`);
  new Rng(config.seed).shuffle(pairs);
  const want = config.data.train + config.data.val + config.data.test;
  const scale = Math.min(1, pairs.length / want);
  const nTest = Math.max(1, Math.floor(config.data.test * scale));
  const nVal = Math.floor(config.data.val * scale);
  const nTrain = Math.max(1, Math.min(pairs.length - nTest - nVal, Math.floor(config.data.train * scale)));
  const used = Math.max(1, Math.round(nTrain * config.data.humanFraction));
  const splits: Record<SplitName, typeof pairs> = {
    train: pairs.slice(0, used),
    val: pairs.slice(nTrain, nTrain + nVal),
    test: pairs.slice(nTrain + nVal, nTrain + nVal + nTest),
    'train-full': pairs.slice(0, nTrain),
  };
  for (const name of splitNames(config)) {
    const items = splits[name];
    const pixels = new Uint8Array(items.length * S * S * 3);
    items.forEach((it, i) => pixels.set(it.pixels, i * S * S * 3));
    await saveImages(join(dir, `${name}.images.safetensors`), { data: pixels, shape: [items.length, S, S, 3] });
    await writeJsonl(
      join(dir, `${name}.jsonl`),
      items.map((it) => ({ imageId: it.imageId, captions: it.captions, width: S, height: S })),
    );
  }
  return {
    outputs: ['data'],
    summary: { source: folder, format: isFlickr ? 'flickr' : 'coco', train: used, val: splits.val.length, test: splits.test.length, skipped },
  };
}
