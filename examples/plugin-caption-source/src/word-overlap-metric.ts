import { throwIfAborted, type CaptionMetricV1 } from '@synth2/core';

/** Lower-cased words of a caption (letters and digits; punctuation dropped). */
function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** The share of a prediction's words that occur in at least one reference (0 for an empty prediction). */
export function wordOverlap(prediction: string, references: readonly string[]): number {
  const predicted = words(prediction);
  if (predicted.length === 0) return 0;
  const known = new Set(references.flatMap(words));
  return predicted.filter((w) => known.has(w)).length / predicted.length;
}

/**
 * A caption metric plugin, the smallest useful `CaptionMetricV1`: per image, the share of the prediction's words that
 * occur in its references; the corpus score is the mean over the images.
 */
export function createWordOverlapMetric(): CaptionMetricV1 {
  return {
    specificationVersion: 'v1',
    id: 'example/word-overlap',
    async score({ references, predictions, abortSignal }) {
      throwIfAborted(abortSignal);
      const perImage: Record<string, number> = {};
      for (const [imageId, prediction] of Object.entries(predictions)) {
        perImage[imageId] = wordOverlap(prediction, references[imageId] ?? []);
      }
      const values = Object.values(perImage);
      const score = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
      return { score, perImage };
    },
  };
}
