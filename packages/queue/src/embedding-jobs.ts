import { mkdir, rm } from 'node:fs/promises';
import { numberedFiles } from './caption-jobs';
import { join } from 'node:path';
import {
  ConfigurationError,
  InvalidInputError,
  ShardedTensorWriter,
  readSafetensors,
  serializeSafetensors,
  throwIfAborted,
  writeFileAtomic,
  type EmbeddingShardManifest,
} from '@synth2/core';
import { z } from 'zod';

/** Sampling settings of a generate job (as in `@synth2/generator`'s `generateEmbeddings`; unset = its defaults). */
export const EmbeddingSamplingSchema = z
  .object({
    steps: z.number().int().positive().optional(),
    temperature: z.number().nonnegative().optional(),
    guidanceScale: z.number().nonnegative().optional(),
    priorCorrection: z.number().min(0).max(1).optional(),
  })
  .strict();
/** Sampling settings of an embedding job (`EmbeddingSamplingSchema`). */
export type EmbeddingSampling = z.infer<typeof EmbeddingSamplingSchema>;

/**
 * A unit of embedding-generation work: a contiguous range of caption records (`start` is the index of the first one
 * in the whole run), generated with the run's tokenizer and generator checkpoints and written to one shard file.
 */
export const EmbeddingJobSchema = z
  .object({
    kind: z.literal('embeddings'),
    runId: z.string().min(1),
    /** Shard directory shared by all workers. */
    shardDir: z.string().min(1),
    shard: z.number().int().nonnegative(),
    start: z.number().int().nonnegative(),
    /** `text` is what the generator is conditioned on; `exemplarKeys` (generators with exemplars) what it retrieves by. */
    records: z.array(z.object({ id: z.string().min(1), text: z.string().min(1), exemplarKeys: z.array(z.string()).optional() })).min(1),
    /** Checkpoint folders (`VQTokenizer.save`, `CaptionTokenGenerator.save`), readable by every worker. */
    tokenizerDir: z.string().min(1),
    generatorDir: z.string().min(1),
    sampling: EmbeddingSamplingSchema.default({}),
    /** Records are generated in batches of `batchSize` from `start`; the batch at run index `i` uses seed `seed + i`. */
    seed: z.number().int(),
    batchSize: z.number().int().positive(),
  })
  .strict();
/** An embedding job (`EmbeddingJobSchema`). */
export type EmbeddingJob = z.infer<typeof EmbeddingJobSchema>;

/** Options of `planEmbeddingJobs`. */
export interface PlanEmbeddingJobsOptions {
  runId: string;
  shardDir: string;
  records: readonly { id: string; text: string; exemplarKeys?: readonly string[] }[];
  tokenizerDir: string;
  generatorDir: string;
  sampling?: EmbeddingSampling;
  /** Base seed: the batch starting at record `i` draws with seed `seed + i` (as the CLI's in-process stage). */
  seed: number;
  /** Captions per generator call (default 256). */
  batchSize?: number;
  /** Records per job, rounded up to a multiple of `batchSize` (default: one batch). */
  recordsPerJob?: number;
}

/**
 * Splits embedding generation into jobs of contiguous record ranges, aligned to generator batches. The seed of a
 * batch depends only on where it starts in the run, never on which worker runs it, so the jobs give exactly the
 * numbers an in-process loop over the same batches gives.
 */
export function planEmbeddingJobs(options: PlanEmbeddingJobsOptions): EmbeddingJob[] {
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ConfigurationError(`batchSize must be a positive integer, got ${batchSize}.`, { setting: 'batchSize' });
  }
  const per = Math.max(1, Math.ceil((options.recordsPerJob ?? batchSize) / batchSize)) * batchSize;
  if (options.records.length === 0) throw new InvalidInputError('no caption records to generate embeddings for: give at least one record.');
  const seen = new Set<string>();
  for (const r of options.records) {
    if (!r.id || !r.text) throw new InvalidInputError(`every record needs an id and a text, got ${JSON.stringify(r)}.`, { field: 'records' });
    if (seen.has(r.id)) throw new InvalidInputError(`duplicate record id "${r.id}": ids must be unique in a run.`, { field: 'records' });
    seen.add(r.id);
  }
  const sampling = EmbeddingSamplingSchema.parse(options.sampling ?? {});
  const jobs: EmbeddingJob[] = [];
  for (let start = 0, shard = 0; start < options.records.length; start += per, shard++) {
    jobs.push({
      kind: 'embeddings',
      runId: options.runId,
      shardDir: options.shardDir,
      shard,
      start,
      records: options.records
        .slice(start, start + per)
        .map((r) => ({ id: r.id, text: r.text, ...(r.exemplarKeys ? { exemplarKeys: [...r.exemplarKeys] } : {}) })),
      tokenizerDir: options.tokenizerDir,
      generatorDir: options.generatorDir,
      sampling,
      seed: options.seed,
      batchSize,
    });
  }
  return jobs;
}

export function embeddingShardFile(shardDir: string, shard: number): string {
  return join(shardDir, `embeddings-${String(shard).padStart(6, '0')}.safetensors`);
}

const IDS_KEY = 'synth2.ids';

type GeneratorModule = typeof import('@synth2/generator');
type LoadedModels = {
  tokenizer: Awaited<ReturnType<GeneratorModule['VQTokenizer']['load']>>;
  generator: Awaited<ReturnType<GeneratorModule['CaptionTokenGenerator']['load']>>;
};

/** Loads `@synth2/generator` (an optional peer dependency) and starts the tfjs backend. */
export async function importGenerator(): Promise<GeneratorModule> {
  let mod: GeneratorModule;
  try {
    mod = await import('@synth2/generator');
  } catch (error) {
    throw new ConfigurationError(
      'Queued embedding generation needs the optional package @synth2/generator on every worker: npm install @synth2/generator.',
      { setting: 'queue', cause: error },
    );
  }
  const { initBackend } = await import('@synth2/nn');
  await initBackend({ log: () => {} });
  return mod;
}

/**
 * Loads a run's tokenizer and generator once per pair of checkpoint folders and keeps them for the next job. Models
 * of another run are freed when no job uses them any more (a worker with concurrency > 1 may serve two runs).
 */
export class EmbeddingModelCache {
  private entries = new Map<string, { models: Promise<LoadedModels>; users: number }>();

  private static key(job: Pick<EmbeddingJob, 'tokenizerDir' | 'generatorDir' | 'runId'>): string {
    return JSON.stringify([job.runId, job.tokenizerDir, job.generatorDir]);
  }

  /** The job's models; call `release(job)` when done with them. */
  async acquire(job: Pick<EmbeddingJob, 'tokenizerDir' | 'generatorDir' | 'runId'>): Promise<LoadedModels> {
    const key = EmbeddingModelCache.key(job);
    let entry = this.entries.get(key);
    if (!entry) {
      await this.evict();
      const models = (async () => {
        const g = await importGenerator();
        const tokenizer = await g.VQTokenizer.load(job.tokenizerDir);
        const generator = await g.CaptionTokenGenerator.load(job.generatorDir);
        return { tokenizer, generator };
      })();
      entry = { models, users: 0 };
      this.entries.set(key, entry);
    }
    entry.users++;
    try {
      return await entry.models;
    } catch (error) {
      this.entries.delete(key);
      throw error;
    }
  }

  release(job: Pick<EmbeddingJob, 'tokenizerDir' | 'generatorDir' | 'runId'>): void {
    const entry = this.entries.get(EmbeddingModelCache.key(job));
    if (entry) entry.users = Math.max(0, entry.users - 1);
  }

  /** Frees the models no job is using. */
  private async evict(): Promise<void> {
    for (const [key, entry] of [...this.entries]) {
      if (entry.users > 0) continue;
      this.entries.delete(key);
      await free(entry.models);
    }
  }

  /** Frees every model. */
  async dispose(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) await free(e.models);
  }
}

async function free(models: Promise<LoadedModels>): Promise<void> {
  try {
    const { tokenizer, generator } = await models;
    tokenizer.dispose();
    generator.dispose();
  } catch {
    // a failed load has nothing to free
  }
}

/**
 * Runs one embedding job and writes its shard (one safetensors file: `embeddings` F32 `[count, h·w, d]`, record ids
 * in the metadata) atomically. Idempotent: a retry after a worker died rewrites the same file with the same bytes.
 */
export async function processEmbeddingJob(
  job: EmbeddingJob,
  options: { models?: EmbeddingModelCache; abortSignal?: AbortSignal; onBatch?: (done: number, total: number) => void } = {},
): Promise<{ written: number; file: string }> {
  const data = EmbeddingJobSchema.parse(job);
  const cache = options.models ?? new EmbeddingModelCache();
  try {
    const { generateEmbeddings } = await importGenerator();
    const { tokenizer, generator } = await cache.acquire(data);
    const n = tokenizer.gridSize * tokenizer.gridSize;
    const d = tokenizer.config.codeDim;
    const out = new Float32Array(data.records.length * n * d);
    const keyed = data.records.some((r) => r.exemplarKeys);
    for (let k = 0; k < data.records.length; k += data.batchSize) {
      throwIfAborted(options.abortSignal);
      const chunk = data.records.slice(k, k + data.batchSize);
      const emb = await generateEmbeddings({
        generator,
        tokenizer,
        captions: chunk.map((r) => r.text),
        exemplarKeys: keyed ? chunk.map((r) => r.exemplarKeys ?? []) : undefined,
        ...data.sampling,
        seed: data.seed + data.start + k,
        abortSignal: options.abortSignal,
      } as never);
      out.set((await emb.data()) as Float32Array, k * n * d);
      emb.dispose();
      options.onBatch?.(Math.min(data.records.length, k + data.batchSize), data.records.length);
    }
    const file = embeddingShardFile(data.shardDir, data.shard);
    const chunks = serializeSafetensors(
      { embeddings: { dtype: 'F32', shape: [data.records.length, n, d], data: out } },
      { [IDS_KEY]: JSON.stringify(data.records.map((r) => r.id)), 'synth2.start': String(data.start) },
      { file },
    );
    await mkdir(data.shardDir, { recursive: true });
    await writeFileAtomic(file, chunks);
    return { written: data.records.length, file };
  } finally {
    cache.release(data);
    if (!options.models) await cache.dispose();
  }
}

/** Which planned embedding shards are on disk. */
export async function finishedEmbeddingShards(shardDir: string): Promise<Set<number>> {
  return numberedFiles(shardDir, /^embeddings-(\d{6})\.safetensors$/);
}

/** The default, in-process runner of embedding jobs (models loaded once); jobs whose shard exists are skipped. */
export async function runEmbeddingJobsLocally(
  jobs: readonly EmbeddingJob[],
  options: { abortSignal?: AbortSignal; onJob?: (shard: number, done: number, total: number) => void } = {},
): Promise<{ processed: number; skipped: number }> {
  const models = new EmbeddingModelCache();
  const done = jobs.length ? await finishedEmbeddingShards(jobs[0].shardDir) : new Set<number>();
  let processed = 0;
  let skipped = 0;
  try {
    for (const job of jobs) {
      if (done.has(job.shard)) skipped++;
      else {
        await processEmbeddingJob(job, { models, abortSignal: options.abortSignal });
        processed++;
      }
      options.onJob?.(job.shard, processed + skipped, jobs.length);
    }
  } finally {
    await models.dispose();
  }
  return { processed, skipped };
}

/** Options of `mergeEmbeddingShards`. */
export interface MergeEmbeddingShardsOptions {
  jobs: readonly EmbeddingJob[];
  /** The embedding store to write (core's sharded store; replaced if it exists). */
  out: string;
  /** Items per store shard (default 1024, as the CLI's in-process stage). */
  shardSize?: number;
  /** Manifest metadata (e.g. `{ captions: 'captions/captions.jsonl' }`). */
  meta?: Record<string, unknown>;
  /** Delete the job shards after the store is complete (default false). */
  removeShards?: boolean;
}

/**
 * Merges the job shards of a finished run, in record order, into core's sharded store (kind `image-embeddings`,
 * tensor `embeddings` F32 `[h·w, d]`): the same store, manifest included, that the in-process stage writes. Checks
 * every shard first and fails, naming them, if shards are missing or do not hold their job's records (nothing is
 * written then).
 */
export async function mergeEmbeddingShards(options: MergeEmbeddingShardsOptions): Promise<EmbeddingShardManifest> {
  const jobs = [...options.jobs].sort((a, b) => a.start - b.start);
  const done = jobs.length ? await finishedEmbeddingShards(jobs[0].shardDir) : new Set<number>();
  const missing = jobs.filter((j) => !done.has(j.shard)).map((j) => j.shard);
  if (missing.length) {
    throw new InvalidInputError(
      `${missing.length} embedding shards are not written yet (first: ${missing.slice(0, 5).join(', ')}). Let the workers finish (synth2 status --queue …) before merging.`,
    );
  }
  if (!jobs.length) throw new InvalidInputError('no embedding jobs to merge.');
  // Check every shard before writing anything.
  let itemShape: [number, number] | undefined;
  for (const job of jobs) {
    const file = embeddingShardFile(job.shardDir, job.shard);
    const { tensors, metadata } = await readSafetensors(file);
    const t = tensors.embeddings;
    const ids = JSON.parse(metadata[IDS_KEY] ?? '[]') as string[];
    if (!t || t.dtype !== 'F32' || t.shape.length !== 3 || t.shape[0] !== job.records.length) {
      throw new InvalidInputError(`the shard does not hold ${job.records.length} F32 embeddings: regenerate it (delete it and re-run the job).`, { file });
    }
    if (ids.length !== job.records.length || ids.some((id, k) => id !== job.records[k].id)) {
      throw new InvalidInputError('the shard holds other records than its job (a shard of another run?): delete it and re-run the job.', { file });
    }
    const shape: [number, number] = [t.shape[1], t.shape[2]];
    if (itemShape && (itemShape[0] !== shape[0] || itemShape[1] !== shape[1])) {
      throw new InvalidInputError(`embedding shape [${shape.join(', ')}] differs from the other shards' [${itemShape.join(', ')}].`, { file });
    }
    itemShape = shape;
  }
  const writer = await ShardedTensorWriter.open(options.out, {
    kind: 'image-embeddings',
    tensors: { embeddings: { dtype: 'F32', shape: itemShape! } },
    shardSize: options.shardSize ?? 1024,
    meta: options.meta,
    resume: false,
  });
  for (const job of jobs) {
    const { tensors } = await readSafetensors(embeddingShardFile(job.shardDir, job.shard));
    await writer.append(
      job.records.map((r) => r.id),
      { embeddings: tensors.embeddings.data },
    );
  }
  const manifest = await writer.close();
  if (options.removeShards) {
    for (const job of jobs) await rm(embeddingShardFile(job.shardDir, job.shard), { force: true });
  }
  return manifest;
}
