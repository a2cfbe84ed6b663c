import { join } from 'node:path';
import { VQTokenizer, trainTokenizer } from '@synth2/generator';
import { saveTokens, sliceImages, toUnitFloat, type ImageSet, type TokenSet } from '../artifacts';
import { splitNames } from '../config';
import { tokenizerSettings } from '../stage-settings';
import { readSplit, trainerRunOptions, type StageBody } from './context';

/** The token ids of every image of a set, `batch` images at a time. */
function encodeAll(tokenizer: VQTokenizer, images: ImageSet, batch = 256): TokenSet {
  const n = images.shape[0];
  const g = tokenizer.gridSize;
  const out = new Int32Array(n * g * g);
  for (let i = 0; i < n; i += batch) {
    const idx = Array.from({ length: Math.min(batch, n - i) }, (_, k) => i + k);
    const ids = tokenizer.encode(toUnitFloat(sliceImages(images, idx)));
    out.set(ids.dataSync() as Int32Array, i * g * g);
    ids.dispose();
  }
  return { data: out, shape: [n, g, g] };
}

/** `tokenizer`: trains the VQ tokenizer on the human train images, then encodes every split once. */
export const tokenizerStage: StageBody = async (ctx, dir) => {
  const train = await readSplit(ctx, 'train');
  const { model, training } = tokenizerSettings(ctx.config.tokenizer);
  const tokenizer = VQTokenizer.create({
    ...model,
    imageSize: ctx.config.data.imageSize,
    seed: ctx.config.seed,
  });
  const result = await trainTokenizer(tokenizer, toUnitFloat(train.images), {
    ...training,
    ...trainerRunOptions(ctx, dir, 'tokenizer', 250),
  });
  await tokenizer.save(join(dir, 'model'));
  const summary: Record<string, unknown> = {
    steps: result.steps,
    finalLoss: result.finalLoss,
    trainSeconds: result.seconds,
  };
  for (const name of splitNames(ctx.config)) {
    const split = name === 'train' ? train : await readSplit(ctx, name);
    await saveTokens(join(dir, `${name}.tokens.safetensors`), encodeAll(tokenizer, split.images));
    if (name === 'test') {
      const ev = await tokenizer.evaluate(toUnitFloat(split.images));
      Object.assign(summary, {
        testPsnr: ev.psnr,
        perplexity: ev.perplexity,
        usedCodes: ev.usedCodes,
        deadCodes: ev.deadCodes,
      });
    }
  }
  tokenizer.dispose();
  return {
    outputs: [
      'tokenizer/model',
      ...splitNames(ctx.config).map((name) => `tokenizer/${name}.tokens.safetensors`),
    ],
    summary,
  };
};
