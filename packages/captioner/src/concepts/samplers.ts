import { InvalidInputError, Rng, type Concept } from '@synth2/core';
import type { ConceptItem } from './concept-list';

/** Draws the concepts of one caption request. Deterministic for a given seed, so runs can be replayed and resumed. */
export interface ConceptSampler {
  /** The concepts of the next caption (the union of k drawn items). */
  next(): Concept[];
}

export interface SamplerOptions {
  /** Items (concepts or fixed concept groups) per caption. Default 1. */
  k?: number;
  seed?: number | string;
  /** Weights for `weighted` (one per item); default: each item's concept `weight`, else 1. */
  weights?: readonly number[];
}

export type SamplerFactory = (items: readonly ConceptItem[], options: SamplerOptions) => ConceptSampler;
export type SamplerName = 'uniform' | 'balanced' | 'weighted';

function checkK(items: readonly ConceptItem[], k: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new InvalidInputError(`conceptsPerCaption must be a positive integer, got ${k}`, { field: 'conceptsPerCaption' });
  }
  if (k > items.length) {
    throw new InvalidInputError(
      `conceptsPerCaption is ${k} but only ${items.length} concept(s) were given; lower it or give more concepts`,
      { field: 'conceptsPerCaption' },
    );
  }
}

const flatten = (picked: ConceptItem[]): Concept[] => picked.flat();

/** Each caption draws k distinct items uniformly at random (with replacement across captions). */
export const uniformSampler: SamplerFactory = (items, options) => {
  const k = options.k ?? 1;
  checkK(items, k);
  const rng = new Rng(options.seed ?? 0).fork('uniform');
  return { next: () => flatten(rng.sample(items, k)) };
};

/**
 * Every item is used equally often: items are dealt from a shuffled deck that is reshuffled when empty, so after
 * any multiple of `items.length / k` captions each item has appeared the same number of times (±1 otherwise).
 */
export const balancedSampler: SamplerFactory = (items, options) => {
  const k = options.k ?? 1;
  checkK(items, k);
  const rng = new Rng(options.seed ?? 0).fork('balanced');
  let deck: number[] = [];
  return {
    next() {
      const picked: number[] = [];
      while (picked.length < k) {
        if (deck.length === 0) deck = rng.permutation(items.length);
        // Take the next card that is not already in this caption; put skipped cards back for the next caption.
        let idx = deck.findIndex((i) => !picked.includes(i));
        if (idx < 0) {
          // Only duplicates of this caption's items remain: start a fresh deck for the rest.
          const rest = deck;
          deck = [...rest, ...rng.permutation(items.length)];
          idx = deck.findIndex((i) => !picked.includes(i));
        }
        picked.push(deck[idx]);
        deck.splice(idx, 1);
      }
      return flatten(picked.map((i) => items[i]));
    },
  };
};

/** Each caption draws k distinct items with probability proportional to their weights. */
export const weightedSampler: SamplerFactory = (items, options) => {
  const k = options.k ?? 1;
  checkK(items, k);
  const weights = options.weights
    ? [...options.weights]
    : items.map((group) => (group.length === 1 ? (group[0].weight ?? 1) : group.reduce((w, c) => w * (c.weight ?? 1), 1)));
  if (weights.length !== items.length) {
    throw new InvalidInputError(`weights has ${weights.length} entries but there are ${items.length} concepts; give one weight per concept`, {
      field: 'weights',
    });
  }
  weights.forEach((w, i) => {
    if (!(w >= 0) || !Number.isFinite(w)) {
      throw new InvalidInputError(`weight ${w} of concept ${i} is not a finite non-negative number`, { field: `weights[${i}]` });
    }
  });
  const positive = weights.filter((w) => w > 0).length;
  if (positive < k) {
    throw new InvalidInputError(`only ${positive} concept(s) have a weight above 0 but conceptsPerCaption is ${k}; give more weights above 0`, {
      field: 'weights',
    });
  }
  const rng = new Rng(options.seed ?? 0).fork('weighted');
  return {
    next() {
      const w = weights.slice();
      const picked: number[] = [];
      for (let j = 0; j < k; j++) {
        const i = rng.weightedIndex(w);
        picked.push(i);
        w[i] = 0;
      }
      return flatten(picked.map((i) => items[i]));
    },
  };
};

export const samplers: Record<SamplerName, SamplerFactory> = {
  uniform: uniformSampler,
  balanced: balancedSampler,
  weighted: weightedSampler,
};
