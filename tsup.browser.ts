import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
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

/** How a package's browser entries are built: ESM for bundlers into `dist/browser`, dependencies left external. */
export function browserBuildConfig(entry: Record<string, string>) {
  return defineConfig({
    entry,
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    dts: false,
    sourcemap: true,
    clean: true,
    splitting: true,
    define: { 'process.env': '{}' },
    esbuildPlugins: [browserTwins()],
  });
}
