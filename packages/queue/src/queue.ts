import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import {
  AbortedError,
  ConfigurationError,
  SHARD_MANIFEST_FILE,
  Synth2Error,
  resolvePathInside,
  type CaptionSourceV1,
} from '@synth2/core';
import { CaptionJobSchema, processCaptionJob, shardFile, type CaptionJob } from './caption-jobs';
import {
  EmbeddingJobSchema,
  EmbeddingModelCache,
  embeddingJobDir,
  processEmbeddingJob,
  type EmbeddingJob,
} from './embedding-jobs';
import {
  CaptionSourceSpecSchema,
  authorizeSourceSpec,
  createSourceFromSpec,
  type CaptionSourceSpec,
  type WorkerTrustOptions,
} from './source-spec';

/** Name of the queue when none is given (`synth2`). */
export const DEFAULT_QUEUE_NAME = 'synth2';

/** `redis://host:port[/db]` → BullMQ connection options. */
export function parseRedisUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigurationError(
      `"${url}" is not a Redis URL: use redis://host:port (e.g. redis://127.0.0.1:6379).`,
      { setting: 'queue' },
    );
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigurationError(`"${url}" is not a Redis URL: use redis://host:port.`, { setting: 'queue' });
  }
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

/** Data of a queued caption job: the job plus the source spec every worker builds. */
export interface QueuedCaptionJob {
  job: CaptionJob;
  source: CaptionSourceSpec;
}

/** Options of enqueueing jobs: Redis connection, queue name and attempts per job. */
export interface EnqueueOptions {
  connection: ConnectionOptions;
  queueName?: string;
  /** Attempts per job before it is marked failed (default 5). */
  attempts?: number;
}

/** Data of a queued embedding job (the worker loads the checkpoints named in it). */
export interface QueuedEmbeddingJob {
  job: EmbeddingJob;
}

interface JobEntry {
  name: 'captions' | 'embeddings';
  id: string;
  data: QueuedCaptionJob | QueuedEmbeddingJob;
  /** The shard the job writes: a completed job whose shard is gone is run again. */
  shard: string;
}

/**
 * Adds jobs under deterministic ids. A job already queued or running is left alone (enqueueing a run twice adds
 * nothing); one that failed for good is retried; one that completed is kept if its shard is on disk and run again
 * if not.
 */
async function addJobs(entries: JobEntry[], options: EnqueueOptions): Promise<{ enqueued: number }> {
  const queue = new Queue(options.queueName ?? DEFAULT_QUEUE_NAME, { connection: options.connection });
  try {
    const fresh: JobEntry[] = [];
    let retried = 0;
    for (const e of entries) {
      const old = await queue.getJob(e.id);
      const state = old ? await old.getState() : 'unknown';
      if (!old || state === 'unknown') fresh.push(e);
      else if (state === 'failed') {
        await old.retry('failed');
        retried++;
      } else if (state === 'completed' && !existsSync(e.shard)) {
        await old.remove();
        fresh.push(e);
      }
    }
    await queue.addBulk(
      fresh.map((e) => ({
        name: e.name,
        data: e.data,
        opts: {
          jobId: e.id,
          attempts: options.attempts ?? 5,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
    return { enqueued: fresh.length + retried };
  } finally {
    await queue.close();
  }
}

/** The queue id of a caption job: `<runId>-captions-<batch>`. */
export const captionJobId = (job: CaptionJob) => `${job.runId}-captions-${job.batch}`;
/** The queue id of an embedding job: `<runId>-embeddings-<shard>`. */
export const embeddingJobId = (job: EmbeddingJob) => `${job.runId}-embeddings-${job.shard}`;

/**
 * Enqueues a run's caption jobs. Job ids are `<runId>-captions-<batch>`: enqueueing the same run twice adds nothing
 * (a job that failed for good is retried, a completed one whose shard is gone runs again).
 */
export async function enqueueCaptionJobs(
  jobs: readonly CaptionJob[],
  source: CaptionSourceSpec,
  options: EnqueueOptions,
): Promise<{ enqueued: number }> {
  const spec = CaptionSourceSpecSchema.parse(source);
  const { enqueued } = await addJobs(
    jobs.map((job) => ({
      name: 'captions',
      id: captionJobId(job),
      data: { job, source: spec },
      shard: shardFile(job.shardDir, job.batch),
    })),
    options,
  );
  return { enqueued };
}

/**
 * Enqueues a run's embedding jobs (ids `<runId>-embeddings-<shard>`; same re-enqueue rules as caption jobs). Workers
 * need `@synth2/generator` and read the checkpoints from the paths in the jobs.
 */
export async function enqueueEmbeddingJobs(
  jobs: readonly EmbeddingJob[],
  options: EnqueueOptions,
): Promise<{ enqueued: number }> {
  const { enqueued } = await addJobs(
    jobs.map((job) => ({
      name: 'embeddings',
      id: embeddingJobId(job),
      data: { job: EmbeddingJobSchema.parse(job) },
      shard: join(embeddingJobDir(job.shardDir, job.shard), SHARD_MANIFEST_FILE),
    })),
    options,
  );
  return { enqueued };
}

/**
 * A worker's options. What a job may choose and what only the worker decides: the job names a provider, its
 * non-secret settings, an endpoint by name and the plugins it needs; the worker's `allowedPlugins`, `endpoints`
 * (URLs and keys) and `dataRoots` bound them. A job outside those bounds fails at once (no retries) with the reason.
 */
export interface RunWorkerOptions extends WorkerTrustOptions {
  connection: ConnectionOptions;
  /**
   * Folders this worker reads and writes under: a job's `shardDir` (and an embedding job's checkpoint folders) must
   * be inside one of them, symlinks included. Default: any path the worker's user can reach.
   */
  dataRoots?: readonly string[];
  queueName?: string;
  /** Jobs processed at once by this worker (default 1). */
  concurrency?: number;
  /** Global rate limit across ALL workers of the queue: at most `max` jobs per `duration` ms. */
  limiter?: { max: number; duration: number };
  /** How long a job's lock lives without renewal; a killed worker's job is retried after it (default 5000 ms). */
  lockDuration?: number;
  /** Overrides the source built from the job's spec once it passed the worker's checks (tests, custom wiring). */
  sourceFactory?: (spec: CaptionSourceSpec) => Promise<CaptionSourceV1>;
  /** `batch` is the caption batch or the embedding shard. */
  onJob?: (event: {
    id: string;
    kind: JobKind;
    batch: number;
    status: 'done' | 'failed';
    written?: number;
    error?: string;
  }) => void;
}

/** The kind of a queue job: `captions` or `embeddings`. */
export type JobKind = 'captions' | 'embeddings';

/** Refuses a job folder outside the worker's `dataRoots` (none given: any folder). */
async function checkJobFolder(
  dir: string,
  roots: readonly string[] | undefined,
  field: string,
): Promise<void> {
  if (!roots) return;
  for (const root of roots) {
    const rel = relative(resolve(root), resolve(dir));
    if (rel === '' || isAbsolute(rel)) continue;
    const inside = await resolvePathInside(root, rel).then(
      () => true,
      () => false,
    );
    if (inside) return;
  }
  throw new ConfigurationError(
    `the job's ${field} ${dir} is outside this worker's data roots (${roots.join(', ')}). Put the run directory under one of them, or start the worker with --data-root for its folder.`,
    { setting: field },
  );
}

/** Runs the worker's checks on a job; a refusal fails the job for good (retrying cannot change the answer). */
async function refuseUntrusted(check: () => Promise<void> | void): Promise<void> {
  try {
    await check();
  } catch (error) {
    if (ConfigurationError.isInstance(error))
      throw new UnrecoverableError(`job refused by this worker: ${error.message}`);
    throw error;
  }
}

/**
 * Starts a worker that processes caption and embedding jobs until `close()` is called. Embedding jobs need
 * `@synth2/generator` (an optional peer dependency); the worker keeps the last run's models loaded.
 */
export function runWorker(options: RunWorkerOptions): { worker: Worker; close: () => Promise<void> } {
  const sources = new Map<string, Promise<CaptionSourceV1>>();
  const models = new EmbeddingModelCache();
  const factory = options.sourceFactory ?? ((spec: CaptionSourceSpec) => createSourceFromSpec(spec, options));
  const lockDuration = options.lockDuration ?? 5000;
  const worker = new Worker<QueuedCaptionJob | QueuedEmbeddingJob>(
    options.queueName ?? DEFAULT_QUEUE_NAME,
    async (job: Job<QueuedCaptionJob | QueuedEmbeddingJob>) => {
      if (job.name === 'embeddings') {
        const data = EmbeddingJobSchema.parse(job.data.job);
        await refuseUntrusted(async () => {
          await checkJobFolder(data.shardDir, options.dataRoots, 'shardDir');
          await checkJobFolder(data.tokenizerDir, options.dataRoots, 'tokenizerDir');
          await checkJobFolder(data.generatorDir, options.dataRoots, 'generatorDir');
        });
        return processEmbeddingJob(data, {
          models,
          onBatch: (done, total) => void job.updateProgress(Math.round((100 * done) / total)).catch(() => {}),
        });
      }
      const data = CaptionJobSchema.parse(job.data.job);
      const spec = CaptionSourceSpecSchema.parse((job.data as QueuedCaptionJob).source);
      await refuseUntrusted(async () => {
        authorizeSourceSpec(spec, options);
        await checkJobFolder(data.shardDir, options.dataRoots, 'shardDir');
      });
      const key = JSON.stringify(spec);
      if (!sources.has(key)) {
        const created = factory(spec);
        sources.set(key, created);
        created.catch(() => sources.delete(key));
      }
      const source = await sources.get(key)!;
      return processCaptionJob(data, source);
    },
    {
      connection: options.connection,
      concurrency: options.concurrency ?? 1,
      limiter: options.limiter,
      lockDuration,
      stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
      maxStalledCount: 5,
      autorun: true,
    },
  );
  const jobNumber = (job?: Job<QueuedCaptionJob | QueuedEmbeddingJob>) => {
    const j = job?.data.job as { batch?: number; shard?: number } | undefined;
    return j?.batch ?? j?.shard ?? -1;
  };
  worker.on('completed', (job, result: { written: number }) =>
    options.onJob?.({
      id: job.id!,
      kind: job.name as JobKind,
      batch: jobNumber(job),
      status: 'done',
      written: result?.written,
    }),
  );
  worker.on('failed', (job, error) =>
    options.onJob?.({
      id: job?.id ?? '?',
      kind: (job?.name ?? 'captions') as JobKind,
      batch: jobNumber(job),
      status: 'failed',
      error: error.message,
    }),
  );
  return {
    worker,
    close: async () => {
      await worker.close();
      for (const s of sources.values()) await (await s.catch(() => undefined))?.close?.();
      await models.dispose();
    },
  };
}

/** A queue's job counts by state and its failed jobs. */
export interface QueueStatus {
  queue: string;
  counts: { waiting: number; active: number; completed: number; failed: number; delayed: number };
  failures: { id: string; reason: string; attempts: number }[];
}

/** Progress and failures of a queue (what `synth2 status` prints). */
export async function getQueueStatus(
  connection: ConnectionOptions,
  queueName = DEFAULT_QUEUE_NAME,
): Promise<QueueStatus> {
  const queue = new Queue(queueName, { connection });
  try {
    const c = await queue.getJobCounts(
      'waiting',
      'active',
      'completed',
      'failed',
      'delayed',
      'prioritized',
      'paused',
    );
    const failed = await queue.getFailed(0, 20);
    return {
      queue: queueName,
      counts: {
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0),
        active: c.active ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
        delayed: c.delayed ?? 0,
      },
      failures: failed.map((j) => ({ id: j.id ?? '?', reason: j.failedReason, attempts: j.attemptsMade })),
    };
  } finally {
    await queue.close();
  }
}

/** Resolves when every job of the queue has completed; rejects if one failed for good. */
export async function waitForQueue(
  connection: ConnectionOptions,
  options: {
    queueName?: string;
    pollMs?: number;
    abortSignal?: AbortSignal;
    onStatus?: (s: QueueStatus) => void;
  } = {},
): Promise<QueueStatus> {
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  for (;;) {
    const status = await getQueueStatus(connection, queueName);
    options.onStatus?.(status);
    if (status.counts.failed > 0) {
      throw new Error(
        `${status.counts.failed} job(s) failed for good (first: ${status.failures[0]?.id}: ${status.failures[0]?.reason}). Fix the cause and re-enqueue the run.`,
      );
    }
    if (status.counts.waiting + status.counts.active + status.counts.delayed === 0) return status;
    if (options.abortSignal?.aborted) throw new Error('aborted');
    await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
  }
}

/**
 * Waits for these jobs (by queue id) and reports `done`/`total` as they complete. Rejects with the reason if one
 * failed for good or disappeared from the queue, and with `AbortedError` on abort (the jobs stay queued: enqueue
 * them again to pick up where they are).
 */
export async function waitForJobs(
  connection: ConnectionOptions,
  ids: readonly string[],
  options: {
    queueName?: string;
    pollMs?: number;
    abortSignal?: AbortSignal;
    onProgress?: (e: { done: number; total: number }) => void;
  } = {},
): Promise<{ done: number; total: number }> {
  const queue = new Queue(options.queueName ?? DEFAULT_QUEUE_NAME, { connection });
  const pending = new Set(ids);
  let last = -1;
  try {
    for (;;) {
      for (const id of [...pending]) {
        const state = await queue.getJobState(id);
        if (state === 'completed') pending.delete(id);
        else if (state === 'failed') {
          const job = await queue.getJob(id);
          throw new Synth2Error(
            `queued job ${id} failed after ${job?.attemptsMade ?? '?'} attempts: ${job?.failedReason ?? 'unknown reason'}. Fix the cause (see the worker's log) and run the command again to retry it.`,
            { code: 'queue_job_failed' },
          );
        } else if (state === 'unknown') {
          throw new Synth2Error(
            `queued job ${id} is no longer in the queue (removed or obliterated). Run the command again to re-enqueue it.`,
            {
              code: 'queue_job_missing',
            },
          );
        }
      }
      const done = ids.length - pending.size;
      if (done !== last) options.onProgress?.({ done, total: ids.length });
      last = done;
      if (!pending.size) return { done, total: ids.length };
      if (options.abortSignal?.aborted)
        throw new AbortedError(
          'stopped waiting for the queued jobs; they stay queued. Run the command again to resume.',
        );
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
    }
  } finally {
    await queue.close();
  }
}

/** Removes every job of a queue (between test runs or to abandon a run). */
export async function obliterateQueue(
  connection: ConnectionOptions,
  queueName = DEFAULT_QUEUE_NAME,
): Promise<void> {
  const queue = new Queue(queueName, { connection });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

export { QueueEvents };
