// Minimal, self-contained reference models for the training-speed benchmark, written with plain tfjs-core
// ops the way a model package would write them (2-D matMuls for linear layers, batched matMuls for attention).
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@synth2/core';

function normal(rng: Rng, shape: number[], std: number): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal(0, std);
  return tf.variable(tf.tensor(v, shape));
}
const filled = (shape: number[], value: number) => tf.variable(tf.fill(shape, value));
/** Identity forward, zero gradient (tfjs-core has no stopGradient op). */
const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

export interface LmConfig {
  layers: number;
  dim: number;
  heads: number;
  seq: number;
  vocab: number;
  batch: number;
}
export const REFERENCE_LM: LmConfig = { layers: 4, dim: 256, heads: 4, seq: 32, vocab: 2000, batch: 32 };

/** Forward+backward FLOPs of one step (matMuls only: 3 × forward). */
export function lmFlopsPerStep(c: LmConfig): number {
  const tokens = c.batch * c.seq;
  const perToken = c.layers * (2 * 12 * c.dim * c.dim + 2 * 2 * c.seq * c.dim) + 2 * c.dim * c.vocab;
  return 3 * perToken * tokens;
}

export function createLm(c: LmConfig, seed = 0) {
  const rng = new Rng(seed);
  const d = c.dim;
  const p: Record<string, tf.Variable> = {
    embed: normal(rng, [c.vocab, d], 0.02),
    pos: normal(rng, [c.seq, d], 0.02),
    lnfG: filled([d], 1),
    lnfB: filled([d], 0),
    head: normal(rng, [d, c.vocab], 0.02),
  };
  for (let l = 0; l < c.layers; l++) {
    Object.assign(p, {
      [`l${l}.ln1G`]: filled([d], 1),
      [`l${l}.ln1B`]: filled([d], 0),
      [`l${l}.q`]: normal(rng, [d, d], 0.02),
      [`l${l}.qB`]: filled([d], 0),
      [`l${l}.k`]: normal(rng, [d, d], 0.02),
      [`l${l}.kB`]: filled([d], 0),
      [`l${l}.v`]: normal(rng, [d, d], 0.02),
      [`l${l}.vB`]: filled([d], 0),
      [`l${l}.o`]: normal(rng, [d, d], 0.02),
      [`l${l}.oB`]: filled([d], 0),
      [`l${l}.ln2G`]: filled([d], 1),
      [`l${l}.ln2B`]: filled([d], 0),
      [`l${l}.fc1`]: normal(rng, [d, 4 * d], 0.02),
      [`l${l}.fc1B`]: filled([4 * d], 0),
      [`l${l}.fc2`]: normal(rng, [4 * d, d], 0.02),
      [`l${l}.fc2B`]: filled([d], 0),
    });
  }
  const mask = tf.keep(tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([c.seq, c.seq]), -1, 0)), -1e9));

  const layerNorm = (x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b) as tf.Tensor2D;
  };
  const linear = (x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(x, w as tf.Tensor2D), b) as tf.Tensor2D;
  const gelu = (x: tf.Tensor) =>
    tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));

  const loss = (ids: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar => {
    const { batch: B, seq: T, heads: H } = c;
    const dh = d / H;
    let x = tf.reshape(tf.add(tf.gather(p.embed!, ids), p.pos!), [B * T, d]) as tf.Tensor2D;
    for (let l = 0; l < c.layers; l++) {
      const h = layerNorm(x, p[`l${l}.ln1G`]!, p[`l${l}.ln1B`]!);
      // heads as a batch: [B·H, T, dh]
      const heads = (name: string): tf.Tensor3D =>
        tf.reshape(tf.transpose(tf.reshape(linear(h, p[`l${l}.${name}`]!, p[`l${l}.${name}B`]!), [B, T, H, dh]), [0, 2, 1, 3]), [B * H, T, dh]) as tf.Tensor3D;
      const [q, k, v] = [heads('q'), heads('k'), heads('v')];
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), mask);
      const att = tf.matMul(tf.softmax(scores), v);
      const merged = tf.reshape(tf.transpose(tf.reshape(att, [B, H, T, dh]), [0, 2, 1, 3]), [B * T, d]) as tf.Tensor2D;
      x = tf.add(x, linear(merged, p[`l${l}.o`]!, p[`l${l}.oB`]!)) as tf.Tensor2D;
      const h2 = layerNorm(x, p[`l${l}.ln2G`]!, p[`l${l}.ln2B`]!);
      x = tf.add(x, linear(gelu(linear(h2, p[`l${l}.fc1`]!, p[`l${l}.fc1B`]!)) as tf.Tensor2D, p[`l${l}.fc2`]!, p[`l${l}.fc2B`]!)) as tf.Tensor2D;
    }
    const logits = tf.matMul(layerNorm(x, p.lnfG!, p.lnfB!), p.head!);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, c.vocab), logits) as tf.Scalar;
  };

  /** Cycles through 4 fixed random batches, so the loss visibly falls as the model memorises them. */
  const batch = (step: number) => {
    const r = new Rng(1000 + (step % 4));
    const ids = new Int32Array(c.batch * (c.seq + 1));
    for (let i = 0; i < ids.length; i++) ids[i] = r.int(c.vocab);
    const inp = new Int32Array(c.batch * c.seq);
    const tgt = new Int32Array(c.batch * c.seq);
    for (let b = 0; b < c.batch; b++)
      for (let t = 0; t < c.seq; t++) {
        inp[b * c.seq + t] = ids[b * (c.seq + 1) + t]!;
        tgt[b * c.seq + t] = ids[b * (c.seq + 1) + t + 1]!;
      }
    return { ids: tf.tensor2d(inp, [c.batch, c.seq], 'int32'), targets: tf.tensor1d(tgt, 'int32') };
  };

  const params = Object.values(p);
  const numParams = params.reduce((s, v) => s + v.size, 0);
  return { params, numParams, loss, batch, dispose: () => tf.dispose([...params, mask]) };
}

export interface VqConfig {
  batch: number;
  size: number;
  codes: number;
  codeDim: number;
}
export const REFERENCE_VQ: VqConfig = { batch: 64, size: 32, codes: 512, codeDim: 64 };

/** Forward FLOPs per image of the reference VQ-VAE (≈87 M). */
export function vqFlopsPerImage(): number {
  const conv = (oh: number, ow: number, co: number, k: number, ci: number) => 2 * oh * ow * co * k * k * ci;
  const convT = (ih: number, iw: number, ci: number, k: number, co: number) => 2 * ih * iw * ci * k * k * co;
  return (
    conv(16, 16, 64, 4, 3) +
    conv(8, 8, 128, 4, 64) +
    conv(8, 8, 128, 3, 128) +
    conv(8, 8, 64, 1, 128) +
    2 * 64 * 512 * 64 +
    conv(8, 8, 128, 3, 64) +
    convT(8, 8, 128, 4, 64) +
    convT(16, 16, 64, 4, 32) +
    conv(32, 32, 3, 3, 32)
  );
}

export function createVqVae(c: VqConfig, seed = 0) {
  const rng = new Rng(seed);
  const he = (k: number, ci: number, co: number) => normal(rng, [k, k, ci, co], Math.sqrt(2 / (k * k * ci)));
  const p: Record<string, tf.Variable> = {
    e1: he(4, 3, 64),
    e2: he(4, 64, 128),
    e3: he(3, 128, 128),
    e4: he(1, 128, c.codeDim),
    codebook: normal(rng, [c.codes, c.codeDim], 0.5),
    d1: he(3, c.codeDim, 128),
    d2: normal(rng, [4, 4, 64, 128], Math.sqrt(2 / (16 * 128))), // conv2dTranspose: [k, k, out, in]
    d3: normal(rng, [4, 4, 32, 64], Math.sqrt(2 / (16 * 64))),
    d4: he(3, 32, 3),
  };
  for (const k of ['e1', 'e2', 'e3', 'e4', 'd1', 'd2', 'd3', 'd4']) p[`${k}B`] = filled([p[k]!.shape[k.startsWith('d2') || k.startsWith('d3') ? 2 : 3]!], 0);

  const encode = (x: tf.Tensor4D) => {
    let h = tf.relu(tf.add(tf.conv2d(x, p.e1 as tf.Tensor4D, 2, 'same'), p.e1B!)) as tf.Tensor4D;
    h = tf.relu(tf.add(tf.conv2d(h, p.e2 as tf.Tensor4D, 2, 'same'), p.e2B!)) as tf.Tensor4D;
    h = tf.relu(tf.add(tf.conv2d(h, p.e3 as tf.Tensor4D, 1, 'same'), p.e3B!)) as tf.Tensor4D;
    return tf.add(tf.conv2d(h, p.e4 as tf.Tensor4D, 1, 'same'), p.e4B!) as tf.Tensor4D; // [B, 8, 8, D]
  };
  const nearest = (z: tf.Tensor4D) => {
    const flat = tf.reshape(z, [-1, c.codeDim]) as tf.Tensor2D;
    const dist = tf.add(
      tf.sub(tf.sum(tf.square(flat), 1, true), tf.mul(2, tf.matMul(flat, p.codebook as tf.Tensor2D, false, true))),
      tf.sum(tf.square(p.codebook!), 1),
    );
    return tf.argMin(dist, 1);
  };
  const decode = (q: tf.Tensor4D) => {
    const B = q.shape[0];
    let h = tf.relu(tf.add(tf.conv2d(q, p.d1 as tf.Tensor4D, 1, 'same'), p.d1B!)) as tf.Tensor4D;
    h = tf.relu(tf.add(tf.conv2dTranspose(h, p.d2 as tf.Tensor4D, [B, 16, 16, 64], 2, 'same'), p.d2B!)) as tf.Tensor4D;
    h = tf.relu(tf.add(tf.conv2dTranspose(h, p.d3 as tf.Tensor4D, [B, 32, 32, 32], 2, 'same'), p.d3B!)) as tf.Tensor4D;
    return tf.add(tf.conv2d(h, p.d4 as tf.Tensor4D, 1, 'same'), p.d4B!);
  };
  const loss = (x: tf.Tensor4D): tf.Scalar => {
    const z = encode(x);
    // indices from argMin are rebuilt as a fresh int32 tensor before gather (tfjs gotcha)
    const idx = tf.tensor1d(nearest(stopGradient(z) as tf.Tensor4D).dataSync() as Int32Array, 'int32');
    const q = tf.reshape(tf.gather(p.codebook!, idx), z.shape) as tf.Tensor4D;
    const st = tf.add(z, stopGradient(tf.sub(q, z))) as tf.Tensor4D; // straight-through
    const recon = tf.mean(tf.square(tf.sub(decode(st), x)));
    const codebookLoss = tf.mean(tf.square(tf.sub(stopGradient(z), q)));
    const commit = tf.mean(tf.square(tf.sub(z, stopGradient(q))));
    return tf.addN([recon, codebookLoss, tf.mul(0.25, commit)]) as tf.Scalar;
  };
  const images = (step: number) => {
    const r = new Rng(5000 + step);
    const v = new Float32Array(c.batch * c.size * c.size * 3);
    for (let i = 0; i < v.length; i++) v[i] = r.uniform(-1, 1);
    return tf.tensor4d(v, [c.batch, c.size, c.size, 3]);
  };
  const params = Object.values(p);
  return {
    params,
    numParams: params.reduce((s, v) => s + v.size, 0),
    loss,
    encodeCodes: (x: tf.Tensor4D) => nearest(encode(x)),
    images,
    dispose: () => tf.dispose(params),
  };
}
