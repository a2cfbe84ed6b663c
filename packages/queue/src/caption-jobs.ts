import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CaptionRecordSchema,
  ConceptSchema,
  InvalidInputError,
  writeFileAtomic,
  type CaptionRecord,
  type CaptionSourceV1,
  type Concept,
  type TokenUsage,
} from '@synth2/core';
import {
  CaptionDeduper,
  cleanCaptionText,
  createCaptionFilter,
  samplers,
  toConcept,
  type CaptionFilterOptions,
  type ConceptItemInput,
  type SamplerName,
} from '@synth2/captioner';
import { z } from 'zod';

/** One request inside a caption job: captions about these concepts. */
export const CaptionJobRequestSchema = z.object({
  concepts: z.array(ConceptSchema),
  n: z.number().int().positive(),
  seed: z.number().int(),
  wordCount: z.number().int().positive().optional(),
});
/** One concept request of a caption job (`CaptionJobRequestSchema`). */
export type CaptionJobRequest = z.infer<typeof CaptionJobRequestSchema>;

/** A unit of work a worker takes: a batch of concept requests, written to one shard file. */
export const CaptionJobSchema = z.object({
  kind: z.literal('captions'),
  runId: z.string().min(1),
  /** Shard directory shared by all workers (a run directory's folder, or a mounted shared path). */
  shardDir: z.string().min(1),
  batch: z.number().int().nonnegative(),
  requests: z.array(CaptionJobRequestSchema).min(1),
});
/** A caption job (`CaptionJobSchema`). */
export type CaptionJob = z.infer<typeof CaptionJobSchema>;

/** Options of `planCaptionJobs`. */
export interface PlanCaptionJobsOptions {
  runId: string;
  shardDir: string;
  concepts: readonly ConceptItemInput[];
  /** Captions wanted after filtering and deduplication. */
  count: number;
  /** Requests planned = ceil(count × overshoot / captionsPerRequest): room for rejects (default 1.25). */
  overshoot?: number;
  conceptsPerCaption?: number;
  sampler?: SamplerName;
  /** Weights for the `weighted` sampler, one per concept item (e.g. `gapFillingWeights` from @synth2/captioner). */
  weights?: readonly number[];
  seed?: number;
  wordCount?: number;
  captionsPerRequest?: number;
  /** Requests per job (default 16). */
  batchSize?: number;
}

/**
 * Splits a synthesis run into jobs deterministically: the same options always give the same jobs, so a local run
 * and a distributed one produce the same captions.
 */
export function planCaptionJobs(options: PlanCaptionJobsOptions): CaptionJob[] {
  const perRequest = options.captionsPerRequest ?? 1;
  const batchSize = options.batchSize ?? 16;
  const requestsNeeded = Math.ceil((options.count * (options.overshoot ?? 1.25)) / perRequest);
  const items: Concept[][] = options.concepts.map((c) =>
    Array.isArray(c) ? (c as readonly unknown[]).map((x) => toConcept(x as never)) : [toConcept(c as never)],
  );
  if (items.length === 0) throw new InvalidInputError('no concepts to plan caption jobs from: give at least one concept.');
  const seed = options.seed ?? 0;
  const sampler = samplers[options.sampler ?? 'balanced'](items, { k: options.conceptsPerCaption ?? 1, seed, weights: options.weights });
  const jobs: CaptionJob[] = [];
  for (let r = 0; r < requestsNeeded; r++) {
    const batch = Math.floor(r / batchSize);
    if (!jobs[batch]) jobs[batch] = { kind: 'captions', runId: options.runId, shardDir: options.shardDir, batch, requests: [] };
    jobs[batch].requests.push({ concepts: sampler.next(), n: perRequest, seed: seed * 1_000_003 + r, wordCount: options.wordCount });
  }
  return jobs;
}

/** Path of a caption job's shard file: `<shardDir>/batch-000042.jsonl`. */
export function shardFile(shardDir: string, batch: number): string {
  return join(shardDir, `batch-${String(batch).padStart(6, '0')}.jsonl`);
}

/**
 * Runs one caption job and writes its shard atomically. Idempotent: a retried job (after a worker died) rewrites
 * the same file with the same content, so the run ends with each batch exactly once.
 */
export async function processCaptionJob(
  job: CaptionJob,
  source: CaptionSourceV1,
  options: { abortSignal?: AbortSignal } = {},
): Promise<{ written: number; rejected: number; usage: TokenUsage }> {
  const records: CaptionRecord[] = [];
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  let rejected = 0;
  for (let i = 0; i < job.requests.length; i++) {
    const req = job.requests[i];
    const result = await source.doGenerate({
      concepts: req.concepts,
      n: req.n,
      seed: req.seed,
      wordCount: req.wordCount,
      abortSignal: options.abortSignal,
    });
    if (result.usage) {
      usage.promptTokens += result.usage.promptTokens;
      usage.completionTokens += result.usage.completionTokens;
      usage.totalTokens = (usage.totalTokens ?? 0) + (result.usage.totalTokens ?? result.usage.promptTokens + result.usage.completionTokens);
    }
    let j = 0;
    for (const raw of result.captions) {
      for (const cleaned of cleanCaptionText(raw)) {
        if (cleaned.reject || !cleaned.text) {
          rejected++;
          continue;
        }
        records.push({
          id: `${job.runId}-b${job.batch}-r${i}-c${j++}`,
          text: cleaned.text,
          concepts: req.concepts.map((c) => c.id),
          source: 'synthetic',
          provider: { ...result.metadata },
        });
      }
    }
    rejected += result.rejected?.length ?? 0;
  }
  await mkdir(job.shardDir, { recursive: true });
  await writeFileAtomic(shardFile(job.shardDir, job.batch), records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
  return { written: records.length, rejected, usage };
}

/** Which planned batches have a shard on disk. */
export async function finishedBatches(shardDir: string): Promise<Set<number>> {
  return numberedFiles(shardDir, /^batch-(\d{6})\.jsonl$/);
}

/** The numbers of the files in `dir` whose names match `pattern` (its first group); empty when `dir` is missing. */
export async function numberedFiles(dir: string, pattern: RegExp): Promise<Set<number>> {
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    return new Set();
  }
  return new Set(names.map((n) => pattern.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])));
}

/** Options of `mergeCaptionShards`. */
export interface MergeCaptionShardsOptions {
  jobs: readonly CaptionJob[];
  count: number;
  out: string;
  filters?: CaptionFilterOptions | false;
  dedupe?: false | 'exact' | 'near';
}

/**
 * Merges the shards of a finished run in batch order, applies filters and duplicate removal, and writes the first
 * `count` captions to `out` atomically (core's caption-record JSONL). Fails, naming them, if batches are missing.
 */
export async function mergeCaptionShards(options: MergeCaptionShardsOptions): Promise<{ written: number; rejected: Record<string, number> }> {
  const filter = createCaptionFilter(options.filters ?? {});
  const deduper = options.dedupe === false ? undefined : new CaptionDeduper({ mode: options.dedupe ?? 'near' });
  const rejected: Record<string, number> = {};
  const kept: CaptionRecord[] = [];
  const missing: number[] = [];
  for (const job of [...options.jobs].sort((a, b) => a.batch - b.batch)) {
    const file = shardFile(job.shardDir, job.batch);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      missing.push(job.batch);
      continue;
    }
    const lines = text.split('\n').filter(Boolean);
    lines.forEach((line, k) => {
      if (kept.length >= options.count) return;
      const parsed = CaptionRecordSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new InvalidInputError(`not a caption record: ${parsed.error.issues[0].message}`, { file, line: k + 1 });
      const rec = parsed.data;
      const concepts = job.requests.flatMap((r) => r.concepts).filter((c) => rec.concepts.includes(c.id));
      const reason = filter.check(rec.text, concepts) ?? deduper?.check(rec.text);
      if (reason) {
        rejected[reason] = (rejected[reason] ?? 0) + 1;
        return;
      }
      deduper?.add(rec.text);
      kept.push(rec);
    });
  }
  if (missing.length) {
    throw new InvalidInputError(
      `${missing.length} caption batches have no shard yet (first: ${missing.slice(0, 5).join(', ')}). Let the workers finish (synth2 status) before merging.`,
    );
  }
  await writeFileAtomic(options.out, kept.map((r) => JSON.stringify(r)).join('\n') + (kept.length ? '\n' : ''));
  return { written: kept.length, rejected };
}
