import { InvalidInputError, type Rng } from '@synth2/core';

/**
 * The training token grids a retrieval-augmented generator (`exemplars`) draws its exemplars from, indexed by
 * exemplar key. Keys are strings the caller derives from captions (e.g. the concepts a caption names except its
 * colour); a caption's keys go from most to least specific, and retrieval uses the first key that has a grid.
 */
export class ExemplarCorpus {
  private constructor(
    /** Grouped grids `[size, P·G]`. */
    readonly grids: Int32Array,
    readonly size: number,
    readonly perGrid: number,
    private readonly byKey: Map<string, number[]>,
  ) {}

  /** Grids (grouped, `perGrid` ids each) of `images` distinct images and, per key, the images a caption with that key describes. */
  static build(grids: Int32Array, perGrid: number, keyed: Iterable<[key: string, image: number]>): ExemplarCorpus {
    const size = grids.length / perGrid;
    const byKey = new Map<string, number[]>();
    for (const [key, image] of keyed) {
      const list = byKey.get(key) ?? [];
      if (!list.includes(image)) list.push(image);
      byKey.set(key, list);
    }
    return new ExemplarCorpus(grids, size, perGrid, byKey);
  }

  /** Number of distinct keys. */
  get keys(): number {
    return this.byKey.size;
  }

  /** An image for the first of `keys` that has one (other than `exclude`), drawn with `rng`; −1 if none. */
  pick(keys: readonly string[] | undefined, rng: Rng, exclude = -1): number {
    for (const key of keys ?? []) {
      const list = this.byKey.get(key);
      if (!list) continue;
      const options = exclude < 0 ? list : list.filter((i) => i !== exclude);
      if (options.length) return options[rng.int(options.length)];
    }
    return -1;
  }

  toJSON(): { perGrid: number; grids: number[]; keys: Record<string, number[]> } {
    return { perGrid: this.perGrid, grids: Array.from(this.grids), keys: Object.fromEntries(this.byKey) };
  }

  static fromJSON(json: unknown): ExemplarCorpus {
    const j = json as { perGrid?: unknown; grids?: unknown; keys?: unknown };
    if (!j || typeof j.perGrid !== 'number' || !Array.isArray(j.grids) || typeof j.keys !== 'object' || j.keys === null) {
      throw new InvalidInputError('the generator checkpoint has a malformed exemplar corpus; retrain the generator');
    }
    const grids = Int32Array.from(j.grids as number[]);
    return new ExemplarCorpus(grids, grids.length / j.perGrid, j.perGrid, new Map(Object.entries(j.keys as Record<string, number[]>)));
  }
}
