import { ConfigurationError, InvalidInputError, Rng } from '@synth2/core/internal';
import { ptbTokenize } from '../tokenizer/ptb-tokenizer';

/** A concept to look for: a name, or `{ name, synonyms }` (e.g. a `@synth2/core` `Concept`). */
export type DiversityConcept = string | { id?: string; name: string; synonyms?: readonly string[] };

/** Options of `captionDiversity`. */
export interface CaptionDiversityOptions {
  /** Number of k-means clusters. Default 20 (fewer if there are fewer distinct captions). */
  k?: number;
  /** Seed of the k-means++ initialisation. Default 0. */
  seed?: number;
  /** Concepts whose coverage and balance to measure. */
  concepts?: readonly DiversityConcept[];
  /** Maximum Lloyd iterations. Default 100. */
  maxIterations?: number;
}

/** Diversity of a caption set: vocabulary, distinct n-grams, clusters and concept coverage. */
export interface CaptionDiversity {
  captions: number;
  tokens: number;
  vocabularySize: number;
  /** Distinct unigrams / unigrams. */
  distinct1: number;
  /** Distinct bigrams / bigrams. */
  distinct2: number;
  length: { mean: number; std: number; min: number; max: number; median: number };
  /** Present when `concepts` were given. */
  concepts?: {
    /** Share of concepts mentioned by at least one caption. */
    coverage: number;
    /** Entropy (nats) of the distribution of concept mentions. */
    entropy: number;
    /** entropy / log(#concepts): 1 = perfectly balanced. */
    normalizedEntropy: number;
    /** Captions mentioning each concept, in the given order. */
    counts: { concept: string; count: number }[];
  };
  clusters: {
    k: number;
    seed: number;
    iterations: number;
    /** Cluster sizes, largest first. */
    sizes: number[];
    /** Share of captions in the 5 largest clusters (Synth²'s concentration measure; lower = more diverse). */
    top5Share: number;
    /** Entropy (nats) of the cluster-size histogram (higher = more balanced). */
    entropy: number;
    /** entropy / log(k). */
    normalizedEntropy: number;
    /** Cluster of each caption, in input order. */
    assignments: number[];
  };
}

function entropy(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * Math.log(c / total);
  return h;
}

interface SparseVec {
  idx: Int32Array;
  val: Float64Array;
}

/** TF-IDF vectors (smoothed idf `ln((1+N)/(1+df)) + 1`), L2-normalised. */
function tfidf(docs: string[][], vocab: Map<string, number>): SparseVec[] {
  const df = new Float64Array(vocab.size);
  for (const d of docs) for (const w of new Set(d)) df[vocab.get(w)!]++;
  const n = docs.length;
  const idf = Array.from(df, (x) => Math.log((1 + n) / (1 + x)) + 1);
  return docs.map((d) => {
    const tf = new Map<number, number>();
    for (const w of d) {
      const id = vocab.get(w)!;
      tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    const idx = Int32Array.from(tf.keys());
    const val = Float64Array.from(idx, (id) => tf.get(id)! * idf[id]);
    let norm = 0;
    for (const v of val) norm += v * v;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < val.length; i++) val[i] /= norm;
    return { idx, val };
  });
}

function kmeans(vectors: SparseVec[], dim: number, k: number, rng: Rng, maxIterations: number): { assignments: number[]; iterations: number } {
  const n = vectors.length;
  const centroids: Float64Array[] = [];
  const sqNorm = (c: Float64Array): number => c.reduce((a, b) => a + b * b, 0);
  const dot = (v: SparseVec, c: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < v.idx.length; i++) s += v.val[i] * c[v.idx[i]];
    return s;
  };
  const vecSq = vectors.map((v) => v.val.reduce((a, b) => a + b * b, 0));
  const toDense = (v: SparseVec): Float64Array => {
    const c = new Float64Array(dim);
    for (let i = 0; i < v.idx.length; i++) c[v.idx[i]] = v.val[i];
    return c;
  };
  // k-means++ seeding
  centroids.push(toDense(vectors[rng.int(n)]));
  const d2 = new Float64Array(n).fill(Infinity);
  while (centroids.length < k) {
    const c = centroids[centroids.length - 1];
    const cn = sqNorm(c);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.max(0, vecSq[i] + cn - 2 * dot(vectors[i], c));
      if (d < d2[i]) d2[i] = d;
      total += d2[i];
    }
    const next = total > 0 ? rng.weightedIndex(d2) : rng.int(n);
    centroids.push(toDense(vectors[next]));
  }
  const assignments = new Array<number>(n).fill(-1);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const norms = centroids.map(sqNorm);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        const d = norms[j] - 2 * dot(vectors[i], centroids[j]);
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      }
      if (assignments[i] !== best) {
        assignments[i] = best;
        changed++;
      }
    }
    if (changed === 0) break;
    const sums = centroids.map(() => new Float64Array(dim));
    const sizes = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) {
      const s = sums[assignments[i]];
      const v = vectors[i];
      for (let t = 0; t < v.idx.length; t++) s[v.idx[t]] += v.val[t];
      sizes[assignments[i]]++;
    }
    for (let j = 0; j < k; j++) {
      if (sizes[j] === 0) continue; // an empty cluster keeps its centroid
      for (let t = 0; t < dim; t++) sums[j][t] /= sizes[j];
      centroids[j] = sums[j];
    }
  }
  return { assignments, iterations: iterations + 1 };
}

/** Surface forms of a concept as token sequences (tokenized like the captions). */
function conceptForms(concept: DiversityConcept): { label: string; forms: string[][] } {
  const label = typeof concept === 'string' ? concept : (concept.id ?? concept.name);
  const names = typeof concept === 'string' ? [concept] : [concept.name, ...(concept.synonyms ?? [])];
  const tokenized = ptbTokenize(names.map((s) => s.replace(/[_:]/g, ' ')));
  return { label, forms: tokenized.map((t) => t.split(' ').filter(Boolean)).filter((f) => f.length > 0) };
}

function containsSequence(tokens: string[], form: string[]): boolean {
  outer: for (let i = 0; i + form.length <= tokens.length; i++) {
    for (let j = 0; j < form.length; j++) if (tokens[i + j] !== form[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * Diversity and balance of a set of captions, the analyses Synth² uses to explain its gains: vocabulary, distinct-n,
 * lengths, concept coverage/balance, and a TF-IDF + seeded k-means++ cluster analysis (share of captions in the 5
 * largest clusters, entropy of the cluster histogram). Captions are PTB-tokenized like the COCO evaluation.
 */
export function captionDiversity(captions: readonly string[], options: CaptionDiversityOptions = {}): CaptionDiversity {
  if (!Array.isArray(captions) || captions.length === 0) {
    throw new InvalidInputError('captionDiversity needs a non-empty array of caption strings.');
  }
  captions.forEach((c, i) => {
    if (typeof c !== 'string' || c.trim() === '') {
      throw new InvalidInputError(`caption ${i} is ${typeof c !== 'string' ? `not a string (${typeof c})` : 'empty'}; remove it or fix the input.`, {
        field: `captions[${i}]`,
      });
    }
  });
  const seed = options.seed ?? 0;
  const maxIterations = options.maxIterations ?? 100;
  if (options.k !== undefined && (!Number.isInteger(options.k) || options.k < 1)) {
    throw new ConfigurationError(`k must be a positive integer, got ${options.k}.`, { setting: 'k' });
  }
  const docs = ptbTokenize(captions).map((t) => (t === '' ? [] : t.split(' ')));
  const vocab = new Map<string, number>();
  const bigrams = new Set<string>();
  let tokens = 0;
  let bigramCount = 0;
  for (const d of docs) {
    tokens += d.length;
    for (const w of d) if (!vocab.has(w)) vocab.set(w, vocab.size);
    for (let i = 0; i + 1 < d.length; i++) {
      bigrams.add(`${d[i]} ${d[i + 1]}`);
      bigramCount++;
    }
  }
  const lengths = docs.map((d) => d.length).sort((a, b) => a - b);
  const mean = tokens / docs.length;
  const std = Math.sqrt(lengths.reduce((a, l) => a + (l - mean) ** 2, 0) / lengths.length);
  const mid = lengths.length >> 1;
  const median = lengths.length % 2 ? lengths[mid] : (lengths[mid - 1] + lengths[mid]) / 2;

  const result: CaptionDiversity = {
    captions: captions.length,
    tokens,
    vocabularySize: vocab.size,
    distinct1: tokens > 0 ? vocab.size / tokens : 0,
    distinct2: bigramCount > 0 ? bigrams.size / bigramCount : 0,
    length: { mean, std, min: lengths[0], max: lengths[lengths.length - 1], median },
    clusters: { k: 0, seed, iterations: 0, sizes: [], top5Share: 0, entropy: 0, normalizedEntropy: 0, assignments: [] },
  };

  if (options.concepts && options.concepts.length > 0) {
    const forms = options.concepts.map(conceptForms);
    const counts = forms.map(({ label, forms: fs }) => ({
      concept: label,
      count: docs.reduce((a, d) => a + (fs.some((f) => containsSequence(d, f)) ? 1 : 0), 0),
    }));
    const h = entropy(counts.map((c) => c.count));
    result.concepts = {
      coverage: counts.filter((c) => c.count > 0).length / counts.length,
      entropy: h,
      normalizedEntropy: counts.length > 1 ? h / Math.log(counts.length) : 1,
      counts,
    };
  }

  const distinct = new Set(docs.map((d) => d.join(' '))).size;
  const k = Math.max(1, Math.min(options.k ?? 20, distinct));
  const vectors = tfidf(docs, vocab);
  const { assignments, iterations } = kmeans(vectors, vocab.size, k, new Rng(seed), maxIterations);
  const sizes = new Array<number>(k).fill(0);
  for (const a of assignments) sizes[a]++;
  sizes.sort((a, b) => b - a);
  const h = entropy(sizes);
  result.clusters = {
    k,
    seed,
    iterations,
    sizes,
    top5Share: sizes.slice(0, 5).reduce((a, b) => a + b, 0) / captions.length,
    entropy: h,
    normalizedEntropy: k > 1 ? h / Math.log(k) : 0,
    assignments,
  };
  return result;
}
