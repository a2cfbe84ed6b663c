export {
  TokenizerConfigSchema,
  GeneratorConfigSchema,
  SamplingOptionsSchema,
} from './config';
export type {
  TokenizerConfig,
  TokenizerConfigInput,
  GeneratorConfig,
  GeneratorConfigInput,
  SamplingOptions,
  SamplingOptionsInput,
} from './config';
export { cosineMaskRatio, decodingPlan } from './maskgit/mask-schedule';
export { groupTokens, ungroupTokens } from './data/token-grid';
export type { GridGeometry } from './data/token-grid';
