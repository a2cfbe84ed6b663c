export { tokenizeCaption, normalizeCaption, detokenizeCaption } from './caption-normalize';
export type { PunctuationMode, NormalizeOptions } from './caption-normalize';
export {
  Vocabulary,
  VocabularyJSONSchema,
  padOrTruncate,
  PAD_ID,
  BOS_ID,
  EOS_ID,
  UNK_ID,
  SPECIAL_TOKENS,
} from './vocabulary';
export type { VocabularyJSON, BuildVocabularyOptions, EncodeOptions, DecodeOptions } from './vocabulary';
