import { join } from 'node:path';
import {
  CaptionRecordSchema,
  ConfigurationError,
  ShardedTensorWriter,
  readJsonlAll,
  writeJsonAtomic,
  type CaptionRecord,
} from '@synth2/core';
import {
  CaptionTokenGenerator,
  demoSampling,
  generateEmbeddings,
  generateImages,
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
  records: CaptionRecord[];
  conditioning: Map<string, string>;
  keyOf?: (caption: string) => string[];
  sampling: ReturnType<typeof samplingOf>;
  seedBase: number;
  judge?: CaptioningVLM;
}

/**
 * Writes the embedding store in-process: batch i of the run samples with seed `seedBase + i` (as queue workers do),
 * re-ranked by the judge VLM when there is one. Returns the summed first and kept candidate scores.
 */
async function writeEmbeddingsLocally(
  ctx: StageRunContext,
  dir: string,
  job: EmbeddingJob,
): Promise<{ first: number; kept: number }> {
  const { generator, tokenizer, records, conditioning, keyOf, judge } = job;
  const batch = ctx.config.generate.batchSize;
  const candidates = ctx.config.generate.candidates;
  const scores = { first: 0, kept: 0 };
  const writer = await ShardedTensorWriter.open(join(dir, 'embeddings'), {
    kind: 'image-embeddings',
    tensors: {
      embeddings: {
        dtype: 'F32',
        shape: [tokenizer.gridSize * tokenizer.gridSize, tokenizer.config.codeDim],
      },
    },
    ...EMBEDDING_STORE,
  });
  for (let i = 0; i < records.length; i += batch) {
    const chunk = records.slice(i, i + batch).filter((r) => !writer.has(r.id));
    if (chunk.length) {
      const emb = await generateEmbeddings({
        generator,
        tokenizer,
        captions: chunk.map((r) => conditioning.get(r.id)!),
        exemplarKeys: keyOf && chunk.map((r) => keyOf(r.text)),
        ...job.sampling,
        seed: job.seedBase + i,
        abortSignal: ctx.abortSignal,
        ...(judge && {
          rerank: {
            scorer: judge,
            candidates,
            onScores: (first: Float32Array, kept: Float32Array) => {
              first.forEach((s) => (scores.first += s));
              kept.forEach((s) => (scores.kept += s));
            },
          },
        }),
      });
      const data = (await emb.data()) as Float32Array;
      emb.dispose();
      await writer.append(
        chunk.map((r) => r.id),
        { embeddings: data },
      );
    }
    ctx.reporter.progress({
      stage: 'generate',
      done: Math.min(records.length, i + batch),
      total: records.length,
      unit: 'captions',
    });
  }
  await writer.close();
  return scores;
}

/** A few decoded generations for the report (pixels are only made here, never for training). */
async function writeGallery(ctx: StageRunContext, dir: string, job: EmbeddingJob): Promise<void> {
  const samples = job.records.slice(0, 12);
  const images = await generateImages({
    generator: job.generator,
    tokenizer: job.tokenizer,
    captions: samples.map((r) => job.conditioning.get(r.id)!),
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
    records,
    conditioning,
    keyOf,
    sampling: samplingOf(ctx.config),
    seedBase: ctx.config.seed * 7919,
    judge,
  };
  let scores = { first: 0, kept: 0 };
  if (queued(ctx.config, 'generate')) {
    // --queue: contiguous caption ranges as jobs with the seeds of the local loop, merged into the same store.
    await runQueuedEmbeddings(queueContext(ctx, 'generate'), dir, {
      records: records.map((r) => ({
        id: r.id,
        text: conditioning.get(r.id)!,
        ...(keyOf ? { exemplarKeys: keyOf(r.text) } : {}),
      })),
      sampling: job.sampling,
      seed: job.seedBase,
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
            meanScoreFirst: scores.first / records.length,
            meanScoreKept: scores.kept / records.length,
          }
        : {}),
    },
  };
};
