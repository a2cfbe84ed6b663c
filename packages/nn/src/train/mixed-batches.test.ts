import { describe, expect, it } from 'vitest';
import { CheckpointMismatchError, ConfigurationError, Rng } from '@synth2/core';
import { mixedBatches } from './mixed-batches';

const letters = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const make = (seed = 0, ratios = [3, 1]) =>
  mixedBatches<string, { items: string[]; from: string[] }>({
    sources: [
      { name: 'human', items: letters('h', 10), ratio: ratios[0] },
      { name: 'synth', items: { length: 7, get: (i: number) => `s${i}` }, ratio: ratios[1] },
    ],
    batchSize: 4,
    collate: (items, from) => ({ items, from }),
    seed,
  });

describe('mixedBatches', () => {
  it('should give each source its share of every batch', () => {
    const src = make();
    const rng = new Rng(0);
    for (let b = 0; b < 20; b++) {
      const { from } = src.next(rng);
      expect(from.filter((f) => f === 'human')).toHaveLength(3);
      expect(from.filter((f) => f === 'synth')).toHaveLength(1);
    }
    const odd = make(0, [2, 1]);
    const counts = { human: 0, synth: 0 };
    for (let b = 0; b < 30; b++) for (const f of odd.next(rng).from) counts[f as 'human' | 'synth']++;
    expect(counts).toEqual({ human: 80, synth: 40 });
  });

  it('should walk each source in a seeded permutation, reshuffled every epoch', () => {
    const src = make(5, [1, 1e-9]);
    const rng = new Rng(0);
    const seen: string[] = [];
    for (let b = 0; b < 5; b++) seen.push(...src.next(rng).items.filter((x) => x.startsWith('h')));
    const epoch1 = seen.slice(0, 10);
    const epoch2 = seen.slice(10, 20);
    expect([...epoch1].sort()).toEqual(letters('h', 10).sort());
    expect([...epoch2].sort()).toEqual(letters('h', 10).sort());
    expect(epoch1).not.toEqual(epoch2);
    expect(epoch1).not.toEqual(letters('h', 10));
    const again = make(5, [1, 1e-9]);
    const seen2: string[] = [];
    for (let b = 0; b < 5; b++) seen2.push(...again.next(rng).items.filter((x) => x.startsWith('h')));
    expect(seen2).toEqual(seen);
    const other = make(6, [1, 1e-9]);
    expect(other.next(rng).items).not.toEqual(make(5, [1, 1e-9]).next(rng).items);
  });

  it('should continue exactly from a saved state', () => {
    const a = make(2);
    const rng = new Rng(0);
    for (let i = 0; i < 7; i++) a.next(rng);
    const state = JSON.parse(JSON.stringify(a.getState()));
    const restA = Array.from({ length: 9 }, () => a.next(rng));
    const b = make(2);
    b.setState(state);
    const restB = Array.from({ length: 9 }, () => b.next(rng));
    expect(restB).toEqual(restA);
  });

  it('should refuse a state saved for other sources', () => {
    const a = make();
    const other = mixedBatches({ sources: [{ name: 'x', items: [1], ratio: 1 }], batchSize: 1, collate: (i) => i });
    expect(() => other.setState(a.getState())).toThrow(CheckpointMismatchError);
    expect(() => other.setState(a.getState())).toThrow(/data sources are \[human, synth\] but this run has \[x\]/);
    expect(() => other.setState({ nope: 1 })).toThrow(/malformed/);
  });

  it.each([
    [0, /ratio 0; ratios must be finite numbers > 0/],
    [-1, /ratio -1/],
    [Number.NaN, /ratio NaN/],
    [Number.POSITIVE_INFINITY, /ratio Infinity/],
  ])('should throw a ConfigurationError for ratio %s', (ratio, message) => {
    const build = () => mixedBatches({ sources: [{ name: 'a', items: [1], ratio: ratio as number }], batchSize: 2, collate: (i) => i });
    expect(build).toThrow(ConfigurationError);
    expect(build).toThrow(message);
  });

  it('should throw a ConfigurationError for empty or duplicate sources and a bad batch size', () => {
    const c = (i: number[]) => i;
    expect(() => mixedBatches({ sources: [], batchSize: 2, collate: c })).toThrow(/at least one source/);
    expect(() => mixedBatches({ sources: [{ name: 'a', items: [], ratio: 1 }], batchSize: 2, collate: c })).toThrow(/source "a" has no items/);
    expect(() =>
      mixedBatches({ sources: [{ name: 'a', items: [1], ratio: 1 }, { name: 'a', items: [2], ratio: 1 }], batchSize: 2, collate: c }),
    ).toThrow(/two sources are named "a"/);
    expect(() => mixedBatches({ sources: [{ name: 'a', items: [1], ratio: 1 }], batchSize: 0, collate: c })).toThrow(/batchSize must be a positive integer/);
    expect(() => mixedBatches({ sources: [{ name: 'a', items: [1], ratio: 1 }], batchSize: 0, collate: c })).toThrow(ConfigurationError);
  });
});
