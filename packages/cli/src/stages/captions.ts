import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  createConceptGrammarSource,
  demoGrammarOptions,
  createOpenAICaptionSource,
  defaultCaptionSource,
  gapFillingWeights,
  loadConcepts,
  synthesizeCaptions,
} from '@synth2/captioner';
import {
  ConfigurationError,
  Synth2Error,
  getRegistries,
  type CaptionSourceV1,
  type Concept,
  type ConceptInventory,
} from '@synth2/core';
import { colorShapePairConcepts, pairGapCounts } from '@synth2/datasets';
import type { PipelineConfig } from '../config';
import { queued, runQueuedCaptions } from '../queued-stages';
import { queueContext } from './queue-context';
import { readInventory, readItems, runPath, type StageBody, type StageRunContext } from './context';

/** The concept grammar's settings under `captions.grammar` on the shapes world (`demoGrammarOptions`), else none. */
export function shapesGrammarDefaults(config: PipelineConfig): Partial<typeof demoGrammarOptions> {
  return config.data.source === 'shapes' ? demoGrammarOptions : {};
}

/** The settings each kind of caption source gets from `captions` (the grammar and OpenAI ones are apart). */
export function captionSourceSettings(config: PipelineConfig, inventory: ConceptInventory | undefined) {
  const c = config.captions;
  return {
    openai: { baseURL: c.baseURL, model: c.model, maxConcurrency: c.concurrency, ...c.openai },
    grammar: { inventory, seed: config.seed, ...shapesGrammarDefaults(config), ...c.grammar },
    plugin: { ...c.options, inventory },
  };
}

/** The caption source the config asks for, and why it was chosen. */
export async function resolveCaptionSource(
  config: PipelineConfig,
  inventory: ConceptInventory | undefined,
): Promise<{ source: CaptionSourceV1; reason: string }> {
  const c = config.captions;
  const settings = captionSourceSettings(config, inventory);
  if (c.source === 'auto') {
    const { seed, ...grammar } = settings.grammar;
    const d = defaultCaptionSource({ openai: settings.openai, grammar, seed });
    return { source: d.source, reason: d.reason };
  }
  if (c.source === 'grammar') {
    return {
      source: createConceptGrammarSource(settings.grammar),
      reason: 'captions.source is "grammar": writing captions with the offline concept grammar',
    };
  }
  if (c.source === 'openai') {
    const source = createOpenAICaptionSource(settings.openai);
    return {
      source,
      reason: `captions.source is "openai": writing captions with the OpenAI-compatible LLM (model ${source.modelId})`,
    };
  }
  const source = await getRegistries().captionSources.create(c.source, settings.plugin);
  return {
    source,
    reason: `captions.source is "${c.source}" (plugin): ${source.provider} / ${source.modelId}`,
  };
}

/**
 * The concept items to write captions about: the config's concept list, else the world's colour–shape pairs, else
 * (a folder of real data) the concepts the data stage found in its human train captions (`data/concepts.txt`).
 */
async function conceptsFor(
  ctx: StageRunContext,
  inventory: ConceptInventory | undefined,
): Promise<Concept[][]> {
  const c = ctx.config.captions;
  const fromCaptions = runPath(ctx, 'data', 'concepts.txt');
  const file = c.concepts ?? (existsSync(fromCaptions) ? fromCaptions : undefined);
  const concepts = file
    ? (await loadConcepts(file)).map((x) => [x])
    : inventory
      ? colorShapePairConcepts(inventory)
      : [];
  if (!concepts.length) {
    throw new ConfigurationError(
      'No concepts to write captions about: set captions.concepts to a concept list file (one concept per line).',
      {
        setting: 'captions.concepts',
      },
    );
  }
  return concepts;
}

/**
 * `captions.gapFill`: sampling weights for the colour–shape pair concepts from how often the human train captions
 * name each pair (the held-out ones: never), so that a share of the synthetic captions fills those gaps first.
 */
async function gapFillWeightsFor(
  ctx: StageRunContext,
  concepts: Concept[][],
  share: number,
): Promise<number[] | undefined> {
  const human =
    ctx.config.data.source === 'shapes'
      ? (await readItems(ctx, 'train')).flatMap((it) => it.captions)
      : undefined;
  const existing = human && pairGapCounts(concepts, human);
  if (!existing) {
    ctx.reporter.log(
      `captions: gap filling off (captions.gapFill counts the shapes world's colour–shape pairs in its human captions; these concepts are not such pairs): using the ${ctx.config.captions.sampler} sampler`,
    );
    return undefined;
  }
  const budget = ctx.config.captions.count * ctx.config.captions.conceptsPerCaption;
  const weights = gapFillingWeights(existing, budget, share);
  const unnamed = existing.filter((n) => n === 0).length;
  const toUnnamed = weights.reduce((s, w, i) => s + (existing[i] === 0 ? w : 0), 0) / budget;
  ctx.reporter.log(
    `captions: gap filling (${share}): ${unnamed} of ${existing.length} colour–shape pairs are named by no human caption; they get ${(100 * toUnnamed).toFixed(0)}% of the synthetic captions`,
  );
  return weights;
}

/** The error for a synthesis run that ended short of `captions.count` (its captions stay in `<out>.partial`). */
export function shortRunError(warning: string): Synth2Error {
  return new Synth2Error(
    `captions: ${warning} The later stages need the complete captions file; the captions stage stops here.`,
    {
      code: 'captions_incomplete',
    },
  );
}

/** `captions`: synthetic captions about the concepts (here, or as jobs on the queue). */
export const captionsStage: StageBody = async (ctx, dir) => {
  const inventory = await readInventory(ctx);
  const c = ctx.config.captions;
  const concepts = await conceptsFor(ctx, inventory);
  const weights = c.gapFill > 0 ? await gapFillWeightsFor(ctx, concepts, c.gapFill) : undefined;
  const sampling = weights ? { sampler: 'weighted' as const, weights } : { sampler: c.sampler };
  // --queue: the jobs go to `synth2 worker` processes; the stage is done once their shards are merged.
  if (queued(ctx.config, 'captions'))
    return runQueuedCaptions(queueContext(ctx, 'captions'), dir, { concepts, inventory, sampling });
  const { source, reason } = await resolveCaptionSource(ctx.config, inventory);
  ctx.reporter.log(`captions: ${reason}`);
  try {
    const summary = await synthesizeCaptions({
      source,
      concepts,
      count: c.count,
      out: join(dir, 'captions.jsonl'),
      conceptsPerCaption: c.conceptsPerCaption,
      ...sampling,
      seed: ctx.config.seed,
      wordCount: c.wordCount,
      concurrency: c.concurrency,
      onProgress: (e) =>
        ctx.reporter.progress({ stage: 'captions', done: e.written, total: e.count, unit: 'captions' }),
      abortSignal: ctx.abortSignal,
    });
    if (!summary.complete) {
      const warning = summary.warning ?? `${summary.written} of ${c.count} captions were written.`;
      ctx.reporter.log(`captions: warning: ${warning}`);
      throw shortRunError(warning);
    }
    return {
      outputs: ['captions/captions.jsonl'],
      summary: {
        written: summary.written,
        requests: summary.requests,
        rejected: summary.rejected,
        provider: summary.provider,
        model: summary.model,
        reason,
      },
    };
  } finally {
    await source.close?.();
  }
};
