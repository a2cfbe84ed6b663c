import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidInputError } from '../errors';
import { EmbeddingShardManifestSchema } from '../schemas';
import { makeTmpDir } from '../test/tmp-dir';
import { readSafetensors } from './safetensors';
import { ShardedTensorReader, ShardedTensorWriter, type ShardedTensorWriterOptions } from './sharded-tensors';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTmpDir()));
afterEach(() => cleanup());

const spec: ShardedTensorWriterOptions = {
  kind: 'image-embeddings',
  tensors: {
    emb: { dtype: 'F32', shape: [2, 3] },
    tokens: { dtype: 'U16', shape: [4] },
    half: { dtype: 'F16', shape: [1] },
  },
  shardSize: 4,
};

/** Items whose values are a function of their index, so any misplacement shows. */
function items(from: number, to: number) {
  const n = to - from;
  const ids = Array.from({ length: n }, (_, k) => `img-${from + k}`);
  const emb = new Float32Array(n * 6).map((_, j) => (from + Math.floor(j / 6)) * 10 + (j % 6));
  const tokens = Array.from({ length: n * 4 }, (_, j) => (from + Math.floor(j / 4)) * 4 + (j % 4));
  const half = new Float32Array(n).map((_, k) => (from + k) / 2);
  return { ids, tensors: { emb, tokens, half } };
}

async function writeItems(w: ShardedTensorWriter, from: number, to: number) {
  const { ids, tensors } = items(from, to);
  await w.append(ids, tensors);
}

describe('ShardedTensorWriter', () => {
  it('should write full shards, a short last one and a valid manifest', async () => {
    const w = await ShardedTensorWriter.open(dir, spec);
    await writeItems(w, 0, 3);
    expect(w.committed).toBe(0);
    await writeItems(w, 3, 10); // crosses two shard boundaries
    expect(w.committed).toBe(8);
    expect(w.size).toBe(10);
    const m = await w.close({ producer: 'test' });
    expect(m.complete).toBe(true);
    expect(m.total).toBe(10);
    expect(m.shards.map((s) => [s.file, s.start, s.count])).toEqual([
      ['shard-00000.safetensors', 0, 4],
      ['shard-00001.safetensors', 4, 4],
      ['shard-00002.safetensors', 8, 2],
    ]);
    const onDisk = EmbeddingShardManifestSchema.parse(
      JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')),
    );
    expect(onDisk.meta).toEqual({ producer: 'test' });
    const shard = await readSafetensors(join(dir, 'shard-00001.safetensors'));
    expect(shard.tensors.emb.shape).toEqual([4, 2, 3]);
    expect(shard.tensors.half.dtype).toBe('F16');
    expect((await readdir(dir)).sort()).toEqual([
      'manifest.json',
      'shard-00000.safetensors',
      'shard-00001.safetensors',
      'shard-00002.safetensors',
    ]);
  });

  it('should resume after the last complete shard, ignoring a half-written one', async () => {
    const w = await ShardedTensorWriter.open(dir, spec);
    await writeItems(w, 0, 6); // shard 0 committed, 2 items pending: lost in the "crash"
    // Simulate a crash while the next shard was being written, and a stray temp file.
    await writeFile(join(dir, 'shard-00001.safetensors'), Buffer.from([1, 2, 3]));
    await writeFile(join(dir, '.shard-00001.safetensors.123.abcd.tmp'), 'partial');
    const r = await ShardedTensorWriter.open(dir, spec);
    expect(r.committed).toBe(4);
    expect(r.has('img-3')).toBe(true);
    expect(r.has('img-4')).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', 'shard-00000.safetensors']);
    await writeItems(r, 4, 10);
    await r.close();
    const reader = await ShardedTensorReader.open(dir, { requireComplete: true, verify: true });
    const all = await reader.loadAll();
    const want = items(0, 10);
    expect(all.ids).toEqual(want.ids);
    expect(Array.from(all.tensors.emb.data)).toEqual(Array.from(want.tensors.emb));
    expect(Array.from(all.tensors.tokens.data)).toEqual(want.tensors.tokens);
  });

  it('should reopen a complete store for appending and replace it with resume: false', async () => {
    const w = await ShardedTensorWriter.open(dir, spec);
    await writeItems(w, 0, 2);
    await w.close();
    const again = await ShardedTensorWriter.open(dir, spec);
    expect(again.manifest.complete).toBe(false);
    await writeItems(again, 2, 3);
    expect((await again.close()).total).toBe(3);
    const fresh = await ShardedTensorWriter.open(dir, { ...spec, resume: false });
    expect(fresh.committed).toBe(0);
    expect(await readdir(dir)).toEqual(['manifest.json']);
  });

  it('should reject a different spec for an existing store', async () => {
    await (await ShardedTensorWriter.open(dir, spec)).close();
    const error = await ShardedTensorWriter.open(dir, {
      ...spec,
      tensors: { emb: { dtype: 'F32', shape: [6] } },
    }).catch((e) => e);
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/holds a different store.*resume: false/);
  });

  it('should reject bad options', async () => {
    await expect(ShardedTensorWriter.open(dir, { ...spec, shardSize: 0 })).rejects.toThrow(
      /shardSize must be a positive integer/,
    );
    await expect(
      ShardedTensorWriter.open(dir, { ...spec, tensors: { x: { dtype: 'F64' as 'F32', shape: [1] } } }),
    ).rejects.toThrow(/tensor "x": unknown dtype "F64"/);
    await expect(ShardedTensorWriter.open(dir, { ...spec, tensors: {} })).rejects.toThrow(
      /at least one tensor/,
    );
  });

  it('should reject bad items with a clear error and buffer nothing', async () => {
    const w = await ShardedTensorWriter.open(dir, spec);
    await writeItems(w, 0, 1);
    const { ids, tensors } = items(1, 3);
    const bad: [readonly string[], Record<string, ArrayLike<number>>, RegExp][] = [
      [
        ids,
        { ...tensors, emb: tensors.emb.subarray(0, 5) },
        /field "emb": expected 2 items × \[2, 3\] = 12 values, got 5/,
      ],
      [ids, { emb: tensors.emb, half: tensors.half }, /tensor "tokens" is missing/],
      [ids, { ...tensors, extra: [1] }, /unknown tensor "extra"/],
      [['img-0', 'img-9'], tensors, /duplicate id "img-0"/],
      [['a', 'a'], tensors, /duplicate id "a"/],
      [
        ids,
        { ...tensors, tokens: [...tensors.tokens.slice(0, 7), 70000] },
        /value 70000 at index 7 does not fit U16/,
      ],
      [
        ids,
        { ...tensors, tokens: [...tensors.tokens.slice(0, 7), 1.5] },
        /value 1.5 at index 7 does not fit U16/,
      ],
    ];
    for (const [badIds, badTensors, message] of bad) {
      const error = await w.append(badIds, badTensors).catch((e) => e);
      expect(InvalidInputError.isInstance(error), String(message)).toBe(true);
      expect(error.message).toMatch(message);
    }
    expect(w.size).toBe(1);
    await w.close();
    expect((await ShardedTensorReader.open(dir)).length).toBe(1);
  });
});

describe('ShardedTensorReader', () => {
  it('should read items, ids and shards in order', async () => {
    const w = await ShardedTensorWriter.open(dir, spec);
    await writeItems(w, 0, 9);
    await w.close();
    const r = await ShardedTensorReader.open(dir);
    expect(r.length).toBe(9);
    expect(r.numShards).toBe(3);
    expect(await r.ids()).toEqual(items(0, 9).ids);
    for (const i of [0, 3, 4, 8, 5]) {
      const item = await r.read(i);
      expect(item.id).toBe(`img-${i}`);
      expect(Array.from(item.tensors.emb)).toEqual([0, 1, 2, 3, 4, 5].map((j) => i * 10 + j));
      expect(Array.from(item.tensors.tokens)).toEqual([0, 1, 2, 3].map((j) => i * 4 + j));
      expect(Array.from(item.tensors.half)).toEqual([i / 2]);
    }
    const starts = [];
    for await (const shard of r) starts.push([shard.start, shard.ids.length]);
    expect(starts).toEqual([
      [0, 4],
      [4, 4],
      [8, 1],
    ]);
    await expect(r.read(9)).rejects.toThrow(/out of range/);
    // random access across shards with a small cache returns the same rows
    const small = await ShardedTensorReader.open(dir, { cacheShards: 1 });
    for (const i of [8, 0, 5, 1, 8, 4]) expect((await small.read(i)).id).toBe(`img-${i}`);
  });

  it('should read committed shards of an incomplete store unless completeness is required', async () => {
    const w = await ShardedTensorWriter.open(dir, spec);
    await writeItems(w, 0, 5);
    const r = await ShardedTensorReader.open(dir);
    expect(r.manifest.complete).toBe(false);
    expect(r.length).toBe(4);
    await expect(ShardedTensorReader.open(dir, { requireComplete: true })).rejects.toThrow(
      /incomplete \(4 items so far\).*Rerun/,
    );
  });

  it('should report a missing store, a missing shard and a tampered shard', async () => {
    await expect(ShardedTensorReader.open(join(dir, 'nothing'))).rejects.toThrow(/no manifest\.json here/);
    const w = await ShardedTensorWriter.open(dir, spec);
    await writeItems(w, 0, 8);
    await w.close();
    const bytes = await readFile(join(dir, 'shard-00001.safetensors'));
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(join(dir, 'shard-00001.safetensors'), bytes);
    await expect((await ShardedTensorReader.open(dir, { verify: true })).read(5)).rejects.toThrow(
      /shard-00001.*sha256 mismatch/,
    );
    await writeFile(join(dir, 'shard-00000.safetensors'), bytes.subarray(0, 100));
    await expect((await ShardedTensorReader.open(dir)).read(0)).rejects.toThrow(
      /shard-00000\.safetensors.*(truncated|out of range)/,
    );
    await writeFile(join(dir, 'manifest.json'), '{"format": "synth2-shards", "version": 2}');
    await expect(ShardedTensorReader.open(dir)).rejects.toThrow(/manifest\.json, field "version"/);
  });
});
