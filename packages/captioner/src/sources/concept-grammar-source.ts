import { ConceptSchema, InvalidInputError, Rng, throwIfAborted, type CaptionRequest, type CaptionResult, type CaptionSourceV1 } from '@synth2/core';
import { rejectUnknownOptions } from '@synth2/core/internal';
import { ConceptGrammar, type ConceptGrammarOptions } from '../grammar/concept-grammar';
import { CONCEPT_GRAMMAR_KEYS, rejectUnknownGrammarNestedKeys } from '../internal/option-keys';

/** Settings of `createConceptGrammarSource`. */
export interface ConceptGrammarSourceSettings extends ConceptGrammarOptions {
  /** Seed used when a request carries none (synthesis runs give every request its own seed). Default 0. */
  seed?: number;
}

/** Keys of {@link ConceptGrammarSourceSettings}. */
export const CONCEPT_GRAMMAR_SOURCE_KEYS: readonly string[] = [...CONCEPT_GRAMMAR_KEYS, 'seed'];

/** Rejects unknown keys of concept grammar source settings, nested ones included. */
export function rejectUnknownGrammarSourceSettings(settings: unknown, where: string, path?: string): void {
  rejectUnknownOptions(settings, CONCEPT_GRAMMAR_SOURCE_KEYS, where, path);
  if (settings && typeof settings === 'object') rejectUnknownGrammarNestedKeys(settings as ConceptGrammarOptions, where, path);
}

/**
 * The offline caption source: a seeded concept grammar (no model, no network) that writes factual,
 * human-annotator-style captions from concepts and a concept inventory. It never sees dataset captions.
 */
export function createConceptGrammarSource(settings: ConceptGrammarSourceSettings = {}): CaptionSourceV1 & {
  readonly grammar: ConceptGrammar;
} {
  rejectUnknownGrammarSourceSettings(settings, 'createConceptGrammarSource');
  const { seed, ...grammarOptions } = settings;
  const grammar = new ConceptGrammar(grammarOptions);
  let calls = 0;
  return {
    specificationVersion: 'v1',
    provider: 'concept-grammar',
    modelId: `concept-grammar:${grammar.inventory?.name ?? 'concepts'}`,
    maxConcurrency: 1,
    grammar,
    async doGenerate(request: CaptionRequest): Promise<CaptionResult> {
      throwIfAborted(request.abortSignal);
      const rng = new Rng(request.seed ?? `${seed ?? 0}:${calls++}`).fork('grammar');
      const concepts = request.concepts.map((c, i) => {
        const parsed = ConceptSchema.safeParse(c);
        if (!parsed.success) {
          throw new InvalidInputError(`request concept ${i} is not a concept: ${parsed.error.issues[0].message}`, { field: `concepts[${i}]` });
        }
        return parsed.data;
      });
      const captions: string[] = [];
      for (let i = 0; i < request.n; i++) captions.push(grammar.caption({ concepts, wordCount: request.wordCount }, rng));
      return {
        captions,
        metadata: { provider: 'concept-grammar', model: `concept-grammar:${grammar.inventory?.name ?? 'concepts'}` },
      };
    },
  };
}
