import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conceptsFromCaptions } from './caption-concepts';

const DATA = process.env.SYNTH2_DATA_DIR ?? join(__dirname, '../../../../../shared/data');
const FLICKR = join(DATA, 'flickr8k-1k', 'captions.csv');

describe('conceptsFromCaptions', () => {
  it('should keep the content words most captions use, most frequent first', () => {
    const concepts = conceptsFromCaptions(
      ['A dog runs on the grass.', 'Two dogs and a ball on grass', 'A black dog with a ball', 'a man sitting on a bench', 'dogs'],
      { minCaptions: 2 },
    );
    expect(concepts.map((c) => c.name)).toEqual(['dog', 'ball', 'grass']);
    expect(concepts[0]).toEqual({ id: 'caption:dog', name: 'dog', kind: 'object', synonyms: [] });
  });

  it('should cap the list at count and use the namespace in ids', () => {
    const concepts = conceptsFromCaptions(['cat tree', 'cat tree house', 'cat'], { count: 1, minCaptions: 1, namespace: 'mine' });
    expect(concepts).toEqual([{ id: 'mine:cat', name: 'cat', kind: 'object', synonyms: [] }]);
  });

  it('should reject unknown options and a bad count, naming them', () => {
    expect(() => conceptsFromCaptions([], { cuont: 3 } as never)).toThrow(/cuont.*count/);
    expect(() => conceptsFromCaptions([], { count: 0 })).toThrow(/count must be a positive integer/);
  });

  it.skipIf(!existsSync(FLICKR))('should find the things Flickr8k captions picture', () => {
    if (!existsSync(FLICKR)) console.log(`skipped: ${FLICKR} not found (set SYNTH2_DATA_DIR)`);
    // captions.csv: `image,caption` lines (the caption is everything after the first comma)
    const captions = readFileSync(FLICKR, 'utf8').split('\n').slice(1).map((line) => line.slice(line.indexOf(',') + 1));
    const names = conceptsFromCaptions(captions, { count: 20 }).map((c) => c.name);
    expect(names).toHaveLength(20);
    for (const thing of ['dog', 'man', 'water', 'woman']) expect(names).toContain(thing);
    for (const word of ['the', 'with', 'two', 'white', 'playing', 'while']) expect(names).not.toContain(word);
  });
});
