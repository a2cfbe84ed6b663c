import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import { normalizeCaption } from './clean-caption';

/** Options of `CaptionDeduper`. */
export interface DedupeOptions {
  /** Jaccard similarity of word-bigram sets at or above which two captions are near-duplicates (default 0.8). */
  threshold?: number;
  /** `exact`: only identical captions (after normalisation); `near`: also near-duplicates (default). */
  mode?: 'exact' | 'near';
}

/** Keys of {@link DedupeOptions}. */
export const DEDUPE_KEYS = optionKeys<DedupeOptions>({ threshold: true, mode: true });

const BANDS = 16;
const ROWS = 8;
const NUM_HASHES = BANDS * ROWS;
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

/** Jaccard similarity of two sorted, distinct hash arrays. */
function jaccardSorted(a: Uint32Array, b: Uint32Array): number {
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  const union = a.length + b.length - inter;
  return union === 0 ? 1 : inter / union;
}

interface Prepared {
  text: string;
  norm: string;
  hashes: Uint32Array;
  keys: number[];
}

/**
 * Finds exact and near-duplicate captions among those added so far: exact by normalised text, near by MinHash
 * (128 hashes in 16 bands of 8) over word bigrams to find candidates, then the exact Jaccard similarity.
 */
export class CaptionDeduper {
  private readonly exact = new Set<string>();
  private readonly sets: Uint32Array[] = [];
  private readonly buckets = new Map<number, number[]>();
  private stamp = new Int32Array(1024);
  private stampValue = 0;
  private last: Prepared | undefined;
  readonly threshold: number;
  readonly mode: 'exact' | 'near';

  constructor(options: DedupeOptions = {}) {
    rejectUnknownOptions(options, DEDUPE_KEYS, 'new CaptionDeduper');
    this.threshold = options.threshold ?? 0.8;
    this.mode = options.mode ?? 'near';
    if (!(this.threshold > 0 && this.threshold <= 1)) throw new RangeError(`dedupe threshold must be in (0, 1], got ${this.threshold}`);
  }

  get size(): number {
    return this.exact.size;
  }

  private prepare(text: string): Prepared {
    if (this.last?.text === text) return this.last;
    const norm = normalizeCaption(text);
    let hashes = new Uint32Array(0);
    let keys: number[] = [];
    if (this.mode === 'near') {
      const set = shingles(norm);
      hashes = Uint32Array.from([...set].map(fnv)).sort();
      const sig = new Uint32Array(NUM_HASHES).fill(0xffffffff);
      for (const h of hashes) {
        for (let i = 0; i < NUM_HASHES; i++) {
          const v = mix(h, SEEDS[i]);
          if (v < sig[i]) sig[i] = v;
        }
      }
      // One 32-bit key per band (band index mixed in); a rare collision only adds a candidate, which the exact
      // Jaccard check then rejects.
      keys = new Array<number>(BANDS);
      for (let b = 0; b < BANDS; b++) {
        let k = mix(b, 0x27d4eb2f);
        for (let r = 0; r < ROWS; r++) k = mix(k ^ sig[b * ROWS + r], SEEDS[r]);
        keys[b] = k;
      }
    }
    this.last = { text, norm, hashes, keys };
    return this.last;
  }

  /** `exact-duplicate`, `near-duplicate`, or undefined when new. Does not add. */
  check(text: string): 'exact-duplicate' | 'near-duplicate' | undefined {
    const p = this.prepare(text);
    if (this.exact.has(p.norm)) return 'exact-duplicate';
    if (this.mode === 'exact') return undefined;
    if (this.stamp.length < this.sets.length) {
      const bigger = new Int32Array(this.sets.length * 2);
      bigger.set(this.stamp);
      this.stamp = bigger;
    }
    const visit = ++this.stampValue;
    for (const key of p.keys) {
      const ids = this.buckets.get(key);
      if (!ids) continue;
      for (const id of ids) {
        if (this.stamp[id] === visit) continue;
        this.stamp[id] = visit;
        if (jaccardSorted(p.hashes, this.sets[id]) >= this.threshold) return 'near-duplicate';
      }
    }
    return undefined;
  }

  add(text: string): void {
    const p = this.prepare(text);
    if (this.exact.has(p.norm)) return;
    this.exact.add(p.norm);
    if (this.mode === 'exact') return;
    const id = this.sets.push(p.hashes) - 1;
    for (const key of p.keys) {
      const ids = this.buckets.get(key);
      if (ids) ids.push(id);
      else this.buckets.set(key, [id]);
    }
  }
}
