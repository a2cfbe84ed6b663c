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

/** tfjs's GPU backends, optional: the page loads each when `initBackend` tries it (`src/gpu-backends.ts`). */
export const GPU_BACKEND_PACKAGES = ['@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-webgl'] as const;

/** Whether `pkg` resolves from this folder (what the build will bundle). */
export function isInstalled(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * A GPU backend package that is not installed builds as a module that throws saying so: the page then falls back
 * to the next backend and shows that reason, instead of the build failing.
 */
function optionalGpuBackends(): Plugin {
  const missing = new Set<string>(GPU_BACKEND_PACKAGES.filter((pkg) => !isInstalled(pkg)));
  const prefix = '\0synth2-missing-package:';
  return {
    name: 'synth2-optional-gpu-backends',
    enforce: 'pre',
    resolveId: (id) => (missing.has(id) ? `${prefix}${id}` : null),
    load(id) {
      if (!id.startsWith(prefix)) return null;
      const pkg = id.slice(prefix.length);
      const why = `${pkg} was not installed when this page was built (npm install ${pkg} -w examples/studio, then rebuild)`;
      return `throw new Error(${JSON.stringify(why)});\n`;
    },
  };
}

export default defineConfig({
  // relative URLs: the exported folder works from any path of any static server
  base: './',
  plugins: [tfjsWasmFiles(), optionalGpuBackends()],
  // one tfjs engine: a GPU backend installed with its own copy of tfjs-core must register with the page's
  resolve: { dedupe: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'] },
  build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 4096 },
});
