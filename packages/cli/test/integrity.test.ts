import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');

/** A miniature pipeline: every stage runs for real, at sizes that take seconds. */
const TINY = [
  '--seed', '4', '--json',
  '--data.train', '48', '--data.val', '8', '--data.test', '24',
  '--tokenizer.steps', '15', '--generator.steps', '15',
  '--captions.count', '40', '--vlm.steps', '8', '--vlm.evalEvery', '8', '--vlm.batchSize', '16',
];

interface Run {
  code: number;
  events: Record<string, any>[];
  stderr: string;
}

function synth2(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      // --json events go to stderr, beside the error line
      const events = (out + err)
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      resolve({ code: code ?? -1, events, stderr: err });
    });
  });
}

const started = (r: Run) => r.events.filter((e) => e.type === 'stage-start').map((e) => e.stage);

/** The command an integrity error says redoes the stage (printed for a POSIX shell; these paths need no quoting). */
function redoCommand(stderr: string, stage: string): string[] {
  const m = new RegExp(`Redo the ${stage} stage \\(and the stages after it\\): synth2 (.*--redo ${stage})`).exec(stderr);
  expect(m, stderr).toBeTruthy();
  return m![1].split(' ');
}

describe.skipIf(!existsSync(bin))('synth2 run integrity (miniature pipeline)', () => {
  let out: string;
  let shard: string;
  let original: Buffer;
  beforeAll(async () => {
    out = join(await mkdtemp(join(tmpdir(), 'synth2-integrity-')), 'run');
    const first = await synth2(['generate', '--out', out, ...TINY]);
    expect(first.code, first.stderr).toBe(0);
    shard = join(out, 'generate', 'embeddings', 'shard-00000.safetensors');
    original = await readFile(shard);
  }, 300_000);

  it('should record every stage output with its SHA-256 in the run manifest', async () => {
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const paths = (stage: string) => (manifest.stages[stage].files as { path: string }[]).map((f) => f.path);
    expect(paths('data')).toEqual(expect.arrayContaining(['data/train.jsonl', 'data/train.images.safetensors', 'data/test.images.safetensors', 'data/inventory.json']));
    expect(paths('tokenizer')).toEqual(expect.arrayContaining(['tokenizer/train.tokens.safetensors', 'tokenizer/val.tokens.safetensors', 'tokenizer/test.tokens.safetensors']));
    expect(paths('captions')).toEqual(['captions/captions.jsonl']);
    expect(paths('generate')).toEqual(['generate/embeddings/manifest.json', 'generate/embeddings/shard-00000.safetensors', 'generate/gallery.json']);
    for (const f of manifest.stages.generate.files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('should refuse an embedding shard with 1 KB flipped (same size), naming it and the --redo command that fixes it', async () => {
    const bytes = Buffer.from(original);
    for (let i = bytes.length - 2048; i < bytes.length - 1024; i++) bytes[i] ^= 0xff;
    await writeFile(shard, bytes);
    expect((await readFile(shard)).length).toBe(original.length);

    const second = await synth2(['vlm', 'train', '--out', out, ...TINY]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`${shard}: changed since the generate stage wrote it`);
    // the Synth² VLM never started training on the corrupt embeddings
    expect(started(second)).not.toContain('vlm-synth2');

    const cmd = redoCommand(second.stderr, 'generate');
    expect(cmd).toEqual(expect.arrayContaining(['vlm', 'train', '--out', out]));
    const third = await synth2(cmd);
    expect(third.code, third.stderr).toBe(0);
    expect(third.events.find((e) => e.type === 'stage-start' && e.stage === 'generate')).toMatchObject({ reason: 'redo' });
    expect(started(third)).toEqual(expect.arrayContaining(['generate', 'vlm-synth2']));
    expect(started(third)).not.toContain('tokenizer');
    // the same settings give the same store again
    expect((await readFile(shard)).equals(original)).toBe(true);
  });

  it('should say to --redo a stage whose folder was deleted by hand', async () => {
    await rm(join(out, 'captions'), { recursive: true });
    const r = await synth2(['generate', '--out', out, ...TINY]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(out, 'captions', 'captions.jsonl')}: missing: the captions stage wrote it and it has been deleted or moved since`);
    expect(r.stderr).not.toMatch(/no manifest\.json here/);
    const fixed = await synth2(redoCommand(r.stderr, 'captions'));
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(started(fixed)).toEqual(['captions', 'generate']);
  });

  it('should check a model against the run manifest before `synth2 caption` uses it', async () => {
    const dir = join(out, 'vlm-baseline', 'model');
    const sizes = await Promise.all((await readdir(dir)).map(async (name) => ({ name, size: (await stat(join(dir, name))).size })));
    const weights = join(dir, sizes.sort((a, b) => b.size - a.size)[0].name);
    const bytes = await readFile(weights);
    bytes[bytes.length - 100] ^= 0x01;
    await writeFile(weights, bytes);
    const r = await synth2(['caption', '--run', out, '--model', 'baseline', join(out, 'any.png')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${weights}: changed since the vlm-baseline stage wrote it`);
    expect(r.stderr).toContain(`--redo vlm-baseline`);
  });
});
