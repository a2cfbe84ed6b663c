/**
 * The generated API reference of every published package (`packages/<p>/API.md`, written by
 * `scripts/api-reference.mjs` from the packages' source): the checked-in file must be what the script generates
 * now, every export must have a TSDoc comment, and each package ships API.md and links it from its README.
 * Needs no build (the script reads `src/` with the TypeScript compiler API).
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface ApiReference {
  dir: string;
  name: string;
  file: string;
  content: string;
  undocumented: string[];
}
interface ApiReferenceScript {
  generateApiReferences(root?: string): ApiReference[];
  checkApiReferences(root?: string, references?: ApiReference[]): string[];
}

const script = (await import(
  pathToFileURL(path.join(repoRoot, 'scripts/api-reference.mjs')).href
)) as ApiReferenceScript;

describe('API reference (packages/<p>/API.md)', () => {
  let references: ApiReference[];
  let tmp: string;

  beforeAll(async () => {
    references = script.generateApiReferences(repoRoot);
    tmp = await mkdtemp(path.join(os.tmpdir(), 'synth2-api-reference-'));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('should find every published package under packages/', () => {
    expect(references.map((r) => r.name)).toEqual(
      ['captioner', 'cli', 'core', 'datasets', 'eval', 'generator', 'nn', 'queue', 'vlm'].map(
        (d) => `@synth2/${d}`,
      ),
    );
  });

  it('should match the checked-in API.md of every package (run `npm run api:reference` when it fails)', () => {
    const stale = script.checkApiReferences(repoRoot, references).filter((p) => p.includes(' is stale '));
    expect(stale, stale.join('\n')).toEqual([]);
  });

  it('should find a TSDoc comment on every exported symbol', () => {
    const undocumented = references
      .filter((r) => r.undocumented.length > 0)
      .map((r) => `${r.name}: ${r.undocumented.join(', ')}`);
    expect(undocumented, `exports without a TSDoc comment:\n${undocumented.join('\n')}`).toEqual([]);
  });

  it('should list each public entry point and leave @synth2/core/internal out, saying why', () => {
    const core = references.find((r) => r.name === '@synth2/core')!;
    expect(core.content).toContain('## @synth2/core\n');
    expect(core.content).toContain('## @synth2/core/test\n');
    expect(core.content).not.toContain('## @synth2/core/internal');
    expect(core.content).toMatch(/Left out: `@synth2\/core\/internal` — .+/);
    expect(core.content).toContain('#### ShardedTensorWriter');
  });

  it('should hold no absolute paths', () => {
    for (const r of references) {
      expect(r.content, r.file).not.toContain(repoRoot);
      expect(r.content, r.file).not.toMatch(/import\("/);
    }
  });

  it('should ship API.md in every tarball and link it from every README', async () => {
    for (const r of references) {
      const dir = path.join(repoRoot, 'packages', r.dir);
      const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { files?: string[] };
      if (pkg.files)
        expect(pkg.files, `${r.name}: package.json "files" must include API.md`).toContain('API.md');
      const readme = await readFile(path.join(dir, 'README.md'), 'utf8');
      expect(readme, `packages/${r.dir}/README.md must link API.md`).toContain(
        'Full API reference: [API.md](API.md)',
      );
    }
  });

  it('should name the package and the first differing line of a stale or missing API.md', async () => {
    const ref = references.find((r) => r.name === '@synth2/eval')!;
    const lines = ref.content.split('\n');
    const changed = lines.findIndex((l) => l.startsWith('#### '));
    const stale = [...lines.slice(0, changed), '#### aFunctionThatIsGone', ...lines.slice(changed + 1)].join(
      '\n',
    );
    await mkdir(path.join(tmp, 'packages', ref.dir), { recursive: true });
    await writeFile(path.join(tmp, ref.file), stale);
    const [problem] = script.checkApiReferences(tmp, [ref]);
    expect(problem).toContain(`@synth2/eval: packages/eval/API.md is stale at line ${changed + 1}`);
    expect(problem).toContain('"#### aFunctionThatIsGone"');
    expect(problem).toContain('npm run api:reference');

    await rm(path.join(tmp, ref.file));
    expect(script.checkApiReferences(tmp, [ref])[0]).toContain('is stale at line 1');
    await writeFile(path.join(tmp, ref.file), ref.content);
    expect(script.checkApiReferences(tmp, [ref])).toEqual([]);
    expect(script.checkApiReferences(tmp, [{ ...ref, undocumented: ['evaluateCaptions (x.ts:1)'] }])).toEqual(
      [
        '@synth2/eval: 1 export(s) without a TSDoc comment (add a /** … */ line saying what each is): evaluateCaptions (x.ts:1)',
      ],
    );
  });
});
