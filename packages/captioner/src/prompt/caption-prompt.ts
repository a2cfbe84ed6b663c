import { ConfigurationError, type Concept } from '@synth2/core';

/** A prompt: a system message (optional) and a user message, with `{concepts}`, `{wordCount}` and `{n}` slots. */
export interface CaptionPromptTemplate {
  /** Stable id recorded on every caption (`provider.promptId`). */
  id: string;
  system?: string;
  user: string;
}

/**
 * The default prompt, after the class-based prompt of the Synth² paper: the LLM is asked for a *human-annotated*
 * description (the style of COCO captions), about N words, objective and factual, with no subjective judgement or
 * poetic language, and nothing but the caption.
 */
export const DEFAULT_CAPTION_PROMPT: CaptionPromptTemplate = {
  id: 'synth2-class-v1',
  system: 'You write short image captions in the style of human annotators of datasets such as COCO.',
  user:
    'Make up a human-annotated description of an image that contains the following object(s): {concepts}. ' +
    'The caption should be about {wordCount} words long. Be objective and factual: no subjective judgement, ' +
    'no poetic language. Respond only with the caption.',
};

const SLOTS = new Set(['concepts', 'wordCount', 'n']);

/** Joins concept names the way a prompt lists them: `dog`, `dog and cat`, `dog, cat and ball`. */
export function listConcepts(concepts: readonly Pick<Concept, 'name'>[]): string {
  const names = concepts.map((c) => c.name);
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Checks a template's slots; unknown `{slot}`s are a configuration error. */
export function validatePromptTemplate(template: CaptionPromptTemplate): void {
  for (const text of [template.system ?? '', template.user]) {
    for (const m of text.matchAll(/\{(\w+)\}/g)) {
      if (!SLOTS.has(m[1])) {
        throw new ConfigurationError(
          `prompt "${template.id}" uses an unknown slot {${m[1]}}; the slots are {concepts}, {wordCount} and {n}`,
          { setting: 'prompt' },
        );
      }
    }
  }
  if (!template.user.includes('{concepts}')) {
    throw new ConfigurationError(`prompt "${template.id}" never mentions {concepts}; put {concepts} where the concepts go`, {
      setting: 'prompt',
    });
  }
}

/** A caption prompt with its slots filled: the system and user messages. */
export interface RenderedPrompt {
  system?: string;
  user: string;
}

/** Fills a template's slots. */
export function renderCaptionPrompt(
  template: CaptionPromptTemplate,
  values: { concepts: readonly Pick<Concept, 'name'>[]; wordCount: number; n: number },
): RenderedPrompt {
  const fill = (text: string) =>
    text.replace(/\{(\w+)\}/g, (whole, slot: string) =>
      slot === 'concepts'
        ? listConcepts(values.concepts)
        : slot === 'wordCount'
          ? String(values.wordCount)
          : slot === 'n'
            ? String(values.n)
            : whole,
    );
  return { system: template.system === undefined ? undefined : fill(template.system), user: fill(template.user) };
}
