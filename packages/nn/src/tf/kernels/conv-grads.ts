import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { callKernel, type WasmBackend } from './backend-access';
import { getNative } from './native-state';

/**
 * Convolution gradients on wasm written as forward convolutions, which run on XNNPACK:
 * - filter gradient: a conv2d of x (channels as batch) with dy as the filter, the stride as dilation;
 * - input gradient: a stride-1 conv2d of dy (zero-dilated by the stride) with the spatially flipped,
 *   in/out-swapped filter.
 * NHWC only (the layout tfjs's conv2d gradients use).
 */

type Pad = backend_util.ExplicitPadding | 'same' | 'valid' | number;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

class Scratch {
  private readonly owned: TensorInfo[] = [];
  constructor(private readonly backend: WasmBackend) {}
  run(kernel: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const out = callKernel(kernel, 'wasm', this.backend, inputs, attrs);
    this.owned.push(out);
    return out;
  }
  /** Runs a kernel whose inputs are a list (Concat). */
  runMany(kernel: string, inputs: TensorInfo[], attrs: NamedAttrMap = {}): TensorInfo {
    // tfjs passes list inputs (Concat's) as an array
    const out = callKernel(kernel, 'wasm', this.backend, inputs as unknown as Record<string, TensorInfo>, attrs);
    this.owned.push(out);
    return out;
  }
  /** Takes ownership of a tensor made directly on the backend. */
  adopt(t: TensorInfo): void {
    this.owned.push(t);
  }
  /** Disposes every intermediate except `keep`. */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.owned) if (t !== keep) this.backend.disposeData(t.dataId);
    return keep;
  }
  fail(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
  }
}

function assertNHWC(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm supports dataFormat 'NHWC' only (got '${String(dataFormat)}'); transpose to NHWC first`);
  }
}

function convInfo(xShape: number[], filterShape: number[], attrs: NamedAttrMap, dilations: [number, number] | number = 1) {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    dilations,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
    false,
    'channelsLast',
  );
}

type ConvInfo = ReturnType<typeof convInfo>;

/** Runs the native addon's im2col + sgemm convolution (0 forward, 1 filter grad, 2 input grad) into a new output. */
function nativeConv(be: WasmBackend, which: 0 | 1 | 2, info: ConvInfo, p0: TensorInfo, p1: TensorInfo, outShape: number[]) {
  const native = getNative()!;
  const out = be.makeOutput(outShape, 'float32');
  const g = new Int32Array([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
  ]);
  native.conv!(which, g, be.typedArrayFromHeap(p0) as Float32Array, be.typedArrayFromHeap(p1) as Float32Array, be.typedArrayFromHeap(out) as Float32Array);
  return out;
}
/**
 * Whether the native im2col + sgemm path is used: only where its GEMM is not thin. Measured on the reference
 * VQ-VAE's shapes (bench/conv-kernels.ts, CPU ms): with 3 output channels or a patch of < 64 values
 * (first layer forward) XNNPACK's direct convolution is 2–7× cheaper; elsewhere sgemm is 1.3–9× cheaper.
 */
function useNativeConv(which: 0 | 1 | 2, info: ConvInfo, ...ts: TensorInfo[]): boolean {
  if (getNative()?.conv === undefined || !ts.every((t) => t.dtype === 'float32')) return false;
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  return info.outChannels >= 16 && (which === 1 || patch >= 64);
}

const conv2dForward: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  if (getNative()?.conv === undefined || (attrs!.dataFormat !== undefined && attrs!.dataFormat !== 'NHWC')) {
    return callKernel(Conv2D, 'wasm', be, { x, filter }, attrs);
  }
  const info = convInfo(x.shape, filter.shape, attrs!, (attrs!.dilations as [number, number] | number | undefined) ?? 1);
  if (!useNativeConv(0, info, x, filter)) return callKernel(Conv2D, 'wasm', be, { x, filter }, attrs);
  return nativeConv(be, 0, info, x, filter, info.outShape);
};


const filterGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  assertNHWC(Conv2DBackpropFilter, attrs!.dataFormat);
  const be = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const filterShape = attrs!.filterShape as number[];
  const info = convInfo(x.shape, filterShape, attrs!);
  if (useNativeConv(1, info, x, dy)) return nativeConv(be, 1, info, x, dy, filterShape);
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const [oh, ow] = [info.outHeight, info.outWidth];
  const [h, w] = [info.inHeight, info.inWidth];
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const bottom = Math.max(0, kh + (oh - 1) * sh - h - top);
  const right = Math.max(0, kw + (ow - 1) * sw - w - left);
  const s = new Scratch(be);
  try {
    const xT = s.run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, B]
    const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
    let g = s.run(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [sh, sw],
      },
    ); // [Ci, >=KH, >=KW, Co]
    if (g.shape[1] !== kh || g.shape[2] !== kw) {
      g = s.run('Slice', { x: g }, { begin: [0, 0, 0, 0], size: [g.shape[0]!, kh, kw, g.shape[3]!] });
    }
    return s.finish(s.run('Transpose', { x: g }, { perm: [1, 2, 0, 3] })); // [KH, KW, Ci, Co]
  } catch (e) {
    s.fail();
    throw e;
  }
};

/** [B, OH, OW, C] → [B, (OH-1)·sh+1, (OW-1)·sw+1, C] with zeros between the rows/columns. */
function dilate(s: Scratch, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  const [b, oh, ow, c] = dy.shape as [number, number, number, number];
  let t = dy;
  if (sh > 1) {
    t = s.run('Reshape', { x: t }, { shape: [b * oh, 1, ow * c] });
    t = s.run('PadV2', { x: t }, { paddings: [[0, 0], [0, sh - 1], [0, 0]], constantValue: 0 });
    t = s.run('Reshape', { x: t }, { shape: [b, oh * sh, ow, c] });
  }
  if (sw > 1) {
    const rows = t.shape[1]!;
    t = s.run('Reshape', { x: t }, { shape: [b * rows * ow, 1, c] });
    t = s.run('PadV2', { x: t }, { paddings: [[0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
    t = s.run('Reshape', { x: t }, { shape: [b, rows, ow * sw, c] });
  }
  if (sh > 1 || sw > 1) {
    t = s.run('Slice', { x: t }, { begin: [0, 0, 0, 0], size: [b, (oh - 1) * sh + 1, (ow - 1) * sw + 1, c] });
  }
  return t;
}


/** One axis of the phase (sub-pixel) decomposition of a strided input gradient; null when it does not apply. */
function phasePlan(len: number, outLen: number, k: number, s: number, pad: number) {
  if (len % s !== 0) return null;
  const q = len / s;
  const phases = [];
  for (let ph = 0; ph < s; ph++) {
    const r = (ph + pad) % s;
    const c = Math.floor((ph + pad) / s);
    const taps = Math.ceil((k - r) / s);
    if (taps <= 0) return null;
    const before = taps - 1 - c; // padding of dy before the first row
    const after = q + taps - 1 - outLen - before;
    // taps[j'] = kernel index r + s·(taps-1-j') (flipped); crop dy where the padding would be negative
    phases.push({ r, taps, before, after });
  }
  return { q, phases };
}

/**
 * Strided input gradient as s_h·s_w stride-1 convolutions, one per output phase, each with the taps of the
 * filter that reach it — s² fewer multiplications than convolving the zero-dilated dy — then interleaved.
 */
function phaseInputGrad(s: Scratch, be: WasmBackend, dy: TensorInfo, filter: TensorInfo, info: ConvInfo): TensorInfo | null {
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const rows = phasePlan(info.inHeight, info.outHeight, kh, sh, info.padInfo.top);
  const cols = phasePlan(info.inWidth, info.outWidth, kw, sw, info.padInfo.left);
  if (!rows || !cols) return null;
  const [ci, co, b] = [info.inChannels, info.outChannels, info.batchSize];
  // a copy: allocations below may grow the wasm heap, which detaches views taken before them
  const w = (be.typedArrayFromHeap(filter) as Float32Array).slice(); // [KH, KW, Ci, Co]
  const rowOuts: TensorInfo[] = [];
  for (const pr of rows.phases) {
    const colOuts: TensorInfo[] = [];
    for (const pc of cols.phases) {
      const sub = new Float32Array(pr.taps * pc.taps * co * ci); // [Jh, Jw, Co, Ci]
      for (let a = 0; a < pr.taps; a++)
        for (let c = 0; c < pc.taps; c++) {
          const khi = pr.r + sh * (pr.taps - 1 - a);
          const kwi = pc.r + sw * (pc.taps - 1 - c);
          for (let i = 0; i < ci; i++)
            for (let o = 0; o < co; o++) sub[((a * pc.taps + c) * co + o) * ci + i] = w[((khi * kw + kwi) * ci + i) * co + o]!;
        }
      const subT = be.makeOutput([pr.taps, pc.taps, co, ci], 'float32');
      (be.typedArrayFromHeap(subT) as Float32Array).set(sub);
      s.adopt(subT);
      let src = dy;
      const top = Math.max(0, -pr.before);
      const left = Math.max(0, -pc.before);
      const bottom = Math.max(0, -pr.after);
      const right = Math.max(0, -pc.after);
      if (top || left || bottom || right) {
        src = s.run('Slice', { x: dy }, {
          begin: [0, top, left, 0],
          size: [b, info.outHeight - top - bottom, info.outWidth - left - right, co],
        });
      }
      const out = s.run(
        'Conv2D',
        { x: src, filter: subT },
        {
          strides: [1, 1],
          pad: [
            [0, 0],
            [Math.max(0, pr.before), Math.max(0, pr.after)],
            [Math.max(0, pc.before), Math.max(0, pc.after)],
            [0, 0],
          ],
          dataFormat: 'NHWC',
          dilations: [1, 1],
        },
      ); // [B, Q, P, Ci]
      colOuts.push(s.run('Reshape', { x: out }, { shape: [b, rows.q, cols.q, 1, ci] }));
    }
    const inter = colOuts.length === 1 ? colOuts[0]! : s.runMany('Concat', colOuts, { axis: 3 });
    rowOuts.push(s.run('Reshape', { x: inter }, { shape: [b, rows.q, 1, cols.q * sw, ci] }));
  }
  const all = rowOuts.length === 1 ? rowOuts[0]! : s.runMany('Concat', rowOuts, { axis: 2 });
  return s.run('Reshape', { x: all }, { shape: [b, rows.q * sh, cols.q * sw, ci] });
}

const inputGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  assertNHWC(Conv2DBackpropInput, attrs!.dataFormat);
  const be = backend as WasmBackend;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const inputShape = attrs!.inputShape as number[];
  const info = convInfo(inputShape, filter.shape, attrs!);
  if (useNativeConv(2, info, dy, filter)) return nativeConv(be, 2, info, dy, filter, inputShape);
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const [oh, ow] = [info.outHeight, info.outWidth];
  const [h, w] = [info.inHeight, info.inWidth];
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = h - ((oh - 1) * sh + 1) - top + kh - 1;
  const right = w - ((ow - 1) * sw + 1) - left + kw - 1;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) {
    // padding larger than the kernel: keep tfjs's own (slow but general) kernel
    return callKernel(Conv2DBackpropInput, 'wasm', be, inputs as Record<string, TensorInfo>, attrs);
  }
  const s = new Scratch(be);
  try {
    if ((sh > 1 || sw > 1) && dy.dtype === 'float32') {
      const dx = phaseInputGrad(s, be, dy, filter, info);
      if (dx) return s.finish(dx);
    }
    const up = dilate(s, dy, sh, sw);
    const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const wT = s.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [KH, KW, Co, Ci]
    const dx = s.run(
      'Conv2D',
      { x: up, filter: wT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      },
    );
    return s.finish(dx);
  } catch (e) {
    s.fail();
    throw e;
  }
};

export const convGradKernels: KernelConfig[] = [
  { kernelName: Conv2D, backendName: 'wasm', kernelFunc: conv2dForward },
  { kernelName: Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: filterGrad },
  { kernelName: Conv2DBackpropInput, backendName: 'wasm', kernelFunc: inputGrad },
];
