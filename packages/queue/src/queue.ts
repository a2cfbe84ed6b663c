import { Queue, QueueEvents, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { ConfigurationError, type CaptionSourceV1 } from '@synth2/core';
import { CaptionJobSchema, processCaptionJob, type CaptionJob } from './caption-jobs';
import { CaptionSourceSpecSchema, createSourceFromSpec, type CaptionSourceSpec } from './source-spec';

export const DEFAULT_QUEUE_NAME = 'synth2';

/** `redis://host:port[/db]` → BullMQ connection options. */
export function parseRedisUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigurationError(`"${url}" is not a Redis URL: use redis://host:port (e.g. redis://127.0.0.1:6379).`, { setting: 'queue' });
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

export interface EnqueueOptions {
  connection: ConnectionOptions;
  queueName?: string;
  /** Attempts per job before it is marked failed (default 5). */
  attempts?: number;
}

/**
 * Enqueues a run's caption jobs. Job ids are `<runId>-captions-<batch>`: enqueueing the same run twice adds nothing,
 * and batches whose shard already exists can be skipped by the caller.
 */
export async function enqueueCaptionJobs(
  jobs: readonly CaptionJob[],
  source: CaptionSourceSpec,
  options: EnqueueOptions,
): Promise<{ enqueued: number }> {
  const spec = CaptionSourceSpecSchema.parse(source);
  const queue = new Queue<QueuedCaptionJob>(options.queueName ?? DEFAULT_QUEUE_NAME, { connection: options.connection });
  try {
    await queue.addBulk(
      jobs.map((job) => ({
        name: 'captions',
        data: { job, source: spec },
        opts: {
          jobId: `${job.runId}-captions-${job.batch}`,
          attempts: options.attempts ?? 5,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
    return { enqueued: jobs.length };
  } finally {
    await queue.close();
  }
}

export interface RunWorkerOptions {
  connection: ConnectionOptions;
  queueName?: string;
  /** Jobs processed at once by this worker (default 1). */
  concurrency?: number;
  /** Global rate limit across ALL workers of the queue: at most `max` jobs per `duration` ms. */
  limiter?: { max: number; duration: number };
  /** How long a job's lock lives without renewal; a killed worker's job is retried after it (default 5000 ms). */
  lockDuration?: number;
  /** Overrides the source built from the job's spec (tests, custom wiring). */
  sourceFactory?: (spec: CaptionSourceSpec) => Promise<CaptionSourceV1>;
  onJob?: (event: { id: string; batch: number; status: 'done' | 'failed'; written?: number; error?: string }) => void;
}

/** Starts a worker that processes caption jobs until `close()` is called. */
export function runWorker(options: RunWorkerOptions): { worker: Worker; close: () => Promise<void> } {
  const sources = new Map<string, Promise<CaptionSourceV1>>();
  const factory = options.sourceFactory ?? createSourceFromSpec;
  const lockDuration = options.lockDuration ?? 5000;
  const worker = new Worker<QueuedCaptionJob>(
    options.queueName ?? DEFAULT_QUEUE_NAME,
    async (job: Job<QueuedCaptionJob>) => {
      const data = CaptionJobSchema.parse(job.data.job);
      const key = JSON.stringify(job.data.source);
      if (!sources.has(key)) sources.set(key, factory(CaptionSourceSpecSchema.parse(job.data.source)));
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
  worker.on('completed', (job, result: { written: number }) =>
    options.onJob?.({ id: job.id!, batch: job.data.job.batch, status: 'done', written: result?.written }),
  );
  worker.on('failed', (job, error) =>
    options.onJob?.({ id: job?.id ?? '?', batch: job?.data.job.batch ?? -1, status: 'failed', error: error.message }),
  );
  return {
    worker,
    close: async () => {
      await worker.close();
      for (const s of sources.values()) await (await s).close?.();
    },
  };
}

export interface QueueStatus {
  queue: string;
  counts: { waiting: number; active: number; completed: number; failed: number; delayed: number };
  failures: { id: string; reason: string; attempts: number }[];
}

/** Progress and failures of a queue (what `synth2 status` prints). */
export async function getQueueStatus(connection: ConnectionOptions, queueName = DEFAULT_QUEUE_NAME): Promise<QueueStatus> {
  const queue = new Queue(queueName, { connection });
  try {
    const c = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'paused');
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
  options: { queueName?: string; pollMs?: number; abortSignal?: AbortSignal; onStatus?: (s: QueueStatus) => void } = {},
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

/** Removes every job of a queue (between test runs or to abandon a run). */
export async function obliterateQueue(connection: ConnectionOptions, queueName = DEFAULT_QUEUE_NAME): Promise<void> {
  const queue = new Queue(queueName, { connection });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

export { QueueEvents };
