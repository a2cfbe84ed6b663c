import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
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

export interface BundleBytes {
  bytes: number;
  gzipBytes: number;
}

/** What a page pays for one browser entry of a package. */
export interface BrowserBundleSize {
  /** The package's own browser build: every `.js` file in `dist/browser` (chunks shared by its entries included). */
  own: BundleBytes;
  /** Per entry: the entry bundled with every dependency it reaches (dynamic imports included), minified. */
  entries: Record<string, BundleBytes & { packages: string[] }>;
}

const gz = (bytes: Uint8Array): BundleBytes => ({ bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length });

const packageNames = new Map<string, string | undefined>();

/** The name in the nearest package.json above `file` (workspace packages resolve to their real paths). */
function packageOf(file: string): string | undefined {
  const dir = dirname(file);
  if (!packageNames.has(dir)) {
    const manifest = join(dir, 'package.json');
    const name = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name : undefined;
    packageNames.set(dir, name ?? (dirname(dir) === dir ? undefined : packageOf(dir)));
  }
  return packageNames.get(dir);
}

/**
 * Bundles `entryFile` for a browser the way a page's bundler would (the `browser` condition, every dependency
 * inlined, dynamic imports included, minified) and measures it; `packages` are the npm packages it pulled in (the
 * entry's own package excluded). `.wasm` files a dependency fetches at run time are not counted.
 */
export async function measureBrowserBundle(entryFile: string): Promise<BundleBytes & { packages: string[] }> {
  const result = await build({
    entryPoints: [entryFile],
    bundle: true,
    minify: true,
    write: false,
    metafile: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    logLevel: 'silent',
    define: { 'process.env': '{}' },
  });
  const own = packageOf(resolve(entryFile));
  const packages = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    // esbuild's own inputs (`<define:process.env>`) and modules a package's `browser` field disables (`(disabled):fs`)
    if (/^(<|\(disabled\):)/.test(input)) continue;
    const name = packageOf(resolve(input));
    if (name && name !== own) packages.add(name);
  }
  return { ...gz(result.outputFiles[0]!.contents), packages: [...packages].sort() };
}

/** Sizes of a browser build in `dir` for its entries (names as in tsup's `entry`). */
export async function browserBundleSize(dir: string, entries: string[]): Promise<BrowserBundleSize> {
  const chunks: Uint8Array[] = [];
  for (const file of await readdir(dir, { recursive: true })) {
    if (/\.js$/.test(file)) chunks.push(await readFile(join(dir, file)));
  }
  const own = gz(Buffer.concat(chunks));
  const sized: BrowserBundleSize['entries'] = {};
  for (const entry of entries) sized[entry] = await measureBrowserBundle(join(dir, `${entry}.js`));
  return { own, entries: sized };
}

const kB = (n: number) => `${(n / 1024).toFixed(1)} kB`;

/** Writes `dir/bundle-size.json` (atomically) and prints one line per entry. */
async function reportBrowserBundleSize(dir: string, entries: string[]): Promise<void> {
  const size = await browserBundleSize(dir, entries);
  const file = join(dir, 'bundle-size.json');
  await writeFile(`${file}.tmp`, `${JSON.stringify(size, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  const name = packageOf(resolve(dir, 'x')) ?? dir;
  for (const [entry, e] of Object.entries(size.entries)) {
    const tfjs = e.packages.some((p) => p.startsWith('@tensorflow/')) ? 'with tfjs' : 'no tfjs';
    console.log(
      `browser bundle ${name} ${entry}: ${kB(e.bytes)} minified, ${kB(e.gzipBytes)} gzip with its dependencies (${tfjs}); own build ${kB(size.own.bytes)}`,
    );
  }
}

export interface BrowserBuildOptions {
  /**
   * Also emit `.d.ts` for the browser entries (for the `browser` condition's `types`; type-level imports are not
   * swapped for their `.browser.ts` twins, so an entry that differs re-exports the twin's names itself).
   */
  types?: boolean;
}

/**
 * How a package's browser entries are built: ESM for bundlers into `dist/browser`, dependencies left external;
 * the build fails when any Node built-in is still imported, then reports each entry's size bundled with its
 * dependencies (`dist/browser/bundle-size.json` and one printed line per entry).
 */
export function browserBuildConfig(entry: Record<string, string>, options: BrowserBuildOptions = {}) {
  return defineConfig({
    entry,
    outDir: BROWSER_OUT,
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    dts: options.types ?? false,
    sourcemap: true,
    clean: true,
    splitting: true,
    define: { 'process.env': '{}' },
    esbuildPlugins: [browserTwins()],
    onSuccess: async () => {
      await checkNoNodeImports();
      await reportBrowserBundleSize(BROWSER_OUT, Object.keys(entry));
    },
  });
}
