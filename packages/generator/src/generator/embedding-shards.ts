import { InvalidInputError, ShardedTensorWriter, throwIfAborted, type EmbeddingShardManifest } from '@synth2/core';
import { rejectUnknownOptions } from '@synth2/core/internal';
import { tf } from '@synth2/nn';
import { SAMPLING_KEYS, SamplingOptionsSchema, parseConfig, type SamplingOptionsInput } from '../config';
import type { VQTokenizer } from '../tokenizer/vq-tokenizer';
import type { CaptionTokenGenerator } from './caption-token-generator';
import { checkPair, checkRerank, sampleEmbeddings, type RerankOptions } from './generate';

/** A caption to synthesize for: `id` becomes the item id in the store. */
export interface EmbeddingRecord {
  id: string;
  /** The caption the generator is conditioned on. */
  text: string;
  /** Exemplar keys, most specific first (generators trained with `exemplars` only). */
  exemplarKeys?: readonly string[];
}

/** Options of `writeEmbeddingShards`. */
export interface WriteEmbeddingShardsOptions extends SamplingOptionsInput {
  generator: CaptionTokenGenerator;
  tokenizer: VQTokenizer;
  /** Captions to synthesize for, in run order; `id` becomes the item id in the store (caption record ids). */
  records: readonly EmbeddingRecord[];
  dir: string;
  /**
   * Index of `records[0]` in the whole run (default 0): record `k` draws from `Rng(seed).fork(firstIndex + k)`. A
   * run split into contiguous ranges (queue jobs) gives each range its start here and gets the items of one call.
   */
  firstIndex?: number;
  /** Best-of-N sampling: each caption's candidates come from its own generator (see `RerankOptions`). */
  rerank?: RerankOptions;
  /** Items per shard file (default 1024). */
  shardSize?: number;
  /** Continue a store left incomplete in `dir` (default true): ids already written are skipped. */
  resume?: boolean;
  meta?: Record<string, unknown>;
  onProgress?: (event: { done: number; total: number }) => void;
  abortSignal?: AbortSignal;
}

const WRITE_SHARDS_KEYS = [
  ...SAMPLING_KEYS,
  'generator',
  'tokenizer',
  'records',
  'dir',
  'firstIndex',
  'rerank',
  'shardSize',
  'resume',
  'meta',
  'onProgress',
  'abortSignal',
];

/**
 * Synthesizes image embeddings for caption records and writes them to a core sharded store (kind
 * `image-embeddings`; per item `embeddings` F32 `[h·w, d]` and `tokens` I32 `[h·w]`, ids = record ids). Record `k`
 * draws from `Rng(seed).fork(firstIndex + k)` whatever the batch size, so the items depend only on the seed and the
 * record's place in the run. Everything is checked before anything is written; an interrupted run resumes where it
 * stopped and writes what an uninterrupted one would.
 */
export async function writeEmbeddingShards(options: WriteEmbeddingShardsOptions): Promise<EmbeddingShardManifest> {
  rejectUnknownOptions(options, WRITE_SHARDS_KEYS, 'writeEmbeddingShards');
  const { generator, tokenizer, records, dir, firstIndex = 0, rerank, shardSize, resume, meta, onProgress, abortSignal, ...input } = options;
  const sampling = parseConfig(SamplingOptionsSchema, input, 'sampling options', 'writeEmbeddingShards');
  checkPair(generator, tokenizer);
  checkRerank(rerank, 'writeEmbeddingShards');
  const keyed = checkRecords(generator, records);
  if (!Number.isInteger(firstIndex) || firstIndex < 0) throw new InvalidInputError(`firstIndex must be a whole number ≥ 0, got ${firstIndex}`);
  const writer = await ShardedTensorWriter.open(dir, {
    kind: 'image-embeddings',
    tensors: {
      embeddings: { dtype: 'F32', shape: [tokenizer.tokensPerImage, tokenizer.config.codeDim] },
      tokens: { dtype: 'I32', shape: [tokenizer.tokensPerImage] },
    },
    shardSize,
    resume,
    meta: { ...storeMeta(tokenizer, sampling, rerank), ...meta },
  });
  const todo = records.flatMap((r, k) => (writer.has(r.id) ? [] : [k]));
  let done = records.length - todo.length;
  for (const range of contiguousRanges(todo, sampling.batchSize)) {
    throwIfAborted(abortSignal);
    const chunk = records.slice(range.start, range.end);
    const { tokens, embeddings } = await sampleEmbeddings({
      generator,
      tokenizer,
      captions: chunk.map((r) => r.text),
      exemplarKeys: keyed ? chunk.map((r) => r.exemplarKeys ?? []) : undefined,
      ...sampling,
      firstIndex: firstIndex + range.start,
      rerank,
      abortSignal,
    });
    const [ev, tv] = await Promise.all([embeddings.data(), tokens.data()]);
    tf.dispose([tokens, embeddings]);
    await writer.append(
      chunk.map((r) => r.id),
      { embeddings: ev as Float32Array, tokens: tv as Int32Array },
    );
    done += chunk.length;
    onProgress?.({ done, total: records.length });
  }
  return writer.close();
}

/**
 * Checks ids (present, unique), captions (known words) and exemplar keys before any file is touched; returns whether
 * any record has exemplar keys.
 */
function checkRecords(generator: CaptionTokenGenerator, records: readonly EmbeddingRecord[]): boolean {
  if (!Array.isArray(records)) throw new InvalidInputError('records must be an array of { id, text } caption records');
  const seen = new Set<string>();
  let keyed = false;
  records.forEach((r, i) => {
    if (!r || typeof r.id !== 'string' || r.id.length === 0) throw new InvalidInputError(`record ${i} has no id`);
    if (seen.has(r.id)) throw new InvalidInputError(`record ${i}: duplicate id "${r.id}"; ids must be unique`);
    seen.add(r.id);
    if (r.exemplarKeys === undefined) return;
    if (!Array.isArray(r.exemplarKeys) || r.exemplarKeys.some((k: unknown) => typeof k !== 'string')) {
      throw new InvalidInputError(`record ${i} ("${r.id}"): exemplarKeys must be an array of strings`);
    }
    keyed = true;
  });
  if (keyed && !generator.config.exemplars) {
    throw new InvalidInputError('records have exemplarKeys but this generator was created without exemplars; leave them out or train a generator with exemplars: true');
  }
  // validates every caption (empty, unknown words)
  generator.encodeCaptions(records.map((r) => r.text));
  return keyed;
}

/** The store's metadata: what the items depend on (the batch size is left out: it changes nothing). */
function storeMeta(tokenizer: VQTokenizer, sampling: ReturnType<typeof SamplingOptionsSchema.parse>, rerank: RerankOptions | undefined) {
  const { batchSize: _batchSize, ...settings } = sampling;
  return {
    generator: 'synth2-maskgit',
    grid: [tokenizer.gridSize, tokenizer.gridSize],
    codeDim: tokenizer.config.codeDim,
    sampling: settings,
    ...(rerank ? { rerank: { candidates: rerank.candidates } } : {}),
  };
}

/** Sorted indices cut into runs of consecutive indices of at most `size` items (`end` exclusive). */
function contiguousRanges(indices: readonly number[], size: number): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  for (const k of indices) {
    const last = ranges.at(-1);
    if (last && last.end === k && last.end - last.start < size) last.end++;
    else ranges.push({ start: k, end: k + 1 });
  }
  return ranges;
}
