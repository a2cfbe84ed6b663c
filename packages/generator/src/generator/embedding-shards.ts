import { InvalidInputError, ShardedTensorWriter, throwIfAborted, type EmbeddingShardManifest } from '@synth2/core';
import { rejectUnknownOptions } from '@synth2/core/internal';
import { tf } from '@synth2/nn';
import { SAMPLING_KEYS, type SamplingOptionsInput } from '../config';
import type { VQTokenizer } from '../tokenizer/vq-tokenizer';
import type { CaptionTokenGenerator } from './caption-token-generator';

export interface WriteEmbeddingShardsOptions extends SamplingOptionsInput {
  generator: CaptionTokenGenerator;
  tokenizer: VQTokenizer;
  /** Captions to synthesize for; `id` becomes the item id in the store (caption record ids). */
  records: readonly { id: string; text: string }[];
  dir: string;
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
  'shardSize',
  'resume',
  'meta',
  'onProgress',
  'abortSignal',
];

/**
 * Synthesizes image embeddings for caption records and writes them to a core sharded store (kind
 * `image-embeddings`; per item `embeddings` F32 `[h·w, d]` and `tokens` I32 `[h·w]`, ids = record ids).
 * Every caption is checked before anything is written; an interrupted run resumes where it stopped.
 */
export async function writeEmbeddingShards(options: WriteEmbeddingShardsOptions): Promise<EmbeddingShardManifest> {
  rejectUnknownOptions(options, WRITE_SHARDS_KEYS, 'writeEmbeddingShards');
  const { generator, tokenizer, records, dir, shardSize, resume, meta, onProgress, abortSignal, ...sampling } = options;
  const seen = new Set<string>();
  records.forEach((r, i) => {
    if (!r || typeof r.id !== 'string' || r.id.length === 0) throw new InvalidInputError(`record ${i} has no id`);
    if (seen.has(r.id)) throw new InvalidInputError(`record ${i}: duplicate id "${r.id}"; ids must be unique`);
    seen.add(r.id);
  });
  // validates every caption (empty, unknown words) before any file is touched
  generator.encodeCaptions(records.map((r) => r.text));
  const hw = tokenizer.tokensPerImage;
  const d = tokenizer.config.codeDim;
  const writer = await ShardedTensorWriter.open(dir, {
    kind: 'image-embeddings',
    tensors: { embeddings: { dtype: 'F32', shape: [hw, d] }, tokens: { dtype: 'I32', shape: [hw] } },
    shardSize,
    resume,
    meta: { generator: 'synth2-maskgit', grid: [tokenizer.gridSize, tokenizer.gridSize], codeDim: d, sampling, ...meta },
  });
  const todo = records.filter((r) => !writer.has(r.id));
  const bs = sampling.batchSize ?? 256;
  let done = records.length - todo.length;
  for (let i = 0; i < todo.length; i += bs) {
    throwIfAborted(abortSignal);
    const chunk = todo.slice(i, i + bs);
    // each caption draws from the seed and its position in the full list: a resumed run writes what an
    // uninterrupted one would
    const first = records.indexOf(chunk[0]);
    const ids = await generator.generateTokens(
      chunk.map((r) => r.text),
      { ...sampling, firstIndex: first, abortSignal },
    );
    const emb = tokenizer.embed(ids);
    const [ev, tv] = await Promise.all([emb.data(), ids.data()]);
    tf.dispose([ids, emb]);
    await writer.append(
      chunk.map((r) => r.id),
      { embeddings: ev as Float32Array, tokens: tv as Int32Array },
    );
    done += chunk.length;
    onProgress?.({ done, total: records.length });
  }
  return writer.close();
}
