// Bundles src/train/bench/<name>.ts with esbuild (tfjs-core's gradient registrations are ES modules plain Node cannot
// load from source) into node_modules/.cache, then runs it. Usage: node src/train/bench/run-bench.mjs nn-train
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const [name = 'nn-train', ...rest] = process.argv.slice(2);
const outfile = join(here, '..', '..', '..', 'node_modules', '.cache', 'synth2-nn-bench', `${name}.mjs`);
await build({
  entryPoints: [join(here, `${name}.ts`)],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  mainFields: ['module', 'main'],
  external: ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '*.node'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
execFileSync(process.execPath, [outfile, ...rest], { stdio: 'inherit' });
