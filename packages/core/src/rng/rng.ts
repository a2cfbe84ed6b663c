/** Serializable state of an {@link Rng}: four 32-bit words (xoshiro128**) plus a cached normal. */
export interface RngState {
  s: [number, number, number, number];
  spare: number | null;
}

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A small, fast, seeded random number generator (xoshiro128**). Every stage of the SDK draws its randomness
 * from one of these so that a run is reproducible from a single seed; `getState`/`setState` make it resumable.
 */
export class Rng {
  private s: Uint32Array;
  private spare: number | null = null;

  constructor(seed: number | string = 0) {
    const sm = splitmix32(typeof seed === 'string' ? hashString(seed) : Math.floor(seed) >>> 0);
    this.s = new Uint32Array([sm(), sm(), sm(), sm()]);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A new independent generator derived from this one's seed material and a label (does not advance this one). */
  fork(label: string | number): Rng {
    const child = new Rng(0);
    const h = hashString(String(label));
    const sm = splitmix32((this.s[0] ^ h ^ Math.imul(this.s[3], 0x9e3779b9)) >>> 0);
    child.s = new Uint32Array([sm() ^ this.s[1], sm() ^ this.s[2], sm(), sm()]);
    if ((child.s[0] | child.s[1] | child.s[2] | child.s[3]) === 0) child.s[0] = 1;
    return child;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  uniform(): number;
  /** Uniform float in [low, high). */
  uniform(low: number, high: number): number;
  uniform(low = 0, high = 1): number {
    // 53-bit resolution from two draws
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    const u = (a * 67108864 + b) / 9007199254740992;
    return low + (high - low) * u;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform integer in [low, high). */
  int(low: number, high: number): number;
  int(a: number, b?: number): number {
    const low = b === undefined ? 0 : a;
    const high = b === undefined ? a : b;
    if (!(high > low)) throw new RangeError(`Rng.int: empty range [${low}, ${high})`);
    return low + Math.floor(this.uniform() * (high - low));
  }

  /** Standard normal (Box–Muller), optionally scaled. */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Bernoulli draw with probability p of `true`. */
  bool(p = 0.5): boolean {
    return this.uniform() < p;
  }

  /** Shuffles the array in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** One element chosen uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.choice: empty array');
    return items[this.int(items.length)];
  }

  /** Index chosen with probability proportional to `weights[i]` (non-negative, not all zero). */
  weightedIndex(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i];
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`Rng.weightedIndex: bad weight ${w} at ${i}`);
      total += w;
    }
    if (total <= 0) throw new RangeError('Rng.weightedIndex: weights sum to zero');
    let r = this.uniform() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return weights.length - 1;
  }

  /** One element chosen with probability proportional to its weight. */
  weightedChoice<T>(items: readonly T[], weights: ArrayLike<number>): T {
    if (items.length !== weights.length) throw new RangeError('Rng.weightedChoice: items and weights differ in length');
    return items[this.weightedIndex(weights)];
  }

  /** k distinct elements, in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new RangeError(`Rng.sample: k=${k} > ${items.length}`);
    const idx = this.permutation(items.length).slice(0, k);
    return idx.map((i) => items[i]);
  }

  getState(): RngState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spare: this.spare };
  }

  setState(state: RngState): this {
    this.s = new Uint32Array(state.s);
    this.spare = state.spare;
    return this;
  }

  static fromState(state: RngState): Rng {
    return new Rng(0).setState(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
