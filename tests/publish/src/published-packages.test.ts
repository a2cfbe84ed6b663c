/**
 * Each package is published on its own: `npm pack` of every package installs into an empty project outside
 * the monorepo (no workspace links) and its README example runs there.
 *
 * Needs the packages built (`npx turbo run build`; the root `npm test` does it) and the npm registry for the
 * third-party dependencies (skipped, with the reason printed, when `npm ping` gets no answer). Set
 * SYNTH2_PUBLISH_KEEP=1 to keep the consumer project for a look; SYNTH2_PUBLISH_NPM_CACHE picks the npm cache.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  createConsumerProject,
  describeResult,
  findInstalledCopies,
  isBuilt,
  lockEntry,
  packWorkspaces,
  registryReachable,
  runCommand,
  type PackResult,
} from './consumer-project';
import {
  LOAD_EXPORTS_PROGRAM,
  binEntries,
  exportEntries,
  normalizeTarget,
  type PackageJsonLike,
} from './package-exports';
import { extractReadmeExample, missingExampleMessage } from './readme-example';
import { importedPackages, undeclaredPackages, type DeclaringPackageJson } from './bare-imports';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGES = ['core', 'nn', 'datasets', 'eval', 'captioner', 'generator', 'vlm', 'queue', 'cli'] as const;
type PackageDir = (typeof PACKAGES)[number];
/** Packages whose users must get no native code and no tfjs: installed on their own, with only what they declare. */
const LIGHT_PACKAGES = ['core', 'eval', 'captioner'] as const satisfies readonly PackageDir[];
const HEAVY_DEPENDENCIES = /^(@tensorflow\/|sharp$|@img\/|node-llama-cpp$|@node-llama-cpp\/)/;
const packageName = (dir: PackageDir) => `@synth2/${dir}`;

const registry = await registryReachable();
if (!registry.ok) console.log(`[publish] skipping the npm pack test: ${registry.reason}`);

describe.skipIf(!registry.ok)('npm pack of every package', () => {
  let work: string;
  let project: string;
  const packs = new Map<PackageDir, PackResult>();

  beforeAll(async () => {
    const unbuilt = PACKAGES.filter((p) => !isBuilt(path.join(repoRoot, 'packages', p)));
    if (unbuilt.length > 0) {
      throw new Error(
        `not built: ${unbuilt.map((p) => `packages/${p}`).join(', ')}: run \`npx turbo run build\` at the repository root first`,
      );
    }
    work = path.join(os.tmpdir(), `synth2-publish-${process.pid}-${Date.now().toString(36)}`);
    const t0 = Date.now();
    const packed = await packWorkspaces(
      repoRoot,
      PACKAGES.map((p) => `packages/${p}`),
      path.join(work, 'tarballs'),
    );
    for (const dir of PACKAGES) {
      const p = packed.find((x) => x.name === packageName(dir));
      if (!p) throw new Error(`npm pack produced no tarball for ${packageName(dir)}`);
      packs.set(dir, p);
    }
    const t1 = Date.now();
    const consumer = await createConsumerProject(repoRoot, packed, { parent: work });
    project = consumer.dir;
    if (consumer.install.code !== 0) {
      throw new Error(
        `npm install of the tarballs failed in ${project}: ${describeResult(consumer.install)}`,
      );
    }
    console.log(
      `[publish] packed ${packed.length} packages in ${((t1 - t0) / 1000).toFixed(1)} s, ` +
        `installed them into ${project} in ${((Date.now() - t1) / 1000).toFixed(1)} s`,
    );
  });

  afterAll(async () => {
    if (!work) return;
    if (process.env.SYNTH2_PUBLISH_KEEP) console.log(`[publish] kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  });

  it('should cover every public package under packages/', async () => {
    const found: string[] = [];
    for (const entry of await readdir(path.join(repoRoot, 'packages'), { withFileTypes: true })) {
      const file = path.join(repoRoot, 'packages', entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(file)) continue;
      const pkg = JSON.parse(await readFile(file, 'utf8')) as { private?: boolean };
      if (!pkg.private) found.push(entry.name);
    }
    expect(found.sort(), 'a new package under packages/ must be added to PACKAGES in this test').toEqual(
      [...PACKAGES].sort(),
    );
  });

  describe('tarball', () => {
    it.each(PACKAGES)(
      'should hold dist/, README.md, LICENSE and package.json of @synth2/%s, and no sources or tests',
      (dir) => {
        const files = packs.get(dir)!.files.map((f) => f.path);
        expect(files).toContain('package.json');
        expect(files).toContain('README.md');
        expect(files).toContain('LICENSE');
        expect(files.some((f) => f.startsWith('dist/'))).toBe(true);
        const unwanted = files.filter(
          (f) =>
            f.startsWith('src/') ||
            f.startsWith('test/') ||
            f.startsWith('bench/') ||
            f.startsWith('bench-results/') ||
            f.includes('__fixtures__/') ||
            f.includes('node_modules/') ||
            /\.test\.[cm]?[jt]sx?(\.map)?$/.test(f) ||
            /(^|\/)(tsconfig|tsup\.config|vitest\.config)[^/]*$/.test(f),
        );
        expect(unwanted, `@synth2/${dir}'s tarball holds files users must not get`).toEqual([]);
      },
    );

    it.each(PACKAGES)(
      'should hold every file the exports map and bin of @synth2/%s point at',
      async (dir) => {
        const pkg = JSON.parse(
          await readFile(path.join(repoRoot, 'packages', dir, 'package.json'), 'utf8'),
        ) as PackageJsonLike;
        const files = new Set(packs.get(dir)!.files.map((f) => f.path));
        const missing: string[] = [];
        for (const entry of exportEntries(pkg)) {
          for (const [condition, target] of Object.entries(entry.targets)) {
            if (!files.has(normalizeTarget(target)))
              missing.push(`${entry.subpath} (${condition}): ${target}`);
          }
          for (const condition of ['types', 'import', 'require']) {
            if (!(condition in entry.targets)) missing.push(`${entry.subpath}: no "${condition}" condition`);
          }
        }
        for (const [command, target] of Object.entries(binEntries(pkg))) {
          if (!files.has(normalizeTarget(target))) missing.push(`bin ${command}: ${target}`);
        }
        expect(missing, `@synth2/${dir}: exports/bin targets missing from the tarball`).toEqual([]);
      },
    );
  });

  describe('install', () => {
    it('should install every package from its tarball, once, with no links into the monorepo', async () => {
      const problems: string[] = [];
      for (const dir of PACKAGES) {
        const name = packageName(dir);
        const copies = await findInstalledCopies(project, name);
        if (copies.length !== 1)
          problems.push(`${name}: ${copies.length} installed copies (${copies.join(', ')})`);
        const entry = await lockEntry(project, `node_modules/${name}`);
        if (!entry?.resolved?.startsWith('file:') || !entry.resolved.endsWith('.tgz') || entry.link) {
          problems.push(
            `${name}: resolved from ${entry?.resolved ?? 'nowhere'}${entry?.link ? ' (a link)' : ''}`,
          );
        }
        const installed = path.join(project, 'node_modules', name);
        if (!existsSync(installed)) {
          problems.push(`${name}: not installed`);
          continue;
        }
        if (lstatSync(installed).isSymbolicLink()) problems.push(`${name}: installed as a symbolic link`);
        if (!realpathSync(installed).startsWith(realpathSync(project))) {
          problems.push(`${name}: resolves outside the project, to ${realpathSync(installed)}`);
        }
        if (existsSync(path.join(installed, 'src'))) problems.push(`${name}: has a src/ folder`);
      }
      expect(problems).toEqual([]);
    });
  });

  describe('light install', () => {
    it(`should install ${LIGHT_PACKAGES.map(packageName).join(', ')} on their own with no tfjs, sharp or llama.cpp`, async () => {
      const light = await createConsumerProject(
        repoRoot,
        LIGHT_PACKAGES.map((dir) => packs.get(dir)!),
        { parent: work },
      );
      expect(light.install.code, describeResult(light.install)).toBe(0);
      const lock = JSON.parse(await readFile(path.join(light.dir, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, unknown>;
      };
      const installed = Object.keys(lock.packages)
        .filter((key) => key.startsWith('node_modules/'))
        .map((key) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));
      expect(installed).toContain('@synth2/eval');
      expect(installed.filter((name) => HEAVY_DEPENDENCIES.test(name))).toEqual([]);
    });
  });

  describe('dependencies', () => {
    it.each(PACKAGES)('should load only packages that @synth2/%s declares, from its dist', async (dir) => {
      const root = path.join(project, 'node_modules', packageName(dir));
      const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as DeclaringPackageJson;
      const problems: string[] = [];
      const files = (await readdir(path.join(root, 'dist'), { recursive: true })).filter((f) =>
        /\.[cm]?js$/.test(f),
      );
      for (const file of files) {
        const undeclared = undeclaredPackages(
          importedPackages(await readFile(path.join(root, 'dist', file), 'utf8')),
          pkg,
        );
        for (const name of undeclared) problems.push(`dist/${file} loads ${name}`);
      }
      expect(
        problems,
        `${pkg.name} loads packages its package.json does not declare (add them to dependencies or peerDependencies)`,
      ).toEqual([]);
    });
  });

  describe('exports', () => {
    it.each(PACKAGES)(
      'should load every entry of the exports map of @synth2/%s with import and require',
      async (dir) => {
        const name = packageName(dir);
        const pkg = JSON.parse(
          await readFile(path.join(project, 'node_modules', name, 'package.json'), 'utf8'),
        ) as PackageJsonLike;
        const specifiers = exportEntries(pkg).map((e) => e.specifier);
        const program = path.join(project, 'load-exports.mjs');
        if (!existsSync(program)) await writeFile(program, LOAD_EXPORTS_PROGRAM);
        const loaded: Record<string, Record<string, string[]>> = {};
        for (const mode of ['esm', 'cjs'] as const) {
          const result = await runCommand(process.execPath, [program, mode, ...specifiers], {
            cwd: project,
            timeoutMs: 120_000,
          });
          expect(
            result.code,
            `${mode === 'esm' ? 'import' : 'require'} of ${specifiers.join(', ')}: ${describeResult(result)}`,
          ).toBe(0);
          loaded[mode] = JSON.parse(result.stdout) as Record<string, string[]>;
        }
        for (const specifier of specifiers) {
          expect(loaded.esm[specifier].length, `${specifier} (import) exports nothing`).toBeGreaterThan(0);
          expect(
            loaded.cjs[specifier],
            `${specifier}: require() and import give different export names`,
          ).toEqual(loaded.esm[specifier]);
        }
      },
    );
  });

  describe('bin', () => {
    it.each([
      ['synth2', 'cli'],
      ['synth2-eval', 'eval'],
    ] as const)('should print help from the installed `%s --help`', async (command, dir) => {
      const pkg = JSON.parse(
        await readFile(path.join(project, 'node_modules', packageName(dir), 'package.json'), 'utf8'),
      ) as PackageJsonLike;
      expect(Object.keys(binEntries(pkg)), `${packageName(dir)} declares no "${command}" bin`).toContain(
        command,
      );
      const bin = path.join(project, 'node_modules', '.bin', command);
      expect(existsSync(bin), `npm linked no ${bin}`).toBe(true);
      const result = await runCommand(bin, ['--help'], { cwd: project, timeoutMs: 60_000 });
      expect(result.code, describeResult(result)).toBe(0);
      expect(result.stdout, describeResult(result)).toMatch(/usage/i);
      expect(result.stdout, describeResult(result)).toContain(command);
    });
  });

  describe('README example', () => {
    it.each(PACKAGES)(
      'should run the README example of @synth2/%s from the installed package',
      async (dir) => {
        const name = packageName(dir);
        const readme = path.join(project, 'node_modules', name, 'README.md');
        const example = extractReadmeExample(await readFile(readme, 'utf8'), `packages/${dir}/README.md`);
        if (!example) throw new Error(missingExampleMessage(name, `packages/${dir}/README.md`));
        const undeclared = undeclaredPackages(
          importedPackages(example.code),
          JSON.parse(
            await readFile(path.join(project, 'node_modules', name, 'package.json'), 'utf8'),
          ) as DeclaringPackageJson,
        );
        expect(
          undeclared,
          `packages/${dir}/README.md:${example.line}: the example imports packages ${name} does not depend on, ` +
            `so it cannot run where only ${name} is installed: import only ${name} and its dependencies`,
        ).toEqual([]);
        const code =
          example.language === 'ts'
            ? (await transform(example.code, { loader: 'ts', format: 'esm', target: 'node20' })).code
            : example.code;
        const cwd = path.join(project, 'examples', dir);
        await mkdir(cwd, { recursive: true });
        const file = path.join(cwd, 'example.mjs');
        await writeFile(file, code);
        const started = Date.now();
        const result = await runCommand(process.execPath, [file], {
          cwd,
          timeoutMs: 150_000,
          env: cleanEnv(),
        });
        const where = `packages/${dir}/README.md:${example.line} (run as ${file})`;
        expect(result.code, `${where}: ${describeResult(result)}`).toBe(0);
        for (const expected of example.expectedOutput) {
          expect(result.stdout, `${where}: stdout lacks "${expected}" (from a // prints: comment)`).toContain(
            expected,
          );
        }
        console.log(`[publish] ${name} README example: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      },
    );
  });
});
