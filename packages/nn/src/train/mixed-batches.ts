import { CheckpointMismatchError, ConfigurationError, Rng } from '@synth2/core';
import type { BatchSource } from './batch-source';

/** Items of one source: an array(-like) or anything with `length` and `get(i)`. */
export type ItemCollection<Item> = ArrayLike<Item> | { length: number; get(i: number): Item };

/** One named source of `mixedBatches`: its items and share of each batch. */
export interface MixedSource<Item> {
  name: string;
  items: ItemCollection<Item>;
  /** Relative share of each batch (> 0; ratios are normalised). */
  ratio: number;
}

/** Options of `mixedBatches`. */
export interface MixedBatchesOptions<Item, Batch> {
  sources: MixedSource<Item>[];
  batchSize: number;
  /** Builds a batch from the chosen items and the name of the source of each. */
  collate: (items: Item[], sourceNames: string[]) => Batch;
  /** Seed of the per-epoch shuffles (default 0). */
  seed?: number;
}

interface MixedState {
  version: 1;
  sources: string[];
  epochs: number[];
  cursors: number[];
  credits: number[];
  batches: number;
}

function getter<Item>(items: ItemCollection<Item>): (i: number) => Item {
  const g = (items as { get?: unknown }).get;
  if (typeof g === 'function') return (i) => (items as { get(i: number): Item }).get(i);
  return (i) => (items as ArrayLike<Item>)[i];
}

/**
 * Mixes several sources of items into batches with set ratios (e.g. human and synthetic pairs).
 *
 * Each source is walked in a seeded random order, reshuffled every epoch (its own epochs: a small source repeats
 * while a large one is still in its first pass). Slots of every batch are assigned to sources by smooth weighted
 * round-robin, so over any window of batches each source's share matches its ratio to within one item, with no
 * randomness in the mix itself. The state (epochs, cursors, round-robin credits) is saved with trainer checkpoints.
 */
export function mixedBatches<Item, Batch>(opts: MixedBatchesOptions<Item, Batch>): BatchSource<Batch> {
  const { sources, batchSize, collate } = opts;
  const seed = opts.seed ?? 0;
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new ConfigurationError('mixedBatches needs at least one source: pass sources: [{ name, items, ratio }]', { setting: 'sources' });
  }
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new ConfigurationError(`mixedBatches: batchSize must be a positive integer, got ${String(batchSize)}`, { setting: 'batchSize' });
  }
  if (typeof collate !== 'function') throw new ConfigurationError('mixedBatches: collate must be a function (items, sourceNames) => batch', { setting: 'collate' });
  const names = new Set<string>();
  for (const s of sources) {
    if (!s || typeof s.name !== 'string' || s.name.length === 0) {
      throw new ConfigurationError('mixedBatches: every source needs a non-empty name', { setting: 'sources' });
    }
    if (names.has(s.name)) throw new ConfigurationError(`mixedBatches: two sources are named "${s.name}"; names must be unique`, { setting: 'sources' });
    names.add(s.name);
    if (typeof s.ratio !== 'number' || !Number.isFinite(s.ratio) || s.ratio <= 0) {
      throw new ConfigurationError(
        `mixedBatches: source "${s.name}" has ratio ${String(s.ratio)}; ratios must be finite numbers > 0 (drop the source to leave it out)`,
        { setting: `sources.${s.name}.ratio` },
      );
    }
    const n = s.items?.length;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
      throw new ConfigurationError(`mixedBatches: source "${s.name}" has no items (length ${String(n)}); give it items or remove it`, {
        setting: `sources.${s.name}.items`,
      });
    }
  }
  const total = sources.reduce((a, s) => a + s.ratio, 0);
  const weights = sources.map((s) => s.ratio / total);
  const gets = sources.map((s) => getter(s.items));
  const baseRng = new Rng(seed);
  const permutationFor = (i: number, epoch: number): number[] => baseRng.fork(`mixed:${sources[i].name}`).fork(epoch).permutation(sources[i].items.length);

  let state: MixedState = {
    version: 1,
    sources: sources.map((s) => s.name),
    epochs: sources.map(() => 0),
    cursors: sources.map(() => 0),
    credits: sources.map(() => 0),
    batches: 0,
  };
  let perms = sources.map((_, i) => permutationFor(i, 0));

  const take = (i: number): Item => {
    const n = sources[i].items.length;
    if (state.cursors[i] >= n) {
      state.epochs[i] += 1;
      state.cursors[i] = 0;
      perms[i] = permutationFor(i, state.epochs[i]);
    }
    const index = perms[i][state.cursors[i]++];
    return gets[i](index);
  };

  return {
    batchSize,
    next(): Batch {
      const items: Item[] = [];
      const from: string[] = [];
      for (let slot = 0; slot < batchSize; slot++) {
        let best = 0;
        for (let i = 0; i < sources.length; i++) {
          state.credits[i] += weights[i];
          if (state.credits[i] > state.credits[best]) best = i;
        }
        state.credits[best] -= 1;
        items.push(take(best));
        from.push(sources[best].name);
      }
      state.batches += 1;
      return collate(items, from);
    },
    getState(): MixedState {
      return structuredClone(state);
    },
    setState(raw: unknown): void {
      const s = raw as Partial<MixedState> | null;
      const names = sources.map((x) => x.name);
      if (s != null && Array.isArray(s.sources) && JSON.stringify(s.sources) !== JSON.stringify(names)) {
        throw new CheckpointMismatchError(
          `mixedBatches: the checkpoint's data sources are [${s.sources.join(', ')}] but this run has [${names.join(', ')}]; resume with the same sources or start a new checkpoint directory`,
        );
      }
      const ok =
        s != null &&
        s.version === 1 &&
        Array.isArray(s.sources) &&
        Array.isArray(s.epochs) &&
        Array.isArray(s.cursors) &&
        Array.isArray(s.credits) &&
        typeof s.batches === 'number' &&
        [s.epochs, s.cursors, s.credits].every((a) => a!.length === names.length && a!.every((v) => typeof v === 'number'));
      if (!ok) throw new CheckpointMismatchError('mixedBatches: the saved data state is malformed; the checkpoint was not written by mixedBatches');
      s!.cursors!.forEach((c, i) => {
        if (!Number.isInteger(c) || c < 0 || c > sources[i].items.length) {
          throw new CheckpointMismatchError(
            `mixedBatches: source "${names[i]}" was at item ${c} but now has ${sources[i].items.length} items; resume with the same data`,
          );
        }
      });
      state = structuredClone(s as MixedState);
      perms = sources.map((_, i) => permutationFor(i, state.epochs[i]));
    },
  };
}
