export {
  CaptionJobSchema,
  CaptionJobRequestSchema,
  planCaptionJobs,
  processCaptionJob,
  mergeCaptionShards,
  finishedBatches,
  shardFile,
} from './caption-jobs';
export type {
  CaptionJob,
  CaptionJobRequest,
  PlanCaptionJobsOptions,
  MergeCaptionShardsOptions,
} from './caption-jobs';
export { CaptionSourceSpecSchema, createSourceFromSpec, authorizeSourceSpec } from './source-spec';
export type { CaptionSourceSpec, WorkerTrustOptions, WorkerEndpoint } from './source-spec';
export {
  DEFAULT_QUEUE_NAME,
  parseRedisUrl,
  enqueueCaptionJobs,
  runWorker,
  getQueueStatus,
  waitForQueue,
  obliterateQueue,
  enqueueEmbeddingJobs,
  waitForJobs,
  captionJobId,
  embeddingJobId,
} from './queue';
export type {
  EnqueueOptions,
  RunWorkerOptions,
  QueueStatus,
  QueuedCaptionJob,
  QueuedEmbeddingJob,
  JobKind,
} from './queue';
export {
  EmbeddingJobSchema,
  EmbeddingSamplingSchema,
  planEmbeddingJobs,
  processEmbeddingJob,
  runEmbeddingJobsLocally,
  mergeEmbeddingShards,
  finishedEmbeddingShards,
  embeddingJobDir,
} from './embedding-jobs';
export type {
  EmbeddingJob,
  EmbeddingSampling,
  PlanEmbeddingJobsOptions,
  MergeEmbeddingShardsOptions,
} from './embedding-jobs';
export { runCaptionJobsLocally } from './local-runner';
