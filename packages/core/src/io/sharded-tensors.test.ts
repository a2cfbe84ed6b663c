import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidInputError } from '../errors';
import { EmbeddingShardManifestSchema } from '../schemas';
import { makeTmpDir } from '../test/tmp-dir';
import { readSafetensors } from './safetensors';
import {
  ShardedTensorReader,
  ShardedTensorWriter,
  verifyShardedStore,
  type ShardedTensorWriterOptions,
} from './sharded-tensors';

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
    const r = await ShardedTensorReader.open(dir, { requireComplete: false });
    expect(r.manifest.complete).toBe(false);
    expect(r.length).toBe(4);
    await expect(ShardedTensorReader.open(dir)).rejects.toThrow(
      /incomplete \(complete: false, 4 items so far\).*Rerun.*requireComplete: false/,
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
    await expect((await ShardedTensorReader.open(dir)).read(5)).rejects.toThrow(
      /shard-00001.*sha256 mismatch/,
    );
    await writeFile(join(dir, 'shard-00000.safetensors'), bytes.subarray(0, 100));
    await expect((await ShardedTensorReader.open(dir, { verify: false })).read(0)).rejects.toThrow(
      /shard-00000\.safetensors.*(truncated|out of range)/,
    );
    await writeFile(join(dir, 'manifest.json'), '{"format": "synth2-shards", "version": 2}');
    await expect(ShardedTensorReader.open(dir)).rejects.toThrow(/manifest\.json, field "version"/);
  });
});

/** A complete store of 3 shards of 4 items, 1 KiB of F32 per item (4 KiB shards plus headers). */
async function writeStore(): Promise<void> {
  const w = await ShardedTensorWriter.open(dir, {
    kind: 'image-embeddings',
    tensors: { emb: { dtype: 'F32', shape: [256] } },
    shardSize: 4,
  });
  const n = 12;
  await w.append(
    Array.from({ length: n }, (_, i) => `img-${i}`),
    { emb: new Float32Array(n * 256).map((_, j) => Math.sin(j)) },
  );
  await w.close();
}

async function editManifest(edit: (m: Record<string, any>) => void): Promise<void> {
  const file = join(dir, 'manifest.json');
  const m = JSON.parse(await readFile(file, 'utf8'));
  edit(m);
  await writeFile(file, JSON.stringify(m));
}

describe('store verification', () => {
  it('should refuse a shard with 1 KiB flipped (same size) on the default read path, in verify() and verifyShardedStore', async () => {
    await writeStore();
    const file = join(dir, 'shard-00001.safetensors');
    const bytes = await readFile(file);
    const size = bytes.length;
    for (let i = 1024; i < 2048; i++) bytes[i] ^= 0x5a;
    await writeFile(file, bytes);
    expect((await readFile(file)).length).toBe(size);
    const mismatch =
      /shard-00001\.safetensors: sha256 mismatch for shard shard-00001\.safetensors.*Regenerate the store \(rerun the stage/;
    await expect((await ShardedTensorReader.open(dir)).loadAll()).rejects.toThrow(mismatch);
    await expect((await ShardedTensorReader.open(dir)).read(4)).rejects.toThrow(mismatch);
    await expect((await ShardedTensorReader.open(dir)).read(0)).resolves.toMatchObject({ id: 'img-0' });
    await expect((await ShardedTensorReader.open(dir, { verify: false })).verify()).rejects.toThrow(mismatch);
    const error = await verifyShardedStore(dir).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.file).toBe(file);
    // the documented opt-out reads what is there
    expect((await (await ShardedTensorReader.open(dir, { verify: false })).loadAll()).ids).toHaveLength(12);
  });

  it('should report what it checked for a good store', async () => {
    await writeStore();
    const result = await verifyShardedStore(dir);
    expect(result).toMatchObject({ shards: 3, items: 12, manifest: { total: 12, complete: true } });
    const sizes = await Promise.all(
      [0, 1, 2].map(async (k) => (await readFile(join(dir, `shard-0000${k}.safetensors`))).length),
    );
    expect(result.bytes).toBe(sizes.reduce((a, b) => a + b));
  });

  it('should refuse a manifest whose sha256 is zeroed, malformed or missing, and a truncated shard', async () => {
    await writeStore();
    const good = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    for (const [bad, said] of [
      ['0'.repeat(64), /malformed or zeroed \(got "0{64}"\)/],
      ['abc', /malformed or zeroed \(got "abc"\)/],
      [good.shards[2].sha256.toUpperCase(), /malformed or zeroed/],
      [undefined, /is missing \(got none\)/],
    ] as const) {
      await editManifest((m) => {
        m.shards[2].sha256 = bad;
      });
      const error = await ShardedTensorReader.open(dir).catch((e) => e);
      expect(InvalidInputError.isInstance(error), String(bad)).toBe(true);
      expect(error.message).toMatch(
        /manifest\.json, field "sha256": the manifest's sha256 for shard shard-00002\.safetensors/,
      );
      expect(error.message).toMatch(said);
      expect(error.message).toMatch(/cannot be verified\. Regenerate the store/);
      await expect(verifyShardedStore(dir)).rejects.toThrow(said);
    }
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(good));
    const shard = await readFile(join(dir, 'shard-00002.safetensors'));
    await writeFile(join(dir, 'shard-00002.safetensors'), shard.subarray(0, shard.length - 8));
    await expect(verifyShardedStore(dir)).rejects.toThrow(
      /has \d+ bytes, the manifest recorded \d+: it was truncated/,
    );
    await rm(join(dir, 'shard-00002.safetensors'));
    await expect(verifyShardedStore(dir)).rejects.toThrow(
      /shard-00002\.safetensors: shard file listed in the manifest not found/,
    );
    await writeFile(join(dir, 'shard-00002.safetensors'), shard);
    await expect(verifyShardedStore(dir)).resolves.toMatchObject({ shards: 3 });
  });

  it('should refuse an incomplete store unless told to read the committed part', async () => {
    await writeStore();
    await editManifest((m) => {
      m.complete = false;
    });
    await expect(verifyShardedStore(dir)).rejects.toThrow(/incomplete \(complete: false, 12 items so far\)/);
    await expect(verifyShardedStore(dir, { requireComplete: false })).resolves.toMatchObject({ items: 12 });
  });

  it("should refuse a manifest's shard file that leads outside the store", async () => {
    await writeStore();
    const outside = join(dir, '..', `${dir.split('/').pop()}-outside`);
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'shard.safetensors'), await readFile(join(dir, 'shard-00000.safetensors')));
    await editManifest((m) => {
      m.shards[0].file = `../${outside.split('/').pop()}/shard.safetensors`;
    });
    const climb =
      /manifest\.json, field "shards\[0\]\.file": path "\.\.\/.*shard\.safetensors" climbs out of its folder/;
    await expect(ShardedTensorReader.open(dir, { verify: false })).rejects.toThrow(climb);
    await expect(verifyShardedStore(dir)).rejects.toThrow(climb);
    await expect(
      ShardedTensorWriter.open(dir, {
        kind: 'image-embeddings',
        tensors: { emb: { dtype: 'F32', shape: [256] } },
      }),
    ).rejects.toThrow(climb);
    await editManifest((m) => {
      m.shards[0].file = join(outside, 'shard.safetensors');
    });
    await expect(ShardedTensorReader.open(dir)).rejects.toThrow(
      /field "shards\[0\]\.file": path ".*" is absolute/,
    );
    await editManifest((m) => {
      m.shards[0].file = 'link.safetensors';
    });
    await symlink(join(outside, 'shard.safetensors'), join(dir, 'link.safetensors'));
    await expect(ShardedTensorReader.open(dir)).rejects.toThrow(
      /"link\.safetensors" leads outside its folder through a symlink/,
    );
  });
});
