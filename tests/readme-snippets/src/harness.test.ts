import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractOverrides, main, resolveConfig } from '@synth2/cli';
import { describe, expect, it } from 'vitest';
import { apiCalls, missingCalls } from './api-calls';
import { extractBlocks } from './markdown';
import { checkShellBlock, type ShellContext } from './shell';
import { checkMirror, prepareSnippets, typecheckSnippets } from './snippets';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const shell: ShellContext = {
  root,
  synth2Help: async (path) => {
    let text = '';
    await main([...path, '--help'], { out: (t) => void (text += t), err: (t) => void (text += t) });
    return text;
  },
  checkOverrides: (args) => void resolveConfig({}, extractOverrides(args).overrides, 'README'),
};

describe('extractBlocks', () => {
  it('should give each fenced block its README line, language and the directives above it', () => {
    const md = ['# x', '', '<!-- mirrored-by: a.ts, b.ts -->', '```ts', 'run();', '```', '', '<!-- snippet: continues -->', '', '~~~~js title', 'more();', '~~~~', '```sh', 'synth2 run', '```'].join('\n');
    expect(extractBlocks(md, 'R.md')).toEqual([
      { file: 'R.md', line: 4, lang: 'ts', code: 'run();', mirroredBy: ['a.ts', 'b.ts'] },
      { file: 'R.md', line: 10, lang: 'js', code: 'more();', continues: true },
      { file: 'R.md', line: 13, lang: 'sh', code: 'synth2 run' },
    ]);
  });
});

describe('apiCalls', () => {
  it('should list the @synth2 imports and method calls, not built-ins or calls in comments', () => {
    const code = "import { trainVLM, type X } from '@synth2/vlm';\nconst m = VLM.create({});\nm.caption(x).map(String); // m.notThis()\nfetch('http://a.b/c');";
    expect(apiCalls(code).sort()).toEqual(['X', 'caption', 'create', 'trainVLM']);
    expect(missingCalls(code, ['trainVLM(VLM.create()); m.caption(); type X'])).toEqual([]);
    expect(missingCalls(code, ['trainVLM(VLM.create())'])).toEqual(['X', 'caption']);
  });
});

describe('the harness on a broken snippet', () => {
  it('should fail the typecheck of a README block whose function was renamed, naming README path and line', () => {
    const readme = readFileSync(join(root, 'packages/eval/README.md'), 'utf8').replace(/evaluateCaptions\(/g, 'evaluateCaptionz(');
    const blocks = extractBlocks(readme, 'packages/eval/README.md').filter((b) => b.lang === 'ts');
    expect(blocks.length).toBeGreaterThan(0);
    const work = mkdtempSync(join(root, 'tests/readme-snippets/.snippets-broken-'));
    const { snippets } = prepareSnippets(blocks, work, '', '');
    const errors = [...typecheckSnippets(work, snippets).values()].flat();
    const line = readme.split('\n').findIndex((l) => l.includes('evaluateCaptionz(')) + 1;
    expect(errors.join('\n')).toContain(`packages/eval/README.md:${line}: error TS2552: Cannot find name 'evaluateCaptionz'`);
    rmSync(work, { recursive: true, force: true });
  }, 300_000);

  it('should fail a mirrored block whose mirror is missing or lacks one of its calls', () => {
    const [block] = extractBlocks(
      '<!-- mirrored-by: examples/own-data/src/train.ts -->\n```ts\nimport { trainVLM, renamedAway } from "@synth2/vlm";\n```',
      'X.md',
    );
    expect(checkMirror(root, block)).toEqual(['X.md:2: the mirror(s) do not call renamedAway']);
    expect(checkMirror(root, { ...block, mirroredBy: ['examples/nope.ts'] })).toEqual(['X.md:2: mirrored-by examples/nope.ts: no such file']);
  });

  it('should fail shell blocks with unknown synth2 commands, flags, config keys or npm scripts', async () => {
    const problems = await checkShellBlock(
      ['npx synth2 run --vlm.train.steps 3', 'synth2 run --bogus 1', 'synth2 frobnicate', 'npm test -w synth2-example-nope', 'npm install @synth2/nope'].join('\n'),
      shell,
    );
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/vlm\.train/);
    expect(problems[1]).toContain('no option --bogus');
    expect(problems[2]).toContain('no command "frobnicate"');
    expect(problems[3]).toContain('no workspace "synth2-example-nope"');
    expect(problems[4]).toContain('no package @synth2/nope');
    expect(await checkShellBlock('npx synth2 run my.yaml --out runs/x --vlm.steps 20 --human-fraction 0.25 # ok', shell)).toEqual([]);
  });
});
