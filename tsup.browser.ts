import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

const NODE_BUILTIN = /^(node:.*|fs|fs\/promises|path|os|crypto|module|url|child_process|worker_threads|stream|util|zlib)$/;

/**
 * The browser build of a package: a relative import `./x` resolves to `./x.browser.ts` where that twin exists (the
 * file IO and backend loading that differ in a browser), and any Node built-in that is still reached fails the build
 * naming the importer.
 */
export function browserTwins(): Plugin {
  return {
    name: 'synth2-browser-twins',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const base = resolve(args.resolveDir, args.path);
        const twin = `${base}.browser.ts`;
        if (existsSync(twin) && twin !== args.importer) return { path: twin };
        return undefined;
      });
      build.onResolve({ filter: NODE_BUILTIN }, (args) => ({
        errors: [
          {
            text: `"${args.path}" (imported by ${args.importer}) reached the browser build: give that module a .browser.ts twin or keep it off the browser entry`,
          },
        ],
      }));
    },
  };
}

const BROWSER_OUT = 'dist/browser';
const BUILTINS = new Set(builtinModules);

/**
 * The Node built-ins a built file imports (`from "x"`, `import("x")`, `require("x")`, with or without `node:`). The
 * plugin above cannot see them all: tsup marks built-ins external, and strips `node:`, before plugins resolve them.
 */
export function nodeBuiltinImports(code: string): string[] {
  const found = new Set<string>();
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']([^"']+)["']/g)) {
    const spec = m[1]!;
    if (spec.startsWith('node:') || BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0]!)) found.add(spec);
  }
  return [...found];
}

/** Fails the build when a file of the browser build still imports a Node built-in, naming the file and module. */
export async function checkNoNodeImports(dir = BROWSER_OUT): Promise<void> {
  for (const file of await readdir(dir, { recursive: true })) {
    if (!/\.[cm]?js$/.test(file)) continue;
    const builtins = nodeBuiltinImports(await readFile(join(dir, file), 'utf8'));
    if (builtins.length > 0) {
      throw new Error(
        `${dir}/${file} imports the Node built-in ${builtins.map((b) => `"${b}"`).join(', ')}: give the module that imports it a .browser.ts twin or keep it off the browser entry`,
      );
    }
  }
}

/**
 * How a package's browser entries are built: ESM for bundlers into `dist/browser`, dependencies left external;
 * the build fails when any Node built-in is still imported.
 */
export function browserBuildConfig(entry: Record<string, string>) {
  return defineConfig({
    entry,
    outDir: BROWSER_OUT,
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    dts: false,
    sourcemap: true,
    clean: true,
    splitting: true,
    define: { 'process.env': '{}' },
    esbuildPlugins: [browserTwins()],
    onSuccess: () => checkNoNodeImports(),
  });
}
