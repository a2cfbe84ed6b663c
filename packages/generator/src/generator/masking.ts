import type { Rng } from '@synth2/core';
import { sampleTrainingMaskCount } from '../maskgit/mask-schedule';

/** Caption ids and grouped target tokens of a training batch, as plain arrays. */
export interface GeneratorBatch {
  size: number;
  /** Caption word ids `[B, L]`. */
  words: Int32Array;
  /** 1 for real words, 0 for padding `[B, L]`. */
  wordMask: Float32Array;
  /** Grouped target token ids `[B, P, G]`. */
  targets: Int32Array;
}

/** Masked inputs of a batch: ids with the mask id at masked positions, per-token loss weights, dropped captions. */
export interface MaskedBatch {
  inputs: Int32Array;
  weights: Float32Array;
  words: Int32Array;
  wordMask: Float32Array;
}

/**
 * MaskGIT training corruption: per example, a cosine-schedule number of positions (all `G` tokens of each) is
 * replaced by the mask id `K` and weighted 1 in the loss; with probability `captionDropout` the caption is replaced
 * by the single "no caption" token `nullWord` (classifier-free guidance). `codeWeights[k]` (default 1) weights the
 * loss of a masked target with code `k`.
 */
export function maskBatch(
  batch: GeneratorBatch,
  dims: { positions: number; perPosition: number; codebookSize: number; captionLength: number; nullWord: number },
  captionDropout: number,
  rng: Rng,
  codeWeights?: Float32Array,
): MaskedBatch {
  const { positions: P, perPosition: G, codebookSize: K, captionLength: L, nullWord } = dims;
  const B = batch.size;
  const inputs = batch.targets.slice();
  const weights = new Float32Array(B * P * G);
  const words = batch.words.slice();
  const wordMask = batch.wordMask.slice();
  for (let b = 0; b < B; b++) {
    const m = sampleTrainingMaskCount(P, rng);
    const perm = rng.permutation(P);
    for (let i = 0; i < m; i++) {
      const p = perm[i];
      for (let s = 0; s < G; s++) {
        const j = (b * P + p) * G + s;
        inputs[j] = K;
        weights[j] = codeWeights ? codeWeights[batch.targets[j]] : 1;
      }
    }
    if (captionDropout > 0 && rng.uniform() < captionDropout) {
      words.fill(0, b * L, (b + 1) * L);
      wordMask.fill(0, b * L, (b + 1) * L);
      words[b * L] = nullWord;
      wordMask[b * L] = 1;
    }
  }
  return { inputs, weights, words, wordMask };
}
