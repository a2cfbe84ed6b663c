import { join } from 'node:path';
import { writeJsonAtomic, writeJsonl } from '@synth2/core';
import { heldOutPairSet, makeSplits, shapesItemMeta, type ShapesItem } from '@synth2/datasets';
import { saveImages } from '../artifacts';
import { splitNames, type SplitName } from '../config';
import type { SplitItem, StageBody } from './context';

/** The records of one split as the later stages read them. */
function splitRecords(items: readonly ShapesItem[], size: number, heldOut: ReadonlySet<string>): SplitItem[] {
  return items.map((it) => ({
    imageId: it.imageId,
    captions: it.captions,
    width: size,
    height: size,
    concepts: it.concepts,
    meta: shapesItemMeta(it, heldOut),
  }));
}

/** The items' pixels as one `[N, S, S, 3]` image set. */
function stackPixels(items: readonly ShapesItem[], size: number) {
  const pixels = new Uint8Array(items.length * size * size * 3);
  items.forEach((it, i) => pixels.set(it.pixels, i * size * size * 3));
  return { data: pixels, shape: [items.length, size, size, 3] as [number, number, number, number] };
}

/** `data`: the shapes world's splits (or a folder of real data): images, records, the split manifest, the inventory. */
export const dataStage: StageBody = async (ctx, dir) => {
  const { data, seed } = ctx.config;
  if (data.source !== 'shapes') {
    const { loadRealFolder } = await import('../real-data');
    return loadRealFolder(ctx.config, dir, ctx.reporter);
  }
  const splits = makeSplits({
    train: data.train,
    val: data.val,
    test: data.test,
    holdOutFraction: data.holdOutFraction,
    seed,
    world: { seed, imageSize: data.imageSize as 32 | 64 },
  });
  const heldOut = heldOutPairSet(splits.manifest.heldOutPairs);
  const used = Math.max(1, Math.round(splits.train.items.length * data.humanFraction));
  const itemsOf = (name: SplitName) =>
    name === 'train'
      ? splits.train.items.slice(0, used)
      : name === 'train-full'
        ? splits.train.items
        : splits[name].items;
  for (const name of splitNames(ctx.config)) {
    const items = itemsOf(name);
    await saveImages(join(dir, `${name}.images.safetensors`), stackPixels(items, data.imageSize));
    await writeJsonl(join(dir, `${name}.jsonl`), splitRecords(items, data.imageSize, heldOut));
  }
  await writeJsonAtomic(join(dir, 'splits.json'), splits.manifest);
  await writeJsonAtomic(join(dir, 'inventory.json'), splits.world.inventory);
  return {
    outputs: ['data'],
    summary: {
      train: used,
      val: splits.val.items.length,
      test: splits.test.items.length,
      heldOutPairs: splits.manifest.heldOutPairs.length,
      testHeldOutImages: splits.manifest.splits.test.heldOutImages,
    },
  };
};
