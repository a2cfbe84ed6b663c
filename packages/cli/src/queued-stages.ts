import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Synth2Error, type Concept, type ConceptInventory } from '@synth2/core';
import type { EmbeddingSampling } from '@synth2/queue';
import type { PipelineConfig } from './config';
import type { Reporter } from './reporter';
import { stableHash } from './run-directory';
import { captionSourceSettings } from './stages/captions';

/** Shard size and metadata of the run's embedding store (`generate/embeddings`), written in-process or merged from a queue. */
export const EMBEDDING_STORE = { shardSize: 1024, meta: { captions: 'captions/captions.jsonl' } };

/** What a queued stage needs from the pipeline. */
export interface QueuedStageContext {
  config: PipelineConfig;
  root: string;
  reporter: Reporter;
  abortSignal?: AbortSignal;
  /** Settings hashes of the stages this one reads (a retrained model gets new job ids). */
  inputs: unknown;
}

type QueueModule = typeof import('@synth2/queue');

/** Loads the optional `@synth2/queue`, with an error that says what to install. */
export async function importQueue(): Promise<QueueModule> {
  try {
    return await import('@synth2/queue');
  } catch (error) {
    throw new Synth2Error(
      'Distributed runs need the optional package @synth2/queue: npm install @synth2/queue (and a Redis server).',
      {
        code: 'configuration',
        cause: error,
      },
    );
  }
}

/** Whether the config sends this stage to the queue. */
export function queued(config: PipelineConfig, stage: 'captions' | 'generate'): boolean {
  return !!config.queue && config.queue.stages.includes(stage);
}

/** `redis://user:secret@host` → `redis://user:***@host` for logs. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/** Enqueues jobs, waits for them while reporting completed/total, and says so in the log. */
async function drain(
  q: QueueModule,
  ctx: QueuedStageContext,
  stage: string,
  ids: string[],
  enqueue: (connection: ReturnType<QueueModule['parseRedisUrl']>) => Promise<{ enqueued: number }>,
): Promise<void> {
  const { url, name } = ctx.config.queue!;
  const connection = q.parseRedisUrl(url);
  const { enqueued } = await enqueue(connection);
  ctx.reporter.log(
    `${stage}: ${ids.length} jobs on queue "${name}" at ${redact(url)} (${enqueued} enqueued now, ${ids.length - enqueued} queued or done earlier); start workers with: synth2 worker --queue ${redact(url)} --name ${name}`,
  );
  await q.waitForJobs(connection, ids, {
    queueName: name,
    abortSignal: ctx.abortSignal,
    onProgress: ({ done, total }) => ctx.reporter.progress({ stage, done, total, unit: 'jobs' }),
  });
}

/** The caption source as data every worker can build (API keys stay in the workers' environment). */
export function captionSourceSpec(
  config: PipelineConfig,
  inventory: ConceptInventory | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { provider: string; settings: Record<string, unknown>; plugins: string[]; endpoint?: string; reason: string } {
  const c = config.captions;
  const settings = captionSourceSettings(config, inventory);
  if (c.source === 'openai' || (c.source === 'auto' && (c.baseURL || env.OPENAI_API_KEY || env.OPENAI_BASE_URL))) {
    const endpoint = config.queue?.endpoint ?? 'default';
    // the URL and key are the workers' own: the job names an endpoint (as JSON: unset settings are left out)
    const { baseURL, ...rest } = settings.openai as Record<string, unknown>;
    const ignored = baseURL ?? c.baseURL ?? env.OPENAI_BASE_URL;
    return {
      provider: 'openai-compatible',
      settings: JSON.parse(JSON.stringify(rest)) as Record<string, unknown>,
      plugins: [],
      endpoint,
      reason:
        `captions.source is "${c.source}": the workers write captions with the OpenAI-compatible LLM at their endpoint "${endpoint}" (their own URL and OPENAI_API_KEY)` +
        (ignored ? `; the URL set here (${String(ignored)}) is not sent to workers — configure it on them with --endpoint ${endpoint}=URL` : ''),
    };
  }
  if (c.source === 'auto' || c.source === 'grammar') {
    return {
      provider: 'concept-grammar',
      settings: settings.grammar,
      plugins: [],
      reason: `captions.source is "${c.source}": the workers write captions with the offline concept grammar`,
    };
  }
  return {
    provider: c.source,
    settings: settings.plugin,
    plugins: config.plugins,
    reason: `captions.source is "${c.source}" (plugin, loaded by every worker)`,
  };
}

/** The captions stage on the queue: plan → enqueue → wait → merge into `captions/captions.jsonl`. */
export async function runQueuedCaptions(
  ctx: QueuedStageContext,
  dir: string,
  input: {
    concepts: Concept[][];
    inventory: ConceptInventory | undefined;
    /** The concept sampler (and its weights, with `captions.gapFill`), as the local stage uses it. */
    sampling: { sampler: PipelineConfig['captions']['sampler']; weights?: number[] };
  },
): Promise<{ outputs: string[]; summary: Record<string, unknown> }> {
  const q = await importQueue();
  const c = ctx.config.captions;
  const spec = captionSourceSpec(ctx.config, input.inventory);
  ctx.reporter.log(`captions: ${spec.reason}`);
  const runId = `${basename(ctx.root)}-${stableHash({ root: ctx.root, captions: c, seed: ctx.config.seed, spec, inputs: ctx.inputs })}`;
  const shards = join(dir, '.queue');
  const jobs = q.planCaptionJobs({
    runId,
    shardDir: join(shards, runId),
    concepts: input.concepts,
    count: c.count,
    conceptsPerCaption: c.conceptsPerCaption,
    ...input.sampling,
    seed: ctx.config.seed,
    wordCount: c.wordCount,
    batchSize: ctx.config.queue!.captionsPerJob,
  });
  const { reason, ...source } = spec;
  await drain(q, ctx, 'captions', jobs.map(q.captionJobId), (connection) =>
    q.enqueueCaptionJobs(jobs, source, { connection, queueName: ctx.config.queue!.name }),
  );
  const merged = await q.mergeCaptionShards({ jobs, count: c.count, out: join(dir, 'captions.jsonl') });
  await rm(shards, { recursive: true, force: true });
  if (merged.written < c.count) {
    ctx.reporter.log(
      `captions: ${merged.written} of ${c.count} captions kept after filters and duplicate removal`,
    );
  }
  return {
    outputs: ['captions/captions.jsonl'],
    summary: {
      written: merged.written,
      requests: jobs.reduce((n, j) => n + j.requests.length, 0),
      rejected: merged.rejected,
      provider: spec.provider,
      model: spec.settings.model,
      reason,
      queue: { jobs: jobs.length, name: ctx.config.queue!.name },
    },
  };
}

/**
 * The generate stage's embeddings on the queue: plan → enqueue → wait → merge into `generate/embeddings`. Workers
 * run `writeEmbeddingShards` on contiguous ranges (record j draws from `Rng(seed).fork(j)`), so the merged store
 * equals the in-process one.
 */
export async function runQueuedEmbeddings(
  ctx: QueuedStageContext,
  dir: string,
  input: {
    records: readonly { id: string; text: string; exemplarKeys?: readonly string[] }[];
    sampling: EmbeddingSampling;
    seed: number;
    batchSize: number;
  },
): Promise<{ jobs: number }> {
  const q = await importQueue();
  const runId = `${basename(ctx.root)}-${stableHash({ root: ctx.root, stage: 'generate', inputs: ctx.inputs, ...input })}`;
  const shards = join(dir, '.queue');
  const jobs = q.planEmbeddingJobs({
    runId,
    shardDir: join(shards, runId),
    records: input.records,
    tokenizerDir: join(ctx.root, 'tokenizer', 'model'),
    generatorDir: join(ctx.root, 'generator', 'model'),
    sampling: input.sampling,
    seed: input.seed,
    batchSize: input.batchSize,
    recordsPerJob: ctx.config.queue!.recordsPerJob,
  });
  await drain(q, ctx, 'generate', jobs.map(q.embeddingJobId), (connection) =>
    q.enqueueEmbeddingJobs(jobs, { connection, queueName: ctx.config.queue!.name }),
  );
  await q.mergeEmbeddingShards({ jobs, out: join(dir, 'embeddings'), ...EMBEDDING_STORE });
  await rm(shards, { recursive: true, force: true });
  return { jobs: jobs.length };
}
