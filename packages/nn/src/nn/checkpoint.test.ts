import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointMismatchError, InvalidInputError, Rng, parseSafetensors, serializeSafetensors, type TensorToWrite } from '@synth2/core';
import { loadCheckpoint, loadCheckpointExtras, readCheckpointConfig, saveCheckpoint } from './checkpoint';
import { Embedding } from './embedding';
import { LayerNorm } from './layer-norm';
import { Linear } from './linear';
import { Module } from './module';
import { TransformerBlock } from './transformer-block';
import { randomTensor, useBackend } from './test-utils';

interface TinyConfig {
  vocab: number;
  dim: number;
  layers: number;
}

class TinyLM extends Module {
  readonly tok: Embedding;
  readonly blocks: TransformerBlock[] = [];
  readonly ln: LayerNorm;
  readonly head: Linear;
  readonly steps: tf.Variable;
  constructor(readonly config: TinyConfig, seed = 0) {
    super('lm', { rng: new Rng(seed) });
    const rng = this.rng;
    this.tok = this.child('tok', new Embedding('tok', { vocabSize: config.vocab, dim: config.dim, rng }));
    for (let i = 0; i < config.layers; i++) {
      this.blocks.push(this.child(`blocks.${i}`, new TransformerBlock('b', { dim: config.dim, heads: 2, rng })));
    }
    this.ln = this.child('ln', new LayerNorm('ln', { dim: config.dim }));
    this.head = this.child('head', new Linear('head', { inDim: config.dim, outDim: config.vocab, rng }));
    this.steps = this.param('steps', [1], { kind: 'zeros' }, { dtype: 'int32', trainable: false });
  }
  apply(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = this.tok.apply(ids);
      for (const b of this.blocks) h = b.apply(h, { causal: true });
      return this.head.apply(this.ln.apply(h));
    });
  }
}

let root: string;
beforeAll(async () => {
  await useBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'synth2-ckpt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const ids = () => tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 0]], [2, 4], 'int32');

describe('saveCheckpoint / loadCheckpoint', () => {
  it('should reload a model to bit-identical outputs', async () => {
    const config = { vocab: 11, dim: 8, layers: 2 };
    const a = new TinyLM(config, 1);
    // perturb away from the init so a reload that silently re-inits would be caught
    for (const v of a.trainableVariables()) tf.tidy(() => v.assign(tf.add(v, randomTensor(v.shape, v.size, 0.1))));
    tf.tidy(() => a.steps.assign(tf.tensor1d([42], 'int32')));
    const dir = join(root, 'bit');
    await saveCheckpoint(dir, a, config);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(await readCheckpointConfig(dir)).toEqual(config);
    const b = new TinyLM((await readCheckpointConfig(dir)) as TinyConfig, 2);
    const { config: loaded } = await loadCheckpoint(dir, b);
    expect(loaded).toEqual(config);
    const ya = a.apply(ids());
    const yb = b.apply(ids());
    expect(Buffer.from((await yb.data()).buffer)).toEqual(Buffer.from((await ya.data()).buffer));
    expect(b.steps.dataSync()[0]).toBe(42);
    for (const [name, v] of a.parameters()) {
      expect(Buffer.from(b.parameters().get(name)!.dataSync().buffer), name).toEqual(Buffer.from(v.dataSync().buffer));
    }
    tf.dispose([ya, yb]);
    a.dispose();
    b.dispose();
  });

  it('should store extra tensors beside the parameters', async () => {
    const a = new TinyLM({ vocab: 5, dim: 4, layers: 1 });
    const dir = join(root, 'extra');
    const ema = tf.tensor1d([1, 2, 3]);
    await saveCheckpoint(dir, a, {}, { 'ema.x': ema });
    const b = new TinyLM({ vocab: 5, dim: 4, layers: 1 }, 3);
    expect((await loadCheckpoint(dir, b)).extraNames).toEqual(['ema.x']);
    const extras = await loadCheckpointExtras(dir);
    expect([...extras['ema.x'].dataSync()]).toEqual([1, 2, 3]);
    tf.dispose([ema, ...Object.values(extras)]);
    a.dispose();
    b.dispose();
  });

  it('should name the tensor whose shape does not fit and assign nothing', async () => {
    const dir = join(root, 'shape');
    const a = new TinyLM({ vocab: 11, dim: 8, layers: 1 });
    await saveCheckpoint(dir, a, {});
    const b = new TinyLM({ vocab: 12, dim: 8, layers: 1 });
    const before = b.tok.weight.dataSync().slice();
    const err = await loadCheckpoint(dir, b).catch((e) => e);
    expect(CheckpointMismatchError.isInstance(err)).toBe(true);
    expect(err.message).toMatch(/tensor "lm.tok.weight" has shape \[11,8\] but the model expects \[12,8\]/);
    expect(err.tensor).toBe('lm.tok.weight');
    expect(b.tok.weight.dataSync()).toEqual(before);
    a.dispose();
    b.dispose();
  });

  it('should name a missing tensor and an unexpected one', async () => {
    const dir = join(root, 'missing');
    const one = new TinyLM({ vocab: 11, dim: 8, layers: 1 });
    const two = new TinyLM({ vocab: 11, dim: 8, layers: 2 });
    await saveCheckpoint(dir, one, {});
    await expect(loadCheckpoint(dir, two)).rejects.toThrow(/has no tensor "lm.blocks.1.ln1.weight" \(shape \[8\]\) that the model needs/);
    await saveCheckpoint(dir, two, {});
    await expect(loadCheckpoint(dir, one)).rejects.toThrow(/has a tensor "lm\.blocks\.1\.[a-z0-9.]+" that the model does not have/);
    one.dispose();
    two.dispose();
  });

  it('should reject a dtype mismatch', async () => {
    class IntStep extends Module {
      readonly v: tf.Variable;
      constructor(dtype: 'float32' | 'int32') {
        super('m');
        this.v = this.param('v', [2], { kind: 'zeros' }, { dtype });
      }
    }
    const dir = join(root, 'dtype');
    const a = new IntStep('int32');
    const b = new IntStep('float32');
    await saveCheckpoint(dir, a, {});
    await expect(loadCheckpoint(dir, b)).rejects.toThrow(/tensor "m.v" is I32 but the model expects F32/);
    a.dispose();
    b.dispose();
  });

  it('should leave the previous checkpoint intact when a save fails, with no temp files left', async () => {
    const dir = join(root, 'atomic');
    const m = new TinyLM({ vocab: 5, dim: 4, layers: 1 });
    await saveCheckpoint(dir, m, { version: 1 });
    const good = await readFile(join(dir, 'model.safetensors'));
    const disposed = tf.tensor1d([1]);
    disposed.dispose();
    await expect(saveCheckpoint(dir, m, { version: 2 }, { bad: disposed })).rejects.toThrow();
    await expect(saveCheckpoint(dir, m, { big: 1n })).rejects.toThrow(InvalidInputError);
    expect(await readFile(join(dir, 'model.safetensors'))).toEqual(good);
    expect(await readCheckpointConfig(dir)).toEqual({ version: 1 });
    expect((await readdir(root)).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
    // an overwrite replaces it whole
    await saveCheckpoint(dir, m, { version: 3 });
    expect(await readCheckpointConfig(dir)).toEqual({ version: 3 });
    m.dispose();
  });

  it('should say clearly when the directory is not a checkpoint or is corrupt', async () => {
    const m = new TinyLM({ vocab: 5, dim: 4, layers: 1 });
    await expect(loadCheckpoint(join(root, 'nope'), m)).rejects.toThrow(/no model.safetensors at .*nope.*saveCheckpoint/);
    const dir = join(root, 'corrupt');
    await saveCheckpoint(dir, m, {});
    await writeFile(join(dir, 'config.json'), '{ not json');
    await expect(readCheckpointConfig(dir)).rejects.toThrow(/config is not valid JSON/);
    m.dispose();
  });

  it('should load a checkpoint held in memory (config + safetensors bytes) to bit-identical outputs', async () => {
    const config = { vocab: 11, dim: 8, layers: 1 };
    const a = new TinyLM(config, 4);
    const dir = join(root, 'memory');
    await saveCheckpoint(dir, a, config);
    const bytes = await readFile(join(dir, 'model.safetensors'));
    const weights = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const source = { config: await readFile(join(dir, 'config.json'), 'utf8'), weights, name: 'tiny.safetensors' };
    expect(await readCheckpointConfig(source)).toEqual(config);
    const b = new TinyLM(config, 5);
    expect((await loadCheckpoint(source, b)).config).toEqual(config);
    const [ya, yb] = [a.apply(ids()), b.apply(ids())];
    expect(Buffer.from((await yb.data()).buffer)).toEqual(Buffer.from((await ya.data()).buffer));
    // a mismatch names the source
    const c = new TinyLM({ vocab: 12, dim: 8, layers: 1 });
    await expect(loadCheckpoint(source, c)).rejects.toThrow(/checkpoint tiny.safetensors: tensor "lm.tok.weight" has shape/);
    tf.dispose([ya, yb]);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('should load float16 weights into float32 variables (rounded to float16)', async () => {
    const config = { vocab: 11, dim: 8, layers: 1 };
    const a = new TinyLM(config, 6);
    const dir = join(root, 'half');
    await saveCheckpoint(dir, a, config);
    const full = parseSafetensors(await readFile(join(dir, 'model.safetensors')));
    const half: Record<string, TensorToWrite> = {};
    for (const [name, t] of Object.entries(full.tensors)) half[name] = { dtype: t.dtype === 'F32' ? 'F16' : t.dtype, shape: t.shape, data: t.data };
    const chunks = serializeSafetensors(half, full.metadata);
    const weights = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    chunks.reduce((o, c) => (weights.set(c, o), o + c.byteLength), 0);
    const b = new TinyLM(config, 7);
    await loadCheckpoint({ config, weights }, b);
    for (const [name, v] of a.parameters()) {
      const got = b.parameters().get(name)!.dataSync();
      const want = v.dataSync();
      if (v.dtype === 'int32') expect([...got], name).toEqual([...want]);
      else want.forEach((x, i) => expect(Math.abs(got[i] - x), name).toBeLessThanOrEqual(Math.abs(x) * 2 ** -10 + 1e-7));
    }
    a.dispose();
    b.dispose();
  });
});
