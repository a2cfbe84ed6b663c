import { defineConfig } from 'tsup';

/** How every package is built: ESM + CJS + `.d.ts`, sourcemaps, Node 20, one chunk per shared module. */
export function packageBuildConfig(entry: string[]) {
  return defineConfig({ entry, format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'node20', splitting: true });
}
