import { rejectUnknownOptions } from '@synth2/core/internal';
import { CaptionRecordSchema, InvalidInputError, ShardedTensorReader, readJsonlAll, type ImageCaptionPair } from '@synth2/core';

/** Image embeddings read from a sharded store, with their ids in store order. */
export interface StoredEmbeddings {
  ids: string[];
  embeddings: { data: Float32Array; shape: [number, number, number] };
}

/**
 * Reads a finished sharded store of image embeddings (kind `image-embeddings`, tensor `embeddings` F32/F16
 * `[N, d]` per item) — the generator's synthetic embeddings or real images encoded once by the tokenizer.
 */
export async function loadEmbeddingStore(dir: string, options: { tensor?: string } = {}): Promise<StoredEmbeddings> {
  rejectUnknownOptions(options, ['tensor'], 'loadEmbeddingStore');
  const name = options.tensor ?? 'embeddings';
  const reader = await ShardedTensorReader.open(dir, { requireComplete: true });
  const m = reader.manifest;
  if (m.kind !== 'image-embeddings') {
    throw new InvalidInputError(
      `the store holds "${m.kind}", not "image-embeddings". Point to the embedding store (the generator's output or the encoded real images).`,
      { file: dir, field: 'kind' },
    );
  }
  const spec = m.tensors[name];
  if (!spec || spec.shape.length !== 2 || (spec.dtype !== 'F32' && spec.dtype !== 'F16')) {
    throw new InvalidInputError(
      `expected a float tensor "${name}" of shape [positions, width] per item; the store has ${Object.entries(m.tensors)
        .map(([k, s]) => `${k} ${s.dtype} [${s.shape.join(', ')}]`)
        .join(', ')}.`,
      { file: dir, field: `tensors.${name}` },
    );
  }
  if (reader.length === 0) {
    throw new InvalidInputError('the embedding store is empty; rerun the stage that writes it.', { file: dir });
  }
  const all = await reader.loadAll();
  return {
    ids: all.ids,
    embeddings: {
      data: all.tensors[name].data as Float32Array,
      shape: [reader.length, spec.shape[0], spec.shape[1]],
    },
  };
}

/**
 * Synthetic pairs for `trainVLM`: the generator's embedding store plus the captions JSONL (core `CaptionRecord`s;
 * store ids are caption record ids). Every embedding needs its caption; captions without an embedding are left out.
 */
export async function loadSyntheticPairs(options: {
  embeddingsDir: string;
  captionsFile: string;
}): Promise<{ ids: string[]; embeddings: StoredEmbeddings['embeddings']; captions: string[] }> {
  rejectUnknownOptions(options, ['embeddingsDir', 'captionsFile'], 'loadSyntheticPairs');
  const store = await loadEmbeddingStore(options.embeddingsDir);
  const records = await readJsonlAll(options.captionsFile, CaptionRecordSchema);
  const text = new Map<string, string>();
  for (const r of records) text.set(r.id, r.text);
  const missing = store.ids.filter((id) => !text.has(id));
  if (missing.length > 0) {
    throw new InvalidInputError(
      `${missing.length} embeddings have no caption record (first: ${missing.slice(0, 5).join(', ')}). Use the captions file the embeddings were generated from.`,
      { file: options.captionsFile },
    );
  }
  return { ids: store.ids, embeddings: store.embeddings, captions: store.ids.map((id) => text.get(id)!) };
}

/**
 * Real (human) pairs for `trainVLM`: embeddings of the dataset's images, encoded once by the tokenizer and stored
 * with image ids, matched to the dataset's pairs by `imageId`. Pairs come back in the store's order; every stored
 * image needs its pair (pairs that were not encoded are left out).
 */
export async function loadRealPairs(options: {
  embeddingsDir: string;
  pairs: readonly Pick<ImageCaptionPair, 'imageId' | 'captions'>[];
}): Promise<{ ids: string[]; embeddings: StoredEmbeddings['embeddings']; captions: string[][] }> {
  rejectUnknownOptions(options, ['embeddingsDir', 'pairs'], 'loadRealPairs');
  const store = await loadEmbeddingStore(options.embeddingsDir);
  const byId = new Map<string, string[]>();
  for (const p of options.pairs) byId.set(p.imageId, p.captions);
  const missing = store.ids.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    throw new InvalidInputError(
      `${missing.length} stored embeddings have no image–caption pair (first: ${missing.slice(0, 5).join(', ')}). Pass the dataset split the embeddings were encoded from.`,
      { file: options.embeddingsDir },
    );
  }
  return { ids: store.ids, embeddings: store.embeddings, captions: store.ids.map((id) => byId.get(id)!) };
}
