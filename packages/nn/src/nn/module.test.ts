import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, Rng } from '@synth2/core';
import { Module } from './module';
import { Linear } from './linear';
import { TransformerBlock } from './transformer-block';
import { useBackend } from './test-utils';

class Tiny extends Module {
  readonly a: Linear;
  readonly scale: tf.Variable;
  readonly b: Linear;
  constructor(name: string, rng = new Rng(0)) {
    super(name, { rng });
    this.a = this.child('a', new Linear('a', { inDim: 2, outDim: 3, rng }));
    this.scale = this.param('scale', [3], { kind: 'ones' });
    this.b = this.child('blocks.0', new Linear('ignored', { inDim: 3, outDim: 1, bias: false, rng }));
  }
  duplicate(): void {
    this.child('a', new Linear('a', { inDim: 1, outDim: 1 }));
  }
}

beforeAll(() => useBackend('cpu'));

describe('Module', () => {
  it('should name parameters by their path in creation order', () => {
    const m = new Tiny('root');
    expect([...m.parameters().keys()]).toEqual(['root.a.weight', 'root.a.bias', 'root.scale', 'root.blocks.0.weight']);
    expect(m.numParameters()).toBe(6 + 3 + 3 + 3);
    expect(m.trainableVariables()).toHaveLength(4);
    m.dispose();
  });

  it('should name a transformer block parameters like the contract says', () => {
    const block = new TransformerBlock('dec', { dim: 8, heads: 2, crossAttention: true, gatedCross: true });
    const names = [...block.parameters().keys()];
    expect(names).toContain('dec.attn.q.weight');
    expect(names).toContain('dec.crossAttn.k.weight');
    expect(names).toContain('dec.gate');
    expect(names).toContain('dec.mlp.fc1.bias');
    block.dispose();
  });

  it('should initialise weights normal(0.02) and biases to zero, reproducibly from the seed', () => {
    const m1 = new Linear('l', { inDim: 64, outDim: 64, rng: new Rng(3) });
    const m2 = new Linear('l', { inDim: 64, outDim: 64, rng: new Rng(3) });
    const w = m1.weight.dataSync();
    let sum = 0;
    let sq = 0;
    for (const v of w) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / w.length;
    const std = Math.sqrt(sq / w.length - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    expect([...m1.bias!.dataSync()].every((v) => v === 0)).toBe(true);
    expect(m2.weight.dataSync()).toEqual(w);
    m1.dispose();
    m2.dispose();
  });

  it('should allow two models with the same names side by side', () => {
    const a = new Tiny('same');
    const b = new Tiny('same');
    expect([...a.parameters().keys()]).toEqual([...b.parameters().keys()]);
    a.dispose();
    b.dispose();
  });

  it('should reject a duplicate submodule name with a clear error', () => {
    const m = new Tiny('root');
    expect(() => m.duplicate()).toThrow(InvalidInputError);
    expect(() => m.duplicate()).toThrow(/already has a parameter or submodule named "a"/);
    m.dispose();
  });

  it('should free all variables on dispose', () => {
    const before = tf.memory().numTensors;
    const m = new Tiny('root');
    expect(tf.memory().numTensors).toBe(before + 4);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
