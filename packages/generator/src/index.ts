export { TokenizerConfigSchema, GeneratorConfigSchema, SamplingOptionsSchema } from './config';
export type {
  TokenizerConfig,
  TokenizerConfigInput,
  GeneratorConfig,
  GeneratorConfigInput,
  SamplingOptions,
  SamplingOptionsInput,
} from './config';
export { demoTokenizerConfig, demoGeneratorConfig, demoTokenizerTraining, demoGeneratorTraining, demoSampling } from './demo-config';
export { VQTokenizer, trainTokenizer } from './tokenizer/vq-tokenizer';
export type { TokenizerEvaluation, TokenizerTrainOptions } from './tokenizer/vq-tokenizer';
export { CaptionTokenGenerator } from './generator/caption-token-generator';
export type { TokenTrainingExample, GeneratorTrainOptions } from './generator/caption-token-generator';
export { ExemplarCorpus } from './generator/exemplars';
export { exemplarKeyer, imageExemplarKeys } from './generator/exemplar-keys';
export { generateEmbeddings, generateImages, generateEmbeddingsViaPixels } from './generator/generate';
export type { RerankOptions, CandidateScorer } from './generator/generate';
export type { GenerateOptions } from './generator/generate';
export { writeEmbeddingShards } from './generator/embedding-shards';
export type { WriteEmbeddingShardsOptions, EmbeddingRecord } from './generator/embedding-shards';
export { CaptionEncoder } from './data/caption-encoder';
export { imagesToTensor } from './data/images';
export type { ImageBatch, PixelArray } from './data/images';
export { cosineMaskRatio, decodingPlan } from './maskgit/mask-schedule';
export { groupTokens, ungroupTokens } from './data/token-grid';
export type { GridGeometry } from './data/token-grid';
