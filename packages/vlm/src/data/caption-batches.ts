import { InvalidInputError, type Rng } from '@synth2/core';
import { mixedBatches, type BatchSource, tf } from '@synth2/nn';
import type { EmbeddingTable } from './embedding-table';
import { splitBatch, type MixRatio } from './mixing';

/** Word ids (no BOS/EOS) of the captions of every item: `captions[item][k]`. */
export type EncodedCaptions = Int32Array[][];

/** A training set: regrouped image tokens and, per item, one or more encoded captions. */
export interface PairSet {
  tokens: EmbeddingTable;
  captions: EncodedCaptions;
}

/** One teacher-forcing batch, ready to become tensors. */
export interface CaptionBatch {
  size: number;
  /** Regrouped image tokens `[size, tokenCount, tokenWidth]`. */
  tokens: Float32Array;
  tokenCount: number;
  tokenWidth: number;
  /** Sequence length T (BOS + longest caption in the batch). */
  length: number;
  /** `[size, T]`: BOS, words, PAD… */
  input: Int32Array;
  /** `[size · T]`: words, EOS, PAD… */
  target: Int32Array;
  /** `[size · T]`: 1 where `target` counts, 0 on padding. */
  weights: Float32Array;
  /** Items from the synthetic source. */
  synthetic: number;
  /** Number of counted targets (words + EOS) in the batch. */
  targets: number;
  /**
   * `input` as an int32 tensor `[size, T]`, made by the batch source (inside the trainer's step tidy, outside the
   * loss): ids created inside the differentiated loss would be freed before the embedding's gradient reads them.
   */
  ids?: tf.Tensor2D;
}

interface Ref {
  set: 0 | 1;
  index: number;
}

/**
 * Draws mixed batches of (image, caption) pairs through core's `mixedBatches` (epoch-wise seeded shuffling per
 * source, set ratios). For each drawn image one of its captions is picked with the trainer's Rng, so every epoch
 * sees one of the ~5 captions per image; state (epochs, cursors) is saved with trainer checkpoints.
 */
export function captionBatches(options: {
  real?: PairSet;
  synthetic?: PairSet;
  mix: MixRatio;
  batchSize: number;
  special: { bos: number; eos: number; pad: number };
  seed?: number;
  /** Draw synthetic pairs only in the first this many batches, then human pairs only (default: every batch). */
  syntheticBatches?: number;
}): BatchSource<CaptionBatch> {
  const { real, synthetic, mix, syntheticBatches } = options;
  if (syntheticBatches !== undefined && (!Number.isInteger(syntheticBatches) || syntheticBatches < 0)) {
    throw new InvalidInputError(`syntheticSteps must be a whole number ≥ 0, got ${syntheticBatches}.`, { field: 'syntheticSteps' });
  }
  if (syntheticBatches === undefined || !real || !synthetic || mix.synthetic === 0 || mix.real === 0) {
    return mixedCaptionBatches(options);
  }
  // two independent sources: the mixed one for the first batches, human pairs only after them
  const mixed = mixedCaptionBatches(options);
  const humanOnly = mixedCaptionBatches({ ...options, synthetic: undefined, mix: { real: 1, synthetic: 0 } });
  let drawn = 0;
  return {
    next(rng: Rng): CaptionBatch {
      return (drawn++ < syntheticBatches ? mixed : humanOnly).next(rng);
    },
    getState: () => ({ drawn, mixed: mixed.getState(), humanOnly: humanOnly.getState() }),
    setState: (state: unknown) => {
      const s = state as { drawn: number; mixed: unknown; humanOnly: unknown };
      drawn = s.drawn;
      mixed.setState(s.mixed);
      humanOnly.setState(s.humanOnly);
    },
  };
}

function mixedCaptionBatches(options: Parameters<typeof captionBatches>[0]): BatchSource<CaptionBatch> {
  const { real, synthetic, mix, batchSize, special } = options;
  const sets: [PairSet | undefined, PairSet | undefined] = [real, synthetic];
  const split = splitBatch(batchSize, mix);
  const sources: { name: string; items: { length: number; get(i: number): Ref }; ratio: number }[] = [];
  if (split.real > 0 && real) {
    sources.push({ name: 'real', items: { length: real.captions.length, get: (i) => ({ set: 0, index: i }) }, ratio: split.real / batchSize });
  }
  if (split.synthetic > 0 && synthetic) {
    sources.push({
      name: 'synthetic',
      items: { length: synthetic.captions.length, get: (i) => ({ set: 1, index: i }) },
      ratio: split.synthetic / batchSize,
    });
  }
  if (sources.length === 0) {
    throw new InvalidInputError('no training pairs to draw batches from; pass real and/or synthetic pairs.');
  }
  const shape = (real ?? synthetic)!.tokens;
  const inner = mixedBatches<Ref, Ref[]>({
    sources,
    batchSize,
    collate: (items) => items,
    seed: options.seed,
  });
  return {
    next(rng: Rng): CaptionBatch {
      const refs = inner.next(rng);
      const picked = refs.map((r) => {
        const caps = sets[r.set]!.captions[r.index];
        return caps.length === 1 ? caps[0] : caps[rng.int(caps.length)];
      });
      const batch = collateBatch(
        refs.map((r) => ({ tokens: sets[r.set]!.tokens, index: r.index })),
        picked,
        refs.filter((r) => r.set === 1).length,
        shape,
        special,
      );
      batch.ids = tf.tensor2d(batch.input, [batch.size, batch.length], 'int32');
      return batch;
    },
    getState: () => inner.getState(),
    setState: (state: unknown) => inner.setState(state),
  };
}

/** Builds a teacher-forcing batch from images and one caption each. */
export function collateBatch(
  images: { tokens: EmbeddingTable; index: number }[],
  captions: Int32Array[],
  synthetic: number,
  shape: { positions: number; dim: number },
  special: { bos: number; eos: number; pad: number },
): CaptionBatch {
  const size = images.length;
  const item = shape.positions * shape.dim;
  const tokens = new Float32Array(size * item);
  images.forEach((img, i) => tokens.set(img.tokens.data.subarray(img.index * item, (img.index + 1) * item), i * item));
  let longest = 0;
  let targets = 0;
  for (const c of captions) {
    longest = Math.max(longest, c.length);
    targets += c.length + 1;
  }
  const length = longest + 1;
  const input = new Int32Array(size * length).fill(special.pad);
  const target = new Int32Array(size * length).fill(special.pad);
  const weights = new Float32Array(size * length);
  captions.forEach((c, i) => {
    const row = i * length;
    input[row] = special.bos;
    input.set(c, row + 1);
    target.set(c, row);
    target[row + c.length] = special.eos;
    weights.fill(1, row, row + c.length + 1);
  });
  return { size, tokens, tokenCount: shape.positions, tokenWidth: shape.dim, length, input, target, weights, synthetic, targets };
}
