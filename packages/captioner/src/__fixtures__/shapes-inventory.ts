import { ConceptInventorySchema } from '@synth2/core';

const c = (kind: string, name: string, synonyms: string[] = []) => ({ id: `${kind}:${name.replace(/ /g, '-')}`, name, kind, synonyms });

/** A small shapes-world-like inventory for tests (the real one lives in @synth2/datasets). */
export const SHAPES_INVENTORY = ConceptInventorySchema.parse({
  name: 'shapes-test',
  objects: [
    c('shape', 'circle', ['disc']),
    c('shape', 'square', ['box']),
    c('shape', 'triangle'),
    c('shape', 'star'),
    c('shape', 'heart'),
    c('shape', 'cross', ['plus sign']),
    c('shape', 'diamond'),
    c('shape', 'ring'),
  ],
  attributes: [
    ...['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'white'].map((n) => c('color', n)),
    c('size', 'small', ['little']),
    c('size', 'large', ['big']),
  ],
  relations: [c('relation', 'to the left of', ['left of']), c('relation', 'to the right of'), c('relation', 'above'), c('relation', 'below', ['under'])],
  positions: [c('position', 'on the left'), c('position', 'on the right'), c('position', 'at the top'), c('position', 'in the center', ['in the middle'])],
  places: [c('background', 'a gray background', ['a grey background']), c('background', 'a black background'), c('background', 'a striped background')],
});
