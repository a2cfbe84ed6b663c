import { ConfigurationError, InvalidInputError, throwIfAborted } from '@synth2/core/internal';
import { scoreIndexed } from './coco-scores';
import { runMeteor, type MeteorOptions } from './external/meteor-scorer';
import { runSpice, type SpiceOptions } from './external/spice-scorer';
import type { BleuStats } from './metrics/bleu-scorer';
import { NgramIndex } from './metrics/ngrams';
import { resolveMetrics, scorePluginMetric, type MetricId, type PluginMetricRef } from './plugin-metrics';
import { ptbTokenizeIds } from './tokenizer/ptb-tokenizer';
import { defineLazyProperty } from './util/lazy-property';

export { EVAL_METRIC_NAMES, type EvalMetricName, type MetricId } from './plugin-metrics';
/** The official name of a built-in caption score (`Bleu_1`…`Bleu_4`, `METEOR`, `ROUGE_L`, `CIDEr`, `SPICE`). */
export type ScoreName = 'Bleu_1' | 'Bleu_2' | 'Bleu_3' | 'Bleu_4' | 'METEOR' | 'ROUGE_L' | 'CIDEr' | 'SPICE';

/** An image id, as in COCO files (string or number). */
export type ImageId = string | number;

/** COCO caption annotations (`captions_val2017.json`): only `annotations[].image_id/caption` (and `images[].id`) are used. */
export interface CocoCaptionAnnotations {
  images?: readonly { id: ImageId }[];
  annotations: readonly { image_id: ImageId; caption: unknown }[];
}

/** One entry of a COCO results file. */
export interface CocoCaptionResult {
  image_id: ImageId;
  caption: unknown;
}

/** Options of `evaluateCaptions`. */
export interface EvaluateCaptionsOptions {
  /** `{ imageId: [reference, …] }` or a COCO caption annotations object. */
  references: Readonly<Record<string, readonly string[]>> | CocoCaptionAnnotations;
  /** `{ imageId: candidate }` or a COCO results array `[{ image_id, caption }]`. */
  predictions: Readonly<Record<string, string>> | readonly CocoCaptionResult[];
  /**
   * Default `['BLEU', 'ROUGE_L', 'CIDEr']`. METEOR and SPICE need Java and the official jars. Any other entry is the id
   * of a metric registered in `getRegistries().metrics` of `@synth2/core` (a plugin's `CaptionMetricV1`).
   */
  metrics?: readonly MetricId[];
  /**
   * What to do with bad entries (predictions for unknown images, duplicate predictions, empty or non-string
   * captions, images without references): `'throw'` (default) an `InvalidInputError` listing them, or `'drop'`
   * them and report them in `dropped`.
   */
  onInvalid?: 'throw' | 'drop';
  meteor?: MeteorOptions;
  spice?: SpiceOptions;
  /** Stops the work with an `AbortedError` (the option name every Synth² package uses). */
  abortSignal?: AbortSignal;
  /** @deprecated Use `abortSignal` (still honoured in this release). */
  signal?: AbortSignal;
}

/** An input entry `evaluateCaptions` left out, and why. */
export interface DroppedEntry {
  imageId: ImageId;
  kind: 'prediction' | 'reference';
  reason: 'unknown-image' | 'duplicate' | 'empty-caption' | 'not-a-string' | 'no-references';
}

/** Corpus scores: the official names (`Bleu_1`…`Bleu_4`, `METEOR`, `ROUGE_L`, `CIDEr`, `SPICE`) and plugin metric ids. */
export type CaptionScores = Partial<Record<ScoreName, number>> & { [metricId: string]: number | undefined };
/** Per-image scores by the same names, aligned with `imageIds`. */
export type CaptionPerImageScores = Partial<Record<ScoreName, number[]>> & { [metricId: string]: number[] | undefined };

/** What `evaluateCaptions` returns: corpus and per-image scores, and what was dropped. */
export interface CaptionEvaluation {
  /**
   * Corpus scores with the official names (`Bleu_1`…`Bleu_4`, `METEOR`, `ROUGE_L`, `CIDEr`, `SPICE`), then each
   * plugin metric's score under its id.
   */
  metrics: CaptionScores;
  /** Per-image scores, aligned with `imageIds` (the official per-image arrays; a plugin metric's when it gives them). */
  perImage: CaptionPerImageScores;
  /** BLEU statistics summed over the corpus (present when BLEU was computed). */
  bleuStats?: BleuStats;
  /** Evaluated images in evaluation order: the references' order, restricted to images with a prediction. */
  imageIds: ImageId[];
  /**
   * Images with at least one valid reference. When it exceeds `imageIds.length`, some annotated images had no
   * prediction: the scores cover only the images that have one (as the official evaluation does).
   */
  annotatedImages: number;
  /** PTB-tokenized captions, aligned with `imageIds`. */
  tokenized: { predictions: string[]; references: string[][] };
  /** Entries skipped with `onInvalid: 'drop'`. */
  dropped?: DroppedEntry[];
  /** Milliseconds per stage. */
  timings: Record<string, number>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isId = (v: unknown): v is ImageId => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function captionProblem(caption: unknown): DroppedEntry['reason'] | undefined {
  if (typeof caption !== 'string') return 'not-a-string';
  // a caption that starts with a printable ASCII character is not blank (no trimmed copy needed)
  const c = caption.charCodeAt(0);
  if (c > 32 && c < 127) return undefined;
  if (caption.trim() === '') return 'empty-caption';
  return undefined;
}

interface Problem extends DroppedEntry {
  detail?: string;
}

const REASON_TEXT: Record<DroppedEntry['reason'], string> = {
  'unknown-image': 'are for images that have no references',
  duplicate: 'are duplicates (a second result for the same image)',
  'empty-caption': 'have an empty caption',
  'not-a-string': 'have a caption that is not a string',
  'no-references': 'are for images whose references are all empty or invalid',
};

function problemsError(problems: Problem[]): InvalidInputError {
  const groups = new Map<string, Problem[]>();
  for (const p of problems) {
    const key = `${p.kind}:${p.reason}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(p);
  }
  const parts = [...groups.values()].map((g) => {
    const ids = g.slice(0, 5).map((p) => JSON.stringify(p.imageId));
    const noun = g[0].kind === 'prediction' ? (g.length === 1 ? 'prediction' : 'predictions') : g.length === 1 ? 'reference' : 'references';
    const verb = REASON_TEXT[g[0].reason].replace(/^are /, g.length === 1 ? 'is ' : 'are ').replace(/^have /, g.length === 1 ? 'has ' : 'have ');
    return `${g.length} ${noun} ${verb} (image ${ids.join(', ')}${g.length > 5 ? ', …' : ''})`;
  });
  return new InvalidInputError(
    `invalid evaluation input: ${parts.join('; ')}. Fix the files, or pass onInvalid: 'drop' (CLI: --on-invalid drop) to skip these entries and report them.`,
  );
}

interface Normalized {
  /** image key → { id, captions } in references order */
  refs: Map<string, { id: ImageId; captions: string[] }>;
  preds: Map<string, { id: ImageId; caption: string }>;
  problems: Problem[];
}

function normalizeReferences(references: EvaluateCaptionsOptions['references'], problems: Problem[]): Normalized['refs'] {
  const refs: Normalized['refs'] = new Map();
  if (!isRecord(references)) {
    throw new InvalidInputError('references must be an object: { imageId: [captions] } or COCO caption annotations { images, annotations }.', {
      field: 'references',
    });
  }
  const add = (id: ImageId, caption: unknown): void => {
    const key = String(id);
    let entry = refs.get(key);
    if (!entry) {
      entry = { id, captions: [] };
      refs.set(key, entry);
    }
    const problem = captionProblem(caption);
    if (problem) problems.push({ imageId: id, kind: 'reference', reason: problem });
    else entry.captions.push(caption as string);
  };
  if ('annotations' in references) {
    const coco = references as unknown as CocoCaptionAnnotations;
    if (!Array.isArray(coco.annotations)) {
      throw new InvalidInputError('COCO annotations: "annotations" must be an array of { image_id, caption }.', { field: 'annotations' });
    }
    if (coco.images !== undefined) {
      if (!Array.isArray(coco.images)) throw new InvalidInputError('COCO annotations: "images" must be an array of { id }.', { field: 'images' });
      coco.images.forEach((im, i) => {
        if (!isRecord(im) || !isId(im.id)) {
          throw new InvalidInputError(`COCO annotations: images[${i}] has no valid "id" (a number or string).`, { field: `images[${i}].id` });
        }
        if (!refs.has(String(im.id))) refs.set(String(im.id), { id: im.id, captions: [] });
      });
    }
    coco.annotations.forEach((ann, i) => {
      if (!isRecord(ann) || !isId(ann.image_id)) {
        throw new InvalidInputError(`COCO annotations: annotations[${i}] has no valid "image_id" (a number or string).`, {
          field: `annotations[${i}].image_id`,
        });
      }
      add(ann.image_id, ann.caption);
    });
  } else {
    for (const [key, captions] of Object.entries(references)) {
      if (!Array.isArray(captions)) {
        throw new InvalidInputError(`references["${key}"] must be an array of caption strings.`, { field: `references.${key}` });
      }
      if (!refs.has(key)) refs.set(key, { id: key, captions: [] });
      for (const c of captions) add(key, c);
    }
  }
  return refs;
}

function normalizePredictions(
  predictions: EvaluateCaptionsOptions['predictions'],
  refs: Normalized['refs'],
  problems: Problem[],
  attempted: Set<string>,
): Normalized['preds'] {
  const preds: Normalized['preds'] = new Map();
  const entries: [ImageId, unknown][] = [];
  if (Array.isArray(predictions)) {
    predictions.forEach((r: unknown, i) => {
      if (!isRecord(r) || !isId(r.image_id)) {
        throw new InvalidInputError(`results[${i}] must be an object with a number or string "image_id" and a "caption".`, {
          field: `results[${i}].image_id`,
        });
      }
      entries.push([r.image_id, r.caption]);
    });
  } else if (isRecord(predictions)) {
    for (const [key, caption] of Object.entries(predictions)) entries.push([key, caption]);
  } else {
    throw new InvalidInputError('predictions must be { imageId: caption } or a COCO results array [{ image_id, caption }].', {
      field: 'predictions',
    });
  }
  for (const [id, caption] of entries) {
    const key = String(id);
    attempted.add(key);
    const ref = refs.get(key);
    if (!ref) {
      problems.push({ imageId: id, kind: 'prediction', reason: 'unknown-image' });
      continue;
    }
    if (preds.has(key)) {
      problems.push({ imageId: id, kind: 'prediction', reason: 'duplicate' });
      continue;
    }
    const problem = captionProblem(caption);
    if (problem) {
      problems.push({ imageId: id, kind: 'prediction', reason: problem });
      continue;
    }
    if (ref.captions.length === 0) {
      problems.push({ imageId: id, kind: 'prediction', reason: 'no-references' });
      continue;
    }
    preds.set(key, { id: ref.id, caption: caption as string });
  }
  return preds;
}

/** The space-joined token strings, built from the index's word ids on first access (scoring works on the ids). */
function lazyTokenized(index: NgramIndex, candSentences: number[], refSentences: number[][]): CaptionEvaluation['tokenized'] {
  let predictions: string[] | undefined;
  let references: string[][] | undefined;
  return {
    get predictions() {
      return (predictions ??= candSentences.map((s) => index.sentenceText(s)));
    },
    get references() {
      return (references ??= refSentences.map((rs) => rs.map((s) => index.sentenceText(s))));
    },
  };
}

/** About how many words the captions hold (sizes the n-gram index; it grows when the guess is short). */
function estimateWords(captions: readonly string[]): number {
  let chars = 0;
  for (const c of captions) chars += c.length;
  return Math.ceil(chars / 5) + captions.length;
}

/** Scores the evaluated images with each plugin metric (raw captions keyed by image id) and adds its scores by id. */
async function addPluginMetrics(
  result: CaptionEvaluation,
  plugins: readonly PluginMetricRef[],
  refs: Normalized['refs'],
  preds: Normalized['preds'],
  abortSignal: AbortSignal | undefined,
  lap: (name: string) => void,
): Promise<void> {
  const keys = result.imageIds.map(String);
  const references: Record<string, string[]> = {};
  const predictions: Record<string, string> = {};
  for (const key of keys) {
    references[key] = [...refs.get(key)!.captions];
    predictions[key] = preds.get(key)!.caption;
  }
  for (const ref of plugins) {
    const scored = await scorePluginMetric(ref, { references, predictions, abortSignal }, keys);
    result.metrics[ref.id] = scored.score;
    if (scored.perImage) result.perImage[ref.id] = scored.perImage;
    lap(ref.id);
  }
}

/**
 * The COCO caption evaluation (pycocoevalcap's `COCOEvalCap`) with the official numbers: PTB tokenization, then
 * BLEU-1..4, METEOR, ROUGE-L, CIDEr-D and SPICE as requested. Images are those with a prediction, in the
 * references' order; each has exactly one candidate.
 */
export async function evaluateCaptions(options: EvaluateCaptionsOptions): Promise<CaptionEvaluation> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    timings[name] = (timings[name] ?? 0) + (now - t);
    t = now;
  };
  const { builtIn, plugins } = resolveMetrics(options.metrics ?? ['BLEU', 'ROUGE_L', 'CIDEr']);
  const onInvalid = options.onInvalid ?? 'throw';
  if (onInvalid !== 'throw' && onInvalid !== 'drop') {
    throw new ConfigurationError(`onInvalid must be 'throw' or 'drop', not ${JSON.stringify(onInvalid)}.`, { setting: 'onInvalid' });
  }
  throwIfAborted(options.abortSignal ?? options.signal);

  const problems: Problem[] = [];
  const refs = normalizeReferences(options.references, problems);
  const attempted = new Set<string>();
  const preds = normalizePredictions(options.predictions, refs, problems, attempted);
  // references with problems matter only for images that have a prediction
  const relevant = problems.filter((p) => p.kind === 'prediction' || attempted.has(String(p.imageId)));
  if (relevant.length > 0 && onInvalid === 'throw') throw problemsError(relevant);

  const imageIds: ImageId[] = [];
  const refCaptions: string[] = [];
  const refCounts: number[] = [];
  const candidates: string[] = [];
  for (const [key, ref] of refs) {
    const pred = preds.get(key);
    if (!pred) continue;
    imageIds.push(ref.id);
    for (const c of ref.captions) refCaptions.push(c);
    refCounts.push(ref.captions.length);
    candidates.push(pred.caption);
  }
  if (imageIds.length === 0) {
    throw new InvalidInputError(
      'nothing to evaluate: no prediction matches an image with references. Check that the results and the annotations use the same image ids.',
    );
  }
  lap('input');

  // tokenization and n-gram indexing in one pass: each caption's tokens become ids as soon as its line is lexed
  const index = new NgramIndex(4, estimateWords(refCaptions) + estimateWords(candidates));
  const wordId = (token: string): number => index.wordId(token);
  const add = (ids: Int32Array, count: number): number => index.addWordIds(ids, count);
  ptbTokenizeIds(refCaptions, wordId, add);
  ptbTokenizeIds(candidates, wordId, add);
  const refSentences: number[][] = [];
  let p = 0;
  for (const count of refCounts) {
    const sentences = new Array<number>(count);
    for (let j = 0; j < count; j++) sentences[j] = p + j;
    refSentences.push(sentences);
    p += count;
  }
  const candSentences = candidates.map((_, i) => refCaptions.length + i);
  const tokenized = lazyTokenized(index, candSentences, refSentences);
  lap('tokenize');
  throwIfAborted(options.abortSignal ?? options.signal);

  const want = new Set(builtIn);
  const scores = scoreIndexed(index, candSentences, refSentences, { bleu: want.has('BLEU'), rouge: want.has('ROUGE_L'), cider: want.has('CIDEr') });
  Object.assign(timings, scores.timings);
  t = performance.now();

  let annotatedImages = 0;
  for (const ref of refs.values()) if (ref.captions.length > 0) annotatedImages++;
  const result: CaptionEvaluation = {
    metrics: {},
    perImage: {},
    imageIds,
    annotatedImages,
    tokenized,
    timings,
  };
  // per-image arrays are converted on first read (BLEU's are also computed then: the corpus scores do not need them)
  const put = (name: ScoreName, score: number | undefined, per: () => ArrayLike<number> | undefined): void => {
    if (score === undefined) return;
    result.metrics[name] = score;
    defineLazyProperty(result.perImage, name, () => Array.from(per() ?? []));
  };
  // the official order: Bleu, METEOR, ROUGE_L, CIDEr, SPICE
  for (const k of ['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4'] as const) put(k, scores.metrics[k], () => scores.perImage[k]);
  if (want.has('METEOR')) {
    const meteor = await runMeteor(tokenized.predictions, tokenized.references, { ...options.meteor, abortSignal: options.abortSignal ?? options.signal });
    put('METEOR', meteor.score, () => meteor.perImage);
    lap('meteor');
  }
  put('ROUGE_L', scores.metrics.ROUGE_L, () => scores.perImage.ROUGE_L);
  put('CIDEr', scores.metrics.CIDEr, () => scores.perImage.CIDEr);
  if (want.has('SPICE')) {
    const spice = await runSpice(imageIds, tokenized.predictions, tokenized.references, { ...options.spice, abortSignal: options.abortSignal ?? options.signal });
    put('SPICE', spice.score, () => spice.perImage);
    lap('spice');
  }
  if (plugins.length > 0) await addPluginMetrics(result, plugins, refs, preds, options.abortSignal ?? options.signal, lap);
  if (scores.bleuStats) result.bleuStats = scores.bleuStats;
  if (problems.length > 0) result.dropped = problems.map(({ imageId, kind, reason }) => ({ imageId, kind, reason }));
  return result;
}
