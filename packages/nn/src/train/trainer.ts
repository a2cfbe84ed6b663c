import * as tf from '@tensorflow/tfjs-core';
import { appendFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  CheckpointMismatchError,
  ConfigurationError,
  InvalidInputError,
  Synth2Error,
  readSafetensors,
  writeSafetensors,
  writeFileAtomic,
  writeJsonAtomic,
  Rng,
  type RngState,
} from '@synth2/core';
import { assignTensors, checkTensorsFit, loadCheckpoint, tensorsToWrite, writeCheckpointFiles } from '../nn/checkpoint';
import { writeDirAtomic } from '../nn/checkpoint-dir';
import type { Module } from '../nn/module';
import { describeBackend, initBackend, BACKEND_NAMES, type BackendInfo, type BackendOptions } from '../tf/backend';
import { AdamW, type AdamWOptions } from './adamw';
import type { BatchSource } from './batch-source';
import { globalNormScale } from './clip';
import { learningRateAt, type ScheduleOptions } from './schedule';

/** Progress of a training run, passed to `onProgress`. */
export interface TrainProgressEvent {
  /** Steps completed (1-based). */
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  stepsPerSec: number;
  /** Items per second, when the batch size is known. */
  itemsPerSec?: number;
  etaSeconds: number;
}

/** What the loss function gets besides the batch: step, seeded random source, training flag. */
export interface TrainLossContext {
  /** 0-based index of the step being computed. */
  step: number;
  /** Seeded random source for the loss (dropout masks…); restored on resume. */
  rng: Rng;
  training: true;
}

/** Options of `train`. */
export interface TrainerOptions<Batch> {
  /** Whose trainable variables are optimized. */
  module: Module;
  /** Called inside the step's `tf.tidy`; must return a scalar. */
  loss: (batch: Batch, ctx: TrainLossContext) => tf.Scalar;
  data: BatchSource<Batch>;
  /** Total optimizer steps (a resumed run continues up to this). */
  steps: number;
  /** AdamW; defaults lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8, weightDecay 0.01 (on rank ≥ 2 weights). */
  optimizer?: AdamWOptions;
  /** Linear warmup (default 0 steps) then cosine to `lr · minLrRatio` (default 0.1). */
  schedule?: ScheduleOptions;
  /** Global-norm gradient clipping (default 1.0; 0 = off). */
  clipGradNorm?: number;
  /** Micro-batches per optimizer step; their gradients are averaged (default 1). */
  accumulate?: number;
  /** Seed of the trainer's random streams (data and loss; default 0). */
  seed?: number;
  /** Where trainer checkpoints live: `step-NNNNNNNN/` directories and `latest.json`. */
  checkpointDir?: string;
  /** Checkpoint every N steps (and always at the end, and when aborted). */
  checkpointEvery?: number;
  /** Continue from `checkpointDir`'s latest checkpoint (default true). */
  resume?: boolean;
  /** How many step checkpoints to keep (default 2). */
  keepCheckpoints?: number;
  /** Written as each checkpoint's `config.json` (so `loadCheckpoint`/`readCheckpointConfig` work on it). */
  modelConfig?: unknown;
  /** JSONL, one line per step: `{ step, loss, lr, gradNorm, stepsPerSec, itemsPerSec, time }`; evals as `{ step, eval }`. */
  metricsFile?: string;
  evalEvery?: number;
  onEval?: (step: number) => Promise<Record<string, number> | void> | Record<string, number> | void;
  onProgress?: (event: TrainProgressEvent) => void;
  /** Stops cleanly after the current step; a checkpoint is written and the result has `aborted: true`. */
  abortSignal?: AbortSignal;
  /** Default `console.error`. The backend in use is logged at the start of every run. */
  log?: (msg: string) => void;
  /** Backend request passed to `initBackend` (default: keep the active wasm/cpu backend, else choose automatically). */
  backend?: Omit<BackendOptions, 'log'>;
  /** Items per batch for the items/s metric (default: `data.batchSize`). */
  itemsPerBatch?: number;
}

/** What a training run did: steps, losses and time. */
export interface TrainResult {
  /** Steps completed in total (including those before a resume). */
  steps: number;
  finalLoss: number;
  /** Loss of every step from the first (restored from the checkpoint on resume). */
  losses: number[];
  /** Wall time of this call. */
  seconds: number;
  /** The tfjs backend (`wasm`, `cpu`, `tensorflow`). */
  backend: string;
  backendInfo: BackendInfo;
  aborted: boolean;
  /** Step the run resumed from (0 when it started fresh). */
  resumedFrom: number;
  evals: { step: number; metrics: Record<string, number> }[];
  /** The last checkpoint written or loaded, if any. */
  checkpoint?: string;
}

const FORMAT = 'synth2-trainer-v1';
const STATE_FILE = 'trainer-state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';
const LATEST_FILE = 'latest.json';
const STEP_DIR = /^step-(\d{8})$/;

interface TrainerState {
  format: typeof FORMAT;
  step: number;
  steps: number;
  seed: number;
  optimizerStep: number;
  rng: { data: RngState; loss: RngState };
  data: unknown;
  losses: number[];
  evals: { step: number; metrics: Record<string, number> }[];
}

const stepDirName = (step: number): string => `step-${String(step).padStart(8, '0')}`;

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Path of the newest complete trainer checkpoint in `checkpointDir`, or undefined. */
export async function latestCheckpoint(checkpointDir: string): Promise<string | undefined> {
  try {
    const latest = JSON.parse(await readFile(join(checkpointDir, LATEST_FILE), 'utf8')) as { dir?: unknown };
    if (typeof latest.dir === 'string' && STEP_DIR.test(latest.dir) && (await exists(join(checkpointDir, latest.dir, STATE_FILE)))) {
      return join(checkpointDir, latest.dir);
    }
  } catch {
    // no or unreadable pointer: scan
  }
  const names = (await readdir(checkpointDir).catch(() => [] as string[])).filter((n) => STEP_DIR.test(n)).sort().reverse();
  for (const n of names) if (await exists(join(checkpointDir, n, STATE_FILE))) return join(checkpointDir, n);
  return undefined;
}

function check(cond: boolean, message: string, setting: string): void {
  if (!cond) throw new ConfigurationError(message, { setting });
}

function validate<Batch>(o: TrainerOptions<Batch>): void {
  check(o.module != null && typeof o.module.parameters === 'function', 'train: options.module must be an nn Module', 'module');
  check(typeof o.loss === 'function', 'train: options.loss must be a function (batch, ctx) => scalar', 'loss');
  check(o.data != null && typeof o.data.next === 'function', 'train: options.data must be a BatchSource (next/getState/setState)', 'data');
  check(Number.isInteger(o.steps) && o.steps > 0, `train: steps must be a positive integer, got ${String(o.steps)}`, 'steps');
  const acc = o.accumulate ?? 1;
  check(Number.isInteger(acc) && acc >= 1, `train: accumulate must be an integer ≥ 1, got ${String(o.accumulate)}`, 'accumulate');
  const clip = o.clipGradNorm ?? 1;
  check(Number.isFinite(clip) && clip >= 0, `train: clipGradNorm must be ≥ 0 (0 = off), got ${String(o.clipGradNorm)}`, 'clipGradNorm');
  const lr = o.optimizer?.lr ?? 1e-3;
  check(Number.isFinite(lr) && lr > 0, `train: optimizer.lr must be > 0, got ${String(o.optimizer?.lr)}`, 'optimizer.lr');
  for (const key of ['checkpointEvery', 'evalEvery'] as const) {
    const v = o[key];
    check(v === undefined || (Number.isInteger(v) && v > 0), `train: ${key} must be a positive integer, got ${String(v)}`, key);
  }
  check(!(o.checkpointEvery && !o.checkpointDir), 'train: checkpointEvery needs checkpointDir', 'checkpointDir');
  const w = o.schedule?.warmupSteps ?? 0;
  check(Number.isFinite(w) && w >= 0, `train: schedule.warmupSteps must be ≥ 0, got ${String(w)}`, 'schedule.warmupSteps');
  const m = o.schedule?.minLrRatio ?? 0.1;
  check(Number.isFinite(m) && m >= 0 && m <= 1, `train: schedule.minLrRatio must be in [0, 1], got ${String(m)}`, 'schedule.minLrRatio');
}

async function prepareBackend(request: TrainerOptions<unknown>['backend']): Promise<BackendInfo> {
  if (request) return initBackend({ ...request });
  const active = (tf.engine() as { backendName?: string | null }).backendName;
  if (active && (BACKEND_NAMES as readonly string[]).includes(active) && active !== 'tensorflow') {
    return initBackend({ backend: active as 'wasm' | 'cpu' });
  }
  return initBackend({});
}

/**
 * Trains `module` with AdamW on batches from `data`: warmup + cosine schedule, global-norm clipping, gradient
 * accumulation, periodic and final checkpoints (model + optimizer + RNG + data position, written atomically),
 * resume that reproduces the uninterrupted run's losses exactly, JSONL metrics, progress events, periodic
 * evaluation and clean stops on `abortSignal`.
 */
export async function train<Batch>(options: TrainerOptions<Batch>): Promise<TrainResult> {
  validate(options);
  const log = options.log ?? ((msg: string) => console.error(msg));
  const started = performance.now();
  const info = await prepareBackend(options.backend as TrainerOptions<unknown>['backend']);
  log(`[synth2 train] ${describeBackend(info)}`);

  const { module, data, steps } = options;
  const accumulate = options.accumulate ?? 1;
  const clip = options.clipGradNorm ?? 1;
  const baseLr = options.optimizer?.lr ?? 1e-3;
  const seed = options.seed ?? 0;
  const itemsPerBatch = options.itemsPerBatch ?? data.batchSize;
  const trainable = new Map([...module.parameters()].filter(([, v]) => v.trainable));
  if (trainable.size === 0) throw new ConfigurationError('train: the module has no trainable parameters', { setting: 'module' });
  const vars = [...trainable.values()];
  const master = new Rng(seed);
  const dataRng = master.fork('data');
  const lossRng = master.fork('loss');
  const optimizer = new AdamW(trainable, options.optimizer);

  let losses: number[] = [];
  let evals: TrainResult['evals'] = [];
  let step = 0;
  let checkpoint: string | undefined;
  const cpDir = options.checkpointDir;

  try {
    if (cpDir) {
      await mkdir(cpDir, { recursive: true });
      // temp directories of saves that never finished (a crash mid-write) are garbage
      for (const n of await readdir(cpDir)) if (/^\.step-\d{8}\.(tmp|old)-/.test(n)) await rm(join(cpDir, n), { recursive: true, force: true });
      const latest = options.resume === false ? undefined : await latestCheckpoint(cpDir);
      if (latest) {
        const state = await readState(join(latest, STATE_FILE));
        await loadCheckpoint(latest, module);
        const opt = await readSafetensors(join(latest, OPTIMIZER_FILE));
        const optTensors = optimizer.stateTensors();
        checkTensorsFit(opt, optTensors, `optimizer state ${join(latest, OPTIMIZER_FILE)}`);
        assignTensors(opt, optTensors);
        optimizer.t = state.optimizerStep;
        dataRng.setState(state.rng.data);
        lossRng.setState(state.rng.loss);
        data.setState(state.data);
        losses = state.losses.slice(0, state.step);
        evals = state.evals.filter((e) => e.step <= state.step);
        step = state.step;
        checkpoint = latest;
        if (state.seed !== seed) log(`[synth2 train] note: checkpoint was made with seed ${state.seed}, this run asks for ${seed}; continuing with the checkpoint's streams`);
        log(`[synth2 train] resumed from ${latest} at step ${step}/${steps}`);
      }
    }
    const resumedFrom = step;
    if (options.metricsFile) await prepareMetrics(options.metricsFile, step);

    const save = async (): Promise<void> => {
      if (!cpDir) return;
      const name = stepDirName(step);
      const state: TrainerState = {
        format: FORMAT,
        step,
        steps,
        seed,
        optimizerStep: optimizer.t,
        rng: { data: dataRng.getState(), loss: lossRng.getState() },
        data: data.getState(),
        losses,
        evals,
      };
      const stateText = JSON.stringify(state);
      await writeDirAtomic(join(cpDir, name), async (tmp) => {
        await writeCheckpointFiles(tmp, module, options.modelConfig ?? {});
        await writeSafetensors(join(tmp, OPTIMIZER_FILE), await tensorsToWrite(optimizer.stateTensors()), { format: FORMAT });
        await writeFileAtomic(join(tmp, STATE_FILE), stateText);
      });
      await writeJsonAtomic(join(cpDir, LATEST_FILE), { step, dir: name });
      checkpoint = join(cpDir, name);
      const keep = Math.max(1, options.keepCheckpoints ?? 2);
      const old = (await readdir(cpDir)).filter((n) => STEP_DIR.test(n) && n !== name).sort().reverse();
      for (const n of old.slice(keep - 1)) await rm(join(cpDir, n), { recursive: true, force: true });
    };

    const durations: number[] = [];
    let aborted = options.abortSignal?.aborted ?? false;
    let lastSaved = cpDir && checkpoint ? step : -1;
    while (step < steps && !aborted) {
      const t0 = performance.now();
      const lr = learningRateAt(step, steps, baseLr, options.schedule);
      const ctx: TrainLossContext = { step, rng: lossRng, training: true };
      const [lossT, normT] = tf.tidy(() => {
        let acc: tf.Tensor[] | undefined;
        let lossSum: tf.Tensor | undefined;
        for (let micro = 0; micro < accumulate; micro++) {
          const batch = data.next(dataRng);
          const { value, grads } = tf.variableGrads(() => {
            const l = options.loss(batch, ctx);
            if (!(l instanceof tf.Tensor) || l.rank !== 0) {
              throw new InvalidInputError(`train: loss must return a scalar tensor, got ${l instanceof tf.Tensor ? `shape [${l.shape}]` : typeof l}`);
            }
            return l;
          }, vars);
          const g = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
          acc = acc ? acc.map((a, i) => tf.add(a, g[i])) : g;
          lossSum = lossSum ? tf.add(lossSum, value) : value;
        }
        let gradsAll: tf.Tensor[] = acc!;
        let loss = lossSum!;
        if (accumulate > 1) {
          gradsAll = gradsAll.map((g) => tf.div(g, accumulate));
          loss = tf.div(loss, accumulate);
        }
        const { norm, scale } = globalNormScale(gradsAll, clip);
        optimizer.apply(gradsAll, lr, scale);
        return [loss, tf.scalar(norm)];
      });
      const [lossV, normV] = await Promise.all([lossT.data(), normT.data()]);
      tf.dispose([lossT, normT]);
      const loss = lossV[0];
      const gradNorm = normV[0];
      if (!Number.isFinite(loss)) {
        throw new Synth2Error(
          `train: the loss became ${loss} at step ${step + 1}; lower optimizer.lr, check the inputs, or keep clipGradNorm on. The last checkpoint is untouched.`,
          { code: 'non_finite_loss' },
        );
      }
      step += 1;
      losses.push(loss);
      durations.push((performance.now() - t0) / 1000);
      if (durations.length > 20) durations.shift();
      const secPerStep = durations.reduce((a, b) => a + b, 0) / durations.length;
      const stepsPerSec = 1 / secPerStep;
      const itemsPerSec = itemsPerBatch ? stepsPerSec * itemsPerBatch * accumulate : undefined;
      if (options.metricsFile) {
        await appendFile(
          options.metricsFile,
          `${JSON.stringify({ step, loss, lr, gradNorm, stepsPerSec, itemsPerSec: itemsPerSec ?? null, time: new Date().toISOString() })}\n`,
        );
      }
      options.onProgress?.({ step, steps, loss, lr, gradNorm, stepsPerSec, itemsPerSec, etaSeconds: (steps - step) * secPerStep });
      if (options.onEval && ((options.evalEvery && step % options.evalEvery === 0) || step === steps)) {
        const metrics = await options.onEval(step);
        if (metrics) {
          evals.push({ step, metrics });
          if (options.metricsFile) await appendFile(options.metricsFile, `${JSON.stringify({ step, eval: metrics })}\n`);
        }
      }
      await new Promise<void>((r) => setImmediate(r)); // lets an abort signal fire between steps
      aborted = options.abortSignal?.aborted ?? false;
      if (cpDir && (step === steps || aborted || (options.checkpointEvery && step % options.checkpointEvery === 0))) {
        await save();
        lastSaved = step;
      }
    }
    if (cpDir && lastSaved !== step && step > resumedFrom) {
      await save();
    }
    if (aborted) log(`[synth2 train] stopped by the abort signal after step ${step}/${steps}${checkpoint ? `; checkpoint ${checkpoint}` : ''}`);
    return {
      steps: step,
      finalLoss: losses.length > 0 ? losses[losses.length - 1] : Number.NaN,
      losses,
      seconds: (performance.now() - started) / 1000,
      backend: info.tfBackend,
      backendInfo: info,
      aborted,
      resumedFrom,
      evals,
      checkpoint,
    };
  } finally {
    optimizer.dispose();
  }
}

async function readState(file: string): Promise<TrainerState> {
  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(file, 'utf8')) as TrainerState;
  } catch (error) {
    throw new CheckpointMismatchError(`trainer state ${file} is unreadable (${(error as Error).message}); delete that checkpoint directory to fall back to an older one`, {
      cause: error,
    });
  }
  if (state?.format !== FORMAT || !Number.isInteger(state.step) || !Array.isArray(state.losses) || !state.rng?.data || !state.rng?.loss) {
    throw new CheckpointMismatchError(`trainer state ${file} is not a ${FORMAT} file; point checkpointDir at a directory written by train()`);
  }
  return state;
}

/** Fresh run: truncate the metrics file. Resume at `step`: keep only the lines of steps ≤ `step`. */
async function prepareMetrics(file: string, step: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  if (step === 0) {
    await writeFileAtomic(file, '');
    return;
  }
  const text = await readFile(file, 'utf8').catch(() => '');
  const kept = text
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        return (JSON.parse(line) as { step?: number }).step! <= step;
      } catch {
        return false;
      }
    })
    .map((l) => `${l}\n`)
    .join('');
  await writeFileAtomic(file, kept);
}
