import { Rng } from '@synth2/core';
import { Conv2d, Linear, Module, crossEntropy } from '@synth2/core/nn';
import { tf } from '@synth2/core/tf';
import { train } from '@synth2/core/train';

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
