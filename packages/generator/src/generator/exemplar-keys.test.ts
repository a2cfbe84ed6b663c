import { describe, expect, it } from 'vitest';
import type { ConceptInventory } from '@synth2/core';
import { exemplarKeyer, imageExemplarKeys } from './exemplar-keys';

const inventory = {
  name: 't',
  objects: [
    { id: 'shape:circle', name: 'circle', kind: 'shape', synonyms: ['disc'] },
    { id: 'shape:cross', name: 'cross', kind: 'shape', synonyms: ['plus sign'] },
    { id: 'shape:box', name: 'box', kind: 'shape', synonyms: [] },
  ],
  attributes: [
    { id: 'color:red', name: 'red', kind: 'color', synonyms: ['crimson'] },
    { id: 'size:small', name: 'small', kind: 'size', synonyms: ['tiny'] },
  ],
  relations: [{ id: 'relation:left-of', name: 'to the left of', kind: 'relation', synonyms: ['left of'] }],
  positions: [
    { id: 'position:left', name: 'on the left', kind: 'position', synonyms: [] },
    { id: 'position:top-left', name: 'in the top left corner', kind: 'position', synonyms: ['in the upper left corner'] },
  ],
  places: [{ id: 'background:black', name: 'a black background', kind: 'background', synonyms: [] }],
} as ConceptInventory;

describe('exemplarKeyer', () => {
  const key = exemplarKeyer(inventory);
  it('should keep objects, sizes and positions in caption order, folding synonyms, without colour or background', () => {
    expect(key('A tiny crimson disc in the upper left corner on a black background.')).toEqual([
      'size:small shape:circle position:top-left',
      'shape:circle',
    ]);
    expect(key('a red circle')).toEqual(['shape:circle']);
  });

  it('should read plurals, multi-word names and relations, the longest phrase first', () => {
    expect(key('two red boxes to the left of a plus sign')).toEqual(['shape:box relation:left-of shape:cross', 'shape:box shape:cross']);
    expect(key('a circle on the left')).toEqual(['shape:circle position:left', 'shape:circle']);
  });

  it('should give no key to a caption that names no object', () => {
    expect(key('something red on a black background')).toEqual([]);
  });

  it('should put the image\'s most specific key first for every caption of the image', () => {
    const keys = imageExemplarKeys(['a red circle', 'a tiny disc on the left', 'something red'], key);
    expect(keys).toEqual([
      ['size:small shape:circle position:left', 'shape:circle'],
      ['size:small shape:circle position:left', 'shape:circle'],
      ['size:small shape:circle position:left'],
    ]);
    expect(imageExemplarKeys(['something red'], key)).toEqual([[]]);
  });
});
