import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, relative } from 'node:path';
import ts from 'typescript';
import { missingCalls } from './api-calls';
import { SCRIPT_LANGS, extractBlocks, type CodeBlock } from './markdown';

/** README.md, packages/*\/README.md and examples/*\/README.md, relative to `root`. */
export function readmeFiles(root: string): string[] {
  const inGroup = (group: string) =>
    existsSync(join(root, group))
      ? readdirSync(join(root, group))
          .map((d) => `${group}/${d}/README.md`)
          .filter((f) => existsSync(join(root, f)))
          .sort()
      : [];
  return ['README.md', ...inGroup('packages'), ...inGroup('examples')];
}

export function collectBlocks(root: string, files = readmeFiles(root)): CodeBlock[] {
  return files.flatMap((f) => extractBlocks(readFileSync(join(root, f), 'utf8'), f));
}

export const where = (b: CodeBlock) => `${b.file}:${b.line}`;

/** A snippet prepared to run: its folder, its source (with the blocks it continues), its `// prints:` lines. */
export interface PreparedSnippet {
  block: CodeBlock;
  dir: string;
  /** Line of the block's first code line inside snippet.ts. */
  offset: number;
  expected: string[];
}

/** Writes each ts/js block without `mirrored-by` to `<work>/<readme>-L<line>/snippet.ts`, with the files it needs. */
export function prepareSnippets(blocks: CodeBlock[], work: string, dataDir: string, fixtures: string): { snippets: PreparedSnippet[]; missing: Map<CodeBlock, string> } {
  rmSync(work, { recursive: true, force: true });
  const snippets: PreparedSnippet[] = [];
  const missing = new Map<CodeBlock, string>();
  const previous = new Map<string, string>();
  for (const block of blocks.filter((b) => SCRIPT_LANGS.has(b.lang))) {
    const before = block.continues ? (previous.get(block.file) ?? '') : '';
    previous.set(block.file, `${before}${block.code}\n`);
    if (block.mirroredBy) continue;
    const dir = join(work, `${block.file.replace(/[/.]/g, '_')}-L${block.line}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'snippet.ts'), `${before}${block.code}\nexport {};\n`);
    for (const [name, source] of Object.entries(block.files ?? {})) {
      const from = source.startsWith('fixtures/') ? join(fixtures, source.slice('fixtures/'.length)) : join(dataDir, source);
      if (!existsSync(from)) missing.set(block, from);
      else copyFileSync(from, join(dir, name));
    }
    const expected = [...block.code.matchAll(/\/\/ prints: (.+)$/gm)].map((m) => m[1].trim());
    snippets.push({ block, dir, offset: before.split('\n').length - 1, expected });
  }
  return { snippets, missing };
}

/** Typechecks every prepared snippet against the built packages in one tsc run; the errors of each, by snippet. */
export function typecheckSnippets(work: string, snippets: PreparedSnippet[]): Map<PreparedSnippet, string[]> {
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022', lib: ['ES2023', 'DOM'], module: 'ESNext', moduleResolution: 'Bundler', strict: true,
      skipLibCheck: true, esModuleInterop: true, types: ['node'], noEmit: true,
    },
    include: ['*/snippet.ts'],
  };
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', work, '--pretty', 'false'], { encoding: 'utf8', cwd: work });
  const errors = new Map<PreparedSnippet, string[]>(snippets.map((s) => [s, []]));
  let placed = 0;
  for (const line of run.stdout.split('\n')) {
    const m = /^(.+?)\/snippet\.ts\((\d+),\d+\): (error .*)$/.exec(line.trim());
    const s = m && snippets.find((x) => basename(x.dir) === basename(m[1]));
    if (s && m) errors.get(s)!.push(`${s.block.file}:${s.block.line + Number(m[2]) - s.offset}: ${m[3]}`);
    if (s) placed++;
  }
  if (run.status !== 0 && placed === 0) throw new Error(`tsc failed on the snippets (${work}):\n${run.stdout}${run.stderr}`);
  for (const s of snippets) {
    const source = readFileSync(join(s.dir, 'snippet.ts'), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    writeFileSync(join(s.dir, 'snippet.mjs'), js.outputText);
  }
  return errors;
}

/** Runs a snippet's compiled JS in its folder; exit code and output. */
export function runSnippet(s: PreparedSnippet, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['snippet.mjs'], { cwd: s.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The workspace folder (holding package.json) a repository file belongs to. */
function workspaceOf(root: string, file: string): string | undefined {
  for (let dir = dirname(join(root, file)); dir.startsWith(root) && dir !== root; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

function testFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFilesUnder(p));
    else if (/\.test\.[cm]?[jt]s$/.test(entry.name)) out.push(p);
  }
  return out;
}

/**
 * Problems with a mirrored block: each mirror must exist and be run by a test (a test file itself, or named by a
 * test file or the `test` script of its workspace), and together they must contain every SDK call of the block.
 */
export function checkMirror(root: string, block: CodeBlock): string[] {
  const problems: string[] = [];
  const texts: string[] = [];
  for (const mirror of block.mirroredBy ?? []) {
    const file = join(root, mirror);
    if (!existsSync(file)) {
      problems.push(`${where(block)}: mirrored-by ${mirror}: no such file`);
      continue;
    }
    texts.push(readFileSync(file, 'utf8'));
    const ws = workspaceOf(root, mirror);
    const testScript = ws ? ((JSON.parse(readFileSync(join(ws, 'package.json'), 'utf8')).scripts ?? {}) as Record<string, string>).test : undefined;
    if (!ws || !testScript) {
      problems.push(`${where(block)}: mirrored-by ${mirror}: its workspace has no test script`);
      continue;
    }
    const isTest = /\.test\.[cm]?[jt]s$/.test(mirror);
    const stem = basename(mirror, extname(mirror));
    const named = new RegExp(`\\b${stem}(?:\\.(?:[cm]?js|ts)\\b|['"])`);
    // a page's sources count when the test script builds the page (`vite build`) before its tests load it
    const built = /\bvite build\b/.test(testScript) && mirror.startsWith(`${relative(root, ws)}/src/`);
    const runBy = isTest || built || named.test(testScript) || testFilesUnder(ws).some((t) => named.test(readFileSync(t, 'utf8')));
    if (!runBy) problems.push(`${where(block)}: mirrored-by ${mirror}: no test of ${relative(root, ws)} runs it (import it from a test file, or name ${stem}.js/.ts in one or in its test script)`);
  }
  const missing = missingCalls(block.code, texts);
  if (texts.length && missing.length) problems.push(`${where(block)}: the mirror(s) do not call ${missing.join(', ')}`);
  return problems;
}
