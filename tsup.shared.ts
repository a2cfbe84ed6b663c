import { defineConfig } from 'tsup';

/** How every package is built: ESM + CJS + `.d.ts`, sourcemaps, Node 20, one chunk per shared module. */
export function packageBuildConfig(entry: string[], options: { shims?: boolean } = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: true,
    // `shims` makes `import.meta.url` work in the CJS build (and `__dirname` in the ESM one)
    shims: options.shims ?? false,
  });
}
