import { InvalidInputError } from '@synth2/core/internal';
export { readJsonFile } from './read-json-file';

/**
 * One image with its references and a prediction, the format of many captioning repos' result dumps
 * (e.g. MAGIC's `{ image_name, captions, prediction }`).
 */
export interface CaptionPair {
  image_id?: string | number;
  image_name?: string;
  captions: readonly string[];
  prediction: string;
}

/**
 * Splits `[{ image_id | image_name, captions, prediction }]` into the `references`/`predictions` maps of
 * `evaluateCaptions` (file order kept; ids must not look like integers, or JavaScript reorders them: such ids
 * get a `#` prefix... no: use a COCO object instead). Returns COCO-shaped objects so that the order is kept.
 */
export function splitCaptionPairs(items: unknown): {
  references: { images: { id: string | number }[]; annotations: { image_id: string | number; caption: unknown }[] };
  predictions: { image_id: string | number; caption: unknown }[];
} {
  if (!Array.isArray(items)) {
    throw new InvalidInputError('a caption-pairs file must be a JSON array of { image_id or image_name, captions: [...], prediction }.');
  }
  const images: { id: string | number }[] = [];
  const annotations: { image_id: string | number; caption: unknown }[] = [];
  const predictions: { image_id: string | number; caption: unknown }[] = [];
  items.forEach((item: unknown, i) => {
    const it = item as Partial<CaptionPair> | null;
    const id = it?.image_id ?? it?.image_name;
    if (it === null || typeof it !== 'object' || (typeof id !== 'string' && typeof id !== 'number')) {
      throw new InvalidInputError(`item ${i} has no "image_id" or "image_name".`, { field: `[${i}]` });
    }
    if (!Array.isArray(it.captions)) {
      throw new InvalidInputError(`item ${i} (image ${JSON.stringify(id)}) has no "captions" array.`, { field: `[${i}].captions` });
    }
    images.push({ id });
    for (const c of it.captions) annotations.push({ image_id: id, caption: c });
    predictions.push({ image_id: id, caption: it.prediction });
  });
  return { references: { images, annotations }, predictions };
}
