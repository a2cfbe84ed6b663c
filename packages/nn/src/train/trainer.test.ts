import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readdir, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointMismatchError, ConfigurationError } from '@synth2/core';
import { loadCheckpoint, readCheckpointConfig } from '../nn/checkpoint';
import { initBackend } from '../tf/backend';
import { latestCheckpoint, train, type TrainerOptions, type TrainProgressEvent } from './trainer';
import { CHARS, TinyLM, lmData, lmLoss, windows, type LMBatch, type TinyLMConfig } from './test-lm';

const SEQ = 12;
const base: TinyLMConfig = { vocab: CHARS.length, dim: 32, layers: 2, heads: 2, seq: SEQ };
const quiet = () => undefined;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'synth2-train-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function options(model: TinyLM, extra: Partial<TrainerOptions<LMBatch>> = {}): TrainerOptions<LMBatch> {
  return {
    module: model,
    loss: lmLoss(model),
    data: lmData(SEQ, 8),
    steps: 10,
    optimizer: { lr: 3e-3 },
    schedule: { warmupSteps: 3 },
    log: quiet,
    ...extra,
  };
}

/** Share of next-character predictions the model gets right on all corpus windows. */
function accuracy(model: TinyLM): number {
  const all = windows(SEQ);
  return tf.tidy(() => {
    const ids = tf.tensor2d(all.map((w) => w.slice(0, SEQ)), [all.length, SEQ], 'int32');
    const pred = tf.argMax(model.logits(ids), 1).dataSync();
    const targets = all.flatMap((w) => w.slice(1));
    return targets.filter((t, i) => pred[i] === t).length / targets.length;
  });
}

describe.each(['wasm', 'cpu'] as const)('train on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it('should make a tiny transformer LM overfit a tiny corpus', async () => {
    const model = new TinyLM(base, 1);
    const before = accuracy(model);
    const lines: string[] = [];
    const result = await train(options(model, { steps: 120, optimizer: { lr: 1e-2, weightDecay: 0 }, log: (m) => lines.push(m) }));
    expect(result.backend).toBe(backend);
    expect(lines[0]).toMatch(new RegExp(`backend ${backend}`));
    expect(result.losses).toHaveLength(120);
    expect(result.losses[0]).toBeGreaterThan(2.5);
    console.info(`${backend}: loss ${result.losses[0].toFixed(3)} → ${result.finalLoss.toFixed(3)} in ${result.seconds.toFixed(1)} s`);
    const tail = result.losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(tail).toBeLessThan(0.35);
    expect(before).toBeLessThan(0.2);
    expect(accuracy(model)).toBeGreaterThan(0.9);
    model.dispose();
  });
});

describe('train', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('should resume from a checkpoint to exactly the losses of an uninterrupted run', async () => {
    const cfg = { ...base, dropout: 0.1 };
    const common = { steps: 12, accumulate: 2, checkpointEvery: 4, seed: 3, modelConfig: cfg };
    const full = new TinyLM(cfg, 1);
    const uninterrupted = await train(options(full, { ...common, checkpointDir: join(root, 'full') }));

    const dir = join(root, 'resumed');
    const first = new TinyLM(cfg, 1);
    const controller = new AbortController();
    const stopped = await train(
      options(first, { ...common, checkpointDir: dir, abortSignal: controller.signal, onProgress: (e) => e.step === 6 && controller.abort() }),
    );
    expect(stopped.aborted).toBe(true);
    expect(stopped.steps).toBe(6);
    expect(await latestCheckpoint(dir)).toBe(join(dir, 'step-00000006'));
    first.dispose();

    const second = new TinyLM(cfg, 99); // a different init: everything must come from the checkpoint
    const resumed = await train(options(second, { ...common, checkpointDir: dir }));
    expect(resumed.resumedFrom).toBe(6);
    expect(resumed.losses).toEqual(uninterrupted.losses);
    for (const [name, v] of full.parameters()) {
      expect(Buffer.from(second.parameters().get(name)!.dataSync().buffer), name).toEqual(Buffer.from(v.dataSync().buffer));
    }
    // the final checkpoint is an ordinary model checkpoint too
    expect(await readCheckpointConfig(resumed.checkpoint!)).toEqual(cfg);
    const reloaded = new TinyLM(cfg, 5);
    await loadCheckpoint(resumed.checkpoint!, reloaded);
    expect(reloaded.head.weight.dataSync()).toEqual(full.head.weight.dataSync());
    expect((await readdir(dir)).filter((n) => n.startsWith('step-')).sort()).toEqual(['step-00000008', 'step-00000012']);
    for (const m of [full, second, reloaded]) m.dispose();
  });

  it('should keep the last good checkpoint when a checkpoint write fails, and resume from it', async () => {
    const dir = join(root, 'interrupted');
    const reference = new TinyLM(base, 2);
    const ref = await train(options(reference, { steps: 8, checkpointDir: join(root, 'interrupted-ref') }));
    reference.dispose();

    const model = new TinyLM(base, 2);
    const data = lmData(SEQ, 8);
    const getState = data.getState.bind(data);
    let saves = 0;
    data.getState = () => {
      saves += 1;
      if (saves === 2) throw new Error('disk full (simulated)');
      return getState();
    };
    await expect(train(options(model, { steps: 8, checkpointEvery: 3, checkpointDir: dir, data }))).rejects.toThrow(/disk full/);
    expect(await latestCheckpoint(dir)).toBe(join(dir, 'step-00000003'));
    expect((await readdir(dir)).sort()).toEqual(['latest.json', 'step-00000003']);
    // a crash mid-write leaves a temp directory behind: it is ignored and cleaned up
    await mkdir(join(dir, '.step-00000006.tmp-1-deadbeef'));
    await writeFile(join(dir, '.step-00000006.tmp-1-deadbeef', 'model.safetensors'), 'partial');
    model.dispose();

    const again = new TinyLM(base, 7);
    const resumed = await train(options(again, { steps: 8, checkpointEvery: 3, checkpointDir: dir }));
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.losses).toEqual(ref.losses);
    expect((await readdir(dir)).some((n) => n.includes('.tmp-'))).toBe(false);
    again.dispose();
  });

  it('should keep tf.memory().numTensors flat over steps', async () => {
    const model = new TinyLM({ ...base, dropout: 0.1 }, 3);
    const counts: number[] = [];
    await train(options(model, { steps: 12, accumulate: 2, onProgress: () => counts.push(tf.memory().numTensors) }));
    expect(new Set(counts.slice(1)).size).toBe(1);
    model.dispose();
  });

  it('should write metrics JSONL, emit progress events and run evaluations', async () => {
    const model = new TinyLM(base, 4);
    const metricsFile = join(root, 'metrics', 'm.jsonl');
    const events: TrainProgressEvent[] = [];
    const evalSteps: number[] = [];
    const result = await train(
      options(model, {
        steps: 6,
        metricsFile,
        evalEvery: 4,
        onEval: (step) => {
          evalSteps.push(step);
          return { accuracy: accuracy(model) };
        },
        onProgress: (e) => events.push(e),
      }),
    );
    const lines = (await readFile(metricsFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const stepLines = lines.filter((l) => 'loss' in l);
    expect(stepLines.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stepLines.map((l) => l.loss)).toEqual(result.losses);
    for (const l of stepLines) {
      expect(l.lr).toBeGreaterThan(0);
      expect(l.gradNorm).toBeGreaterThan(0);
      expect(l.stepsPerSec).toBeGreaterThan(0);
      expect(l.itemsPerSec).toBeCloseTo(l.stepsPerSec * 8, 6);
      expect(Number.isNaN(Date.parse(l.time))).toBe(false);
    }
    expect(lines.filter((l) => 'eval' in l).map((l) => l.step)).toEqual([4, 6]);
    expect(evalSteps).toEqual([4, 6]);
    expect(result.evals.map((e) => e.step)).toEqual([4, 6]);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[5]).toMatchObject({ steps: 6, etaSeconds: 0 });
    expect(events[0].lr).toBeCloseTo(1e-3, 9); // warmup 1/3 of 3e-3
    model.dispose();
  });

  it('should average gradients over accumulated micro-batches', async () => {
    const a = new TinyLM(base, 5);
    const b = new TinyLM(base, 5);
    const one = await train(options(a, { steps: 4, data: lmData(SEQ, 8) }));
    const two = await train(options(b, { steps: 4, data: lmData(SEQ, 4), accumulate: 2 }));
    one.losses.forEach((l, i) => expect(two.losses[i]).toBeCloseTo(l, 4));
    a.dispose();
    b.dispose();
  });

  it('should stop before the first step when already aborted', async () => {
    const model = new TinyLM(base, 6);
    const controller = new AbortController();
    controller.abort();
    const result = await train(options(model, { abortSignal: controller.signal, checkpointDir: join(root, 'pre-aborted') }));
    expect(result).toMatchObject({ aborted: true, steps: 0, losses: [] });
    expect(await latestCheckpoint(join(root, 'pre-aborted'))).toBeUndefined();
    model.dispose();
  });

  it('should refuse bad options with a ConfigurationError that names the setting', async () => {
    const model = new TinyLM(base, 6);
    for (const [extra, message] of [
      [{ steps: 0 }, /steps must be a positive integer/],
      [{ accumulate: 0 }, /accumulate must be an integer ≥ 1/],
      [{ clipGradNorm: -1 }, /clipGradNorm must be ≥ 0/],
      [{ checkpointEvery: 2 }, /checkpointEvery needs checkpointDir/],
      [{ optimizer: { lr: 0 } }, /optimizer.lr must be > 0/],
      [{ schedule: { minLrRatio: 2 } }, /minLrRatio must be in \[0, 1\]/],
    ] as const) {
      const err = await train(options(model, extra as Partial<TrainerOptions<LMBatch>>)).catch((e) => e);
      expect(ConfigurationError.isInstance(err)).toBe(true);
      expect(err.message).toMatch(message);
    }
    await expect(train(options(model, { loss: () => tf.zeros([2]) as unknown as tf.Scalar }))).rejects.toThrow(/loss must return a scalar tensor, got shape \[2\]/);
    model.dispose();
  });

  it('should refuse to resume into a model that does not fit the checkpoint', async () => {
    const dir = join(root, 'mismatch');
    const small = new TinyLM(base, 1);
    await train(options(small, { steps: 2, checkpointDir: dir }));
    const wide = new TinyLM({ ...base, dim: 48 }, 1);
    const err = await train(options(wide, { steps: 4, checkpointDir: dir })).catch((e) => e);
    expect(CheckpointMismatchError.isInstance(err)).toBe(true);
    expect(err.message).toMatch(/tensor "lm.tok.weight" has shape \[\d+,32\] but the model expects \[\d+,48\]/);
    small.dispose();
    wide.dispose();
  });
});
