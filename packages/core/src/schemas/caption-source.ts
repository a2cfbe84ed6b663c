import type { Concept, ProviderMetadata, TokenUsage } from './records';

/** What a caption source is asked for: captions about these concepts. */
export interface CaptionRequest {
  /** The concepts the caption must be about (usually 1–3). */
  concepts: Concept[];
  /** How many captions to return for these concepts. */
  n: number;
  /** Target length in words (the prompt's "about N words"). */
  wordCount?: number;
  /** Seed for sources that can be seeded (grammar, local models). */
  seed?: number;
  abortSignal?: AbortSignal;
}

/** What a caption source's `doGenerate` returns. */
export interface CaptionResult {
  /** Raw caption texts (cleaning and filtering happen in the synthesis run). */
  captions: string[];
  usage?: TokenUsage;
  /** Provider metadata copied onto every caption record. */
  metadata: ProviderMetadata;
  /** Answers that were not captions (refusals, empty), with the reason. */
  rejected?: { text: string; reason: string }[];
}

/**
 * The caption-source specification (v1). Implement it to add a new way of writing captions; users call the
 * captioner's helpers (`synthesizeCaptions`), never `doGenerate` directly.
 */
export interface CaptionSourceV1 {
  readonly specificationVersion: 'v1';
  /** Provider id, e.g. `openai-compatible`, `gguf`, `concept-grammar`. */
  readonly provider: string;
  /** Model id or a description of the source. */
  readonly modelId: string;
  /** How many requests may be in flight at once (default 1). */
  readonly maxConcurrency?: number;
  doGenerate(request: CaptionRequest): Promise<CaptionResult>;
  /** Releases resources (models, sockets). */
  close?(): Promise<void>;
}
/** The current caption-source specification (`CaptionSourceV1`). */
export type CaptionSource = CaptionSourceV1;
