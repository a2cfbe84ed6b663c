import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '@synth2/core';
import { loadConcepts } from './load-concepts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dataDir = process.env.SYNTH2_DATA_DIR ?? path.join(repoRoot, '..', 'shared', 'data');
const conceptsDir = path.join(dataDir, 'concepts');
const haveData = await fs.access(conceptsDir).then(() => true, () => false);
if (!haveData) console.log(`[captioner] skipping real concept-list tests: ${conceptsDir} not found (set SYNTH2_DATA_DIR)`);

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'synth2-concepts-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const write = async (name: string, text: string) => {
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  return file;
};

describe.skipIf(!haveData)('loadConcepts (shared data)', () => {
  it('should load the COCO TSV with its header', async () => {
    const c = await loadConcepts(path.join(conceptsDir, 'coco/coco80_categories.tsv'));
    expect(c).toHaveLength(80);
    expect(c[0]).toMatchObject({ id: 'coco80-categories:person', name: 'person', kind: 'object' });
    expect(c.map((x) => x.name)).toContain('traffic light');
  });
  it('should load the Open Images CSV (label,class)', async () => {
    const c = await loadConcepts(path.join(conceptsDir, 'openimages/class-descriptions-boxable.csv'), { namespace: 'oi' });
    expect(c).toHaveLength(601);
    expect(c[0]).toMatchObject({ id: 'oi:tortoise', name: 'Tortoise' });
  });
  it('should load a JSON array and a named list from a JSON object', async () => {
    // ImageNet names two classes "crane" and two "maillot": same name, same concept for a caption writer
    expect(await loadConcepts(path.join(conceptsDir, 'imagenet/imagenet1k_clip_classnames.json'))).toHaveLength(998);
    const cifar = await loadConcepts(path.join(conceptsDir, 'synclr/labels.json'), { key: 'cifar10' });
    expect(cifar.map((x) => x.name)).toContain('airplane');
    await expect(loadConcepts(path.join(conceptsDir, 'synclr/labels.json'))).rejects.toThrow(/named lists \(food101,.*pick one with \{ key/);
  });
  it('should load one-per-line text, Places365 lines and id<TAB>lemmas lines', async () => {
    expect((await loadConcepts(path.join(conceptsDir, 'fashion_mnist_labels.txt'))).map((x) => x.name)).toContain('Ankle boot');
    const places = await loadConcepts(path.join(conceptsDir, 'synclr/places.txt'), { kind: 'place' });
    expect(places[0]).toMatchObject({ name: 'airfield', kind: 'place' });
    expect(places.map((p) => p.name)).toContain('outdoor apartment building');
    const vg = await loadConcepts(path.join(conceptsDir, 'visual_genome/relations_vocab.txt'), { kind: 'relation' });
    expect(vg).toHaveLength(20);
    const lemmas = await loadConcepts(path.join(conceptsDir, 'imagenet/imagenet_synset_to_lemma.txt'));
    expect(lemmas.find((x) => x.name === 'person')?.synonyms).toEqual(['individual', 'someone', 'somebody', 'mortal', 'soul']);
  });
});

describe('loadConcepts', () => {
  it('should read weights and synonyms columns', async () => {
    const c = await loadConcepts(await write('w.csv', 'name,weight,synonyms\ndog,2,puppy;hound\n"cat, domestic",0.5,\n'));
    expect(c).toEqual([
      { id: 'w:dog', name: 'dog', kind: 'object', synonyms: ['puppy', 'hound'], weight: 2 },
      { id: 'w:cat-domestic', name: 'cat, domestic', kind: 'object', synonyms: [], weight: 0.5 },
    ]);
  });
  it('should skip blank lines, comments and duplicates', async () => {
    const c = await loadConcepts(await write('l.txt', '# shapes\ncircle\n\nsquare\ncircle\n'));
    expect(c.map((x) => x.name)).toEqual(['circle', 'square']);
  });
  it('should say what is wrong with a bad file and what to do', async () => {
    const missing = await loadConcepts(path.join(dir, 'nope.txt')).catch((e: unknown) => e);
    expect(InvalidInputError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toMatch(/nope\.txt: concept file not found; check the path/);
    await expect(loadConcepts(await write('bad.json', '["dog", '))).rejects.toThrow(/bad\.json: the file is not valid JSON/);
    await expect(loadConcepts(await write('obj.json', '[{"label": 1}]'))).rejects.toThrow(/item 0 is neither a name nor an object with a "name"/);
    await expect(loadConcepts(await write('empty.txt', '\n# nothing\n'))).rejects.toThrow(/holds no concepts/);
    await expect(loadConcepts(await write('c.xlsx', 'x'))).rejects.toThrow(/unsupported concept file type "\.xlsx"/);
    await expect(loadConcepts(await write('neg.csv', 'name,weight\ndog,-1\n'))).rejects.toThrow(/neg\.csv:2, field "weight": weight "-1"/);
    await expect(loadConcepts(await write('k.json', '{"a": ["x"]}'), { key: 'b' })).rejects.toThrow(/no list "b" \(it has: a\)/);
  });
});
