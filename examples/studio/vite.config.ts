import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

/** Emits tfjs-backend-wasm's `.wasm` binaries as `tfjs-wasm/*.wasm`: the page loads them from beside itself, offline. */
function tfjsWasmFiles(): Plugin {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const wasmDir = join(dir, 'dist');
  return {
    name: 'synth2-tfjs-wasm-files',
    apply: 'build',
    generateBundle() {
      for (const name of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) {
        this.emitFile({ type: 'asset', fileName: `tfjs-wasm/${name}`, source: readFileSync(join(wasmDir, name)) });
      }
    },
  };
}

export default defineConfig({
  // relative URLs: the exported folder works from any path of any static server
  base: './',
  plugins: [tfjsWasmFiles()],
  build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 4096 },
});
