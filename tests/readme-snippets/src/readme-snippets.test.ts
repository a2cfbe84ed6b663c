import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractOverrides, main, resolveConfig } from '@synth2/cli';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCRIPT_LANGS, SHELL_LANGS } from './markdown';
import { checkShellBlock, type ShellContext } from './shell';
import { checkMirror, collectBlocks, prepareSnippets, runSnippet, typecheckSnippets, where, type PreparedSnippet } from './snippets';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const work = join(here, '..', '.snippets');
const fixtures = join(here, '..', 'fixtures');
const dataDir = process.env.SYNTH2_DATA_DIR ?? join(root, '..', 'shared', 'data');
const blocks = collectBlocks(root);
const { snippets, missing } = prepareSnippets(blocks, work, dataDir, fixtures);

/** `synth2 … --help`, in-process: the option lists of the CLI's own parser. */
const helpCache = new Map<string, Promise<string>>();
const shellContext: ShellContext = {
  root,
  synth2Help: (path) => {
    const key = path.join(' ');
    if (!helpCache.has(key)) {
      helpCache.set(key, (async () => {
        let text = '';
        await main([...path, '--help'], { out: (t) => void (text += t), err: (t) => void (text += t) });
        return text;
      })());
    }
    return helpCache.get(key)!;
  },
  checkOverrides: (args) => void resolveConfig({}, extractOverrides(args).overrides, 'README'),
};

describe('README code blocks', () => {
  let errors: Map<PreparedSnippet, string[]>;
  beforeAll(() => {
    errors = typecheckSnippets(work, snippets);
  }, 300_000);

  it('should find the ts/js and shell blocks of every README', () => {
    expect(blocks.filter((b) => SCRIPT_LANGS.has(b.lang)).length).toBeGreaterThan(10);
    expect(blocks.some((b) => b.file === 'packages/cli/README.md' && SHELL_LANGS.has(b.lang))).toBe(true);
  });

  for (const s of snippets) {
    const skip = missing.get(s.block);
    if (skip) console.log(`skipped ${where(s.block)}: ${skip} not found (set SYNTH2_DATA_DIR)`);
    it.skipIf(skip !== undefined)(`${where(s.block)} should typecheck against the built packages and run`, async () => {
      expect(errors.get(s), `${where(s.block)} does not typecheck`).toEqual([]);
      const env = { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '', SYNTH2_DATA_DIR: dataDir };
      const run = await runSnippet(s, env, 240_000);
      expect(run.code, `${where(s.block)} failed (run in ${s.dir}):\n${run.stderr}`).toBe(0);
      for (const line of s.expected) expect(run.stdout, `${where(s.block)}: "// prints: ${line}"`).toContain(line);
    }, 300_000);
  }

  for (const block of blocks.filter((b) => SCRIPT_LANGS.has(b.lang) && b.mirroredBy)) {
    it(`${where(block)} should be mirrored by code a test runs`, () => {
      expect(checkMirror(root, block)).toEqual([]);
    });
  }

  for (const block of blocks.filter((b) => SHELL_LANGS.has(b.lang))) {
    it(`${where(block)} should use only synth2 commands, flags and npm scripts that exist`, async () => {
      expect(await checkShellBlock(block.code, shellContext)).toEqual([]);
    });
  }

  it('should have built the packages it runs against', () => {
    expect(existsSync(join(root, 'packages/cli/dist/index.js'))).toBe(true);
  });
});
