import { InvalidInputError, type CaptionSourceV1, type Concept } from '@synth2/core';
import { toConceptItems } from '../concepts/concept-list';
import { samplers, type ConceptSampler } from '../concepts/samplers';
import { hash32, stableStringify } from '../internal/concurrency';
import { createCaptionFilter, type CaptionFilter } from './caption-filters';
import { CaptionDeduper } from './dedupe';
import type { SynthesizeCaptionsOptions } from './synthesize-captions';

/** What `synthesizeCaptions` needs from its options to settle the run's settings (documented there). */
export type SynthesisSettingsInput = Pick<
  SynthesizeCaptionsOptions,
  | 'source'
  | 'concepts'
  | 'count'
  | 'out'
  | 'conceptsPerCaption'
  | 'sampler'
  | 'weights'
  | 'seed'
  | 'wordCount'
  | 'captionsPerRequest'
  | 'filters'
  | 'dedupe'
  | 'concurrency'
  | 'maxRequests'
  | 'maxFailureRate'
  | 'maxRequestAttempts'
  | 'idPrefix'
>;

/** The validated settings of one synthesis run. */
export interface SynthesisSettings {
  source: CaptionSourceV1;
  out: string;
  count: number;
  items: Concept[][];
  seed: number;
  wordCount?: number;
  perRequest: number;
  concurrency: number;
  maxRequests: number;
  maxFailureRate: number;
  maxRequestAttempts: number;
  idPrefix: string;
  filter: CaptionFilter;
  /** A fresh sampler at the start of the stream (deterministic per seed). */
  makeSampler: () => ConceptSampler;
  /** A fresh, empty de-duplicator, or undefined when duplicates are kept. */
  makeDeduper: () => CaptionDeduper | undefined;
  /** Hash of everything that decides the output stream: a partial run continues only with the same hash. */
  configHash: string;
}

export const DEFAULT_MAX_FAILURE_RATE = 0.5;
export const DEFAULT_MAX_REQUEST_ATTEMPTS = 4;

function positiveInt(name: string, v: number | undefined, min = 1): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) {
    throw new InvalidInputError(`${name} must be an integer ≥ ${min}, got ${v}`, { field: name });
  }
}

function checkSource(source: CaptionSourceV1 | undefined): void {
  if (!source || source.specificationVersion !== 'v1' || typeof source.doGenerate !== 'function') {
    throw new InvalidInputError('source is not a caption source (CaptionSourceV1); create one with createOpenAICaptionSource, createGgufCaptionSource or createConceptGrammarSource', {
      field: 'source',
    });
  }
}

function checkNumbers(options: SynthesisSettingsInput): void {
  if (typeof options.out !== 'string' || options.out.length === 0) throw new InvalidInputError('out must be the path of the JSONL file to write', { field: 'out' });
  positiveInt('count', options.count);
  if (options.count === undefined) throw new InvalidInputError('count is required: how many captions to write', { field: 'count' });
  positiveInt('conceptsPerCaption', options.conceptsPerCaption);
  positiveInt('captionsPerRequest', options.captionsPerRequest);
  positiveInt('wordCount', options.wordCount);
  positiveInt('concurrency', options.concurrency);
  positiveInt('maxRequests', options.maxRequests);
  positiveInt('maxRequestAttempts', options.maxRequestAttempts);
  const rate = options.maxFailureRate;
  if (rate !== undefined && !(typeof rate === 'number' && rate >= 0 && rate <= 1)) {
    throw new InvalidInputError(`maxFailureRate must be a share between 0 and 1 (0.5 = stop when more than half the requests fail), got ${rate}`, {
      field: 'maxFailureRate',
    });
  }
}

type DedupeSettings = { mode: 'exact' | 'near'; threshold?: number } | undefined;

function dedupeSettingsOf(option: SynthesisSettingsInput['dedupe']): DedupeSettings {
  const value = option ?? 'near';
  if (value === false) return undefined;
  if (value === true || value === 'near') return { mode: 'near' };
  if (value === 'exact') return { mode: 'exact' };
  return { mode: value.mode ?? 'near', threshold: value.threshold };
}

function deduperFactory(settings: DedupeSettings): () => CaptionDeduper | undefined {
  const make = () => (settings ? new CaptionDeduper(settings) : undefined);
  try {
    make(); // validates the threshold
  } catch (error) {
    throw new InvalidInputError((error as Error).message, { field: 'dedupe', cause: error });
  }
  return make;
}

function samplerFactory(options: SynthesisSettingsInput, items: Concept[][], k: number, seed: number): () => ConceptSampler {
  const name = options.sampler ?? 'balanced';
  const factory = typeof name === 'function' ? name : samplers[name];
  if (!factory) throw new InvalidInputError(`unknown sampler "${String(name)}"; use uniform, balanced or weighted`, { field: 'sampler' });
  const make = () => factory(items, { k, seed, weights: options.weights });
  make(); // validates k and weights
  return make;
}

function configHashOf(options: SynthesisSettingsInput, parts: { items: Concept[][]; k: number; seed: number; perRequest: number; dedupe: DedupeSettings; idPrefix: string }): string {
  const sampler = options.sampler ?? 'balanced';
  const filters =
    options.filters === false ? false : { ...options.filters, custom: options.filters?.custom ? String(options.filters.custom) : undefined };
  return hash32(
    stableStringify({
      provider: options.source.provider,
      model: options.source.modelId,
      concepts: parts.items.map((g) => g.map((c) => [c.id, c.name, c.kind, c.synonyms, c.weight ?? null])),
      k: parts.k,
      sampler: typeof sampler === 'function' ? String(sampler) : sampler,
      weights: options.weights ?? null,
      seed: parts.seed,
      wordCount: options.wordCount ?? null,
      perRequest: parts.perRequest,
      filters,
      dedupe: parts.dedupe ?? false,
      idPrefix: parts.idPrefix,
    }),
  ).toString(16);
}

/** Validates the options (before anything touches the disk) and settles the run's settings. */
export function resolveSynthesisSettings(options: SynthesisSettingsInput): SynthesisSettings {
  checkSource(options.source);
  checkNumbers(options);
  const items = toConceptItems(options.concepts);
  const k = options.conceptsPerCaption ?? 1;
  const seed = options.seed ?? 0;
  const makeSampler = samplerFactory(options, items, k, seed);
  const filter = createCaptionFilter(options.filters);
  const dedupe = dedupeSettingsOf(options.dedupe);
  const makeDeduper = deduperFactory(dedupe);
  const perRequest = options.captionsPerRequest ?? 1;
  const idPrefix = options.idPrefix ?? 'syn';
  return {
    source: options.source,
    out: options.out,
    count: options.count,
    items,
    seed,
    wordCount: options.wordCount,
    perRequest,
    concurrency: options.concurrency ?? options.source.maxConcurrency ?? 1,
    maxRequests: options.maxRequests ?? Math.ceil(options.count / perRequest) * 10 + 100,
    maxFailureRate: options.maxFailureRate ?? DEFAULT_MAX_FAILURE_RATE,
    maxRequestAttempts: options.maxRequestAttempts ?? DEFAULT_MAX_REQUEST_ATTEMPTS,
    idPrefix,
    filter,
    makeSampler,
    makeDeduper,
    configHash: configHashOf(options, { items, k, seed, perRequest, dedupe, idPrefix }),
  };
}
