import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');
const repo = resolve(here, '..', '..', '..');
const pluginBuilt = existsSync(join(repo, 'examples', 'plugin-caption-source', 'dist', 'index.js'));

function run(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => res({ code: code ?? -1, out, err }));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synth2-eval-plugin-'));
  const annotations = {
    images: [{ id: 1 }, { id: 2 }],
    annotations: [
      { image_id: 1, caption: 'A man rides a horse on the beach.' },
      { image_id: 2, caption: 'Two dogs play in the snow.' },
    ],
  };
  await writeFile(join(dir, 'ann.json'), JSON.stringify(annotations));
  await writeFile(
    join(dir, 'res.json'),
    JSON.stringify([
      { image_id: 1, caption: 'a man on a camel' },
      { image_id: 2, caption: 'two dogs in snow' },
    ]),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(bin) || !pluginBuilt)('synth2 eval with a plugin metric', () => {
  it('should load the plugin by package name and report its metric beside the built-in ones', async () => {
    // run from the repository so the example plugin (a workspace package) resolves by name
    const r = await run(
      ['eval', '--annotations', join(dir, 'ann.json'), '--results', join(dir, 'res.json'), '--plugin', 'synth2-plugin-caption-templates', '--metrics', 'BLEU,example/word-overlap', '--json'],
      repo,
    );
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json.metrics)).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'example/word-overlap']);
    // image 1: a, man, on, a in the references (not camel) → 4 of 5; image 2: two, dogs, in, snow → 4 of 4
    expect(json.metrics['example/word-overlap']).toBeCloseTo((4 / 5 + 1) / 2, 12);
  });

  it('should fail on an unknown metric, listing the built-in and the registered ones and how to add a plugin', async () => {
    const r = await run(
      ['eval', '--annotations', join(dir, 'ann.json'), '--results', join(dir, 'res.json'), '--plugin', 'synth2-plugin-caption-templates', '--metrics', 'my-org/metric'],
      repo,
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown metric "my-org/metric"');
    expect(r.err).toContain('Built-in metrics: BLEU, ROUGE_L, CIDEr, METEOR, SPICE');
    expect(r.err).toContain('registered by plugins: example/word-overlap (synth2-plugin-caption-templates)');
    expect(r.err).toContain('"plugins"');
  });

  it('should refuse a plugin given as a path', async () => {
    const r = await run(['eval', '--annotations', join(dir, 'ann.json'), '--results', join(dir, 'res.json'), '--plugin', './plugin.mjs'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/"\.\/plugin\.mjs" is not a package name/);
  });
});

describe.skipIf(!existsSync(bin) || !pluginBuilt)('synth2 run with eval.metrics', () => {
  it('should refuse an unregistered metric id once the plugins are loaded, before any stage runs', async () => {
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      ['plugins: [synth2-plugin-caption-templates]', 'data: { train: 5, val: 0, test: 2 }', 'eval: { metrics: [CIDEr, example/nope] }'].join('\n'),
    );
    const out = join(dir, 'run');
    const r = await run(['run', config, '--out', out], repo);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/eval\.metrics: unknown metric "example\/nope"/);
    expect(r.err).toContain('registered by plugins: example/word-overlap (synth2-plugin-caption-templates)');
    expect(existsSync(out)).toBe(false);
  });

  it('should accept the plugin metric id in the same config', async () => {
    const config = join(dir, 'ok.yaml');
    await writeFile(
      config,
      [
        'plugins: [synth2-plugin-caption-templates]',
        'data: { train: 20, val: 0, test: 10 }',
        'captions: { count: 12 }',
        'eval: { metrics: [CIDEr, example/word-overlap] }',
      ].join('\n'),
    );
    const out = join(dir, 'run-ok');
    // up to the captions stage: the metric check passed and the stages ran
    const r = await run(['captions', config, '--out', out, '--json'], repo);
    expect(r.code, r.err).toBe(0);
    expect(r.out + r.err).toContain('"stage":"captions"');
  });
});
