export { createOpenAICaptionSource, OPENAI_SETTINGS_KEYS } from './sources/openai-caption-source';
export type { OpenAICaptionSourceSettings } from './sources/openai-caption-source';
export { createGgufCaptionSource } from './sources/gguf-caption-source';
export type { GgufCaptionSourceSettings } from './sources/gguf-caption-source';
export { createConceptGrammarSource, CONCEPT_GRAMMAR_SOURCE_KEYS } from './sources/concept-grammar-source';
export type { ConceptGrammarSourceSettings } from './sources/concept-grammar-source';
export { defaultCaptionSource } from './sources/default-caption-source';
export type { DefaultCaptionSource, DefaultCaptionSourceOptions } from './sources/default-caption-source';

export { ConceptGrammar, demoGrammarOptions, indefiniteArticle } from './grammar/concept-grammar';
export type { ConceptGrammarOptions } from './grammar/concept-grammar';
export { DEFAULT_GRAMMAR_TEMPLATES } from './grammar/grammar-templates';
export type { GrammarTemplates } from './grammar/grammar-templates';

export { DEFAULT_CAPTION_PROMPT, renderCaptionPrompt, listConcepts } from './prompt/caption-prompt';
export type { CaptionPromptTemplate, RenderedPrompt } from './prompt/caption-prompt';

export { loadConcepts } from './concepts/load-concepts';
export type { LoadConceptsOptions } from './concepts/load-concepts';
export { conceptsFromCaptions } from './concepts/caption-concepts';
export type { ConceptsFromCaptionsOptions } from './concepts/caption-concepts';
export { combineConcepts, toConcept } from './concepts/concept-list';
export type { ConceptItemInput, ConceptLike } from './concepts/concept-list';
export { uniformSampler, balancedSampler, weightedSampler, samplers, gapFillingWeights } from './concepts/samplers';
export type { ConceptSampler, SamplerFactory, SamplerName, SamplerOptions } from './concepts/samplers';

export { synthesizeCaptions } from './synthesis/synthesize-captions';
export type { SynthesisProgressEvent, SynthesisSummary, SynthesizeCaptionsOptions } from './synthesis/synthesize-captions';
export { cleanCaptionText, normalizeCaption } from './synthesis/clean-caption';
export type { CleanedCaption } from './synthesis/clean-caption';
export { createCaptionFilter, DEFAULT_BANNED_PHRASES } from './synthesis/caption-filters';
export type { CaptionFilter, CaptionFilterOptions } from './synthesis/caption-filters';
export { CaptionDeduper } from './synthesis/dedupe';
export type { DedupeOptions } from './synthesis/dedupe';

export type { CaptionSource, CaptionSourceV1, CaptionRequest, CaptionResult } from '@synth2/core';
