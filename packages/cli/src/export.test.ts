import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, Vocabulary, parseSafetensors, writeJsonl, writeSafetensors } from '@synth2/core';
import { initBackend } from '@synth2/nn';
import { CaptionTokenGenerator, VQTokenizer, demoGeneratorConfig, demoTokenizerConfig } from '@synth2/generator';
import { CaptioningVLM, demoVlmConfig } from '@synth2/vlm';
import { exportRun, EXPORT_MANIFEST, type ExportManifest } from './export';

const CAPTIONS = ['a red square on a grey background', 'a blue circle and a green star', 'a yellow cross above a pink square'];

let root: string;
let run: string;
let studio: string;

/** A run directory with what `synth2 export` reads: untrained models (saved for real), test images and results. */
async function makeRun(dir: string): Promise<void> {
  await initBackend({ backend: 'wasm', native: false, log: () => {} });
  const tokenizer = VQTokenizer.create({ ...demoTokenizerConfig, seed: 1 });
  await tokenizer.save(join(dir, 'tokenizer', 'model'));
  const generator = CaptionTokenGenerator.create({ ...demoGeneratorConfig, layers: 1, captions: CAPTIONS, seed: 1 });
  await generator.save(join(dir, 'generator', 'model'));
  for (const kind of ['baseline', 'synth2']) {
    const vlm = CaptioningVLM.create({ ...demoVlmConfig.architecture, vocabulary: Vocabulary.build(CAPTIONS) });
    await vlm.save(join(dir, `vlm-${kind}`, 'model'));
    vlm.dispose();
  }
  tokenizer.dispose();
  generator.dispose();
  const n = 4;
  const pixels = new Uint8Array(n * 32 * 32 * 3).map((_, i) => (i * 37) % 256);
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeSafetensors(join(dir, 'data', 'test.images.safetensors'), { images: { dtype: 'U8', shape: [n, 32, 32, 3], data: pixels } });
  await writeJsonl(
    join(dir, 'data', 'test.jsonl'),
    Array.from({ length: n }, (_, i) => ({ imageId: `img-${i}`, captions: [CAPTIONS[i % 3]], meta: { heldOut: i === 2 } })),
  );
  await writeFile(join(dir, 'results.json'), JSON.stringify({ models: { baseline: { all: { CIDEr: 0.1 } }, synth2: { all: { CIDEr: 0.2 } } } }));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'synth2-export-'));
  run = join(root, 'run');
  await makeRun(run);
  studio = join(root, 'studio');
  await mkdir(join(studio, 'assets'), { recursive: true });
  await writeFile(join(studio, 'index.html'), '<!doctype html><title>studio</title>');
  await writeFile(join(studio, 'assets', 'index.js'), 'console.log(1)');
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('exportRun', () => {
  it('should refuse a non-empty --out that is not a previous export and leave it untouched', async () => {
    const out = join(root, 'user-folder');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'mine');
    const error = await exportRun({ run, out, studio }).catch((e) => e);
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/is not empty and is not a previous studio export/);
    expect(await readdir(out)).toEqual(['notes.txt']);
    expect((await readdir(root)).filter((n) => n.includes('.export-'))).toEqual([]);
  });

  it('should name what an unfinished run lacks', async () => {
    const partial = join(root, 'partial');
    await mkdir(join(partial, 'tokenizer'), { recursive: true });
    await expect(exportRun({ run: partial, out: join(root, 'never'), studio })).rejects.toThrow(/is not a finished run: .*generator.*results.json are missing/);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('should write a self-contained folder, float16 only where its check passed', async () => {
    const out = join(root, 'export');
    const manifest = await exportRun({ run, out, studio });
    const written = JSON.parse(await readFile(join(out, EXPORT_MANIFEST), 'utf8')) as ExportManifest;
    expect(written.format).toBe('synth2-studio-export');
    for (const file of written.files) expect(existsSync(join(out, file)), file).toBe(true);
    expect(written.files).toEqual(expect.arrayContaining(['index.html', 'assets/index.js', 'results.json', 'test-images/items.json', 'vocabularies/generator.json']));
    expect(written.testImages).toMatchObject({ count: 4, heldOut: 1, imageSize: 32 });
    // held-out images first
    expect(JSON.parse(await readFile(join(out, 'test-images', 'items.json'), 'utf8'))[0]).toMatchObject({ imageId: 'img-2', heldOut: true });
    for (const [name, model] of Object.entries(manifest.models)) {
      const weights = parseSafetensors(await readFile(join(out, model.path, 'model.safetensors')));
      const floats = Object.values(weights.tensors).filter((t) => t.dtype === 'F16' || t.dtype === 'F32');
      expect(floats.every((t) => t.dtype === model.dtype), `${name}: ${model.check}`).toBe(true);
      expect(model.check, name).toMatch(/need/);
    }
    // the tokenizer's codes do not depend on float16 rounding of an untrained model's weights at this tolerance
    expect(manifest.models.tokenizer.dtype).toBe('F16');
    // an exported float16 checkpoint loads and runs
    const tokenizer = await VQTokenizer.load(join(out, 'models', 'tokenizer'));
    expect(tokenizer.gridSize).toBe(16);
    tokenizer.dispose();
  }, 120_000);

  it('should replace only its own files when exporting again into a previous export', async () => {
    const out = join(root, 'again');
    await exportRun({ run, out, studio, float16: 'never' });
    await writeFile(join(out, 'notes.txt'), 'mine');
    await writeFile(join(out, 'assets', 'extra.css'), 'mine too');
    const manifest = await exportRun({ run, out, studio, float16: 'never' });
    expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(await readFile(join(out, 'assets', 'extra.css'), 'utf8')).toBe('mine too');
    expect(Object.values(manifest.models).map((m) => m.dtype)).toEqual(['F32', 'F32', 'F32', 'F32']);
    expect(manifest.files).not.toContain('notes.txt');
  }, 120_000);
});
