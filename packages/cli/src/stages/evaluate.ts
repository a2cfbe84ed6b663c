import { join } from 'node:path';
import { CaptionRecordSchema, ConfigurationError, Rng, readJsonlAll, writeJsonAtomic } from '@synth2/core';
import { heldOutPairRecall, heldOutPairSet, objectNaming } from '@synth2/datasets';
import {
  captionDiversity,
  checkMetricIds,
  evaluateCaptions,
  pairedBootstrapSummary,
  type CaptionEvaluation,
} from '@synth2/eval';
import { CaptioningVLM } from '@synth2/vlm';
import { hasFullReference, type PipelineConfig } from '../config';
import {
  loadTokenizer,
  readItems,
  readSplitManifest,
  realPairs,
  runPath,
  type RealPairsOf,
  type SplitItem,
  type StageBody,
  type StageRunContext,
} from './context';
import type { DiversitySummary, ModelScores, ScoresFile, ScoresSummary } from './scores';

/**
 * Checks `eval.metrics` against the built-in metrics and those the loaded plugins registered, before any stage runs:
 * an unknown id fails the command at once (listing the known metrics), not after the VLMs are trained.
 */
export function checkEvalMetrics(config: PipelineConfig): void {
  try {
    checkMetricIds(config.eval.metrics, 'eval.metrics');
  } catch (error) {
    if (!ConfigurationError.isInstance(error)) throw error;
    throw new ConfigurationError(`eval.metrics: ${error.message} Fix the config file or the --eval.metrics flag.`, {
      setting: error.setting,
      cause: error,
    });
  }
}

/** The corpus scores of an evaluation by name (built-in names and plugin metric ids), as `scores.json` holds them. */
function scoresByName(e: CaptionEvaluation): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(e.metrics)) if (value !== undefined) out[name] = value;
  return out;
}

/** Per-image CIDEr-D of an evaluation in the order of `ids` (0 for an image it did not score). */
function ciderInOrder(e: CaptionEvaluation, ids: string[]): number[] | undefined {
  const per = e.perImage.CIDEr;
  if (!per) return undefined;
  const at = new Map(e.imageIds.map((id, i) => [String(id), per[i]]));
  return ids.map((id) => at.get(id) ?? 0);
}

/** The scenes of the test items with the model's caption of each (shapes world only). */
const captionedScenes = (items: readonly SplitItem[], predictions: Record<string, string>) =>
  items.flatMap((it) =>
    it.meta?.objects ? [{ caption: predictions[it.imageId], objects: it.meta.objects }] : [],
  );

/** A model's captions of the test images and their scores (all images, held-out compositions, shapes diagnostics). */
async function scoreModel(
  ctx: StageRunContext,
  modelDir: string,
  test: RealPairsOf,
  heldOut: ReadonlySet<string>,
): Promise<ModelScores> {
  const model = await CaptioningVLM.load(modelDir);
  const beam = ctx.config.eval.beamSize;
  const captions = await model.caption(
    test.embeddings,
    beam > 1 ? { strategy: 'beam', beamSize: beam } : { strategy: 'greedy' },
  );
  model.dispose();
  const predictions: Record<string, string> = {};
  const references: Record<string, string[]> = {};
  test.items.forEach((it, i) => {
    predictions[it.imageId] = captions[i];
    references[it.imageId] = it.captions;
  });
  const metrics = ctx.config.eval.metrics;
  const allEval = await evaluateCaptions({ references, predictions, metrics });
  const perImageCider: NonNullable<ModelScores['perImageCider']> = {
    all:
      ciderInOrder(
        allEval,
        test.items.map((it) => it.imageId),
      ) ?? [],
  };
  const hoItems = test.items.filter((it) => it.meta?.heldOut);
  let ho: Record<string, number> | undefined;
  let recall: number | undefined;
  if (hoItems.length) {
    const pick = <T>(m: Record<string, T>) =>
      Object.fromEntries(hoItems.map((it) => [it.imageId, m[it.imageId]]));
    const hoEval = await evaluateCaptions({
      references: pick(references),
      predictions: pick(predictions),
      metrics,
    });
    ho = scoresByName(hoEval);
    perImageCider.heldOut = ciderInOrder(
      hoEval,
      hoItems.map((it) => it.imageId),
    );
    recall = heldOutPairRecall(captionedScenes(hoItems, predictions), heldOut);
  }
  const named = objectNaming(captionedScenes(test.items, predictions), heldOut);
  const naming = named.seen || named.heldOut ? named : undefined;
  return {
    all: scoresByName(allEval),
    heldOut: ho,
    heldOutPairRecall: recall,
    objectNaming: naming,
    predictions,
    perImageCider,
  };
}

/** Caption diversity of human and synthetic captions (a seeded sample of at most 6,000 each). */
async function diversityOf(ctx: StageRunContext): Promise<Record<string, DiversitySummary>> {
  const human = (await readItems(ctx, 'train')).flatMap((it) => it.captions);
  const synthetic = (await readJsonlAll(runPath(ctx, 'captions', 'captions.jsonl'), CaptionRecordSchema)).map(
    (r) => r.text,
  );
  const rng = new Rng(ctx.config.seed);
  const sample = (xs: string[], k: number) => (xs.length <= k ? xs : rng.sample(xs, k));
  // Per-caption cluster assignments are dropped: the report needs the summary only.
  const summarize = (texts: string[]): DiversitySummary => {
    const d = captionDiversity(sample(texts, 6000), { k: 20, seed: ctx.config.seed });
    const { assignments: _assignments, ...clusters } = d.clusters ?? {};
    return { ...d, clusters };
  };
  return { human: summarize(human), synthetic: summarize(synthetic) };
}

/** Synth² against the baseline: CIDEr ratios with paired bootstrap intervals, recall, naming, gap closed. */
function compare(models: Record<string, ModelScores>, seed: number): ScoresSummary {
  const b = models.baseline;
  const s = models.synth2;
  const ratio = (x?: number, y?: number) => (x != null && y != null && y > 0 ? x / y : undefined);
  const summary: ScoresSummary = {
    ciderAll: {
      baseline: b.all.CIDEr,
      synth2: s.all.CIDEr,
      ratio: ratio(s.all.CIDEr, b.all.CIDEr),
      bootstrap: pairedBootstrapSummary(b.perImageCider?.all, s.perImageCider?.all, { seed }),
    },
    ciderHeldOut: {
      baseline: b.heldOut?.CIDEr,
      synth2: s.heldOut?.CIDEr,
      ratio: ratio(s.heldOut?.CIDEr, b.heldOut?.CIDEr),
      bootstrap: pairedBootstrapSummary(b.perImageCider?.heldOut, s.perImageCider?.heldOut, { seed }),
    },
    heldOutPairRecall: { baseline: b.heldOutPairRecall, synth2: s.heldOutPairRecall },
    objectNaming: { baseline: b.objectNaming, synth2: s.objectNaming },
  };
  if (models.full) {
    const gap = (models.full.all.CIDEr ?? 0) - (b.all.CIDEr ?? 0);
    summary.gapClosed = gap > 0 ? ((s.all.CIDEr ?? 0) - (b.all.CIDEr ?? 0)) / gap : undefined;
  }
  return summary;
}

/** `evaluate`: every VLM captions the test images; scores, diversity and the comparison go to `scores.json`. */
export const evaluateStage: StageBody = async (ctx, dir) => {
  const tokenizer = await loadTokenizer(ctx);
  const test = await realPairs(ctx, tokenizer, 'test');
  tokenizer.dispose();
  const heldOut = heldOutPairSet((await readSplitManifest(ctx))?.heldOutPairs);
  const models: Record<string, ModelScores> = {};
  const kinds = ['baseline', 'synth2', ...(hasFullReference(ctx.config) ? ['full'] : [])];
  for (const kind of kinds) {
    models[kind] = await scoreModel(ctx, runPath(ctx, `vlm-${kind}`, 'model'), test, heldOut);
    ctx.reporter.log(
      `evaluate: ${kind} CIDEr ${models[kind].all.CIDEr?.toFixed(3)} (held-out ${models[kind].heldOut?.CIDEr?.toFixed(3) ?? '–'})`,
    );
  }
  const diversity = await diversityOf(ctx);
  const summary = compare(models, ctx.config.seed);
  const scores: ScoresFile = {
    models,
    diversity,
    summary,
    testImages: test.items.length,
    heldOutTestImages: test.items.filter((it) => it.meta?.heldOut).length,
  };
  await writeJsonAtomic(join(dir, 'scores.json'), scores);
  return { outputs: ['evaluate/scores.json'], summary };
};
