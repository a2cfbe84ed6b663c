import { CheckpointMismatchError, InvalidInputError, Rng, throwIfAborted, type RngState } from '@synth2/core';
import {
  Conv2d,
  ConvTranspose2d,
  Linear,
  Module,
  ResConvBlock,
  loadCheckpoint,
  readCheckpointConfig,
  saveCheckpoint,
  initBackend,
  tf,
  train,
  type TrainProgressEvent,
  type TrainResult,
  checkpointName,
  type CheckpointLocation,
} from '@synth2/nn';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import { EpochBatches } from '../data/epoch-batches';
import { TokenizerConfigSchema, parseConfig, type TokenizerConfig, type TokenizerConfigInput } from '../config';
import { imagesToTensor, type ImageBatch } from '../data/images';

/** Reconstruction and codebook-usage numbers of a tokenizer on a set of images. */
export interface TokenizerEvaluation {
  /** Mean PSNR over images, in dB, for pixel values in [0, 1]. */
  psnr: number;
  /** Mean squared error per pixel value. */
  mse: number;
  /** exp(entropy) of the code histogram: the effective number of codes used. */
  perplexity: number;
  usedCodes: number;
  deadCodes: number;
}

/** A copy of `x` that is not connected to the gradient tape (tfjs has no stop-gradient op). */
function detached<T extends tf.Tensor>(x: T): T {
  return tf.tensor(x.dataSync(), x.shape, x.dtype) as T;
}

/**
 * A VQ image tokenizer: a small convolutional encoder maps an image to a grid of vectors, each replaced by its
 * nearest codebook entry (its token id); a mirrored decoder maps the quantized grid back to pixels.
 * `embed(ids)` — the codebook rows of a token grid — is the image embedding the VLM reads.
 */
export class VQTokenizer extends Module {
  readonly config: TokenizerConfig;
  /** Token grid height and width. */
  readonly gridSize: number;
  private readonly encIn: Conv2d[] = [];
  private readonly encRes: ResConvBlock[] = [];
  private readonly encOut: Linear;
  private readonly decIn: Linear;
  private readonly decRes: ResConvBlock[] = [];
  private readonly decUp: ConvTranspose2d[] = [];
  private readonly decOut: Conv2d;
  /** `[K, d]` codebook. */
  readonly codebook: tf.Variable;

  private constructor(config: TokenizerConfig) {
    const rng = new Rng(config.seed);
    super('tokenizer', { rng });
    this.config = config;
    const { hidden, channels, codeDim, codebookSize, resBlocks, imageSize } = config;
    const factor = 2 ** hidden.length;
    if (imageSize % factor !== 0) {
      throw new InvalidInputError(
        `imageSize ${imageSize} is not divisible by 2^${hidden.length} (one halving per hidden stage); change imageSize or hidden`,
      );
    }
    this.gridSize = imageSize / factor;
    let c = channels;
    hidden.forEach((h, i) => {
      this.encIn.push(this.child(`enc.down.${i}`, new Conv2d('conv', { inChannels: c, outChannels: h, kernel: 4, stride: 2, rng })));
      c = h;
    });
    const top = hidden[hidden.length - 1];
    for (let i = 0; i < resBlocks; i++) this.encRes.push(this.child(`enc.res.${i}`, new ResConvBlock('res', { channels: top, rng })));
    this.encOut = this.child('enc.proj', new Linear('proj', { inDim: top, outDim: codeDim, rng }));
    this.codebook = this.param('codebook', [codebookSize, codeDim], { kind: 'uniform', limit: 1 / codebookSize });
    this.decIn = this.child('dec.proj', new Linear('proj', { inDim: codeDim, outDim: top, rng }));
    for (let i = 0; i < resBlocks; i++) this.decRes.push(this.child(`dec.res.${i}`, new ResConvBlock('res', { channels: top, rng })));
    for (let i = hidden.length - 1; i >= 0; i--) {
      const out = i > 0 ? hidden[i - 1] : hidden[0];
      this.decUp.push(this.child(`dec.up.${hidden.length - 1 - i}`, new ConvTranspose2d('up', { inChannels: hidden[i], outChannels: out, kernel: 4, stride: 2, rng })));
    }
    this.decOut = this.child('dec.out', new Conv2d('out', { inChannels: hidden[0], outChannels: channels, kernel: 3, stride: 1, rng }));
  }

  /** A new, untrained tokenizer. Unknown or invalid settings throw a `ConfigurationError`. */
  static create(config: TokenizerConfigInput = {}): VQTokenizer {
    return new VQTokenizer(parseConfig(TokenizerConfigSchema, config, 'tokenizer config', 'VQTokenizer.create'));
  }

  /** Loads a tokenizer saved with {@link VQTokenizer.save}; a checkpoint of another architecture throws `CheckpointMismatchError`. */
  static async load(dir: CheckpointLocation): Promise<VQTokenizer> {
    const raw = (await readCheckpointConfig(dir)) as { kind?: string; tokenizer?: unknown };
    if (raw?.kind !== 'synth2-vq-tokenizer') {
      throw new CheckpointMismatchError(
        `${checkpointName(dir)} is not a VQ tokenizer checkpoint (config kind ${JSON.stringify(raw?.kind)}); pass the folder written by VQTokenizer.save`,
      );
    }
    const model = VQTokenizer.create(raw.tokenizer as TokenizerConfigInput);
    await loadCheckpoint(dir, model);
    return model;
  }

  /** Trains this tokenizer on images; see {@link trainTokenizer}. */
  train(images: ImageBatch, opts: TokenizerTrainOptions): Promise<TrainResult> {
    return trainTokenizer(this, images, opts);
  }

  async save(dir: string): Promise<void> {
    await saveCheckpoint(dir, this, { kind: 'synth2-vq-tokenizer', tokenizer: this.config });
  }

  /** Number of tokens per image (`gridSize²`). */
  get tokensPerImage(): number {
    return this.gridSize * this.gridSize;
  }

  /** Checks and converts images to a float tensor `[B, S, S, C]` in [0, 1]. */
  toTensor(images: ImageBatch): tf.Tensor4D {
    return imagesToTensor(images, this.config.imageSize, this.config.channels);
  }

  /** Continuous encoder output `[B, h, w, d]` (before quantization). */
  encodeContinuous(x: tf.Tensor4D): tf.Tensor4D {
    let h: tf.Tensor = x;
    for (const conv of this.encIn) h = tf.relu(conv.apply(h as tf.Tensor4D));
    for (const res of this.encRes) h = res.apply(h as tf.Tensor4D);
    return this.encOut.apply(tf.relu(h)) as tf.Tensor4D;
  }

  /** Nearest code per vector: `z` `[N, d]` → int32 ids `[N]` (no gradient). */
  nearestCodes(z: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const c = this.codebook;
      const zz = tf.sum(tf.square(z), 1, true);
      const cc = tf.reshape(tf.sum(tf.square(c), 1), [1, -1]);
      const d = tf.add(tf.sub(zz, tf.mul(tf.matMul(z, tf.transpose(c)), 2)), cc);
      return tf.argMin(d, 1) as tf.Tensor1D;
    });
  }

  /** Codebook rows for ids, through a one-hot matMul (differentiable w.r.t. the codebook on every backend). */
  private lookup(ids: tf.Tensor1D): tf.Tensor2D {
    // oneHot's own float32 dtype argument returns garbage on tfjs-backend-wasm 4.22: cast instead
    const oh = tf.cast(tf.oneHot(tf.cast(ids, 'int32'), this.config.codebookSize), 'float32') as tf.Tensor2D;
    return tf.matMul(oh, this.codebook);
  }

  /** Decodes quantized vectors `[B, h, w, d]` to images `[B, S, S, C]` (unclipped). */
  decodeLatents(q: tf.Tensor4D): tf.Tensor4D {
    let h: tf.Tensor = this.decIn.apply(q);
    for (const res of this.decRes) h = res.apply(h as tf.Tensor4D);
    h = tf.relu(h);
    this.decUp.forEach((up, i) => {
      void i;
      h = tf.relu(up.apply(h as tf.Tensor4D));
    });
    return this.decOut.apply(h as tf.Tensor4D) as tf.Tensor4D;
  }

  /**
   * Training loss of a batch `[B, S, S, C]`: reconstruction MSE + codebook loss ‖sg(z) − q‖² + β·‖z − sg(q)‖²,
   * with straight-through gradients to the encoder.
   */
  loss(x: tf.Tensor4D): tf.Scalar {
    const { codeDim } = this.config;
    const z = this.encodeContinuous(x);
    const [B, h, w] = z.shape;
    const flat = tf.reshape(z, [B * h * w, codeDim]) as tf.Tensor2D;
    const zd = detached(flat);
    const ids = this.nearestCodes(zd);
    const q = this.lookup(ids);
    const qd = detached(q);
    const codebookLoss = tf.mean(tf.square(tf.sub(zd, q)));
    const commitLoss = tf.mean(tf.square(tf.sub(flat, qd)));
    // straight-through: the decoder sees q, the encoder receives the decoder's input gradient
    const st = tf.reshape(tf.add(flat, tf.sub(qd, zd)), [B, h, w, codeDim]) as tf.Tensor4D;
    const recon = this.decodeLatents(st);
    const rec = tf.mean(tf.square(tf.sub(recon, x)));
    return tf.add(tf.add(rec, codebookLoss), tf.mul(commitLoss, this.config.commitment)) as tf.Scalar;
  }

  /** Token ids `[B, h, w]` (int32) of images. */
  encode(images: ImageBatch): tf.Tensor3D {
    return tf.tidy(() => {
      const x = this.toTensor(images);
      const z = this.encodeContinuous(x);
      const [B, h, w, d] = z.shape;
      return tf.reshape(this.nearestCodes(tf.reshape(z, [B * h * w, d]) as tf.Tensor2D), [B, h, w]) as tf.Tensor3D;
    });
  }

  private checkIds(ids: tf.Tensor): void {
    if (ids.rank !== 3 || ids.shape[1] !== this.gridSize || ids.shape[2] !== this.gridSize) {
      throw new InvalidInputError(
        `token ids must have shape [B, ${this.gridSize}, ${this.gridSize}], got [${ids.shape}]; pass the output of encode() or of a generator made for this tokenizer`,
      );
    }
  }

  /** The image embedding: codebook rows of a token grid, `[B, h·w, d]`. */
  embed(ids: tf.Tensor3D): tf.Tensor3D {
    this.checkIds(ids);
    return tf.tidy(() => {
      const [B, h, w] = ids.shape;
      const flat = tf.reshape(tf.cast(ids, 'int32'), [B * h * w]);
      return tf.reshape(tf.gather(this.codebook, flat), [B, h * w, this.config.codeDim]) as tf.Tensor3D;
    });
  }

  /** Images `[B, S, S, C]` in [0, 1] from token ids `[B, h, w]`. */
  decode(ids: tf.Tensor3D): tf.Tensor4D {
    this.checkIds(ids);
    return tf.tidy(() => {
      const [B, h, w] = ids.shape;
      const q = tf.reshape(tf.gather(this.codebook, tf.reshape(tf.cast(ids, 'int32'), [B * h * w])), [B, h, w, this.config.codeDim]);
      return tf.clipByValue(this.decodeLatents(q as tf.Tensor4D), 0, 1) as tf.Tensor4D;
    });
  }

  /** Reconstruction PSNR and codebook usage on images (batched). */
  async evaluate(images: ImageBatch, opts: { batchSize?: number; abortSignal?: AbortSignal } = {}): Promise<TokenizerEvaluation> {
    rejectUnknownOptions(opts, ['batchSize', 'abortSignal'], 'VQTokenizer.evaluate');
    const x = this.toTensor(images);
    const n = x.shape[0];
    const bs = opts.batchSize ?? 256;
    const counts = new Float64Array(this.config.codebookSize);
    let psnrSum = 0;
    let mseSum = 0;
    try {
      for (let i = 0; i < n; i += bs) {
        throwIfAborted(opts.abortSignal);
        const [idsArr, mseArr] = tf.tidy(() => {
          const xb = tf.slice(x, [i, 0, 0, 0], [Math.min(bs, n - i), -1, -1, -1]) as tf.Tensor4D;
          const ids = this.encode(xb);
          const rec = this.decode(ids);
          const mse = tf.mean(tf.square(tf.sub(rec, xb)), [1, 2, 3]);
          return [ids, mse];
        });
        const idv = await idsArr.data();
        const mv = await mseArr.data();
        idsArr.dispose();
        mseArr.dispose();
        for (const id of idv) counts[id]++;
        for (const m of mv) {
          mseSum += m;
          psnrSum += 10 * Math.log10(1 / Math.max(m, 1e-10));
        }
      }
    } finally {
      x.dispose();
    }
    let total = 0;
    for (const c of counts) total += c;
    let ent = 0;
    let used = 0;
    for (const c of counts) {
      if (c > 0) {
        used++;
        const p = c / total;
        ent -= p * Math.log(p);
      }
    }
    return { psnr: psnrSum / n, mse: mseSum / n, perplexity: Math.exp(ent), usedCodes: used, deadCodes: this.config.codebookSize - used };
  }

  /**
   * Dead-code restart: codes no vector of `x` maps to are moved onto randomly chosen encoder outputs (plus a little
   * noise), so the whole codebook is used. Returns how many codes were restarted.
   */
  restartDeadCodes(x: tf.Tensor4D, rng: Rng): number {
    const { codebookSize: K, codeDim: d } = this.config;
    const [zs, ids, dist] = tf.tidy(() => {
      const z = this.encodeContinuous(x);
      const flat = tf.reshape(z, [-1, d]) as tf.Tensor2D;
      const idx = this.nearestCodes(flat);
      const err = tf.sum(tf.square(tf.sub(flat, tf.gather(this.codebook, idx))), 1);
      return [flat, idx, err];
    });
    const idv = ids.dataSync();
    const zv = zs.dataSync();
    const dv = dist.dataSync();
    ids.dispose();
    zs.dispose();
    dist.dispose();
    const used = new Uint8Array(K);
    for (const id of idv) used[id] = 1;
    const dead: number[] = [];
    for (let k = 0; k < K; k++) if (!used[k]) dead.push(k);
    if (dead.length === 0) return 0;
    const cb = this.codebook.dataSync().slice();
    // k-means++-like: new codes go to encoder outputs drawn in proportion to their quantization error, so they
    // land where the codebook fits worst (object edges and colours) rather than on the common background
    const weights = Float64Array.from(dv);
    for (const k of dead) {
      const src = rng.weightedIndex(weights);
      for (let j = 0; j < d; j++) cb[k * d + j] = zv[src * d + j];
      // vectors near the new code no longer count as badly fitted
      for (let i = 0; i < weights.length; i++) {
        if (weights[i] === 0) continue;
        let e = 0;
        for (let j = 0; j < d; j++) {
          const t = zv[i * d + j] - cb[k * d + j];
          e += t * t;
        }
        if (e < weights[i]) weights[i] = e;
      }
    }
    tf.tidy(() => this.codebook.assign(tf.tensor2d(cb, [K, d])));
    return dead.length;
  }
}

/** Options of `VQTokenizer.train`. */
export interface TokenizerTrainOptions {
  steps: number;
  batchSize?: number;
  lr?: number;
  warmupSteps?: number;
  /** Steps between dead-code restarts (0 = never). */
  restartEvery?: number;
  /** Stop restarting after this share of the steps, so the codebook can settle (default 0.8). */
  restartUntil?: number;
  seed?: number;
  checkpointDir?: string;
  checkpointEvery?: number;
  metricsFile?: string;
  onProgress?: (event: TrainProgressEvent) => void;
  abortSignal?: AbortSignal;
  log?: (msg: string) => void;
}

const TOKENIZER_TRAIN_KEYS = optionKeys<TokenizerTrainOptions>({
  steps: true,
  batchSize: true,
  lr: true,
  warmupSteps: true,
  restartEvery: true,
  restartUntil: true,
  seed: true,
  checkpointDir: true,
  checkpointEvery: true,
  metricsFile: true,
  onProgress: true,
  abortSignal: true,
  log: true,
});

/**
 * Trains a tokenizer on images (`[N, S, S, C]` in [0, 1]) with core's trainer: reconstruction + codebook +
 * commitment loss, straight-through gradients, and periodic dead-code restarts so that the whole codebook is used.
 */
export async function trainTokenizer(tokenizer: VQTokenizer, images: ImageBatch, opts: TokenizerTrainOptions): Promise<TrainResult> {
  rejectUnknownOptions(opts, TOKENIZER_TRAIN_KEYS, 'trainTokenizer');
  const x = tokenizer.toTensor(images);
  const pixels = (await x.data()) as Float32Array;
  const [n, S, , C] = x.shape;
  x.dispose();
  const per = S * S * C;
  const batchSize = Math.min(opts.batchSize ?? 32, n);
  const seed = opts.seed ?? tokenizer.config.seed;
  await initBackend({ log: opts.log });
  const batches = new EpochBatches(n, batchSize, seed, (idx) => {
    const b = new Float32Array(idx.length * per);
    idx.forEach((src, k) => b.set(pixels.subarray(src * per, (src + 1) * per), k * per));
    return { size: idx.length, pixels: b };
  });
  const restartEvery = opts.restartEvery ?? 100;
  const restartUntil = Math.floor((opts.restartUntil ?? 0.8) * opts.steps);
  const restartRng = new Rng(seed).fork('restart');
  // the restart draws' Rng travels with the data state in checkpoints, so a resumed run restarts the same codes
  const data = {
    batchSize: batches.batchSize,
    next: (rng: Rng) => batches.next(rng),
    getState: (): unknown => ({ batches: batches.getState(), restartRng: restartRng.getState() }),
    setState: (state: unknown): void => {
      const s = state as { batches?: unknown; restartRng?: RngState };
      if (s.batches === undefined) return batches.setState(state); // a checkpoint written before the Rng travelled
      batches.setState(s.batches);
      if (s.restartRng) restartRng.setState(s.restartRng);
    },
  };
  const sample = Math.min(n, 256);
  return train({
    module: tokenizer,
    loss: (batch) => tokenizer.loss(tf.tensor4d(batch.pixels, [batch.size, S, S, C])),
    data,
    steps: opts.steps,
    optimizer: { lr: opts.lr ?? 2e-3, weightDecay: 0 },
    schedule: { warmupSteps: opts.warmupSteps ?? Math.min(50, Math.floor(opts.steps / 10)), minLrRatio: 0.05 },
    seed,
    checkpointDir: opts.checkpointDir,
    checkpointEvery: opts.checkpointEvery,
    metricsFile: opts.metricsFile,
    evalEvery: restartEvery > 0 ? restartEvery : undefined,
    onEval:
      restartEvery > 0
        ? async (step) => {
            if (step > restartUntil) return;
            const idx = restartRng.sample(Array.from({ length: n }, (_, i) => i), sample);
            const b = new Float32Array(sample * per);
            idx.forEach((src, k) => b.set(pixels.subarray(src * per, (src + 1) * per), k * per));
            const xb = tf.tensor4d(b, [sample, S, S, C]);
            try {
              const restarted = tokenizer.restartDeadCodes(xb, restartRng);
              return { restartedCodes: restarted };
            } finally {
              xb.dispose();
            }
          }
        : undefined,
    onProgress: opts.onProgress,
    abortSignal: opts.abortSignal,
    log: opts.log,
  });
}
