export {
  VlmArchitectureSchema,
  parseVlmArchitecture,
  demoVlmConfig,
} from './config/vlm-config';
export type { VlmArchitecture, VlmArchitectureInput } from './config/vlm-config';
export { searchCaptions } from './decoding/caption-search';
export type { DecodeOptions, NextTokenScorer, CaptionSearchOptions, CaptionSearchResult } from './decoding/caption-search';
export type { EmbeddingsInput, EmbeddingTable } from './data/embedding-table';
export type { MixRatio } from './data/mixing';
