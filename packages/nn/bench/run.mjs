// Bundles a benchmark with esbuild (tfjs-core's gradient registrations are ESM-only and cannot be loaded by
// plain Node), then runs it. Usage: node bench/run.mjs <bench-name> [args…]
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const [name = 'train-speed', ...rest] = process.argv.slice(2);
/** Resolves `@synth2/core[/sub]` and `@synth2/nn` to `packages/<name>/src[/sub]/index.ts`. */
const workspaceSources = {
  name: 'workspace-sources',
  setup(b) {
    b.onResolve({ filter: /^@synth2\/(core|nn)(\/[a-z-]+)?$/ }, (a) => {
      const [, name, sub = ''] = a.path.match(/^@synth2\/(core|nn)(\/[a-z-]+)?$/);
      return { path: join(here, '..', '..', name, 'src', sub, 'index.ts') };
    });
  },
};
const outfile = join(here, '.build', `${name}.mjs`);
await build({
  entryPoints: [join(here, `${name}.ts`)],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  mainFields: ['module', 'main'],
  // the wasm backend finds its .wasm files next to its own module: keep it (and the optional addon) external
  external: ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '*.node'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
  // workspace packages from their sources (nothing needs building first; one copy of this package's kernel state)
  plugins: [workspaceSources],
});
execFileSync(process.execPath, [outfile, ...rest], { stdio: 'inherit' });
