import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, ShardedTensorWriter, writeJsonl } from '@synth2/core';
import { loadEmbeddingStore, loadRealPairs, loadSyntheticPairs } from './embedding-store';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synth2-vlm-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeStore(path: string, ids: string[], kind = 'image-embeddings', close = true) {
  const writer = await ShardedTensorWriter.open(path, { kind, tensors: { embeddings: { dtype: 'F32', shape: [2, 3] } }, shardSize: 2 });
  await writer.append(ids, { embeddings: Float32Array.from({ length: ids.length * 6 }, (_, i) => i) });
  if (close) await writer.close();
  else await writer.flush();
}

describe('loadSyntheticPairs', () => {
  it('should pair generated embeddings with their caption records in store order', async () => {
    const store = join(dir, 'synthetic');
    await writeStore(store, ['c2', 'c0', 'c1']);
    const captionsFile = join(dir, 'captions.jsonl');
    await writeJsonl(captionsFile, [
      { id: 'c0', text: 'a red circle', source: 'synthetic' },
      { id: 'c1', text: 'a blue star', source: 'synthetic' },
      { id: 'c2', text: 'two green squares', source: 'synthetic' },
      { id: 'c3', text: 'not generated', source: 'synthetic' },
    ]);
    const pairs = await loadSyntheticPairs({ embeddingsDir: store, captionsFile });
    expect(pairs.ids).toEqual(['c2', 'c0', 'c1']);
    expect(pairs.captions).toEqual(['two green squares', 'a red circle', 'a blue star']);
    expect(pairs.embeddings.shape).toEqual([3, 2, 3]);
    expect(Array.from(pairs.embeddings.data.subarray(6, 12))).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it('should say which embeddings have no caption', async () => {
    const store = join(dir, 'orphans');
    await writeStore(store, ['x1', 'x2']);
    const captionsFile = join(dir, 'few.jsonl');
    await writeJsonl(captionsFile, [{ id: 'x1', text: 'a red circle', source: 'synthetic' }]);
    await expect(loadSyntheticPairs({ embeddingsDir: store, captionsFile })).rejects.toThrow(/1 embeddings have no caption record \(first: x2\)/);
  });
});

describe('loadEmbeddingStore', () => {
  it('should reject stores of another kind, unfinished stores and missing directories', async () => {
    const tokens = join(dir, 'tokens');
    await writeStore(tokens, ['a'], 'image-tokens');
    await expect(loadEmbeddingStore(tokens)).rejects.toThrow(/holds "image-tokens", not "image-embeddings"/);
    const partial = join(dir, 'partial');
    await writeStore(partial, ['a', 'b'], 'image-embeddings', false);
    await expect(loadEmbeddingStore(partial)).rejects.toThrow(/incomplete/);
    await expect(loadEmbeddingStore(join(dir, 'nope'))).rejects.toThrow(InvalidInputError);
  });
});

describe('loadRealPairs', () => {
  it('should match stored image embeddings to dataset pairs by image id', async () => {
    const store = join(dir, 'real');
    await writeStore(store, ['img-2', 'img-1']);
    const pairs = [
      { imageId: 'img-1', captions: ['a red circle', 'a round red thing'] },
      { imageId: 'img-2', captions: ['a blue star'] },
      { imageId: 'img-3', captions: ['not encoded'] },
    ];
    const real = await loadRealPairs({ embeddingsDir: store, pairs });
    expect(real.captions).toEqual([['a blue star'], ['a red circle', 'a round red thing']]);
    expect(real.embeddings.shape).toEqual([2, 2, 3]);
    await expect(loadRealPairs({ embeddingsDir: store, pairs: pairs.slice(0, 1) })).rejects.toThrow(/1 stored embeddings have no image–caption pair \(first: img-2\)/);
  });
});
