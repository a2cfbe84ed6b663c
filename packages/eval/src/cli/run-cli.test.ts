import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const examplePluginBuilt = existsSync(join(repo, 'examples', 'plugin-caption-source', 'dist', 'index.js'));

let dir: string;
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'synth2-eval-cli-'));
  const annotations = {
    images: [{ id: 1 }, { id: 2 }],
    annotations: [
      { image_id: 1, id: 10, caption: 'A man rides a horse on the beach.' },
      { image_id: 1, id: 11, caption: 'A person riding a horse.' },
      { image_id: 2, id: 12, caption: 'Two dogs play in the snow.' },
    ],
  };
  writeFileSync(join(dir, 'ann.json.gz'), gzipSync(JSON.stringify(annotations)));
  writeFileSync(join(dir, 'res.json'), JSON.stringify([{ image_id: 1, caption: 'a man riding a horse' }, { image_id: 2, caption: 'dogs in snow' }]));
  writeFileSync(join(dir, 'bad.json'), '[{"image_id": 1, "caption": "a man"},\n {"image_id": 2 "caption": "x"}]');
  writeFileSync(join(dir, 'dup.json'), JSON.stringify([{ image_id: 1, caption: 'a' }, { image_id: 1, caption: 'b' }]));
  writeFileSync(join(dir, 'caps.jsonl'), ['{"id":"1","text":"A dog runs.","source":"synthetic"}', '"a cat sleeps"', '{"caption":"a bird flies"}', ''].join('\n'));
  writeFileSync(join(dir, 'caps-bad.jsonl'), '{"text":"ok"}\n{"text": }\n');
  writeFileSync(join(dir, 'concepts.json'), JSON.stringify(['dog', { name: 'cat', synonyms: ['kitten'] }]));
});

describe('synth2-eval', () => {
  it('should print the official-style table', async () => {
    const r = await run(['--annotations', join(dir, 'ann.json.gz'), '--results', join(dir, 'res.json')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^evaluated 2 images\n\{'testlen': 8, 'reflen': \d+, 'guess': \[8, 6, 4, 2\], 'correct': \[\d+, \d+, \d+, \d+\]\}\nratio: /);
    expect(r.out).toMatch(/\nBleu_1: 0\.\d{3}\nBleu_2: .*\nBleu_3: .*\nBleu_4: .*\nROUGE_L: .*\nCIDEr: \d\.\d{3}\n$/);
  });

  it('should print JSON and write per-image scores atomically', async () => {
    const per = join(dir, 'out', 'per-image.json');
    const r = await run(['--annotations', join(dir, 'ann.json.gz'), '--results', join(dir, 'res.json'), '--metrics', 'BLEU,CIDEr', '--json', '--per-image', per]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json.metrics)).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'CIDEr']);
    expect(json.images).toBe(2);
    const perImage = JSON.parse(readFileSync(per, 'utf8'));
    expect(perImage.imageIds).toEqual([1, 2]);
    expect(perImage.perImage.CIDEr).toHaveLength(2);
  });

  it('should report malformed JSON with its position and write nothing', async () => {
    const per = join(dir, 'never.json');
    const r = await run(['--annotations', join(dir, 'ann.json.gz'), '--results', join(dir, 'bad.json'), '--per-image', per]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.json:2: malformed JSON at column 17: expected ',' or '}' in object/);
    expect(existsSync(per)).toBe(false);
  });

  it('should refuse duplicate results unless --on-invalid drop', async () => {
    const r = await run(['--annotations', join(dir, 'ann.json.gz'), '--results', join(dir, 'dup.json')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/duplicates.*--on-invalid drop/);
    const d = await run(['--annotations', join(dir, 'ann.json.gz'), '--results', join(dir, 'dup.json'), '--on-invalid', 'drop', '--json']);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.out).dropped).toEqual([{ imageId: 1, kind: 'prediction', reason: 'duplicate' }]);
  });

  it('should explain usage errors', async () => {
    expect((await run([])).code).toBe(2);
    const r = await run(['--annotations', join(dir, 'ann.json.gz')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--annotations and --results are both required/);
    expect((await run(['--annotations', 'a', '--results', 'b', '--metrics', 'BLEU,WER'])).err).toMatch(/unknown metric "WER"\. Built-in metrics: BLEU, ROUGE_L/);
    expect((await run(['--annotations', join(dir, 'missing.json'), '--results', join(dir, 'res.json')])).err).toMatch(/missing\.json: file not found/);
  });

  it('should keep the scores and say why when --per-image cannot be written', async () => {
    const args = ['--annotations', join(dir, 'ann.json.gz'), '--results', join(dir, 'res.json')];
    const full = await run(args);
    // a path below a regular file (ENOTDIR) and a path that is a directory (EISDIR): unwritable even for root
    for (const per of [join(dir, 'res.json', 'per-image.json'), dir]) {
      const r = await run([...args, '--per-image', per]);
      expect(r.code).toBe(1);
      expect(r.out).toBe(full.out);
      expect(r.err).toContain(`cannot write the per-image scores to ${per} (`);
      expect(r.err).toMatch(/corpus scores above are complete\. Choose a writable --per-image path/);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    const json = await run([...args, '--json', '--per-image', join(dir, 'res.json', 'p.json')]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).metrics.CIDEr).toBeGreaterThan(0);
  });

  it('should score the annotated images that have a prediction and say how many of how many', async () => {
    const annotations = {
      images: [{ id: 1 }, { id: 2 }, { id: 3 }],
      annotations: [
        { image_id: 1, caption: 'A man rides a horse on the beach.' },
        { image_id: 2, caption: 'Two dogs play in the snow.' },
        { image_id: 3, caption: 'A red bus on a street.' },
      ],
    };
    writeFileSync(join(dir, 'ann3.json'), JSON.stringify(annotations));
    const subset = { images: annotations.images.slice(0, 2), annotations: annotations.annotations.slice(0, 2) };
    writeFileSync(join(dir, 'ann2.json'), JSON.stringify(subset));
    const partial = await run(['--annotations', join(dir, 'ann3.json'), '--results', join(dir, 'res.json')]);
    expect(partial.code).toBe(0);
    expect(partial.out).toMatch(/^evaluated 2 of 3 annotated images \(1 without a prediction are not scored, as in the official evaluation\)\n/);
    expect(partial.err).toBe('synth2-eval: note: 1 of 3 annotated images have no prediction; the scores cover the 2 that do.\n');
    // the scores are those of the subset
    const json = JSON.parse((await run(['--annotations', join(dir, 'ann3.json'), '--results', join(dir, 'res.json'), '--json'])).out);
    const onSubset = JSON.parse((await run(['--annotations', join(dir, 'ann2.json'), '--results', join(dir, 'res.json'), '--json'])).out);
    expect(json).toMatchObject({ images: 2, annotatedImages: 3, imagesWithoutPrediction: 1 });
    expect(json.metrics).toEqual(onSubset.metrics);
    expect(onSubset).toMatchObject({ images: 2, annotatedImages: 2, imagesWithoutPrediction: 0 });
  });

  it('should name the missing jar for METEOR', async () => {
    const saved = process.env.SYNTH2_METEOR_JAR;
    delete process.env.SYNTH2_METEOR_JAR;
    const r = await run(['--annotations', join(dir, 'ann.json.gz'), '--results', join(dir, 'res.json'), '--metrics', 'METEOR']);
    if (saved !== undefined) process.env.SYNTH2_METEOR_JAR = saved;
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/METEOR needs the official meteor-1\.5\.jar/);
  });

  describe('diversity', () => {
    it('should report diversity of a captions JSONL file', async () => {
      const r = await run(['diversity', join(dir, 'caps.jsonl'), '--k', '2', '--concepts', join(dir, 'concepts.json'), '--json']);
      expect(r.code).toBe(0);
      const d = JSON.parse(r.out);
      expect(d.captions).toBe(3);
      expect(d.clusters.k).toBe(2);
      expect(d.concepts.coverage).toBe(1);
      const table = await run(['diversity', join(dir, 'caps.jsonl')]);
      expect(table.out).toMatch(/share in 5 largest clusters: 1\.0000/);
    });

    it('should point at the bad line of a captions file', async () => {
      const r = await run(['diversity', join(dir, 'caps-bad.jsonl')]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/caps-bad\.jsonl:2: .*malformed JSON/);
    });
  });
});

describe('synth2-eval --plugin', () => {
  const args = () => ['--annotations', join(dir, 'ann.json.gz'), '--results', join(dir, 'res-plugin.json'), '--json'];
  beforeAll(() => {
    writeFileSync(join(dir, 'res-plugin.json'), JSON.stringify([{ image_id: 1, caption: 'a man riding a camel' }, { image_id: 2, caption: 'dogs in snow' }]));
  });

  it('should refuse a plugin that is not a package name before importing it', async () => {
    const r = await run([...args(), '--plugin', './evil.mjs']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--plugin: "\.\/evil\.mjs" is not a package name/);
  });

  it('should name the package and how to install it when a plugin is missing', async () => {
    const r = await run([...args(), '--plugin', 'synth2-plugin-that-does-not-exist']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/npm install synth2-plugin-that-does-not-exist/);
  });

  it.skipIf(!examplePluginBuilt)('should load the example plugin by package name and report its metric beside the built-in ones', async () => {
    const r = await run([...args(), '--plugin', 'synth2-plugin-caption-templates', '--metrics', 'CIDEr,example/word-overlap', '--per-image', join(dir, 'plugin-per-image.json')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json.metrics)).toEqual(['CIDEr', 'example/word-overlap']);
    // image 1: "a man riding a camel" → 4 of its 5 words are in the references; image 2: "dogs in snow" → 3 of 3
    expect(json.metrics['example/word-overlap']).toBeCloseTo((4 / 5 + 1) / 2, 12);
    const per = JSON.parse(readFileSync(join(dir, 'plugin-per-image.json'), 'utf8'));
    expect(per.perImage['example/word-overlap']).toEqual([4 / 5, 1]);
    const table = await run([...args().slice(0, -1), '--plugin', 'synth2-plugin-caption-templates', '--metrics', 'example/word-overlap']);
    expect(table.out).toMatch(/\nexample\/word-overlap: 0\.900\n$/);
    const unknown = await run([...args(), '--plugin', 'synth2-plugin-caption-templates', '--metrics', 'example/nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('registered by plugins: example/word-overlap (synth2-plugin-caption-templates)');
  });
});
