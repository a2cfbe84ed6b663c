import { computeBleu, type BleuStats } from './metrics/bleu-scorer';
import { computeCider } from './metrics/cider-scorer';
import { NgramIndex } from './metrics/ngrams';
import { computeRougeL } from './metrics/rouge-scorer';
import { defineLazyProperty } from './util/lazy-property';

export interface TokenizedScores {
  metrics: Partial<Record<'Bleu_1' | 'Bleu_2' | 'Bleu_3' | 'Bleu_4' | 'ROUGE_L' | 'CIDEr', number>>;
  perImage: Partial<Record<'Bleu_1' | 'Bleu_2' | 'Bleu_3' | 'Bleu_4' | 'ROUGE_L' | 'CIDEr', Float64Array>>;
  bleuStats?: BleuStats;
  timings: Record<string, number>;
}

/**
 * BLEU-1..4, ROUGE-L and CIDEr-D on already tokenized captions (token arrays; one candidate and ≥ 1 references
 * per image), as the reference scorers compute them on the space-joined strings.
 */
export function scoreTokenized(
  candidates: readonly (readonly string[])[],
  references: readonly (readonly (readonly string[])[])[],
  which: { bleu: boolean; rouge: boolean; cider: boolean },
): TokenizedScores {
  const t = performance.now();
  let words = 0;
  for (const c of candidates) words += c.length + 1;
  for (const rs of references) for (const r of rs) words += r.length + 1;
  const index = new NgramIndex(4, words);
  const cand = candidates.map((c) => index.addWords(c));
  const refs = references.map((rs) => rs.map((r) => index.addWords(r)));
  const ngrams = performance.now() - t;
  const out = scoreIndexed(index, cand, refs, which);
  out.timings = { ngrams, ...out.timings };
  return out;
}

/**
 * BLEU-1..4, ROUGE-L and CIDEr-D on captions already added to an n-gram index: `candidates[i]` is image i's
 * candidate sentence number, `references[i]` its references' sentence numbers.
 */
export function scoreIndexed(
  index: NgramIndex,
  cand: readonly number[],
  refs: readonly (readonly number[])[],
  which: { bleu: boolean; rouge: boolean; cider: boolean },
): TokenizedScores {
  const out: TokenizedScores = { metrics: {}, perImage: {}, timings: {} };
  let t = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    out.timings[name] = now - t;
    t = now;
  };
  if (which.bleu || which.cider) {
    if (which.bleu) {
      const bleu = computeBleu(index, cand, refs, 4);
      for (let k = 0; k < 4; k++) {
        const key = `Bleu_${k + 1}` as 'Bleu_1';
        out.metrics[key] = bleu.scores[k];
        defineLazyProperty(out.perImage, key, () => bleu.perImage[k]);
      }
      out.bleuStats = bleu.stats;
      lap('bleu');
    }
    if (which.cider) {
      const cider = computeCider(index, cand, refs);
      out.metrics.CIDEr = cider.score;
      out.perImage.CIDEr = cider.perImage;
      lap('cider');
    }
  }
  if (which.rouge) {
    const rouge = computeRougeL(index, cand, refs);
    out.metrics.ROUGE_L = rouge.score;
    out.perImage.ROUGE_L = rouge.perImage;
    lap('rouge');
  }
  return out;
}
