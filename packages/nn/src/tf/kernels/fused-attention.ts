import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs-core';
import { fusedActive, fusedConfigs, fusedKernelFunc, fusedNative } from './fused-common';

/**
 * Scaled dot-product attention over short sequences as one kernel: `softmax(q·kᵀ·scale + mask)·v` for every batch
 * row and head, reading q `[B, Tq, H·hd]` and k, v `[B, Tk, H·hd]` in the projections' own layout (no head split or
 * merge transposes) and writing `[B, Tq, H·hd]`. The mask adds (1 − keyMask)·(−1e9) per key and, when
 * `causal`, for keys after the query. Its gradient (one more kernel) recomputes the attention weights.
 */
export const FUSED_ATTENTION = 'Synth2FusedAttention';
export const FUSED_ATTENTION_GRAD = 'Synth2FusedAttentionGrad';

const MASKED = -1e9;

export interface AttentionDims {
  B: number;
  Tq: number;
  Tk: number;
  H: number;
  hd: number;
  causal: boolean;
  hasMask: boolean;
}

function dimsArray(g: AttentionDims): Int32Array {
  return Int32Array.from([g.B, g.Tq, g.Tk, g.H, g.hd, g.causal ? 1 : 0, g.hasMask ? 1 : 0]);
}

/** Attention weights of one (batch row, head) into `p` `[Tq, Tk]` (float32 scores, as the tfjs composition). */
function weights(g: AttentionDims, scale: number, b: number, h: number, q: Float32Array, k: Float32Array, mask: Float32Array, p: Float64Array): void {
  const { Tq, Tk, H, hd } = g;
  const d = H * hd;
  for (let i = 0; i < Tq; i++) {
    const qo = (b * Tq + i) * d + h * hd;
    let max = -Infinity;
    for (let j = 0; j < Tk; j++) {
      const ko = (b * Tk + j) * d + h * hd;
      let s = 0;
      for (let c = 0; c < hd; c++) s += q[qo + c]! * k[ko + c]!;
      let bias = 0;
      if (g.hasMask) bias += Math.fround(Math.fround(1 - mask[b * Tk + j]!) * MASKED);
      if (g.causal && j > i) bias += MASKED;
      const v = Math.fround(Math.fround(s * scale) + bias);
      p[i * Tk + j] = v;
      if (v > max) max = v;
    }
    let sum = 0;
    for (let j = 0; j < Tk; j++) {
      const e = Math.exp(p[i * Tk + j]! - max);
      p[i * Tk + j] = e;
      sum += e;
    }
    for (let j = 0; j < Tk; j++) p[i * Tk + j]! /= sum;
  }
}

export function attentionForwardJs(g: AttentionDims, scale: number, q: Float32Array, k: Float32Array, v: Float32Array, mask: Float32Array, out: Float32Array): void {
  const { B, Tq, Tk, H, hd } = g;
  const d = H * hd;
  const p = new Float64Array(Tq * Tk);
  const acc = new Float64Array(hd);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      weights(g, scale, b, h, q, k, mask, p);
      for (let i = 0; i < Tq; i++) {
        acc.fill(0);
        for (let j = 0; j < Tk; j++) {
          const w = p[i * Tk + j]!;
          const vo = (b * Tk + j) * d + h * hd;
          for (let c = 0; c < hd; c++) acc[c]! += w * v[vo + c]!;
        }
        out.set(acc, (b * Tq + i) * d + h * hd);
      }
    }
}

export function attentionBackwardJs(
  g: AttentionDims,
  scale: number,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  mask: Float32Array,
  dout: Float32Array,
  dq: Float32Array,
  dk: Float32Array,
  dv: Float32Array,
): void {
  const { B, Tq, Tk, H, hd } = g;
  const d = H * hd;
  const p = new Float64Array(Tq * Tk);
  const ds = new Float64Array(Tq * Tk);
  dk.fill(0);
  dv.fill(0);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      weights(g, scale, b, h, q, k, mask, p);
      for (let i = 0; i < Tq; i++) {
        const oo = (b * Tq + i) * d + h * hd;
        let dot = 0;
        for (let j = 0; j < Tk; j++) {
          const vo = (b * Tk + j) * d + h * hd;
          const w = p[i * Tk + j]!;
          let dp = 0;
          for (let c = 0; c < hd; c++) {
            dp += dout[oo + c]! * v[vo + c]!;
            dv[vo + c]! += w * dout[oo + c]!;
          }
          ds[i * Tk + j] = dp;
          dot += w * dp;
        }
        for (let j = 0; j < Tk; j++) ds[i * Tk + j] = p[i * Tk + j]! * (ds[i * Tk + j]! - dot) * scale;
      }
      for (let i = 0; i < Tq; i++) {
        const qo = (b * Tq + i) * d + h * hd;
        for (let c = 0; c < hd; c++) {
          let s = 0;
          for (let j = 0; j < Tk; j++) s += ds[i * Tk + j]! * k[(b * Tk + j) * d + h * hd + c]!;
          dq[qo + c] = s;
        }
        for (let j = 0; j < Tk; j++) {
          const w = ds[i * Tk + j]!;
          const ko = (b * Tk + j) * d + h * hd;
          for (let c = 0; c < hd; c++) dk[ko + c]! += w * q[qo + c]!;
        }
      }
    }
}

const EMPTY = new Float32Array(0);

const forward = fusedKernelFunc(
  ['q', 'k', 'v', 'keyMask'],
  ([q]) => [q!.shape],
  ([q, k, v, mask], [out], attrs, native) => {
    const g = dimsFromArrays(attrs);
    const m = g.hasMask ? (mask as Float32Array) : EMPTY;
    if (native) native.attentionForward(dimsArray(g), attrs.scale as number, q as Float32Array, k as Float32Array, v as Float32Array, m, out!);
    else attentionForwardJs(g, attrs.scale as number, q as Float32Array, k as Float32Array, v as Float32Array, m, out!);
  },
);

const backward = fusedKernelFunc(
  ['q', 'k', 'v', 'keyMask', 'dy'],
  ([q, k, v]) => [q!.shape, k!.shape, v!.shape],
  ([q, k, v, mask, dy], [dq, dk, dv], attrs, native) => {
    const g = dimsFromArrays(attrs);
    const m = g.hasMask ? (mask as Float32Array) : EMPTY;
    const args = [q, k, v, m, dy] as Float32Array[];
    if (native) native.attentionBackward(dimsArray(g), attrs.scale as number, args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, dq!, dk!, dv!);
    else attentionBackwardJs(g, attrs.scale as number, args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, dq!, dk!, dv!);
  },
);

/** The kernels read their geometry from attrs set by `fusedAttention` (shapes are checked there). */
function dimsFromArrays(attrs: Record<string, unknown>): AttentionDims {
  return attrs.dims as AttentionDims;
}

export const fusedAttentionKernels: KernelConfig[] = [...fusedConfigs(FUSED_ATTENTION, forward), ...fusedConfigs(FUSED_ATTENTION_GRAD, backward)];

export const fusedAttentionGrad: GradConfig = {
  kernelName: FUSED_ATTENTION,
  inputsToSave: ['q', 'k', 'v', 'keyMask'],
  gradFunc: (dy, saved, attrs) => {
    const [q, k, v, keyMask] = saved as tf.Tensor[];
    const [dq, dk, dv] = tf.engine().runKernel(FUSED_ATTENTION_GRAD, { q: q!, k: k!, v: v!, keyMask: keyMask!, dy: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { q: () => dq!, k: () => dk!, v: () => dv!, keyMask: () => tf.zerosLike(keyMask!) };
  },
};

export interface FusedAttentionOptions {
  heads: number;
  /** Multiplies q·kᵀ (default 1/√(head dim)). */
  scale?: number;
  causal?: boolean;
  /** `[B, Tk]`, 1 = attend, 0 = padding. */
  keyMask?: tf.Tensor;
}

/**
 * Whether `fusedAttention` runs as one kernel on the active backend (registered by `initBackend`): on wasm only with
 * the native addon (its JS loops are slower than wasm's batched matMuls), on cpu always.
 */
export function fusedAttentionActive(): boolean {
  if (tf.getBackend() === 'wasm' && !fusedNative()) return false;
  return fusedActive(FUSED_ATTENTION) && fusedActive(FUSED_ATTENTION_GRAD);
}

/**
 * Multi-head attention core on projected q `[B, Tq, d]`, k and v `[B, Tk, d]` → `[B, Tq, d]`, as one kernel with
 * its gradient. Call only when {@link fusedAttentionActive}; shapes are the caller's to check.
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, o: FusedAttentionOptions): tf.Tensor {
  const [B, Tq, d] = q.shape as [number, number, number];
  const Tk = k.shape[1]!;
  const hd = d / o.heads;
  const dims: AttentionDims = { B, Tq, Tk, H: o.heads, hd, causal: o.causal ?? false, hasMask: o.keyMask !== undefined };
  const keyMask = o.keyMask ? (o.keyMask.dtype === 'float32' ? o.keyMask : tf.cast(o.keyMask, 'float32')) : tf.zeros([1]);
  const attrs = { heads: o.heads, scale: o.scale ?? 1 / Math.sqrt(hd), causal: dims.causal, hasMask: dims.hasMask, dims } as unknown as tf.NamedAttrMap;
  return tf.engine().runKernel(FUSED_ATTENTION, { q, k, v, keyMask }, attrs) as tf.Tensor;
}
