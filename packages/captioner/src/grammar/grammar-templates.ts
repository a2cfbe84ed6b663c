/**
 * Caption templates of the concept grammar, grouped by how many objects a caption describes. Templates are data:
 * replace or extend them through `createConceptGrammarSource({ templates })`.
 *
 * Slots: `{a}`, `{b}` the first and second object as noun phrases with their article ("a small red circle");
 * `{list}` all objects ("a red circle, a blue square and a green star"); `{rel}` a relation between the first two
 * objects ("to the left of"); `{pos}` a position in the frame ("on the left"); `{place}` a place or background
 * ("a grey background"); `{count}` the number of objects in words; `{group}` a collective noun ("shapes").
 * `[ … ]` marks an optional part, kept at random (or always when it carries a concept the caption must mention).
 *
 * The defaults follow how people annotate images in COCO-style datasets: a plain noun phrase first, then where
 * things are. No "an image of", no "together with", no judgement.
 */
export interface GrammarTemplates {
  one: string[];
  two: string[];
  many: string[];
}

/** The concept grammar's default caption templates, per number of objects. */
export const DEFAULT_GRAMMAR_TEMPLATES: GrammarTemplates = {
  one: [
    '{a}[ {pos}]',
    '{a} on {place}',
    '{a} {pos}',
    'there is {a} on {place}',
    'there is {a} {pos}',
    '{a} is {pos}',
    '{place} with {a}[ {pos}]',
    'a single {a-bare}[ on {place}]',
    'a single {a-bare} {pos}',
    '{a} sitting {pos}',
  ],
  two: [
    '{a} {rel} {b}[ on {place}]',
    '{a} and {b}[ on {place}]',
    '{count} {group}, {a} and {b}[, on {place}]',
    '{count} {group} on {place}, {a} and {b}',
    'there is {a} {rel} {b}[ on {place}]',
    '{place} with {a} {rel} {b}',
    '{place} with {a} and {b}',
    '{a} next to {b}[ on {place}]',
  ],
  many: [
    '{list}[ on {place}]',
    '{count} {group}, {list}[, on {place}]',
    '{place} with {list}',
    'there are {count} {group}[ on {place}], {list}',
  ],
};
