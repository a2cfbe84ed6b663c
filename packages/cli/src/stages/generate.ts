import { join } from 'node:path';
import {
  CaptionRecordSchema,
  ConfigurationError,
  readJsonlAll,
  writeJsonAtomic,
  type CaptionRecord,
} from '@synth2/core';
import {
  CaptionTokenGenerator,
  demoSampling,
  generateImages,
  writeEmbeddingShards,
  type EmbeddingRecord,
  type VQTokenizer,
} from '@synth2/generator';
import { CaptioningVLM } from '@synth2/vlm';
import type { PipelineConfig } from '../config';
import { encodePngBase64 } from '../png';
import { EMBEDDING_STORE, queued, runQueuedEmbeddings } from '../queued-stages';
import { loadTokenizer, runPath, type StageBody, type StageRunContext } from './context';
import { exemplarKeyerFor } from './generator';
import { queueContext } from './queue-context';

/**
 * The generator can only condition on words it was trained with: each caption is read without the words it never
 * saw (the VLM still trains on the full caption); captions with fewer than half their words known are left out.
 */
function conditioningTexts(generator: CaptionTokenGenerator, all: readonly CaptionRecord[]) {
  const vocab = generator.captions.vocabulary;
  const conditioning = new Map<string, string>();
  let partial = 0;
  for (const r of all) {
    const words = vocab.tokenize(r.text);
    const known = words.filter((w) => vocab.has(w));
    if (!known.length || known.length * 2 < words.length) continue;
    conditioning.set(r.id, known.join(' '));
    if (known.length < words.length) partial++;
  }
  return { conditioning, partial, records: all.filter((r) => conditioning.has(r.id)) };
}

/** The sampling settings: the config's over the demo's. */
function samplingOf(config: PipelineConfig) {
  const g = config.generate;
  return {
    steps: g.steps ?? demoSampling.steps,
    temperature: g.temperature ?? demoSampling.temperature,
    guidanceScale: g.guidanceScale ?? demoSampling.guidanceScale,
    priorCorrection: g.priorCorrection ?? demoSampling.priorCorrection,
  };
}

interface EmbeddingJob {
  generator: CaptionTokenGenerator;
  tokenizer: VQTokenizer;
  /** What the generator is conditioned on, per kept caption record (run order). */
  records: EmbeddingRecord[];
  /** The kept caption records themselves (for the gallery). */
  captions: CaptionRecord[];
  sampling: ReturnType<typeof samplingOf>;
  /** Caption j of `records` draws from `Rng(seed).fork(j)`, in-process and on the queue alike. */
  seed: number;
  judge?: CaptioningVLM;
}

/**
 * Writes the embedding store in-process with `writeEmbeddingShards`, re-ranked by the judge VLM when there is one.
 * Returns the summed first and kept candidate scores and how many captions were scored.
 */
async function writeEmbeddingsLocally(ctx: StageRunContext, dir: string, job: EmbeddingJob) {
  const scores = { first: 0, kept: 0, count: 0 };
  const candidates = ctx.config.generate.candidates;
  await writeEmbeddingShards({
    generator: job.generator,
    tokenizer: job.tokenizer,
    records: job.records,
    dir: join(dir, 'embeddings'),
    ...job.sampling,
    seed: job.seed,
    batchSize: ctx.config.generate.batchSize,
    ...EMBEDDING_STORE,
    abortSignal: ctx.abortSignal,
    onProgress: ({ done, total }) => ctx.reporter.progress({ stage: 'generate', done, total, unit: 'captions' }),
    ...(job.judge && {
      rerank: {
        scorer: job.judge,
        candidates,
        onScores: (first: Float32Array, kept: Float32Array) => {
          first.forEach((s) => (scores.first += s));
          kept.forEach((s) => (scores.kept += s));
          scores.count += first.length;
        },
      },
    }),
  });
  return scores;
}

/** A few decoded generations for the report (pixels are only made here, never for training). */
async function writeGallery(ctx: StageRunContext, dir: string, job: EmbeddingJob): Promise<void> {
  const samples = job.captions.slice(0, 12);
  const images = await generateImages({
    generator: job.generator,
    tokenizer: job.tokenizer,
    captions: job.records.slice(0, 12).map((r) => r.text),
    seed: ctx.config.seed,
  });
  const px = (await images.data()) as Float32Array;
  const S = images.shape[1];
  images.dispose();
  const gallery = await Promise.all(
    samples.map(async (r, k) => ({
      caption: r.text,
      png: await encodePngBase64(px.subarray(k * S * S * 3, (k + 1) * S * S * 3), S, S),
    })),
  );
  await writeJsonAtomic(join(dir, 'gallery.json'), gallery);
}

/** `generate`: image embeddings for the synthetic captions, sampled in embedding space (no pixels). */
export const generateStage: StageBody = async (ctx, dir) => {
  const all = await readJsonlAll(runPath(ctx, 'captions', 'captions.jsonl'), CaptionRecordSchema);
  const tokenizer = await loadTokenizer(ctx);
  const generator = await CaptionTokenGenerator.load(runPath(ctx, 'generator', 'model'));
  const { conditioning, partial, records } = conditioningTexts(generator, all);
  const keyOf = generator.config.exemplars ? await exemplarKeyerFor(ctx) : undefined;
  const unreadable = all.length - records.length;
  if (unreadable || partial) {
    ctx.reporter.log(
      `generate: ${partial} of ${all.length} synthetic captions have words the generator never saw (read without them); ${unreadable} with mostly unknown words are left out`,
    );
  }
  if (!records.length)
    throw new ConfigurationError(
      'No synthetic caption uses words the generator knows; check the caption source and the human captions.',
    );
  const started = Date.now();
  const candidates = ctx.config.generate.candidates;
  // re-ranking judge: the baseline VLM, trained on the human train pairs only (the stage depends on it then)
  const judge = candidates > 1 ? await CaptioningVLM.load(runPath(ctx, 'vlm-baseline', 'model')) : undefined;
  if (judge)
    ctx.reporter.log(
      `generate: best of ${candidates} candidates per caption, re-ranked by the baseline VLM's caption log-likelihood`,
    );
  const job: EmbeddingJob = {
    generator,
    tokenizer,
    records: records.map((r) => ({ id: r.id, text: conditioning.get(r.id)!, ...(keyOf ? { exemplarKeys: keyOf(r.text) } : {}) })),
    captions: records,
    sampling: samplingOf(ctx.config),
    seed: ctx.config.seed * 7919,
    judge,
  };
  let scores = { first: 0, kept: 0, count: 0 };
  if (queued(ctx.config, 'generate')) {
    // --queue: contiguous caption ranges as jobs, each caption with its seed of the in-process run, merged into one store
    await runQueuedEmbeddings(queueContext(ctx, 'generate'), dir, {
      records: job.records,
      sampling: job.sampling,
      seed: job.seed,
      batchSize: ctx.config.generate.batchSize,
    });
  } else {
    scores = await writeEmbeddingsLocally(ctx, dir, job);
  }
  await writeGallery(ctx, dir, job);
  generator.dispose();
  tokenizer.dispose();
  judge?.dispose();
  const seconds = (Date.now() - started) / 1000;
  return {
    outputs: ['generate/embeddings', 'generate/gallery.json'],
    summary: {
      captions: records.length,
      leftOut: unreadable,
      readWithoutUnknownWords: partial,
      captionsPerSecond: records.length / seconds,
      // mean caption log-likelihood under the baseline VLM: the first candidate vs the kept one
      ...(judge
        ? {
            candidates,
            meanScoreFirst: scores.first / Math.max(1, scores.count),
            meanScoreKept: scores.kept / Math.max(1, scores.count),
          }
        : {}),
    },
  };
};
