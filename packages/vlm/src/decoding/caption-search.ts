import { InvalidInputError } from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';

/** How captions are decoded. */
export interface DecodeOptions {
  /** `greedy` (default) or `beam`. */
  strategy?: 'greedy' | 'beam';
  /** Hypotheses kept per image in beam search (default 3). Beam 1 equals greedy. */
  beamSize?: number;
  /**
   * Exponent α of the length normalisation in beam search: finished hypotheses are ranked by
   * `logProb / length^α` (length counts the end token). 0 ranks by raw log-probability; default 1.
   */
  lengthPenalty?: number;
  /** Most words per caption (default: the model's `maxCaptionLength`). */
  maxLength?: number;
}

/** Keys of {@link DecodeOptions}. */
export const DECODE_KEYS = optionKeys<DecodeOptions>({ strategy: true, beamSize: true, lengthPenalty: true, maxLength: true });

/**
 * Scores the next token for a set of rows. `images[r]` is the image (batch index) of row `r` and `prefixes[r]`
 * its tokens so far (all rows of one call have the same length, the first token being BOS). Returns the
 * log-probabilities of the next token, row-major `[rows, vocabSize]`.
 */
export type NextTokenScorer = (images: number[], prefixes: number[][]) => Float32Array;

/** Options of the caption search (greedy or beam) over a next-token scorer. */
export interface CaptionSearchOptions {
  /** Number of images to decode. */
  count: number;
  vocabSize: number;
  bos: number;
  eos: number;
  /** Tokens never generated (PAD, BOS, UNK). */
  banned?: number[];
  maxLength: number;
  strategy: 'greedy' | 'beam';
  beamSize: number;
  lengthPenalty: number;
  score: NextTokenScorer;
}

/** The captions a caption search found: word ids and log-probabilities per image. */
export interface CaptionSearchResult {
  /** Generated word ids per image, without BOS and EOS. */
  tokens: number[][];
  /** Sum of the log-probabilities of the generated tokens (EOS included when it was generated). */
  logProbs: number[];
}

const SEARCH_KEYS = optionKeys<CaptionSearchOptions>({
  count: true,
  vocabSize: true,
  bos: true,
  eos: true,
  banned: true,
  maxLength: true,
  strategy: true,
  beamSize: true,
  lengthPenalty: true,
  score: true,
});

/** Checks decoding options and fills in defaults. */
export function resolveDecodeOptions(
  options: DecodeOptions,
  limits: { maxCaptionLength: number },
): Required<DecodeOptions> {
  const strategy = options.strategy ?? 'greedy';
  if (strategy !== 'greedy' && strategy !== 'beam') {
    throw new InvalidInputError(`unknown decoding strategy "${String(strategy)}"; use 'greedy' or 'beam'.`, {
      field: 'strategy',
    });
  }
  const beamSize = options.beamSize ?? 3;
  if (!Number.isInteger(beamSize) || beamSize < 1) {
    throw new InvalidInputError(`beamSize must be a positive integer, got ${beamSize}.`, { field: 'beamSize' });
  }
  const lengthPenalty = options.lengthPenalty ?? 1;
  if (!Number.isFinite(lengthPenalty)) {
    throw new InvalidInputError(`lengthPenalty must be a finite number, got ${lengthPenalty}.`, {
      field: 'lengthPenalty',
    });
  }
  const maxLength = options.maxLength ?? limits.maxCaptionLength;
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > limits.maxCaptionLength) {
    throw new InvalidInputError(
      `maxLength must be an integer from 1 to the model's maxCaptionLength (${limits.maxCaptionLength}), got ${maxLength}.`,
      { field: 'maxLength' },
    );
  }
  return { strategy, beamSize, lengthPenalty, maxLength };
}

/**
 * Decodes `count` captions token by token with greedy or beam search, scoring all live hypotheses of all images
 * in one call per step. Ties go to the lower token id, so beam search with one beam equals greedy decoding.
 * EOS is not allowed as the first token.
 */
export function searchCaptions(options: CaptionSearchOptions): CaptionSearchResult {
  rejectUnknownOptions(options, SEARCH_KEYS, 'searchCaptions');
  return options.strategy === 'beam' ? beamSearch(options) : greedySearch(options);
}

function allowedMask(options: CaptionSearchOptions): Uint8Array {
  const allowed = new Uint8Array(options.vocabSize).fill(1);
  for (const t of options.banned ?? []) if (t >= 0 && t < options.vocabSize) allowed[t] = 0;
  return allowed;
}

function greedySearch(options: CaptionSearchOptions): CaptionSearchResult {
  const { count, vocabSize, bos, eos, maxLength, score } = options;
  const allowed = allowedMask(options);
  const tokens: number[][] = Array.from({ length: count }, () => []);
  const logProbs = new Array<number>(count).fill(0);
  let alive = Array.from({ length: count }, (_, i) => i);
  for (let t = 0; t < maxLength && alive.length > 0; t++) {
    const lp = score(
      alive,
      alive.map((i) => [bos, ...tokens[i]]),
    );
    const next: number[] = [];
    for (let r = 0; r < alive.length; r++) {
      const i = alive[r];
      const off = r * vocabSize;
      let best = -1;
      let bestScore = -Infinity;
      for (let v = 0; v < vocabSize; v++) {
        if (!allowed[v] || (t === 0 && v === eos)) continue;
        const s = lp[off + v];
        if (s > bestScore || best < 0) {
          best = v;
          bestScore = s;
        }
      }
      logProbs[i] += bestScore;
      if (best === eos) continue;
      tokens[i].push(best);
      next.push(i);
    }
    alive = next;
  }
  return { tokens, logProbs };
}

interface Hypothesis {
  tokens: number[];
  logProb: number;
}

function beamSearch(options: CaptionSearchOptions): CaptionSearchResult {
  const { count, vocabSize, bos, eos, maxLength, score, beamSize, lengthPenalty } = options;
  const allowed = allowedMask(options);
  const normalise = (logProb: number, length: number) =>
    lengthPenalty === 0 ? logProb : logProb / Math.pow(Math.max(1, length), lengthPenalty);
  const beams: Hypothesis[][] = Array.from({ length: count }, () => [{ tokens: [], logProb: 0 }]);
  const finished: { hyp: Hypothesis; score: number }[][] = Array.from({ length: count }, () => []);
  const done = new Array<boolean>(count).fill(false);

  for (let t = 0; t < maxLength; t++) {
    const rowImage: number[] = [];
    const rowHyp: Hypothesis[] = [];
    for (let i = 0; i < count; i++) {
      if (done[i]) continue;
      for (const h of beams[i]) {
        rowImage.push(i);
        rowHyp.push(h);
      }
    }
    if (rowImage.length === 0) break;
    const lp = score(
      rowImage,
      rowHyp.map((h) => [bos, ...h.tokens]),
    );
    let r = 0;
    while (r < rowImage.length) {
      const i = rowImage[r];
      // candidates of all beams of image i: the best (beamSize + 1) per beam are enough to fill the beam
      const cands: { s: number; beam: number; v: number; row: number }[] = [];
      let b = 0;
      for (; r < rowImage.length && rowImage[r] === i; r++, b++) {
        const base = rowHyp[r].logProb;
        const off = r * vocabSize;
        const top = topK(lp, off, vocabSize, beamSize + 1, allowed, t === 0 ? eos : -1);
        for (const v of top) cands.push({ s: base + lp[off + v], beam: b, v, row: r });
      }
      cands.sort((a, c) => c.s - a.s || a.beam - c.beam || a.v - c.v);
      const nextBeams: Hypothesis[] = [];
      for (let k = 0; k < cands.length && nextBeams.length < beamSize; k++) {
        const c = cands[k];
        const parent = rowHyp[c.row];
        if (c.v === eos) {
          // an end candidate ranked beyond the beam does not count
          if (k < beamSize) {
            finished[i].push({ hyp: { tokens: parent.tokens, logProb: c.s }, score: normalise(c.s, parent.tokens.length + 1) });
          }
          continue;
        }
        nextBeams.push({ tokens: [...parent.tokens, c.v], logProb: c.s });
      }
      beams[i] = nextBeams;
      if (finished[i].length >= beamSize || nextBeams.length === 0) done[i] = true;
    }
  }
  const tokens: number[][] = [];
  const logProbs: number[] = [];
  for (let i = 0; i < count; i++) {
    const pool = [...finished[i]];
    if (!done[i]) {
      for (const h of beams[i]) pool.push({ hyp: h, score: normalise(h.logProb, h.tokens.length) });
    }
    let best = pool[0];
    for (const p of pool) if (p.score > best.score) best = p;
    tokens.push(best.hyp.tokens);
    logProbs.push(best.hyp.logProb);
  }
  return { tokens, logProbs };
}

/** Indices of the k largest allowed entries of `values[off .. off+n)`, best first, ties to the lower index. */
function topK(
  values: Float32Array,
  off: number,
  n: number,
  k: number,
  allowed: Uint8Array,
  exclude: number,
): number[] {
  const idx: number[] = [];
  for (let v = 0; v < n; v++) {
    if (!allowed[v] || v === exclude) continue;
    const s = values[off + v];
    if (idx.length === k && !(s > values[off + idx[k - 1]])) continue;
    let p = idx.length === k ? k - 1 : idx.length;
    if (idx.length < k) idx.push(v);
    while (p > 0 && s > values[off + idx[p - 1]]) {
      idx[p] = idx[p - 1];
      p--;
    }
    idx[p] = v;
  }
  return idx;
}
