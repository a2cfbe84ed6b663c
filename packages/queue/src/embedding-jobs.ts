import { readFile, rm } from 'node:fs/promises';
import { numberedFiles } from './caption-jobs';
import { join } from 'node:path';
import {
  ConfigurationError,
  InvalidInputError,
  SHARD_MANIFEST_FILE,
  ShardedTensorReader,
  ShardedTensorWriter,
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
    /** The record at run index `start + k` draws from `Rng(seed).fork(start + k)` (as `writeEmbeddingShards`). */
    seed: z.number().int(),
    /** Captions per generator call (changes the speed, never the numbers). */
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
  /** The run's seed: record `i` draws from `Rng(seed).fork(i)`, as in an in-process `writeEmbeddingShards` call. */
  seed: number;
  /** Captions per generator call (default 256; changes the speed, never the numbers). */
  batchSize?: number;
  /** Records per job, rounded up to a multiple of `batchSize` (default: one batch). */
  recordsPerJob?: number;
}

/**
 * Splits embedding generation into jobs of contiguous record ranges, aligned to generator batches. A record's draws
 * depend only on the seed and its index in the run, never on the job or worker, so the merged jobs give exactly the
 * store one in-process `writeEmbeddingShards` call over all records writes.
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

/** The folder of job `shard`'s store (a `writeEmbeddingShards` store of the job's records). */
export function embeddingJobDir(shardDir: string, shard: number): string {
  return join(shardDir, `embeddings-${String(shard).padStart(6, '0')}`);
}

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
 * Runs one embedding job: `writeEmbeddingShards` over the job's records from index `start`, into the job's own store
 * folder (one shard). Idempotent: a retry after a worker died rewrites the same store with the same bytes.
 */
export async function processEmbeddingJob(
  job: EmbeddingJob,
  options: { models?: EmbeddingModelCache; abortSignal?: AbortSignal; onBatch?: (done: number, total: number) => void } = {},
): Promise<{ written: number; dir: string }> {
  const data = EmbeddingJobSchema.parse(job);
  const cache = options.models ?? new EmbeddingModelCache();
  try {
    const { writeEmbeddingShards } = await importGenerator();
    const { tokenizer, generator } = await cache.acquire(data);
    const dir = embeddingJobDir(data.shardDir, data.shard);
    await writeEmbeddingShards({
      generator,
      tokenizer,
      records: data.records,
      dir,
      firstIndex: data.start,
      ...data.sampling,
      seed: data.seed,
      batchSize: data.batchSize,
      shardSize: data.records.length,
      resume: false,
      abortSignal: options.abortSignal,
      onProgress: ({ done, total }) => options.onBatch?.(done, total),
    });
    return { written: data.records.length, dir };
  } finally {
    cache.release(data);
    if (!options.models) await cache.dispose();
  }
}

/** Which planned embedding jobs have a complete store on disk. */
export async function finishedEmbeddingShards(shardDir: string): Promise<Set<number>> {
  const finished = new Set<number>();
  for (const shard of await numberedFiles(shardDir, /^embeddings-(\d{6})$/)) {
    if (await isCompleteStore(embeddingJobDir(shardDir, shard))) finished.add(shard);
  }
  return finished;
}

async function isCompleteStore(dir: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(join(dir, SHARD_MANIFEST_FILE), 'utf8')) as { complete?: unknown }).complete === true;
  } catch {
    return false;
  }
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
  /** Items per store shard (default 1024, as `writeEmbeddingShards`). */
  shardSize?: number;
  /** Manifest metadata over the jobs' own (e.g. `{ captions: 'captions/captions.jsonl' }`). */
  meta?: Record<string, unknown>;
  /** Delete the job stores after the store is complete (default false). */
  removeShards?: boolean;
}

/**
 * Merges the job stores of a finished run, in record order, into one store (kind `image-embeddings`, per item
 * `embeddings` F32 `[h·w, d]` and `tokens` I32 `[h·w]`): item for item and byte for byte the store one in-process
 * `writeEmbeddingShards` call over all records writes with the same `shardSize` and `meta`. Checks every job store
 * first and fails, naming them, if some are missing, hold other records or were written with other settings
 * (nothing is written then).
 */
export async function mergeEmbeddingShards(options: MergeEmbeddingShardsOptions): Promise<EmbeddingShardManifest> {
  const jobs = [...options.jobs].sort((a, b) => a.start - b.start);
  if (!jobs.length) throw new InvalidInputError('no embedding jobs to merge.');
  const done = await finishedEmbeddingShards(jobs[0].shardDir);
  const missing = jobs.filter((j) => !done.has(j.shard)).map((j) => j.shard);
  if (missing.length) {
    throw new InvalidInputError(
      `${missing.length} embedding shards are not written yet (first: ${missing.slice(0, 5).join(', ')}). Let the workers finish (synth2 status --queue …) before merging.`,
    );
  }
  const readers = await checkedJobStores(jobs);
  const { kind, tensors, meta } = readers[0].manifest;
  const writer = await ShardedTensorWriter.open(options.out, {
    kind,
    tensors,
    shardSize: options.shardSize ?? 1024,
    meta: { ...meta, ...options.meta },
    resume: false,
  });
  for (const reader of readers) {
    for await (const shard of reader) {
      await writer.append(shard.ids, Object.fromEntries(Object.entries(shard.tensors).map(([name, t]) => [name, t.data])));
    }
  }
  const manifest = await writer.close();
  if (options.removeShards) {
    for (const job of jobs) await rm(embeddingJobDir(job.shardDir, job.shard), { recursive: true, force: true });
  }
  return manifest;
}

/** Opens every job's store (verified) and checks that it holds the job's records, with the first job's settings. */
async function checkedJobStores(jobs: readonly EmbeddingJob[]): Promise<ShardedTensorReader[]> {
  const readers: ShardedTensorReader[] = [];
  for (const job of jobs) {
    const dir = embeddingJobDir(job.shardDir, job.shard);
    const reader = await ShardedTensorReader.open(dir, { requireComplete: true, verify: true });
    const ids = await reader.ids();
    if (ids.length !== job.records.length || ids.some((id, k) => id !== job.records[k].id)) {
      throw new InvalidInputError('the job store holds other records than its job (a store of another run?): delete it and re-run the job.', { file: dir });
    }
    const first = readers[0]?.manifest;
    const { kind, tensors, meta } = reader.manifest;
    if (first && JSON.stringify([kind, tensors, meta]) !== JSON.stringify([first.kind, first.tensors, first.meta])) {
      throw new InvalidInputError(
        `the job store was written with other settings (${JSON.stringify({ kind, tensors, meta })}) than job ${jobs[0].shard}'s (${JSON.stringify({ kind: first.kind, tensors: first.tensors, meta: first.meta })}): delete it and re-run the job.`,
        { file: dir },
      );
    }
    readers.push(reader);
  }
  return readers;
}
