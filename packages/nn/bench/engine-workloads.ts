// The three training workloads of `npm run bench:engine`, built from the packages' real model code:
// - lm: the reference LM (REFERENCE_LM in reference-models.ts: 4 layers, d 256, 4 heads, seq 32, vocab 2,000,
//   batch 32) built from this package's blocks (Embedding, TransformerBlock, LayerNorm, Linear, crossEntropy) as a
//   model package writes it, trained with Adam (this package's fused AdamW with weight decay 0);
// - tokenizer: @synth2/generator's VQ tokenizer at the demo's settings (demoTokenizerConfig, batch 32, lr 3e-3),
//   trained by trainTokenizer on random 32×32 images (dead-code restarts off: the step alone is measured);
// - generator: @synth2/generator's CaptionTokenGenerator at the demo's settings (demoGeneratorConfig, batch 64,
//   lr 4e-3) trained by its own `train` on random captions and 16×16 token grids.
import { Rng } from '@synth2/core';
import {
  CaptionTokenGenerator,
  groupTokens,
  demoGeneratorConfig,
  demoGeneratorTraining,
  demoTokenizerConfig,
  demoTokenizerTraining,
  trainTokenizer,
  VQTokenizer,
} from '../../generator/src/index';
import {
  tf,
  AdamW,
  crossEntropy,
  Embedding,
  LayerNorm,
  LearnedPositionEmbedding,
  Linear,
  Module,
  TransformerBlock,
  type TrainProgressEvent,
} from '../src/index';
import { REFERENCE_LM, type LmConfig } from './reference-models';

/** The reference LM from this package's blocks: pre-LN causal transformer, untied output head without bias. */
class BlockLm extends Module {
  private readonly embed: Embedding;
  private readonly pos: LearnedPositionEmbedding;
  private readonly blocks: TransformerBlock[] = [];
  private readonly norm: LayerNorm;
  private readonly head: Linear;
  constructor(readonly c: LmConfig) {
    const rng = new Rng(0);
    super('lm', { rng });
    this.embed = this.child('embed', new Embedding('embed', { vocabSize: c.vocab, dim: c.dim, rng }));
    this.pos = this.child('pos', new LearnedPositionEmbedding('pos', { length: c.seq, dim: c.dim, rng }));
    for (let i = 0; i < c.layers; i++) this.blocks.push(this.child(`blocks.${i}`, new TransformerBlock('block', { dim: c.dim, heads: c.heads, rng })));
    this.norm = this.child('norm', new LayerNorm('norm', { dim: c.dim }));
    this.head = this.child('head', new Linear('head', { inDim: c.dim, outDim: c.vocab, bias: false, rng }));
  }
  loss(ids: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
    let h = this.pos.apply(this.embed.apply(ids));
    for (const b of this.blocks) h = b.apply(h, { causal: true });
    return crossEntropy(tf.reshape(this.head.apply(this.norm.apply(h)), [-1, this.c.vocab]), targets);
  }
  /** Cycles through 4 fixed random batches (next-token targets). */
  batch(step: number): { ids: tf.Tensor2D; targets: tf.Tensor1D } {
    const { batch: B, seq: T, vocab } = this.c;
    const r = new Rng(1000 + (step % 4));
    const ids = new Int32Array(B * T);
    const tgt = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      let prev = r.int(vocab);
      for (let t = 0; t < T; t++) {
        const next = r.int(vocab);
        ids[b * T + t] = prev;
        tgt[b * T + t] = next;
        prev = next;
      }
    }
    return { ids: tf.tensor2d(ids, [B, T], 'int32'), targets: tf.tensor1d(tgt, 'int32') };
  }
}

export type Workload = 'lm' | 'tokenizer' | 'generator';
export const WORKLOADS: Workload[] = ['lm', 'tokenizer', 'generator'];

/** Timing of one workload: steps after warm-up over at least `seconds` of wall time. */
export interface Timing {
  steps: number;
  seconds: number;
  stepsPerSec: number;
  /** CPU time of this process (all threads) per step: less sensitive than wall time to other load. */
  cpuSecondsPerStep: number;
  firstLoss: number;
  lastLoss: number;
}

/** Measures steps after `warmup` steps until `seconds` have passed; `stop()` is called to end a trainer run. */
class StepClock {
  private t0 = 0;
  private c0: NodeJS.CpuUsage | undefined;
  private n = 0;
  firstLoss = NaN;
  lastLoss = NaN;
  constructor(
    private readonly warmup: number,
    private readonly seconds: number,
  ) {}
  /** Records a finished step; returns true once enough time was measured. */
  tick(loss: number): boolean {
    if (Number.isNaN(this.firstLoss)) this.firstLoss = loss;
    this.lastLoss = loss;
    this.n++;
    if (this.n === this.warmup) {
      this.t0 = performance.now();
      this.c0 = process.cpuUsage();
      return false;
    }
    return this.n > this.warmup && (performance.now() - this.t0) / 1000 >= this.seconds;
  }
  result(): Timing {
    const seconds = (performance.now() - this.t0) / 1000;
    const c = process.cpuUsage(this.c0);
    const steps = this.n - this.warmup;
    return {
      steps,
      seconds,
      stepsPerSec: steps / seconds,
      cpuSecondsPerStep: (c.user + c.system) / 1e6 / steps,
      firstLoss: this.firstLoss,
      lastLoss: this.lastLoss,
    };
  }
}

const WARMUP = 3;

async function benchLm(seconds: number): Promise<Timing> {
  const step = lmStep();
  const clock = new StepClock(WARMUP, seconds);
  while (!clock.tick(step())) {
    // steps until the clock has measured enough
  }
  return clock.result();
}

/** Runs a trainer-based workload with many steps and aborts it once the clock has measured enough. */
async function byTrainer(seconds: number, run: (onProgress: (e: TrainProgressEvent) => void, signal: AbortSignal) => Promise<unknown>): Promise<Timing> {
  const clock = new StepClock(WARMUP, seconds);
  const ctl = new AbortController();
  await run((e) => {
    if (clock.tick(e.loss)) ctl.abort();
  }, ctl.signal);
  return clock.result();
}

function randomImages(n: number, size: number, seed: number): { data: Float32Array; shape: [number, number, number, number] } {
  const rng = new Rng(seed);
  const data = new Float32Array(n * size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform();
  return { data, shape: [n, size, size, 3] };
}

async function benchTokenizer(seconds: number): Promise<Timing> {
  const tok = VQTokenizer.create(demoTokenizerConfig);
  const images = randomImages(256, demoTokenizerConfig.imageSize!, 1);
  const t = await byTrainer(seconds, (onProgress, abortSignal) =>
    trainTokenizer(tok, images, {
      steps: 1_000_000,
      batchSize: demoTokenizerTraining.batchSize,
      lr: demoTokenizerTraining.lr,
      restartEvery: 0,
      onProgress,
      abortSignal,
    }),
  );
  tok.dispose();
  return t;
}

const COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];
const SHAPES = ['circle', 'square', 'triangle', 'star', 'cross'];
const PLACES = ['left', 'right', 'top', 'bottom', 'centre'];

/** Random shapes-world-like captions and random 16×16 token grids (ids < 128). */
function generatorExamples(n: number, seed: number): { caption: string; tokens: Int32Array }[] {
  const rng = new Rng(seed);
  const pick = (xs: string[]) => xs[rng.int(xs.length)]!;
  return Array.from({ length: n }, () => {
    const caption = `a ${pick(COLOURS)} ${pick(SHAPES)} on the ${pick(PLACES)} and a ${pick(COLOURS)} ${pick(SHAPES)}`;
    const tokens = new Int32Array(16 * 16);
    for (let i = 0; i < tokens.length; i++) tokens[i] = rng.int(demoGeneratorConfig.codebookSize ?? 128);
    return { caption, tokens };
  });
}

async function benchGenerator(seconds: number): Promise<Timing> {
  const tok = VQTokenizer.create(demoTokenizerConfig);
  const examples = generatorExamples(1024, 2);
  const gen = CaptionTokenGenerator.forTokenizer(tok, { ...demoGeneratorConfig, captions: examples.map((e) => e.caption) });
  // a random codebook in place of a trained tokenizer's (the generator standardises it)
  gen.setCodebook(tf.randomNormal([demoTokenizerConfig.codebookSize!, demoTokenizerConfig.codeDim!], 0, 1, 'float32', 3) as tf.Tensor2D);
  const t = await byTrainer(seconds, (onProgress, abortSignal) =>
    gen.train(examples, { steps: 1_000_000, batchSize: demoGeneratorTraining.batchSize, lr: demoGeneratorTraining.lr, onProgress, abortSignal }),
  );
  gen.dispose();
  tok.dispose();
  return t;
}

/**
 * One generator training step at the demo's settings outside the trainer (for per-kernel profiles): the batch
 * tensors the trainer's batch source makes, the loss, gradients, and this package's AdamW.
 */
export function generatorStep(): () => number {
  const tok = VQTokenizer.create(demoTokenizerConfig);
  const examples = generatorExamples(256, 2);
  const gen = CaptionTokenGenerator.forTokenizer(tok, { ...demoGeneratorConfig, captions: examples.map((e) => e.caption) });
  gen.setCodebook(tf.randomNormal([demoTokenizerConfig.codebookSize!, demoTokenizerConfig.codeDim!], 0, 1, 'float32', 3) as tf.Tensor2D);
  const B = demoGeneratorTraining.batchSize;
  const { words, mask } = gen.encodeCaptions(examples.slice(0, B).map((e) => e.caption));
  const flat = new Int32Array(B * 256);
  examples.slice(0, B).forEach((e, i) => flat.set(e.tokens, i * 256));
  const targets = groupTokens(flat, B, gen.geometry);
  const vars = [...gen.network.parameters().values()].filter((v) => v.trainable);
  const opt = new AdamW(new Map(vars.map((v) => [v.name, v] as [string, tf.Variable])), { weightDecay: 0.01 });
  const rng = new Rng(4);
  return () =>
    tf.tidy(() => {
      const t = gen.batchTensors({ size: B, words, wordMask: mask, targets }, rng, true);
      const { value, grads } = tf.variableGrads(() => gen.loss(t, rng, true), vars);
      opt.apply(
        vars.map((v) => grads[v.name]!),
        demoGeneratorTraining.lr,
      );
      return value.dataSync()[0]!;
    });
}

/** One reference-LM training step (Adam: AdamW with weight decay 0), for the bench and per-kernel profiles. */
export function lmStep(): () => number {
  const lm = new BlockLm(REFERENCE_LM);
  const vars = [...lm.parameters().values()];
  const opt = new AdamW(new Map(vars.map((v) => [v.name, v] as [string, tf.Variable])), { weightDecay: 0 });
  let step = 0;
  return () =>
    tf.tidy(() => {
      const { ids, targets } = lm.batch(step++);
      const { value, grads } = tf.variableGrads(() => lm.loss(ids, targets), vars);
      opt.apply(
        vars.map((v) => grads[v.name]!),
        1e-3,
      );
      return value.dataSync()[0]!;
    });
}

export function runWorkload(w: Workload, seconds: number): Promise<Timing> {
  if (w === 'lm') return benchLm(seconds);
  if (w === 'tokenizer') return benchTokenizer(seconds);
  return benchGenerator(seconds);
}
