import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');
const repo = resolve(here, '..', '..', '..');
const pluginBuilt = existsSync(join(repo, 'examples', 'plugin-caption-source', 'dist', 'index.js'));

function run(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => res({ code: code ?? -1, out }));
  });
}

describe.skipIf(!existsSync(bin) || !pluginBuilt)('plugins', () => {
  it('should load a third-party caption source by package name and use it for the captions stage only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synth2-plugin-'));
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      [
        'plugins: [synth2-plugin-caption-templates]',
        'data: { train: 20, val: 0, test: 10 }',
        'captions:',
        '  source: example/templates',
        '  count: 12',
        '  options: { templates: ["a photo of a {concepts} shape on a plain background"] }',
      ].join('\n'),
    );
    // Run from the repository so the example plugin (a workspace package) resolves by name.
    const r = await run(['captions', config, '--out', join(dir, 'run'), '--json'], repo);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('"stage":"captions"');
    expect(r.out).not.toContain('"stage":"tokenizer"');
    const lines = (await readFile(join(dir, 'run', 'captions', 'captions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(12);
    expect(lines.every((l) => /^a photo of a .+ shape on a plain background$/.test(l.text))).toBe(true);
    expect(lines[0].provider.provider).toBe('example-templates');
  });

  it('should name the missing plugin package and how to install it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synth2-plugin-'));
    await writeFile(join(dir, 'c.json'), JSON.stringify({ plugins: ['synth2-plugin-that-does-not-exist'], data: { train: 5, test: 2, val: 0 } }));
    const r = await run(['captions', join(dir, 'c.json'), '--out', join(dir, 'run')], dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/npm install synth2-plugin-that-does-not-exist/);
  });
});
