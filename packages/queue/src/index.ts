export {
  CaptionJobSchema,
  CaptionJobRequestSchema,
  planCaptionJobs,
  processCaptionJob,
  mergeCaptionShards,
  finishedBatches,
  shardFile,
} from './caption-jobs';
export type { CaptionJob, CaptionJobRequest, PlanCaptionJobsOptions, MergeCaptionShardsOptions } from './caption-jobs';
export { CaptionSourceSpecSchema, createSourceFromSpec } from './source-spec';
export type { CaptionSourceSpec } from './source-spec';
export {
  DEFAULT_QUEUE_NAME,
  parseRedisUrl,
  enqueueCaptionJobs,
  runWorker,
  getQueueStatus,
  waitForQueue,
  obliterateQueue,
} from './queue';
export type { EnqueueOptions, RunWorkerOptions, QueueStatus, QueuedCaptionJob } from './queue';
export { runCaptionJobsLocally } from './local-runner';
