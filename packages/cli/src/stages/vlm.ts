import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Vocabulary } from '@synth2/core';
import { CaptioningVLM, loadSyntheticPairs, trainVLM } from '@synth2/vlm';
import { vlmSettings } from '../stage-settings';
import {
  loadTokenizer,
  realPairs,
  runPath,
  trainingProgress,
  type StageBody,
  type StageRunContext,
} from './context';

export type VlmKind = 'baseline' | 'synth2' | 'full';

/** The synthetic pairs of the run: the generated embedding store and the captions it was generated from. */
async function syntheticPairs(ctx: StageRunContext) {
  return loadSyntheticPairs({
    embeddingsDir: runPath(ctx, 'generate', 'embeddings'),
    captionsFile: runPath(ctx, 'captions', 'captions.jsonl'),
  });
}

/**
 * `vlm-<kind>`: a captioning VLM trained on the human train pairs (`full`: the whole human split), and for `synth2`
 * also on the synthetic pairs; the best checkpoint by validation CIDEr is kept.
 */
export function makeVlmStage(kind: VlmKind): StageBody {
  return async (ctx, dir) => {
    const tokenizer = await loadTokenizer(ctx);
    // the full-human reference trains on the whole human split, the others on the (possibly reduced) one
    const train = await realPairs(ctx, tokenizer, kind === 'full' ? 'train-full' : 'train');
    const val = await realPairs(ctx, tokenizer, 'val');
    const synthetic = kind === 'synth2' ? await syntheticPairs(ctx) : undefined;
    const { model: architecture, training } = vlmSettings(ctx.config.vlm);
    const humanCaptions = train.items.map((it) => it.captions);
    const model = CaptioningVLM.create({
      ...architecture,
      embeddingDim: train.embeddings.shape[2],
      grid: [tokenizer.gridSize, tokenizer.gridSize],
      seed: ctx.config.seed,
      vocabulary: Vocabulary.build([...humanCaptions.flat(), ...(synthetic?.captions ?? [])]),
    });
    tokenizer.dispose();
    const { mix, ...trainOpts } = training;
    const result = await trainVLM({
      ...trainOpts,
      model,
      real: { embeddings: train.embeddings, captions: humanCaptions },
      synthetic: synthetic ? { embeddings: synthetic.embeddings, captions: synthetic.captions } : undefined,
      mix: synthetic ? (mix ?? { real: 0.5, synthetic: 0.5 }) : { real: 1, synthetic: 0 },
      seed: ctx.config.seed,
      validation: val.items.length
        ? { embeddings: val.embeddings, references: val.items.map((it) => it.captions) }
        : undefined,
      checkpointDir: join(dir, 'checkpoints'),
      metricsFile: join(dir, 'metrics.jsonl'),
      onProgress: trainingProgress(ctx, `vlm-${kind}`),
      abortSignal: ctx.abortSignal,
      log: () => {},
    });
    await model.save(join(dir, 'model'));
    model.dispose();
    return {
      // the report draws the loss curve from metrics.jsonl when there is one
      outputs: [
        `vlm-${kind}/model`,
        ...(existsSync(join(dir, 'metrics.jsonl')) ? [`vlm-${kind}/metrics.jsonl`] : []),
      ],
      summary: {
        steps: result.steps,
        finalLoss: result.finalLoss,
        trainSeconds: result.seconds,
        stepsPerSecond: result.steps / Math.max(1e-9, result.seconds),
        bestValCIDEr: result.best?.metrics.CIDEr,
        humanImages: train.items.length,
        synthetic: synthetic?.captions.length ?? 0,
      },
    };
  };
}
