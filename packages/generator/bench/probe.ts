import { Rng } from '@synth2/core';
import { Conv2d, Linear, Module, crossEntropy, loadCheckpoint, saveCheckpoint, tf, train } from '@synth2/nn';
import { COLOR_NAMES, SHAPE_NAMES, createShapesWorld } from '@synth2/datasets';
import type { VQTokenizer } from '../src/index';

/**
 * Faithfulness probe over an image embedding `[h·w, d]`: three 3×3 convolutions over the grid of codebook vectors,
 * max-pooled over the grid (so the object's position does not matter), and two softmax heads predict colour and
 * shape. Trained on embeddings of real single-object images, applied to generated ones.
 */
export class AttributeProbe extends Module {
  private readonly c1: Conv2d;
  private readonly c2: Conv2d;
  private readonly c3: Conv2d;
  private readonly colorHead: Linear;
  private readonly shapeHead: Linear;
  readonly inDim: number;
  constructor(
    readonly grid: number,
    readonly codeDim: number,
    readonly colors: number,
    readonly shapes: number,
    hidden = 64,
    seed = 0,
  ) {
    const rng = new Rng(seed);
    super('probe', { rng });
    this.inDim = grid * grid * codeDim;
    this.c1 = this.child('c1', new Conv2d('c1', { inChannels: codeDim, outChannels: hidden, kernel: 3, rng }));
    this.c2 = this.child('c2', new Conv2d('c2', { inChannels: hidden, outChannels: hidden, kernel: 3, rng }));
    this.c3 = this.child('c3', new Conv2d('c3', { inChannels: hidden, outChannels: hidden, kernel: 3, rng }));
    this.colorHead = this.child('color', new Linear('color', { inDim: hidden, outDim: colors, rng }));
    this.shapeHead = this.child('shape', new Linear('shape', { inDim: hidden, outDim: shapes, rng }));
  }

  logits(x: tf.Tensor2D): { color: tf.Tensor2D; shape: tf.Tensor2D } {
    const g = this.grid;
    const img = tf.reshape(x, [-1, g, g, this.codeDim]) as tf.Tensor4D;
    const f1 = tf.relu(this.c1.apply(img)) as tf.Tensor4D;
    const f2 = tf.relu(this.c2.apply(f1)) as tf.Tensor4D;
    const f3 = tf.relu(this.c3.apply(f2));
    // max over the grid: the object's position does not matter
    const h = tf.max(f3, [1, 2]) as tf.Tensor2D;
    return { color: this.colorHead.apply(h) as tf.Tensor2D, shape: this.shapeHead.apply(h) as tf.Tensor2D };
  }

  /** Trains on `x` `[N, inDim]` with integer labels. */
  async fit(x: Float32Array, color: Int32Array, shape: Int32Array, opts: { steps: number; batchSize?: number; lr?: number; seed?: number }): Promise<number> {
    const n = color.length;
    const D = this.inDim;
    const bs = Math.min(opts.batchSize ?? 64, n);
    let cursor = n;
    let perm: number[] = [];
    const rngData = new Rng(opts.seed ?? 0).fork('probe-data');
    const data = {
      next: () => {
        const xb = new Float32Array(bs * D);
        const cb = new Int32Array(bs);
        const sb = new Int32Array(bs);
        for (let k = 0; k < bs; k++) {
          if (cursor >= n) {
            perm = rngData.permutation(n);
            cursor = 0;
          }
          const i = perm[cursor++];
          xb.set(x.subarray(i * D, (i + 1) * D), k * D);
          cb[k] = color[i];
          sb[k] = shape[i];
        }
        return { xb, cb, sb };
      },
      getState: () => ({}),
      setState: () => {},
    };
    const res = await train({
      module: this,
      loss: (b) => {
        const lg = this.logits(tf.tensor2d(b.xb, [bs, D]));
        return tf.add(crossEntropy(lg.color, tf.tensor1d(b.cb, 'int32')), crossEntropy(lg.shape, tf.tensor1d(b.sb, 'int32'))) as tf.Scalar;
      },
      data,
      steps: opts.steps,
      optimizer: { lr: opts.lr ?? 1e-3, weightDecay: 0.01 },
      schedule: { warmupSteps: 20, minLrRatio: 0.1 },
      seed: opts.seed ?? 0,
      log: () => {},
    });
    return res.finalLoss;
  }

  /** Predicted colour and shape indices. */
  predict(x: Float32Array): { color: Int32Array; shape: Int32Array } {
    const n = x.length / this.inDim;
    const [c, s] = tf.tidy(() => {
      const lg = this.logits(tf.tensor2d(x, [n, this.inDim]));
      return [tf.argMax(lg.color, 1), tf.argMax(lg.shape, 1)];
    });
    const out = { color: Int32Array.from(c.dataSync()), shape: Int32Array.from(s.dataSync()) };
    c.dispose();
    s.dispose();
    return out;
  }
}

/** Colour, shape and both right, against `truth` (indices into COLOR_NAMES / SHAPE_NAMES). */
export function scoreAttributes(pred: { color: Int32Array; shape: Int32Array }, truth: { c: number; s: number }[]) {
  let c = 0;
  let s = 0;
  let both = 0;
  truth.forEach((t, i) => {
    c += +(pred.color[i] === t.c);
    s += +(pred.shape[i] === t.s);
    both += +(pred.color[i] === t.c && pred.shape[i] === t.s);
  });
  const n = Math.max(1, truth.length);
  return { color: c / n, shape: s / n, both: both / n, n: truth.length };
}

/**
 * The bench's probe for a tokenizer: trained on the embeddings of real single-object scenes of every colour–shape
 * pair (a world of its own, seed + 7), checked on held-back ones. `PROBE_LOAD` / `PROBE_SAVE` (folders) reuse one.
 */
export async function fitProbeForTokenizer(tokenizer: VQTokenizer, opts: { seed: number; quick?: boolean }) {
  const probeWorld = createShapesWorld({ seed: opts.seed + 7, minObjects: 1, maxObjects: 1 });
  const nProbe = opts.quick ? 400 : 3000;
  const nProbeTest = Math.floor(nProbe / 6);
  const probeItems = Array.from({ length: nProbe }, (_, i) => probeWorld.item(i));
  const pixels = new Uint8Array(nProbe * 3072);
  probeItems.forEach((it, i) => pixels.set(it.pixels, i * 3072));
  const probeIdsT = tokenizer.encode({ data: pixels, shape: [nProbe, 32, 32, 3] });
  const probeEmbT = tokenizer.embed(probeIdsT);
  const probeIds = Int32Array.from(probeIdsT.dataSync());
  const realE = Float32Array.from(probeEmbT.dataSync());
  tf.dispose([probeIdsT, probeEmbT]);
  const rc = Int32Array.from(probeItems, (it) => COLOR_NAMES.indexOf(it.scene.objects[0].color));
  const rs = Int32Array.from(probeItems, (it) => SHAPE_NAMES.indexOf(it.scene.objects[0].shape));
  const D = tokenizer.tokensPerImage * tokenizer.config.codeDim;
  const nFit = nProbe - nProbeTest;
  const probe = new AttributeProbe(tokenizer.gridSize, tokenizer.config.codeDim, 8, 8);
  if (process.env.PROBE_LOAD) {
    await loadCheckpoint(process.env.PROBE_LOAD, probe);
  } else {
    await probe.fit(realE.subarray(0, nFit * D), rc.subarray(0, nFit), rs.subarray(0, nFit), { steps: opts.quick ? 100 : 1500, lr: 2e-3 });
    if (process.env.PROBE_SAVE) await saveCheckpoint(process.env.PROBE_SAVE, probe, { kind: 'bench-probe' });
  }
  const realTruth = Array.from({ length: nProbeTest }, (_, k) => ({ c: rc[nFit + k], s: rs[nFit + k] }));
  const probeReal = scoreAttributes(probe.predict(realE.subarray(nFit * D)), realTruth);
  return { probe, probeReal, probeItems, probeIds, nFit };
}
