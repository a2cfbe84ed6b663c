import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the N-API addon in `packages/nn/native` exports (all arrays alias the wasm heap). */
export interface NativeKernels {
  /** C[i] = op(A[i])·op(B[i]) for i < batch, row-major; a stride of 0 broadcasts that operand. */
  sgemmBatched(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    batch: number,
    a: Float32Array,
    strideA: number,
    b: Float32Array,
    strideB: number,
    c: Float32Array,
    strideC: number,
  ): void;
  /**
   * NHWC convolution by im2col + sgemm. which: 0 = forward (x, filter → y), 1 = filter gradient (x, dy → dFilter),
   * 2 = input gradient (dy, filter → dx). geometry: B, H, W, C, KH, KW, CO, strideH, strideW, dilationH,
   * dilationW, padTop, padLeft, OH, OW.
   */
  conv?(which: 0 | 1 | 2, geometry: Int32Array, p0: Float32Array, p1: Float32Array, out: Float32Array): void;
  /** y = 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), elementwise. */
  geluTanh?(x: Float32Array, y: Float32Array): void;
  /** y = exp(x), elementwise, vectorised. */
  exp?(x: Float32Array, y: Float32Array): void;
  /** y = tanh(x), elementwise, vectorised. */
  tanh?(x: Float32Array, y: Float32Array): void;
  /** out[j] = Σ_i x[i·out.length + j], accumulated in double row by row, rounded once. */
  sumRows?(x: Float32Array, out: Float32Array): void;
  /** out[s·d + j] = Σ_{i: ids[i] = s} x[i·d + j] (d = x.length / ids.length); ids outside [0, numSegments) dropped. */
  scatterAdd?(x: Float32Array, ids: Int32Array, numSegments: number, out: Float32Array): void;
  /** Threads of the addon's pool (GEMM, convolutions), 1..64 (default 1). */
  setThreads(n: number): void;
  getThreads(): number;
  /** e.g. "synth2 sgemm avx512f, 2 threads". */
  info(): string;
  /** The SGEMM micro-kernels this CPU can run, fastest first, e.g. "avx512f, avx2, portable". */
  kernels?(): string;
  /** Selects the SGEMM micro-kernel ("avx512f" | "avx2" | "portable" | "auto"); returns the one in use. */
  setKernel?(name: string): string;
}

const ADDON_RELATIVE = join('native', 'build', 'Release', 'synth2_native.node');

/**
 * Directories to search upwards for the package root. No `import.meta` here: this file is also built as CommonJS,
 * where that syntax does not parse. ESM finds its own path from a stack trace instead.
 */
function startDirs(): string[] {
  const dirs: string[] = [];
  if (typeof __dirname !== 'undefined') dirs.push(__dirname);
  const m = new Error().stack?.match(/(?:file:\/\/)?(\/[^\s():]+?)\/[^/\s():]+\.(?:[mc]?js|ts)/);
  if (m?.[1]) dirs.push(m[0].startsWith('file://') ? dirname(fileURLToPath(m[0])) : m[1]);
  try {
    dirs.push(dirname(createRequire(join(process.cwd(), 'noop.js')).resolve('@synth2/nn/package.json')));
  } catch {
    // not resolvable from the working directory
  }
  return dirs;
}

/** The directory of the @synth2/nn package (holding package.json), searched upwards from this file. */
function packageRoot(): string | null {
  for (const start of startDirs()) {
    const found = searchUp(start);
    if (found) return found;
  }
  return null;
}

function searchUp(start: string): string | null {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === '@synth2/nn') return dir;
      } catch {
        // not ours
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** Path of the built addon (env SYNTH2_NATIVE_ADDON overrides), or null when it has not been built. */
export function nativeAddonPath(): string | null {
  const fromEnv = process.env.SYNTH2_NATIVE_ADDON;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  const root = packageRoot();
  if (!root) return null;
  const p = join(root, ADDON_RELATIVE);
  return existsSync(p) ? p : null;
}

let cached: { addon: NativeKernels | null; error?: unknown } | undefined;

/** Loads the addon once; returns null (with the reason) when it is absent or fails to load. */
export function loadNativeKernels(): { addon: NativeKernels | null; reason: string } {
  const path = nativeAddonPath();
  if (!path) {
    return {
      addon: null,
      reason:
        'native kernels not built, running on portable wasm (for the fast path install a C compiler, make and ' +
        'python3, then run `npm rebuild @synth2/nn`)',
    };
  }
  if (!cached) {
    try {
      const req = createRequire(join(dirname(path), 'noop.js'));
      cached = { addon: req(path) as NativeKernels };
    } catch (error) {
      cached = { addon: null, error };
    }
  }
  if (!cached.addon) {
    const msg = cached.error instanceof Error ? cached.error.message : String(cached.error);
    return {
      addon: null,
      reason: `native addon at ${path} failed to load (${msg}), running on portable wasm; rebuild it with \`npm rebuild @synth2/nn\``,
    };
  }
  return { addon: cached.addon, reason: cached.addon.info() };
}
