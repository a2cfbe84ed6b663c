import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main, redoCommandFor } from '../src/main';

/** Runs `synth2 …` in this process; returns the exit code and what it printed. */
async function synth2(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

/** Every file under `dir` with its bytes, for byte-identical comparisons. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) files[relative(dir, join(e.parentPath, e.name))] = (await readFile(join(e.parentPath, e.name))).toString('base64');
  }
  return files;
}

describe('synth2 run --out <a folder with your files>', () => {
  it('should refuse a non-empty folder without a run manifest, say what to do, and leave every file byte-identical', async () => {
    const project = await mkdtemp(join(tmpdir(), 'synth2-project-'));
    await mkdir(join(project, 'data', 'images'), { recursive: true });
    await mkdir(join(project, 'report'), { recursive: true });
    await writeFile(join(project, 'data', 'images', 'cat.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    await writeFile(join(project, 'data', 'captions.csv'), 'image,caption\ncat.jpg,a cat\n');
    await writeFile(join(project, 'report', 'draft.md'), '# results so far\n');
    const before = await snapshot(project);
    const r = await synth2(['run', '--out', project, '--data.train', '8', '--data.test', '4', '--data.val', '0', '-q']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(project);
    expect(r.err).toMatch(/not empty \(data, report\) and is not a Synth² run directory/);
    expect(r.err).toMatch(/Pick a new folder with --out/);
    expect(await snapshot(project)).toEqual(before);
  });
});

describe('plugins in a config', () => {
  let dir: string;
  let marker: string;
  const oldCwd = process.cwd();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synth2-plugin-trust-'));
    marker = join(dir, 'imported.txt');
    // a module that leaves a marker file when it is imported (its code runs)
    const code = `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'ran');`;
    await writeFile(join(dir, 'evil.mjs'), code);
    process.chdir(dir);
  });
  afterEach(() => process.chdir(oldCwd));

  const runWith = async (plugins: string[], extra: string[] = []) => {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ plugins, data: { train: 8, val: 0, test: 4 } }));
    return synth2(['captions', join(dir, 'config.json'), '--out', join(dir, 'run'), '-q', ...extra]);
  };

  it('should refuse a data: URL without importing it', async () => {
    const code = `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'ran');`;
    const r = await runWith([`data:text/javascript,${encodeURIComponent(code)}`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/plugins: "data:text\/javascript,.*" is not a package name/);
    expect(r.err).toMatch(/URLs \(data:, http:\) and subpaths are never loaded/);
    expect(existsSync(marker)).toBe(false);
    // not even with --allow-plugin-paths: a data: URL is not a local file
    expect((await runWith([`data:text/javascript,${encodeURIComponent(code)}`], ['--allow-plugin-paths'])).code).toBe(1);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });

  it('should refuse an absolute path, a relative path and a file: URL without importing them', async () => {
    for (const spec of [join(dir, 'evil.mjs'), './evil.mjs', '../' + relative(join(dir, '..'), join(dir, 'evil.mjs')), pathToFileURL(join(dir, 'evil.mjs')).href]) {
      const r = await runWith([spec]);
      expect(r.code, spec).toBe(1);
      expect(r.err).toMatch(/is a local file, not a package name.*pass --allow-plugin-paths/);
      expect(existsSync(marker), spec).toBe(false);
    }
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });

  it('should import a local file only with --allow-plugin-paths', async () => {
    // the marker proves the refusals above were real: with the flag the same file is imported (and then rejected
    // because it exports no synth2Plugin)
    const r = await runWith(['./evil.mjs'], ['--allow-plugin-paths']);
    expect(existsSync(marker)).toBe(true);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/"\.\/evil\.mjs" is not a Synth² plugin/);
  });
});

describe('redoCommandFor', () => {
  it('should repeat the command with --redo <stage> in place of any --redo it had, quoted for a shell', () => {
    const redo = redoCommandFor(['vlm', 'train', 'my config.yaml', '--out', 'runs/a', '--redo', 'data', '--redo=tokenizer', '--vlm.steps', '8']);
    expect(redo('generate')).toBe(`synth2 vlm train 'my config.yaml' --out runs/a --vlm.steps 8 --redo generate`);
    expect(redoCommandFor(["it's"])('data')).toBe(`synth2 'it'\\''s' --redo data`);
  });
});
