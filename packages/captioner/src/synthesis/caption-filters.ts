import { ConfigurationError, type Concept } from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';

/** Options of `createCaptionFilter` (the `filters` of a synthesis run). */
export interface CaptionFilterOptions {
  /** Fewest words a caption may have (default 3). */
  minWords?: number;
  /** Most words a caption may have (default 60). */
  maxWords?: number;
  /** The caption must mention all (default) or any of its concepts (name or synonym, plurals allowed), or `false`. */
  mustMention?: 'all' | 'any' | false;
  /**
   * Phrases that reject a caption (case-insensitive). Default: phrasing human annotators do not use and that hurt
   * the prototype ("an image of", "this image", "together with", …). Pass `[]` to allow everything.
   */
  bannedPhrases?: string[];
  /** Extra check: return a reject reason (e.g. `'too-vague'`) or undefined to keep the caption. */
  custom?: (text: string, concepts: readonly Concept[]) => string | undefined;
}

/** Keys of {@link CaptionFilterOptions}. */
export const CAPTION_FILTER_KEYS = optionKeys<CaptionFilterOptions>({ minWords: true, maxWords: true, mustMention: true, bannedPhrases: true, custom: true });

/** Phrases a caption may not contain unless `bannedPhrases` replaces them ("an image of", "this image", …). */
export const DEFAULT_BANNED_PHRASES = [
  'an image of',
  'a image of',
  'this image',
  'the image shows',
  'in the image',
  'this picture',
  'the picture shows',
  'together with',
  'as an ai',
  'language model',
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function mentionPattern(concept: Concept): RegExp {
  const forms = new Set<string>();
  for (const name of [concept.name, ...concept.synonyms]) {
    for (const part of name.split('/')) {
      const p = part.trim().toLowerCase();
      if (p) forms.add(p);
    }
  }
  const alternatives = [...forms]
    .sort((a, b) => b.length - a.length)
    .map((f) => {
      const words = f.split(/[\s_-]+/).map(escape);
      const last = words.pop()!;
      // plurals: -s/-es, -y → -ies
      const lastForm = last.endsWith('y') ? `(?:${last}|${last.slice(0, -1)}ies)` : `${last}(?:s|es)?`;
      return [...words, lastForm].join('[\\s_-]+');
    });
  return new RegExp(`(?:^|[^\\p{L}\\p{N}])(?:${alternatives.join('|')})(?=$|[^\\p{L}\\p{N}])`, 'iu');
}

/** Decides whether a cleaned caption is kept, giving the reason when not. */
export interface CaptionFilter {
  /** The reject reason, or undefined when the caption passes. */
  check(text: string, concepts: readonly Concept[]): string | undefined;
}

/** Creates the caption filter of a synthesis run (word counts, concept mentions, banned phrases, custom checks); `false` keeps every non-empty caption. */
export function createCaptionFilter(options: CaptionFilterOptions | false = {}): CaptionFilter {
  if (options === false) return { check: (text) => (text.trim() ? undefined : 'empty') };
  rejectUnknownOptions(options, CAPTION_FILTER_KEYS, 'createCaptionFilter');
  const minWords = options.minWords ?? 3;
  const maxWords = options.maxWords ?? 60;
  if (!Number.isInteger(minWords) || minWords < 1 || !Number.isInteger(maxWords) || maxWords < minWords) {
    throw new ConfigurationError(`filters.minWords (${minWords}) and maxWords (${maxWords}) must be integers with 1 ≤ minWords ≤ maxWords`, {
      setting: 'filters',
    });
  }
  const mustMention = options.mustMention ?? 'all';
  const banned = (options.bannedPhrases ?? DEFAULT_BANNED_PHRASES).map((p) => p.toLowerCase());
  const patterns = new Map<string, RegExp>();
  const pattern = (c: Concept) => {
    let p = patterns.get(c.id);
    if (!p) patterns.set(c.id, (p = mentionPattern(c)));
    return p;
  };
  return {
    check(text, concepts) {
      const words = text.split(/\s+/).filter(Boolean).length;
      if (words < minWords) return 'too-short';
      if (words > maxWords) return 'too-long';
      const lower = text.toLowerCase();
      if (banned.some((p) => lower.includes(p))) return 'banned-phrase';
      if (mustMention && concepts.length > 0) {
        const hits = concepts.map((c) => pattern(c).test(text));
        if (mustMention === 'all' ? !hits.every(Boolean) : !hits.some(Boolean)) return 'missing-concept';
      }
      return options.custom?.(text, concepts);
    },
  };
}
