import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import type { ConceptGrammarOptions } from '../grammar/concept-grammar';
import type { GrammarTemplates } from '../grammar/grammar-templates';
import type { CaptionPromptTemplate } from '../prompt/caption-prompt';

/** Keys of {@link CaptionPromptTemplate}. */
export const PROMPT_TEMPLATE_KEYS = optionKeys<CaptionPromptTemplate>({ id: true, system: true, user: true });

/** Keys of {@link ConceptGrammarOptions}. */
export const CONCEPT_GRAMMAR_KEYS = optionKeys<ConceptGrammarOptions>({
  inventory: true,
  templates: true,
  synonymProbability: true,
  attributeProbability: true,
  extraObjectProbability: true,
  optionalProbability: true,
  groupNouns: true,
  candidates: true,
  capitalize: true,
  period: true,
});

const GRAMMAR_TEMPLATE_KEYS = optionKeys<GrammarTemplates>({ one: true, two: true, many: true });
const ATTRIBUTE_PROBABILITY_KEYS = optionKeys<NonNullable<ConceptGrammarOptions['attributeProbability']>>({
  color: true,
  size: true,
  attribute: true,
});

/** Rejects unknown keys of a prompt given as a template object (a string prompt has none). */
export function rejectUnknownPromptKeys(prompt: unknown, where: string, path = 'prompt'): void {
  rejectUnknownOptions(prompt, PROMPT_TEMPLATE_KEYS, where, path);
}

/** Rejects unknown keys in the nested objects of concept grammar options (`templates`, `attributeProbability`). */
export function rejectUnknownGrammarNestedKeys(
  options: ConceptGrammarOptions,
  where: string,
  path?: string,
): void {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  rejectUnknownOptions(options.templates, GRAMMAR_TEMPLATE_KEYS, where, at('templates'));
  rejectUnknownOptions(
    options.attributeProbability,
    ATTRIBUTE_PROBABILITY_KEYS,
    where,
    at('attributeProbability'),
  );
}
