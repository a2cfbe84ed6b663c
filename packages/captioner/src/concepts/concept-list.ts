import { ConceptSchema, InvalidInputError, type Concept, type ConceptInput } from '@synth2/core';

/** A concept given as a plain name (`'dog'`) or a concept record. */
export type ConceptLike = string | ConceptInput;

/**
 * One item a sampler draws: a single concept, or a fixed combination drawn as a unit (e.g. `red` + `circle`,
 * so that a balanced sampler balances colour–shape pairs).
 */
export type ConceptItemInput = ConceptLike | readonly ConceptLike[];
export type ConceptItem = Concept[];

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Parses one concept (a name or a record) with core's `ConceptSchema`. */
export function toConcept(input: ConceptLike, where = 'concept'): Concept {
  if (typeof input === 'string') {
    const name = input.trim();
    if (!name) throw new InvalidInputError('a concept name is empty; give every concept a non-empty name', { field: where });
    return ConceptSchema.parse({ id: slugify(name) || name, name });
  }
  const parsed = ConceptSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      `invalid concept ${JSON.stringify(input)}: ${issue.path.join('.') || 'value'}: ${issue.message}; a concept needs at least { id, name }`,
      { field: where, cause: parsed.error },
    );
  }
  return parsed.data;
}

/** Normalises the `concepts` option of a synthesis run into sampler items. */
export function toConceptItems(inputs: readonly ConceptItemInput[]): ConceptItem[] {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new InvalidInputError('no concepts were given; pass a non-empty list of concepts (or load one with loadConcepts)', {
      field: 'concepts',
    });
  }
  return inputs.map((item, i) => {
    if (Array.isArray(item)) {
      if (item.length === 0) throw new InvalidInputError(`concept group ${i} is empty`, { field: `concepts[${i}]` });
      return item.map((c, j) => toConcept(c as ConceptLike, `concepts[${i}][${j}]`));
    }
    return [toConcept(item as ConceptLike, `concepts[${i}]`)];
  });
}

/**
 * Every combination of one concept from each list, as groups a sampler draws as units. For example
 * `combineConcepts(colours, shapes)` gives all colour–shape pairs, which a `balanced` sampler then covers evenly.
 */
export function combineConcepts(...lists: readonly (readonly ConceptLike[])[]): Concept[][] {
  let out: Concept[][] = [[]];
  lists.forEach((list, li) => {
    const concepts = list.map((c, i) => toConcept(c, `lists[${li}][${i}]`));
    const next: Concept[][] = [];
    for (const prefix of out) for (const c of concepts) next.push([...prefix, c]);
    out = next;
  });
  return out.filter((g) => g.length > 0);
}
