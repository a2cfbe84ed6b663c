import { join } from 'node:path';
import { ConfigurationError } from '@synth2/core';
import { CaptionTokenGenerator, exemplarKeyer, imageExemplarKeys } from '@synth2/generator';
import { loadTokens } from '../artifacts';
import { generatorSettings } from '../stage-settings';
import {
  loadTokenizer,
  readInventory,
  readSplit,
  runPath,
  trainerRunOptions,
  type StageBody,
  type StageRunContext,
} from './context';

/** The exemplar keyer of the run's concept inventory (`generator.exemplars`). */
export async function exemplarKeyerFor(ctx: StageRunContext): Promise<(caption: string) => string[]> {
  const inventory = await readInventory(ctx);
  if (!inventory) {
    throw new ConfigurationError(
      'generator.exemplars needs a concept inventory to key captions by (the shapes world writes one); leave it off for this data source',
      {
        setting: 'generator.exemplars',
      },
    );
  }
  return exemplarKeyer(inventory);
}

/** `generator`: trains the caption → token generator on the human train captions and their images' tokens. */
export const generatorStage: StageBody = async (ctx, dir) => {
  const train = await readSplit(ctx, 'train');
  const tokens = await loadTokens(runPath(ctx, 'tokenizer', 'train.tokens.safetensors'));
  const per = tokens.shape[1] * tokens.shape[2];
  const { model, training } = generatorSettings(ctx.config.generator);
  // a retrieval-augmented generator also gets each caption's exemplar keys; the examples of one image share `image`
  const keyOf = model.exemplars ? await exemplarKeyerFor(ctx) : undefined;
  const examples = train.items.flatMap((it, i) => {
    const keys = keyOf && imageExemplarKeys(it.captions, keyOf);
    return it.captions.map((caption, k) => ({
      caption,
      tokens: tokens.data.subarray(i * per, (i + 1) * per),
      ...(keys ? { exemplarKeys: keys[k], image: i } : {}),
    }));
  });
  const tokenizer = await loadTokenizer(ctx);
  const generator = CaptionTokenGenerator.forTokenizer(tokenizer, {
    ...model,
    seed: ctx.config.seed,
    captions: examples.map((e) => e.caption),
  });
  tokenizer.dispose();
  const result = await generator.train(examples, {
    ...training,
    ...trainerRunOptions(ctx, dir, 'generator', 500),
  });
  await generator.save(join(dir, 'model'));
  generator.dispose();
  return {
    outputs: ['generator/model'],
    summary: { steps: result.steps, finalLoss: result.finalLoss, trainSeconds: result.seconds },
  };
};
