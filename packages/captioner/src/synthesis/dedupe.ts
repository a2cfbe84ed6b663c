import { normalizeCaption } from './clean-caption';

export interface DedupeOptions {
  /** Jaccard similarity of word-bigram sets at or above which two captions are near-duplicates (default 0.8). */
  threshold?: number;
  /** `exact`: only identical captions (after normalisation); `near`: also near-duplicates (default). */
  mode?: 'exact' | 'near';
}

const NUM_HASHES = 64;
const BANDS = 16;
const ROWS = NUM_HASHES / BANDS;
const SEEDS = Array.from({ length: NUM_HASHES }, (_, i) => (Math.imul(i + 1, 0x9e3779b1) ^ 0x5bd1e995) >>> 0);

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mix(x: number, seed: number): number {
  let h = (x ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Word bigrams with start/end markers, so order matters ("red circle, blue square" ≠ "blue circle, red square"). */
export function shingles(normalized: string): Set<string> {
  const words = ['^', ...normalized.split(' ').filter(Boolean), '$'];
  const out = new Set<string>();
  for (let i = 0; i + 1 < words.length; i++) out.add(`${words[i]} ${words[i + 1]}`);
  return out;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 1 : inter / union;
}

/**
 * Finds exact and near-duplicate captions among those added so far: exact by normalised text, near by MinHash
 * (64 hashes, 16 bands) over word bigrams to find candidates, then the exact Jaccard similarity.
 */
export class CaptionDeduper {
  private readonly exact = new Set<string>();
  private readonly sets: Set<string>[] = [];
  private readonly buckets = new Map<string, number[]>();
  readonly threshold: number;
  readonly mode: 'exact' | 'near';

  constructor(options: DedupeOptions = {}) {
    this.threshold = options.threshold ?? 0.8;
    this.mode = options.mode ?? 'near';
    if (!(this.threshold > 0 && this.threshold <= 1)) throw new RangeError(`dedupe threshold must be in (0, 1], got ${this.threshold}`);
  }

  get size(): number {
    return this.exact.size;
  }

  /** `exact-duplicate`, `near-duplicate`, or undefined when new. Does not add. */
  check(text: string): 'exact-duplicate' | 'near-duplicate' | undefined {
    const norm = normalizeCaption(text);
    if (this.exact.has(norm)) return 'exact-duplicate';
    if (this.mode === 'exact') return undefined;
    const set = shingles(norm);
    const seen = new Set<number>();
    for (const key of this.bandKeys(set)) {
      const ids = this.buckets.get(key);
      if (!ids) continue;
      for (const id of ids) {
        if (seen.has(id)) continue;
        seen.add(id);
        if (jaccard(set, this.sets[id]) >= this.threshold) return 'near-duplicate';
      }
    }
    return undefined;
  }

  add(text: string): void {
    const norm = normalizeCaption(text);
    if (this.exact.has(norm)) return;
    this.exact.add(norm);
    if (this.mode === 'exact') return;
    const set = shingles(norm);
    const id = this.sets.push(set) - 1;
    for (const key of this.bandKeys(set)) {
      const ids = this.buckets.get(key);
      if (ids) ids.push(id);
      else this.buckets.set(key, [id]);
    }
  }

  private bandKeys(set: Set<string>): string[] {
    const sig = new Uint32Array(NUM_HASHES).fill(0xffffffff);
    for (const s of set) {
      const h = fnv(s);
      for (let i = 0; i < NUM_HASHES; i++) {
        const v = mix(h, SEEDS[i]);
        if (v < sig[i]) sig[i] = v;
      }
    }
    const keys: string[] = [];
    for (let b = 0; b < BANDS; b++) {
      let k = `${b}`;
      for (let r = 0; r < ROWS; r++) k += `:${sig[b * ROWS + r].toString(36)}`;
      keys.push(k);
    }
    return keys;
  }
}
