import { describe, expect, it } from 'vitest';
import { ConfigurationError, Rng, type Concept } from '@synth2/core';
import { ConceptGrammar, indefiniteArticle } from './concept-grammar';
import { createConceptGrammarSource } from '../sources/concept-grammar-source';
import { createCaptionFilter } from '../synthesis/caption-filters';
import { SHAPES_INVENTORY } from '../__fixtures__/shapes-inventory';

const inv = SHAPES_INVENTORY;
const find = (id: string): Concept => [...inv.objects, ...inv.attributes, ...inv.relations, ...inv.positions, ...inv.places].find((c) => c.id === id)!;

describe('ConceptGrammar', () => {
  it('should write captions that mention every requested concept, in human-annotator style', () => {
    const grammar = new ConceptGrammar({ inventory: inv });
    const filter = createCaptionFilter();
    const rng = new Rng(1);
    const colors = inv.attributes.filter((a) => a.kind === 'color');
    for (let i = 0; i < 400; i++) {
      const concepts = [colors[i % 8], inv.objects[(i * 3) % 8]];
      const text = grammar.caption({ concepts }, rng);
      expect(filter.check(text, concepts), text).toBeUndefined();
      expect(text).toContain(`${concepts[0].name} `);
      expect(text).not.toMatch(/image of|together with|picture of|beautiful|stunning/);
      expect(text).toMatch(/^[a-z]/);
      expect(text).not.toMatch(/\s{2}|\s,|^\s|\s$/);
    }
  });

  it('should pair each attribute with its own object and use a requested relation and place', () => {
    const grammar = new ConceptGrammar({ inventory: inv, attributeProbability: { color: 0, size: 0, attribute: 0 }, synonymProbability: 0 });
    const rng = new Rng(2);
    for (let i = 0; i < 50; i++) {
      const text = grammar.caption(
        { concepts: [find('color:red'), find('shape:circle'), find('relation:above'), find('color:blue'), find('shape:square'), find('background:a-black-background')] },
        rng,
      );
      expect(text).toMatch(/red circle/);
      expect(text).toMatch(/blue square/);
      expect(text).toMatch(/above/);
      expect(text).toMatch(/a black background/);
    }
  });

  it('should be seeded: the same seed gives the same captions, different seeds different ones', async () => {
    const make = () => createConceptGrammarSource({ inventory: inv });
    const concepts = [find('color:green'), find('shape:star')];
    const run = async (seed: number) => (await make().doGenerate({ concepts, n: 20, seed })).captions;
    expect(await run(5)).toEqual(await run(5));
    expect(await run(5)).not.toEqual(await run(6));
  });

  it('should vary phrasing: many distinct captions and templates for one concept pair', () => {
    const grammar = new ConceptGrammar({ inventory: inv });
    const rng = new Rng(3);
    const texts = Array.from({ length: 300 }, () => grammar.caption({ concepts: [find('color:pink'), find('shape:heart')] }, rng));
    expect(new Set(texts).size).toBeGreaterThan(100);
    expect(texts.some((t) => t.startsWith('there is'))).toBe(true);
    expect(texts.some((t) => /^two shapes, /.test(t))).toBe(true);
    expect(texts.some((t) => / (to the left of|to the right of|above|below|left of|under) /.test(t))).toBe(true);
    expect(texts.some((t) => / on a (gray|grey|black|striped) background/.test(t))).toBe(true);
    expect(texts.some((t) => /little|small|big|large/.test(t))).toBe(true);
  });

  it('should aim at the requested word count', () => {
    const grammar = new ConceptGrammar({ inventory: inv });
    const rng = new Rng(4);
    const mean = (n: number) => {
      let total = 0;
      for (let i = 0; i < 200; i++) total += grammar.caption({ concepts: [find('color:red'), find('shape:circle')], wordCount: n }, rng).split(' ').length;
      return total / 200;
    };
    const short = mean(4);
    const long = mean(12);
    expect(short).toBeLessThan(6.5);
    expect(long).toBeGreaterThan(9);
    expect(long - short).toBeGreaterThan(4);
  });

  it('should use templates given as data', () => {
    const grammar = new ConceptGrammar({
      inventory: inv,
      templates: { one: ['{a} drawn {pos}'] },
      extraObjectProbability: 0,
      synonymProbability: 0,
      attributeProbability: { color: 0, size: 0, attribute: 0 },
    });
    const text = grammar.caption({ concepts: [find('shape:ring'), find('position:on-the-left')] }, new Rng(0));
    expect(text).toBe('a ring drawn on the left');
  });

  it('should reject a template with an unknown slot or unbalanced brackets', () => {
    expect(() => new ConceptGrammar({ templates: { one: ['{a} in {room}'] } })).toThrow(/unknown slot \{room\}/);
    expect(() => new ConceptGrammar({ templates: { one: ['{a}[ on {place}'] } })).toThrow(/"\[" without "\]"/);
    expect(() => new ConceptGrammar({ templates: { two: [] } })).toThrow(ConfigurationError);
  });

  it('should work without an inventory from plain object concepts', () => {
    const grammar = new ConceptGrammar();
    const dog = { id: 'dog', name: 'dog', kind: 'object' as const, synonyms: [] };
    const frisbee = { id: 'frisbee', name: 'frisbee', kind: 'object' as const, synonyms: [] };
    const text = grammar.caption({ concepts: [dog, frisbee] }, new Rng(0));
    expect(text).toMatch(/a dog/);
    expect(text).toMatch(/a frisbee/);
  });
});

describe('indefiniteArticle', () => {
  it('should choose a or an by sound', () => {
    expect(indefiniteArticle('orange star')).toBe('an');
    expect(indefiniteArticle('red circle')).toBe('a');
    expect(indefiniteArticle('umbrella')).toBe('an');
    expect(indefiniteArticle('unicorn')).toBe('a');
    expect(indefiniteArticle('hour')).toBe('an');
  });
});
