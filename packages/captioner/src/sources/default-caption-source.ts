import type { CaptionSourceV1, ConceptInventoryInput } from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import { createConceptGrammarSource, rejectUnknownGrammarSourceSettings, type ConceptGrammarSourceSettings } from './concept-grammar-source';
import { createOpenAICaptionSource, rejectUnknownOpenAISettings, type OpenAICaptionSourceSettings } from './openai-caption-source';

/** Options of `defaultCaptionSource`. */
export interface DefaultCaptionSourceOptions {
  /** Settings for the OpenAI-compatible source (used when a key or base URL is configured here or in the env). */
  openai?: OpenAICaptionSourceSettings;
  /** Settings for the concept grammar (the offline fallback). */
  grammar?: ConceptGrammarSourceSettings;
  /** Shorthand for `grammar.inventory`. */
  inventory?: ConceptInventoryInput;
  seed?: number;
  /** Environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** The caption source `defaultCaptionSource` picked, its kind and why. */
export interface DefaultCaptionSource {
  source: CaptionSourceV1;
  kind: 'openai-compatible' | 'concept-grammar';
  /** Why this source was chosen, for logs. */
  reason: string;
}

const DEFAULT_SOURCE_KEYS = optionKeys<DefaultCaptionSourceOptions>({ openai: true, grammar: true, inventory: true, seed: true, env: true });

/**
 * Picks a caption source: the OpenAI-compatible LLM when an API key or base URL is configured (in options or
 * `OPENAI_API_KEY` / `OPENAI_BASE_URL`), else the offline concept grammar — and says which, and why.
 */
export function defaultCaptionSource(options: DefaultCaptionSourceOptions = {}): DefaultCaptionSource {
  rejectUnknownOptions(options, DEFAULT_SOURCE_KEYS, 'defaultCaptionSource');
  rejectUnknownOpenAISettings(options.openai, 'defaultCaptionSource', 'openai');
  rejectUnknownGrammarSourceSettings(options.grammar, 'defaultCaptionSource', 'grammar');
  const env = options.env ?? options.openai?.env ?? process.env;
  const o = options.openai ?? {};
  const configured = o.apiKey
    ? 'an API key was given'
    : o.baseURL
      ? `a base URL was given (${o.baseURL})`
      : env.OPENAI_API_KEY
        ? 'OPENAI_API_KEY is set'
        : env.OPENAI_BASE_URL
          ? `OPENAI_BASE_URL is set (${env.OPENAI_BASE_URL})`
          : undefined;
  if (configured) {
    const source = createOpenAICaptionSource({ ...o, env });
    return {
      source,
      kind: 'openai-compatible',
      reason: `${configured}: writing captions with the OpenAI-compatible LLM (model ${source.modelId})`,
    };
  }
  const source = createConceptGrammarSource({
    ...options.grammar,
    inventory: options.grammar?.inventory ?? options.inventory,
    seed: options.grammar?.seed ?? options.seed,
  });
  return {
    source,
    kind: 'concept-grammar',
    reason:
      'no LLM is configured (no apiKey/baseURL, OPENAI_API_KEY or OPENAI_BASE_URL): writing captions with the offline concept grammar',
  };
}
