import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { InvalidInputError, readJson, writeJsonAtomic } from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import {
  initBackend,
  tf,
  type BackendOptions,
  crossEntropy,
  loadCheckpoint,
  saveCheckpoint,
  train,
  type TrainProgressEvent,
} from '@synth2/nn';
import { evaluateCaptions } from '@synth2/eval';
import { DECODE_KEYS, type DecodeOptions } from '../decoding/caption-search';
import { captionBatches, type PairSet } from '../data/caption-batches';
import type { EmbeddingsInput } from '../data/embedding-table';
import { resolveMix, type MixRatio } from '../data/mixing';
import { CaptioningVLM } from '../model/captioning-vlm';
import { SPECIAL_IDS, encodeWords } from '../model/caption-vocabulary';

/** Human (real) pairs: embeddings `[B, N, d]` of images encoded once, and each image's captions (~5). */
export interface RealPairs {
  embeddings: EmbeddingsInput;
  captions: string[][];
}

/** Synthetic pairs: generated embeddings `[S, N, d]` and one caption each (or several). */
export interface SyntheticPairs {
  embeddings: EmbeddingsInput;
  captions: string[] | string[][];
}

/** Images and reference captions scored during training. */
export interface ValidationSet {
  embeddings: EmbeddingsInput;
  /** Reference captions per image. */
  references: string[][];
  /** Decoding used for validation (default greedy). */
  decode?: DecodeOptions;
}

/** Options of `trainVLM`. */
export interface TrainVLMOptions {
  model: CaptioningVLM;
  real?: RealPairs;
  synthetic?: SyntheticPairs;
  /** Share of each batch from each source; sums to 1. Default: real only, or half/half with synthetic pairs. */
  mix?: Partial<MixRatio>;
  /**
   * Mix synthetic pairs into the batches of the first this many steps only; the remaining steps train on human
   * pairs alone (a curriculum: synthetic pairs teach new compositions early, human pairs have the last word).
   * Default: every step is mixed.
   */
  syntheticSteps?: number;
  steps: number;
  batchSize: number;
  /** AdamW learning rate (default 1e-3) and weight decay (default 0.01). */
  lr?: number;
  weightDecay?: number;
  /** Linear warmup steps, then cosine decay to `lr · minLrRatio` (defaults: 5% of steps, 0.1). */
  warmupSteps?: number;
  minLrRatio?: number;
  /** Global-norm gradient clipping (default 1; 0 = off). */
  clipGradNorm?: number;
  /** Seed of batch order, caption draws and dropout (default 0). */
  seed?: number;
  validation?: ValidationSet;
  /** Validate every this many steps (and at the end); default: at the end only. */
  evalEvery?: number;
  /** Trainer checkpoints go to `checkpointDir/trainer`, the best model by validation CIDEr to `checkpointDir/best`. */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** Continue from `checkpointDir`'s latest checkpoint (default true). */
  resume?: boolean;
  /** JSONL of per-step metrics. */
  metricsFile?: string;
  /** Load the best validated weights into `model` at the end (default true). */
  restoreBest?: boolean;
  onProgress?: (event: TrainProgressEvent) => void;
  onEvaluation?: (evaluation: VlmEvaluation) => void;
  abortSignal?: AbortSignal;
  log?: (message: string) => void;
  /** Backend request for `initBackend` (backend, threads, native); default: the active one or the automatic choice. */
  backend?: Omit<BackendOptions, 'log'>;
}

/** Validation scores at one training step. */
export interface VlmEvaluation {
  step: number;
  metrics: Record<string, number>;
}

/** What `trainVLM` did: steps, losses, time, backend and validation scores. */
export interface TrainVLMResult {
  steps: number;
  finalLoss: number;
  losses: number[];
  seconds: number;
  backend: string;
  /** True when the abort signal stopped the run (a checkpoint was written; call again to resume). */
  aborted: boolean;
  /** Step the run resumed from (0 when it started fresh). */
  resumedFrom: number;
  /** Caption tokens (words + EOS) trained on in this call. */
  tokens: number;
  evaluations: VlmEvaluation[];
  /** Best validation (by CIDEr), and where its checkpoint is when `checkpointDir` was given. */
  best?: VlmEvaluation & { checkpointDir?: string };
}

const TRAIN_VLM_KEYS = optionKeys<TrainVLMOptions>({
  model: true,
  real: true,
  synthetic: true,
  mix: true,
  syntheticSteps: true,
  steps: true,
  batchSize: true,
  lr: true,
  weightDecay: true,
  warmupSteps: true,
  minLrRatio: true,
  clipGradNorm: true,
  seed: true,
  validation: true,
  evalEvery: true,
  checkpointDir: true,
  checkpointEvery: true,
  resume: true,
  metricsFile: true,
  restoreBest: true,
  onProgress: true,
  onEvaluation: true,
  abortSignal: true,
  log: true,
  backend: true,
});
const PAIRS_KEYS = optionKeys<RealPairs>({ embeddings: true, captions: true });
const MIX_KEYS = optionKeys<MixRatio>({ real: true, synthetic: true });
const VALIDATION_KEYS = optionKeys<ValidationSet>({ embeddings: true, references: true, decode: true });
const BACKEND_KEYS = optionKeys<NonNullable<TrainVLMOptions['backend']>>({ backend: true, threads: true, native: true });

/** Rejects unknown keys of the options and of their nested objects, before any work. */
function rejectUnknownTrainOptions(options: TrainVLMOptions): void {
  const where = 'trainVLM';
  rejectUnknownOptions(options, TRAIN_VLM_KEYS, where);
  rejectUnknownOptions(options.real, PAIRS_KEYS, where, 'real');
  rejectUnknownOptions(options.synthetic, PAIRS_KEYS, where, 'synthetic');
  rejectUnknownOptions(options.mix, MIX_KEYS, where, 'mix');
  rejectUnknownOptions(options.validation, VALIDATION_KEYS, where, 'validation');
  rejectUnknownOptions(options.validation?.decode, DECODE_KEYS, where, 'validation.decode');
  rejectUnknownOptions(options.backend, BACKEND_KEYS, where, 'backend');
}

interface ValidationState {
  evaluations: VlmEvaluation[];
  best?: VlmEvaluation;
}

function positiveInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidInputError(`${field} must be a positive integer, got ${String(value)}.`, { field });
  }
  return value;
}

/**
 * Encodes caption lists with the model's vocabulary; unknown words, empty captions or images without captions are
 * an `InvalidInputError` naming the first offenders (nothing is trained).
 */
export function encodeCaptionLists(model: CaptioningVLM, captions: string[][], what: string): Int32Array[][] {
  const unknown = new Map<string, string>();
  const maxLen = model.architecture.maxCaptionLength;
  const out = captions.map((list, i) => {
    if (!Array.isArray(list) || list.length === 0) {
      throw new InvalidInputError(`${what}[${i}] has no captions; every image needs at least one.`, { field: what });
    }
    return list.map((text, k) => {
      if (typeof text !== 'string' || text.trim().length === 0) {
        throw new InvalidInputError(`${what}[${i}][${k}] is empty; drop it or write a caption.`, { field: what });
      }
      const enc = encodeWords(model.vocabulary, text);
      for (const w of enc.unknown) if (!unknown.has(w) && unknown.size < 10) unknown.set(w, `${what}[${i}][${k}]`);
      if (enc.ids.length === 0) {
        throw new InvalidInputError(`${what}[${i}][${k}] ("${text}") has no words after normalisation.`, { field: what });
      }
      return Int32Array.from(enc.ids.slice(0, maxLen));
    });
  });
  if (unknown.size > 0) {
    const list = [...unknown].map(([w, where]) => `"${w}" (${where})`).join(', ');
    throw new InvalidInputError(
      `${what} contain words outside the model's vocabulary: ${list}. Build the vocabulary from all training captions (human and synthetic) with Vocabulary.build from @synth2/core, or fix the captions.`,
      { field: what },
    );
  }
  return out;
}

function pairSet(model: CaptioningVLM, embeddings: EmbeddingsInput, captions: string[][], what: string): PairSet {
  const tokens = model.prepareEmbeddings(embeddings, `${what}.embeddings`);
  if (tokens.count === 0) {
    throw new InvalidInputError(`${what}.embeddings is empty; pass at least one image, or leave ${what} out.`, { field: `${what}.embeddings` });
  }
  if (!Array.isArray(captions) || captions.length !== tokens.count) {
    throw new InvalidInputError(
      `${what}.captions has ${Array.isArray(captions) ? captions.length : 'no'} entries for ${tokens.count} embeddings; give one caption list per image, in the same order.`,
      { field: `${what}.captions` },
    );
  }
  return { tokens, captions: encodeCaptionLists(model, captions, `${what}.captions`) };
}

/**
 * Trains a captioning VLM with teacher forcing on human pairs, synthetic pairs or a mix of both, through core's
 * trainer (AdamW, warmup + cosine, clipping, checkpoints, resume). With a validation set, captions it every
 * `evalEvery` steps, scores them with `@synth2/eval` and keeps the checkpoint with the best CIDEr.
 * All inputs are checked before anything is trained or written.
 */
export async function trainVLM(options: TrainVLMOptions): Promise<TrainVLMResult> {
  rejectUnknownTrainOptions(options);
  const { model } = options;
  if (!(model instanceof CaptioningVLM)) {
    throw new InvalidInputError('trainVLM: options.model must be a CaptioningVLM (CaptioningVLM.create(config)).', { field: 'model' });
  }
  const steps = positiveInt(options.steps, 'steps');
  const batchSize = positiveInt(options.batchSize, 'batchSize');
  const evalEvery = options.evalEvery === undefined ? steps : positiveInt(options.evalEvery, 'evalEvery');

  const real = options.real ? pairSet(model, options.real.embeddings, options.real.captions, 'real') : undefined;
  const synthetic = options.synthetic
    ? pairSet(
        model,
        options.synthetic.embeddings,
        Array.isArray(options.synthetic.captions)
          ? options.synthetic.captions.map((c) => (Array.isArray(c) ? c : [c]))
          : (options.synthetic.captions as never),
        'synthetic',
      )
    : undefined;
  if (!real && !synthetic) {
    throw new InvalidInputError('trainVLM needs training pairs: pass real (human) pairs, synthetic pairs, or both.', { field: 'real' });
  }
  const mix = resolveMix(options.mix, { real: real?.captions.length ?? 0, synthetic: synthetic?.captions.length ?? 0 });

  let validation: { tokens: EmbeddingsInput; references: Record<string, string[]>; decode: DecodeOptions } | undefined;
  if (options.validation) {
    const v = options.validation;
    const table = model.prepareEmbeddings(v.embeddings, 'validation.embeddings');
    if (table.count === 0) throw new InvalidInputError('validation.embeddings is empty; pass images or leave validation out.', { field: 'validation' });
    if (!Array.isArray(v.references) || v.references.length !== table.count || v.references.some((r) => !Array.isArray(r) || r.length === 0)) {
      throw new InvalidInputError(
        `validation.references must hold one non-empty list of reference captions per image (${table.count}).`,
        { field: 'validation.references' },
      );
    }
    // keep the original layout: caption() regroups itself
    validation = {
      tokens: v.embeddings,
      references: Object.fromEntries(v.references.map((r, i) => [String(i), r])),
      decode: v.decode ?? { strategy: 'greedy' },
    };
  }

  const log = options.log ?? (() => undefined);
  await initBackend({ ...options.backend, log });
  const vocab = model.vocabulary;
  const data = captionBatches({
    real,
    synthetic,
    mix,
    batchSize,
    special: SPECIAL_IDS,
    seed: options.seed ?? 0,
    syntheticBatches: options.syntheticSteps,
  });

  const dir = options.checkpointDir;
  const stateFile = dir ? join(dir, 'validation.json') : undefined;
  const bestDir = dir ? join(dir, 'best') : undefined;
  const state: ValidationState =
    stateFile && options.resume !== false && existsSync(stateFile) ? ((await readJson(stateFile)) as ValidationState) : { evaluations: [] };
  let bestInMemory: tf.Tensor[] | undefined;
  let tokens = 0;
  const net = model.network;
  const vocabSize = vocab.size;

  const evaluate = async (step: number): Promise<Record<string, number>> => {
    const predictions = await model.caption(validation!.tokens, validation!.decode);
    const scored = await evaluateCaptions({
      references: validation!.references,
      predictions: Object.fromEntries(predictions.map((p, i) => [String(i), p])),
    });
    const metrics = { ...(scored.metrics as Record<string, number>) };
    // an evaluation replayed after a resume replaces the one recorded before the interruption
    state.evaluations = state.evaluations.filter((e) => e.step < step);
    const evaluation = { step, metrics };
    state.evaluations.push(evaluation);
    if (state.best && state.best.step >= step) state.best = undefined;
    if (!state.best || metrics.CIDEr > state.best.metrics.CIDEr) {
      state.best = evaluation;
      if (bestDir) {
        await saveCheckpoint(bestDir, net, { ...model.checkpointConfig(), step, metrics });
      } else {
        bestInMemory?.forEach((t) => t.dispose());
        bestInMemory = net.trainableVariables().map((v) => tf.clone(v));
      }
    }
    if (stateFile) await writeJsonAtomic(stateFile, state);
    options.onEvaluation?.(evaluation);
    log(`validation at step ${step}: CIDEr ${metrics.CIDEr?.toFixed(4)} (best ${state.best!.metrics.CIDEr.toFixed(4)} at step ${state.best!.step})`);
    return metrics;
  };

  const result = await train({
    module: net,
    data,
    steps,
    loss: (batch, ctx) => {
      tokens += batch.targets;
      const image = tf.tensor3d(batch.tokens, [batch.size, batch.tokenCount, batch.tokenWidth]);
      const latents = net.encode(image, { training: true, rng: ctx.rng });
      const ids = batch.ids ?? tf.tensor2d(batch.input, [batch.size, batch.length], 'int32');
      const logits = net.decoder.apply(ids, latents, { training: true, rng: ctx.rng });
      return crossEntropy(
        tf.reshape(logits, [batch.size * batch.length, vocabSize]),
        tf.tensor1d(batch.target, 'int32'),
        tf.tensor1d(batch.weights),
      );
    },
    optimizer: { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 0.01 },
    schedule: { warmupSteps: options.warmupSteps ?? Math.round(steps * 0.05), minLrRatio: options.minLrRatio ?? 0.1 },
    clipGradNorm: options.clipGradNorm ?? 1,
    seed: options.seed ?? 0,
    checkpointDir: dir ? join(dir, 'trainer') : undefined,
    modelConfig: model.checkpointConfig(),
    checkpointEvery: options.checkpointEvery,
    resume: options.resume ?? true,
    metricsFile: options.metricsFile,
    evalEvery: validation ? evalEvery : undefined,
    onEval: validation ? evaluate : undefined,
    onProgress: options.onProgress,
    abortSignal: options.abortSignal,
    backend: options.backend,
    log,
  });

  if (validation && !result.aborted && !state.evaluations.some((e) => e.step === result.steps)) {
    await evaluate(result.steps);
  }
  if (validation && options.restoreBest !== false && state.best) {
    if (bestDir && existsSync(join(bestDir, 'model.safetensors'))) {
      await loadCheckpoint(bestDir, net);
    } else if (bestInMemory) {
      net.trainableVariables().forEach((v, i) => v.assign(bestInMemory![i]));
    }
  }
  bestInMemory?.forEach((t) => t.dispose());

  return {
    steps: result.steps,
    finalLoss: result.finalLoss,
    losses: result.losses,
    seconds: result.seconds,
    backend: result.backend,
    aborted: result.aborted,
    resumedFrom: result.resumedFrom,
    tokens,
    evaluations: state.evaluations,
    best: state.best ? { ...state.best, checkpointDir: bestDir } : undefined,
  };
}
