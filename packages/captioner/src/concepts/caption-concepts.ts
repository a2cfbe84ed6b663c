import { InvalidInputError, type Concept } from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';

/** Options of `conceptsFromCaptions`. */
export interface ConceptsFromCaptionsOptions {
  /** How many concepts to keep, most frequent first (default 64). */
  count?: number;
  /** Keep only words found in at least this many captions (default 2). */
  minCaptions?: number;
  /** Prefix of the concept ids (default `caption`): ids are `<namespace>:<word>`. */
  namespace?: string;
}

const CONCEPTS_FROM_CAPTIONS_KEYS = optionKeys<ConceptsFromCaptionsOptions>({ count: true, minCaptions: true, namespace: true });

/** Function words, numbers, colours and common adjectives/verbs: caption words that are not things to picture. */
const NOT_CONCEPTS = new Set(
  (
    'a an the and or but of in on at to for with without from by into onto over under above below near next beside ' +
    'behind front inside outside along across through around while during up down out off back there here this that ' +
    'these those his her its their our your my he she it they them him we you who whom which what where when how ' +
    'is are was were be been being am has have had do does did can could will would should may might some any each ' +
    'all both few many much more most other another such very just only also too not no yes as than then so ' +
    'one two three four five six seven eight nine ten several group lot lots couple bunch piece side top bottom ' +
    'left right middle center centre picture photo image view close shot ' +
    'white black red blue green yellow orange pink purple brown gray grey silver gold dark light colorful colored ' +
    'big small large little long short tall old young new open empty full wooden plastic metal ' +
    'sits sit sitting stands stand standing walks walk walking runs run running plays play playing looks look ' +
    'looking holds hold holding rides ride riding wears wear wearing lying laying jumps jump jumping while ' +
    'another different various other someone something'
  ).split(/\s+/),
);

/** The words of a caption that can name a thing to picture (lower-case, letters only, no function words). */
function contentWords(caption: string): Set<string> {
  const words = caption.toLowerCase().match(/[a-z]+/g) ?? [];
  return new Set(words.filter((w) => w.length >= 3 && !NOT_CONCEPTS.has(w) && !/(ing|ly)$/.test(w)));
}

/**
 * Concepts for synthetic captions from human captions: the words that the most captions use, after function
 * words, numbers, colours, common adjectives and verbs are dropped (`dog`, `man`, `grass`, `beach`, …), most
 * frequent first. For a folder of photos with captions and no concept list of its own.
 */
export function conceptsFromCaptions(captions: Iterable<string>, options: ConceptsFromCaptionsOptions = {}): Concept[] {
  rejectUnknownOptions(options, CONCEPTS_FROM_CAPTIONS_KEYS, 'conceptsFromCaptions');
  const { count = 64, minCaptions = 2, namespace = 'caption' } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidInputError(`conceptsFromCaptions: count must be a positive integer (got ${count}).`);
  }
  const seen = new Map<string, number>();
  for (const caption of captions) for (const w of contentWords(caption)) seen.set(w, (seen.get(w) ?? 0) + 1);
  // a plural counts for its singular when both occur (`dogs` → `dog`)
  for (const [w, n] of seen) {
    const singular = w.slice(0, -1);
    if (w.endsWith('s') && !w.endsWith('ss') && seen.has(singular)) {
      seen.set(singular, seen.get(singular)! + n);
      seen.delete(w);
    }
  }
  return [...seen]
    .filter(([, n]) => n >= minCaptions)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, count)
    .map(([word]) => ({ id: `${namespace}:${word}`, name: word, kind: 'object' as const, synonyms: [] }));
}
