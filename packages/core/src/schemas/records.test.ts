import { describe, expect, it } from 'vitest';
import {
  CaptionRecordSchema,
  ConceptInventorySchema,
  ConceptSchema,
  EmbeddingShardManifestSchema,
  ImageCaptionPairSchema,
  RunManifestSchema,
} from './records';

describe('record schemas', () => {
  it('should apply defaults to concepts and caption records', () => {
    expect(ConceptSchema.parse({ id: 'shape:circle', name: 'circle' })).toEqual({
      id: 'shape:circle',
      name: 'circle',
      kind: 'object',
      synonyms: [],
    });
    const rec = CaptionRecordSchema.parse({
      id: 'c1',
      text: 'a red circle',
      source: 'synthetic',
      provider: { provider: 'openai-compatible', model: 'x', extra: 1 },
    });
    expect(rec.concepts).toEqual([]);
    expect(rec.provider).toEqual({ provider: 'openai-compatible', model: 'x', extra: 1 }); // extras kept
  });

  it('should reject wrong fields with a path', () => {
    const r = CaptionRecordSchema.safeParse({ id: 'c1', text: '', source: 'robot' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['source', 'text']);
    expect(ImageCaptionPairSchema.safeParse({ imageId: 'i', captions: [] }).success).toBe(false);
    expect(ConceptInventorySchema.safeParse({ name: 'w', objects: [] }).success).toBe(false);
  });

  it('should parse shard and run manifests', () => {
    const m = EmbeddingShardManifestSchema.parse({
      format: 'synth2-shards',
      version: 1,
      kind: 'image-embeddings',
      tensors: { emb: { dtype: 'F16', shape: [8, 8, 64] } },
      shards: [{ file: 'shard-00000.safetensors', count: 3, start: 0 }],
      total: 3,
    });
    expect(m.complete).toBe(false);
    expect(m.meta).toEqual({});
    expect(
      EmbeddingShardManifestSchema.safeParse({ ...m, tensors: { emb: { dtype: 'BF16', shape: [1] } } })
        .success,
    ).toBe(false);
    const run = RunManifestSchema.parse({
      format: 'synth2-run',
      version: 1,
      runId: 'r',
      createdAt: 'now',
      updatedAt: 'now',
      seed: 0,
      config: {},
      stages: { vlm: { status: 'done', configHash: 'h' } },
    });
    expect(run.stages.vlm.outputs).toEqual([]);
  });
});
