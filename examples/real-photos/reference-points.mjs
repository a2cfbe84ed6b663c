// Two reference points that need no training, scored like the pipeline's models (CIDEr-D against the test split's
// human captions), and the intervals the results table shows:
//   - a random train caption per test image (seeded);
//   - the nearest train image's caption, by cosine similarity of the run's VQ tokenizer embeddings of the images.
import { join } from 'node:path';
import { ImageCaptionPairSchema, InvalidInputError, Rng, readJsonlAll, readSafetensors } from '@synth2/core';
import { evaluateCaptions, pairedBootstrap, pairedBootstrapSummary } from '@synth2/eval';
import { VQTokenizer } from '@synth2/generator';
import { initBackend } from '@synth2/nn';

/** A split of a finished run as its data stage wrote it: the records and the images (`[N, S, S, 3]` bytes). */
export async function readRunSplit(runDir, name) {
  const items = await readJsonlAll(join(runDir, 'data', `${name}.jsonl`), ImageCaptionPairSchema);
  const file = join(runDir, 'data', `${name}.images.safetensors`);
  const t = (await readSafetensors(file)).tensors.images;
  if (!t || t.dtype !== 'U8' || t.shape.length !== 4 || t.shape[0] !== items.length) {
    throw new InvalidInputError(
      `expected a U8 tensor "images" of shape [${items.length}, S, S, 3] beside data/${name}.jsonl; rerun the run's data stage (--redo data)`,
      { file },
    );
  }
  return { items, images: { data: t.data, shape: t.shape } };
}

/** For each test image, a caption drawn uniformly from all the train captions (the same seed gives the same draws). */
export function randomTrainCaptions(train, test, seed) {
  const pool = train.items.flatMap((it) => it.captions);
  const rng = new Rng(seed).fork('random-train-caption');
  return Object.fromEntries(test.items.map((it) => [it.imageId, pool[rng.int(pool.length)]]));
}

/** Scales each `dim`-long row of `data` to unit length in place (an all-zero row stays zero). */
function normalizeRows(data, dim) {
  for (let r = 0; r < data.length / dim; r++) {
    const row = data.subarray(r * dim, (r + 1) * dim);
    let sq = 0;
    for (const v of row) sq += v * v;
    const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let j = 0; j < dim; j++) row[j] *= inv;
  }
}

/**
 * The tokenizer embedding of each image — the codebook rows of its token grid (`tokenizer.embed(tokenizer.encode(x))`,
 * what the VLM reads), flattened to one vector and scaled to unit length: `{ data, dim }`, `data` holding `N × dim`.
 */
export function tokenizerEmbeddings(tokenizer, images, batch = 128) {
  const [n, h, w, c] = images.shape;
  const per = h * w * c;
  let dim = 0;
  let data;
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    const ids = tokenizer.encode({ data: images.data.subarray(i * per, (i + b) * per), shape: [b, h, w, c] });
    const emb = tokenizer.embed(ids);
    const values = emb.dataSync();
    ids.dispose();
    emb.dispose();
    dim = values.length / b;
    data ??= new Float32Array(n * dim);
    data.set(values, i * dim);
  }
  normalizeRows(data, dim);
  return { data, dim };
}

/** For each query row, the index of the reference row with the largest dot product (cosine, for unit rows); ties: the first. */
export function nearestRows(queries, references) {
  const { dim } = queries;
  if (references.dim !== dim) throw new InvalidInputError(`nearestRows: query rows have ${dim} values, reference rows ${references.dim}`);
  const nq = queries.data.length / dim;
  const nr = references.data.length / dim;
  const best = new Int32Array(nq);
  for (let q = 0; q < nq; q++) {
    const qv = queries.data.subarray(q * dim, (q + 1) * dim);
    let top = -Infinity;
    for (let r = 0; r < nr; r++) {
      const rv = references.data.subarray(r * dim, (r + 1) * dim);
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += qv[j] * rv[j];
      if (dot > top) {
        top = dot;
        best[q] = r;
      }
    }
  }
  return best;
}

/**
 * For each test image, the first caption of the train image nearest to it by tokenizer embedding (the tokenizer
 * checkpoint the run trained, `tokenizer/model`). Returns the captions by image id, the neighbours' indices and the
 * tokenizer's grid size.
 */
export async function nearestTrainCaptions(tokenizerDir, train, test) {
  await initBackend();
  const tokenizer = await VQTokenizer.load(tokenizerDir);
  try {
    const neighbours = nearestRows(tokenizerEmbeddings(tokenizer, test.images), tokenizerEmbeddings(tokenizer, train.images));
    const predictions = Object.fromEntries(test.items.map((it, i) => [it.imageId, train.items[neighbours[i]].captions[0]]));
    return { predictions, neighbours: Array.from(neighbours), grid: tokenizer.gridSize };
  } finally {
    tokenizer.dispose();
  }
}

/** Corpus CIDEr-D of captions of the test images and the per-image scores in test-split order (as the evaluate stage scores). */
export async function ciderOf(test, predictions) {
  const references = Object.fromEntries(test.items.map((it) => [it.imageId, it.captions]));
  const e = await evaluateCaptions({ references, predictions, metrics: ['CIDEr'] });
  const at = new Map(e.imageIds.map((id, i) => [String(id), e.perImage.CIDEr[i]]));
  return { cider: e.metrics.CIDEr, perImage: test.items.map((it) => at.get(it.imageId) ?? 0) };
}

/**
 * The mean of per-image scores with its percentile bootstrap interval over the test images (2,000 resamples, 95%):
 * `pairedBootstrap` against an all-zero system, whose difference interval is exactly that of the mean.
 */
export function meanWithInterval(perImage, seed) {
  const r = pairedBootstrap(new Array(perImage.length).fill(0), perImage, { samples: 2000, seed });
  return { mean: r.difference, interval: r.differenceInterval, level: r.level, samples: r.samples };
}

/** `b` against `a` on the same test images: the ratio of mean scores and the paired bootstrap summary. */
export function compareSystems(a, b, seed) {
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ma = mean(a);
  return { ratio: ma > 0 ? mean(b) / ma : null, bootstrap: pairedBootstrapSummary(a, b, { seed }) ?? null };
}
