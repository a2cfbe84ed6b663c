import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { conceptsFromCaptions } from '@synth2/captioner';
import { ConfigurationError, Rng, writeFileAtomic, writeJsonl } from '@synth2/core';
import { loadCocoFolder, loadFlickrFolder, loadJsonlManifest, type FolderLoadOptions, type PairStream } from '@synth2/datasets';
import { saveImages } from './artifacts';
import { splitNames, type PipelineConfig, type SplitName } from './config';
import type { Reporter } from './reporter';

/** The folder layouts `data.source` accepts, for error messages and the README. */
export const FOLDER_LAYOUTS =
  'a Flickr-style folder (captions.csv or captions.txt with the header image,caption; images beside it or in images/), ' +
  'a COCO-format folder (captions.json, or annotations/captions_<split>.json with images in <split>/), ' +
  'or a JSONL manifest (a .jsonl file, or a folder holding exactly one: one {"file": ..., "captions": [...]} per line)';

export type FolderFormat = 'flickr' | 'coco' | 'jsonl';

/** Which loader reads `source` (and the manifest file for the JSONL layout), or a clear error. */
export function detectFolderFormat(source: string): { format: FolderFormat; path: string } {
  const refuse = (what: string) =>
    new ConfigurationError(`data.source "${source}" ${what}. Give "shapes" or ${FOLDER_LAYOUTS}.`, { setting: 'data.source' });
  if (!existsSync(source)) throw refuse('is neither "shapes" nor an existing file or folder');
  if (statSync(source).isFile()) {
    if (source.endsWith('.jsonl')) return { format: 'jsonl', path: source };
    throw refuse('is a file but not a .jsonl manifest');
  }
  const has = (f: string) => existsSync(join(source, f));
  if (has('captions.csv') || has('captions.txt')) return { format: 'flickr', path: source };
  if (has('captions.json') || has('annotations')) return { format: 'coco', path: source };
  const manifests = readdirSync(source).filter((f) => f.endsWith('.jsonl'));
  if (manifests.length === 1) return { format: 'jsonl', path: join(source, manifests[0]) };
  throw refuse(manifests.length > 1 ? `holds several .jsonl files (${manifests.join(', ')}); name one of them` : 'holds no captions file it can read');
}

function openFolder({ format, path }: { format: FolderFormat; path: string }, options: FolderLoadOptions): PairStream {
  if (format === 'flickr') return loadFlickrFolder(path, options);
  if (format === 'coco') return loadCocoFolder(path, options);
  return loadJsonlManifest(path, options);
}

/**
 * The data stage for a real folder (`data.source`: see {@link FOLDER_LAYOUTS}): images resized/centre-cropped to
 * `imageSize`, shuffled with the seed and split into train/val/test (sizes capped by what the folder holds).
 * Entries that cannot be used are skipped and counted. Without `captions.concepts`, `concepts.txt` gets the words
 * the human train captions use most (`conceptsFromCaptions`), for the captions stage.
 */
export async function loadRealFolder(config: PipelineConfig, dir: string, reporter: Reporter) {
  const folder = config.data.source;
  const found = detectFolderFormat(folder);
  const S = config.data.imageSize;
  const stream = openFolder(found, { onError: 'skip', image: { size: S } });
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
  const concepts = config.captions.concepts ? {} : await writeCaptionConcepts(dir, splits.train, reporter);
  return {
    outputs: ['data'],
    summary: { source: folder, format: found.format, train: used, val: splits.val.length, test: splits.test.length, skipped, ...concepts },
  };
}

/** `concepts.txt`: the words the human train captions use most, one per line (what the captions stage reads). */
async function writeCaptionConcepts(dir: string, train: readonly { captions: string[] }[], reporter: Reporter) {
  const concepts = conceptsFromCaptions(train.flatMap((it) => it.captions));
  if (!concepts.length) {
    throw new ConfigurationError('the human train captions share no content words to write synthetic captions about; set captions.concepts to a concept list file.', {
      setting: 'captions.concepts',
    });
  }
  await writeFileAtomic(join(dir, 'concepts.txt'), `${concepts.map((c) => c.name).join('\n')}\n`);
  reporter.log(`data: no captions.concepts: ${concepts.length} concepts from the human train captions (${concepts.slice(0, 6).map((c) => c.name).join(', ')}, …) in data/concepts.txt`);
  return { concepts: concepts.length };
}
