import { InvalidInputError, Rng, type Concept } from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import type { ConceptItem } from './concept-list';

/** Draws the concepts of one caption request. Deterministic for a given seed, so runs can be replayed and resumed. */
export interface ConceptSampler {
  /** The concepts of the next caption (the union of k drawn items). */
  next(): Concept[];
}

/** Options of every concept sampler: items per caption, seed and (for `weighted`) weights. */
export interface SamplerOptions {
  /** Items (concepts or fixed concept groups) per caption. Default 1. */
  k?: number;
  seed?: number | string;
  /** Weights for `weighted` (one per item); default: each item's concept `weight`, else 1. */
  weights?: readonly number[];
}

/** Creates a concept sampler over the given items. */
export type SamplerFactory = (items: readonly ConceptItem[], options: SamplerOptions) => ConceptSampler;
/** The name of a built-in concept sampler. */
export type SamplerName = 'uniform' | 'balanced' | 'weighted';

const SAMPLER_KEYS = optionKeys<SamplerOptions>({ k: true, seed: true, weights: true });

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
  rejectUnknownOptions(options, SAMPLER_KEYS, 'uniformSampler');
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
  rejectUnknownOptions(options, SAMPLER_KEYS, 'balancedSampler');
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
  rejectUnknownOptions(options, SAMPLER_KEYS, 'weightedSampler');
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

/** The built-in concept samplers by name. */
export const samplers: Record<SamplerName, SamplerFactory> = {
  uniform: uniformSampler,
  balanced: balancedSampler,
  weighted: weightedSampler,
};

/**
 * Weights for the `weighted` sampler that fill the gaps of an existing caption set: `existing[i]` is how often item
 * `i` already occurs (e.g. in the human captions), `budget` the number of items the synthetic captions will draw.
 * A `share` (0–1) of the budget goes to the rarest items, raising them to a common level (water-filling: the least
 * covered first, never past the level the budget reaches); the rest is spread evenly. `share` 0 gives equal
 * weights (a balanced set), 1 makes `existing + synthetic` as even as the budget allows. Returns expected draws
 * per item (they sum to `budget`).
 */
export function gapFillingWeights(existing: readonly number[], budget: number, share: number): number[] {
  const n = existing.length;
  if (n === 0) throw new InvalidInputError('gapFillingWeights needs at least one item', { field: 'existing' });
  existing.forEach((c, i) => {
    if (!(c >= 0) || !Number.isFinite(c)) {
      throw new InvalidInputError(`existing count ${c} of item ${i} is not a finite non-negative number`, { field: `existing[${i}]` });
    }
  });
  if (!(budget > 0) || !Number.isFinite(budget)) {
    throw new InvalidInputError(`budget must be a positive number, got ${budget}`, { field: 'budget' });
  }
  if (!(share >= 0 && share <= 1)) throw new InvalidInputError(`share must be in [0, 1], got ${share}`, { field: 'share' });
  const fill = budget * share;
  const even = (budget - fill) / n;
  // the level L with Σ max(0, L − existing) = fill: walk up the sorted counts
  const sorted = [...existing].sort((a, b) => a - b);
  let level = sorted[0];
  let below = 0;
  let left = fill;
  for (let i = 0; i < n; i++) {
    below = i + 1;
    const next = i + 1 < n ? sorted[i + 1] : Infinity;
    const raise = Math.min(left / below, next - level);
    level += raise;
    left -= raise * below;
    if (left <= 1e-9 * budget) break;
  }
  return existing.map((c) => even + Math.max(0, level - c));
}
