import type { CaptionSourceV1 } from '@synth2/core';
import { finishedBatches, processCaptionJob, type CaptionJob } from './caption-jobs';

/**
 * The default, in-process runner: processes the same jobs a queue would, in order, skipping batches whose shard
 * exists (resume). Its output is the reference a distributed run must equal.
 */
export async function runCaptionJobsLocally(
  jobs: readonly CaptionJob[],
  source: CaptionSourceV1,
  options: { abortSignal?: AbortSignal; onJob?: (batch: number, done: number, total: number) => void } = {},
): Promise<{ processed: number; skipped: number }> {
  let processed = 0;
  let skipped = 0;
  const done = jobs.length ? await finishedBatches(jobs[0].shardDir) : new Set<number>();
  for (const job of jobs) {
    if (done.has(job.batch)) skipped++;
    else {
      await processCaptionJob(job, source, { abortSignal: options.abortSignal });
      processed++;
    }
    options.onJob?.(job.batch, processed + skipped, jobs.length);
  }
  return { processed, skipped };
}
