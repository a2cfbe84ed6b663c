import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');
const DATA = process.env.SYNTH2_DATA_DIR ?? join(here, '../../../../shared/data');

/** Tiny sizes: every stage runs for real in seconds (the scores mean nothing at this size). */
const TINY = [
  '--data.train', '40', '--data.val', '0', '--data.test', '16',
  '--tokenizer.steps', '10', '--generator.steps', '10', '--captions.count', '30',
  '--vlm.steps', '10', '--vlm.evalEvery', '10', '--vlm.batchSize', '8',
];

function synth2(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

describe.skipIf(!existsSync(bin))('synth2 run --data.source <your folder>', () => {
  for (const [folder, format] of [['flickr8k-1k', 'flickr'], ['coco-mini', 'coco']] as const) {
    const source = join(DATA, folder);
    it.skipIf(!existsSync(source))(`should run end to end on ${folder} with nothing but the folder`, async () => {
      const out = join(await mkdtemp(join(tmpdir(), 'synth2-own-')), 'run');
      const run = await synth2(['run', '--out', out, '--quiet', '--data.source', source, ...TINY]);
      expect(run.code, run.out).toBe(0);
      const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
      for (const model of ['baseline', 'synth2']) {
        expect(results.models[model].all.CIDEr, model).toBeGreaterThanOrEqual(0);
        expect(results.models[model].all.Bleu_4, model).toBeGreaterThanOrEqual(0);
      }
      // no captions.concepts given: the concepts come from the human train captions
      const concepts = (await readFile(join(out, 'data', 'concepts.txt'), 'utf8')).trim().split('\n');
      expect(concepts.length).toBeGreaterThan(10);
      const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.stages.data.summary).toMatchObject({ format, train: 40, test: 16 });
    }, 900_000);
    if (!existsSync(source)) console.log(`skipped: ${source} not found (set SYNTH2_DATA_DIR)`);
  }

  it('should refuse a folder it cannot read before making the run directory, naming data.source and the layouts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synth2-own-bad-'));
    await mkdir(join(dir, 'photos'));
    await writeFile(join(dir, 'photos', 'notes.md'), 'no captions here');
    const out = join(dir, 'run');
    const run = await synth2(['run', '--out', out, '--quiet', '--data.source', join(dir, 'photos')]);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/data\.source ".*photos" holds no captions file it can read.*Flickr-style.*COCO-format.*JSONL manifest/s);
    expect(existsSync(out)).toBe(false);
  });
});
