import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardedTensorReader } from '@synth2/core';
import { initBackend, tf } from '@synth2/nn';
import { expectUnknownOptionRejected, makeTmpDir } from '@synth2/core/test';
import { VQTokenizer } from '../tokenizer/vq-tokenizer';
import { CaptionTokenGenerator } from './caption-token-generator';
import { writeEmbeddingShards, type WriteEmbeddingShardsOptions } from './embedding-shards';
import { generateEmbeddings, type CandidateScorer } from './generate';

const TRAIN = ['a red circle', 'a blue square', 'a green star', 'two yellow hearts', 'a red square', 'a blue star'];
/** 14 records: every training caption more than once, with different ids. */
const RECORDS = Array.from({ length: 14 }, (_, i) => ({ id: `syn-${i}`, text: TRAIN[i % TRAIN.length] }));
const SAMPLING = { steps: 2, temperature: 2, guidanceScale: 2, seed: 7 };
const ARCH = { gridHeight: 4, gridWidth: 4, codebookSize: 16, group: 2, dim: 16, heads: 2, layers: 1, captionLayers: 1, maxCaptionLength: 6, seed: 3 };

let tmp: { dir: string; cleanup: () => Promise<void> };
let tokenizer: VQTokenizer;
let generator: CaptionTokenGenerator;
let n = 0;
const nextDir = () => join(tmp.dir, `store-${n++}`);

/** Rates each embedding row by itself (so scores do not depend on the batch): a caption-dependent projection. */
const scorer: CandidateScorer & { calls: number } = {
  calls: 0,
  score(embeddings: tf.Tensor3D, captions: readonly string[]) {
    this.calls++;
    const x = embeddings.dataSync();
    const per = x.length / captions.length;
    return Float32Array.from(captions, (c, b) => {
      let s = 0;
      for (let k = 0; k < per; k++) s += x[b * per + k] * Math.sin(k + c.length);
      return s;
    });
  },
};

/** Everything a store holds: manifest (with the sha256 of every shard), file names and the bytes of every file. */
async function storeBytes(dir: string) {
  const files = (await readdir(dir)).sort();
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  return { manifest, files, bytes: await Promise.all(files.map((f) => readFile(join(dir, f)).then((b) => b.toString('base64')))) };
}

async function items(dir: string) {
  const reader = await ShardedTensorReader.open(dir, { requireComplete: true });
  let ids: string[] = [];
  const emb: number[] = [];
  const tok: number[] = [];
  for await (const shard of reader) {
    ids = ids.concat(shard.ids);
    emb.push(...(shard.tensors.embeddings.data as Float32Array));
    tok.push(...(shard.tensors.tokens.data as Int32Array));
  }
  return { ids, emb, tok };
}

/** Writes RECORDS with SAMPLING (shards of 4) into a new folder or `options.dir`; returns the folder. */
async function write(options: Partial<WriteEmbeddingShardsOptions>): Promise<string> {
  const dir = options.dir ?? nextDir();
  await writeEmbeddingShards({ generator, tokenizer, records: RECORDS, shardSize: 4, ...SAMPLING, ...options, dir });
  return dir;
}

beforeAll(async () => {
  await initBackend({ log: () => {} });
  tmp = await makeTmpDir('synth2-embedding-shards-');
  tokenizer = VQTokenizer.create({ imageSize: 16, hidden: [8, 8], codebookSize: 16, codeDim: 4, seed: 2 });
  generator = CaptionTokenGenerator.create({ captions: TRAIN, ...ARCH });
});
afterAll(async () => {
  tokenizer?.dispose();
  generator?.dispose();
  await tmp?.cleanup();
});

describe('writeEmbeddingShards', () => {
  it('should write the same store whatever the batch size, each item what generateEmbeddings gives at its index', async () => {
    const dirs = [nextDir(), nextDir(), nextDir()];
    for (const [k, batchSize] of [1, 3, 256].entries()) await write({ dir: dirs[k], batchSize });
    const [a, b, c] = await Promise.all(dirs.map(storeBytes));
    expect(a.manifest.tensors).toEqual({ embeddings: { dtype: 'F32', shape: [16, 4] }, tokens: { dtype: 'I32', shape: [16] } });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    // record k draws from Rng(seed).fork(k): the store holds what one generateEmbeddings call over all captions gives
    const all = await generateEmbeddings({ generator, tokenizer, captions: RECORDS.map((r) => r.text), ...SAMPLING });
    const got = await items(dirs[0]);
    expect(got.ids).toEqual(RECORDS.map((r) => r.id));
    expect(got.emb).toEqual(Array.from(all.dataSync()));
    expect(Array.from(tokenizer.embed(tf.tensor3d(got.tok, [14, 4, 4], 'int32')).dataSync())).toEqual(got.emb);
    all.dispose();
  });

  it('should give a range written with firstIndex the items of the whole run at those places', async () => {
    const whole = await items(await write({ batchSize: 5 }));
    const parts = [];
    for (const [start, end] of [
      [0, 6],
      [6, 11],
      [11, 14],
    ]) {
      const dir = nextDir();
      await writeEmbeddingShards({ generator, tokenizer, records: RECORDS.slice(start, end), dir, firstIndex: start, ...SAMPLING, batchSize: 4 });
      parts.push(await items(dir));
    }
    expect(parts.flatMap((p) => p.ids)).toEqual(whole.ids);
    expect(parts.flatMap((p) => p.emb)).toEqual(whole.emb);
    expect(parts.flatMap((p) => p.tok)).toEqual(whole.tok);
  });

  it('should re-rank each caption\'s own candidates: batch-size independent, candidate 0 = the plain sample, scores reported', async () => {
    const plain = await items(await write({}));
    const one = await items(await write({ rerank: { scorer, candidates: 1 } }));
    expect(one.emb).toEqual(plain.emb);
    const first: number[] = [];
    const kept: number[] = [];
    const dirs = [nextDir(), nextDir()];
    await write({ dir: dirs[0], batchSize: 3, rerank: { scorer, candidates: 3, onScores: (f, k) => (first.push(...f), kept.push(...k)) } });
    await write({ dir: dirs[1], batchSize: 14, rerank: { scorer, candidates: 3 } });
    const [a, b] = await Promise.all(dirs.map(storeBytes));
    expect(a).toEqual(b);
    expect(a.manifest.meta.rerank).toEqual({ candidates: 3 });
    expect(first).toHaveLength(14);
    kept.forEach((s, k) => expect(s).toBeGreaterThanOrEqual(first[k]));
    expect(kept.filter((s, k) => s > first[k]).length).toBeGreaterThan(0); // some caption kept a later candidate
    const reranked = await items(dirs[0]);
    expect(reranked.emb).not.toEqual(plain.emb);
    // a caption whose first candidate was kept has the plain sample
    const per = 16 * 4;
    first.forEach((s, k) => {
      if (kept[k] === s) expect(reranked.emb.slice(k * per, (k + 1) * per)).toEqual(plain.emb.slice(k * per, (k + 1) * per));
    });
  });

  it('should resume an interrupted re-ranked write to exactly the store an uninterrupted one writes', async () => {
    const rerank = { scorer, candidates: 2 };
    const whole = await write({ batchSize: 3, rerank });
    const dir = nextDir();
    const stop = new AbortController();
    const interrupted = write({
      dir,
      batchSize: 3,
      rerank,
      abortSignal: stop.signal,
      onProgress: ({ done }) => done >= 6 && stop.abort(),
    });
    await expect(interrupted).rejects.toThrow(/abort/i);
    const partial = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(partial).toMatchObject({ complete: false, total: 4 }); // one full shard committed, two items lost
    await write({ dir, batchSize: 3, rerank }); // resumes at record 4, with other batch boundaries
    expect(await storeBytes(dir)).toEqual(await storeBytes(whole));
  });

  it('should retrieve exemplars by each record\'s exemplarKeys', async () => {
    const gen = CaptionTokenGenerator.create({ captions: TRAIN, ...ARCH, exemplars: true });
    const grids = TRAIN.map((_, i) => Array.from({ length: 16 }, (_, j) => (i * 5 + j * 3) % 16));
    await gen.train(
      TRAIN.map((caption, i) => ({ caption, tokens: grids[i], exemplarKeys: [caption.split(' ')[2]], image: i })),
      { steps: 2, batchSize: 4, log: () => {} },
    );
    const records = RECORDS.map((r) => ({ ...r, exemplarKeys: [r.text.split(' ')[2]] }));
    const keyed = nextDir();
    const unkeyed = nextDir();
    await writeEmbeddingShards({ generator: gen, tokenizer, records, dir: keyed, ...SAMPLING, batchSize: 4 });
    await writeEmbeddingShards({ generator: gen, tokenizer, records: RECORDS, dir: unkeyed, ...SAMPLING, batchSize: 4 });
    const reference = await generateEmbeddings({ generator: gen, tokenizer, captions: records.map((r) => r.text), exemplarKeys: records.map((r) => r.exemplarKeys), ...SAMPLING });
    const got = await items(keyed);
    expect(got.emb).toEqual(Array.from(reference.dataSync()));
    expect((await items(unkeyed)).emb).not.toEqual(got.emb); // the keys change what is generated
    reference.dispose();
    // keys for a generator without exemplars: refused before anything is written
    const refused = nextDir();
    await expect(writeEmbeddingShards({ generator, tokenizer, records, dir: refused })).rejects.toThrow(/created without exemplars/);
    expect(existsSync(refused)).toBe(false);
    gen.dispose();
  });

  it('should reject unknown options, bad re-ranking settings and a mismatched tokenizer before writing anything', async () => {
    const dir = nextDir();
    const base = { generator, tokenizer, records: RECORDS, dir };
    await expectUnknownOptionRejected(() => writeEmbeddingShards({ ...base, firstIndx: 3 } as never), {
      where: 'writeEmbeddingShards',
      key: 'firstIndx',
      suggestion: 'firstIndex',
    });
    await expectUnknownOptionRejected(() => writeEmbeddingShards({ ...base, rerank: { scorer, candidate: 2 } } as never), {
      where: 'writeEmbeddingShards',
      key: 'rerank.candidate',
      suggestion: 'rerank.candidates',
    });
    await expect(writeEmbeddingShards({ ...base, rerank: { scorer, candidates: 0 } })).rejects.toThrow(/rerank.candidates must be a whole number ≥ 1/);
    await expect(writeEmbeddingShards({ ...base, steps: 0 })).rejects.toThrow(/steps/);
    await expect(writeEmbeddingShards({ ...base, firstIndex: -1 })).rejects.toThrow(/firstIndex must be/);
    const other = VQTokenizer.create({ imageSize: 32, hidden: [8, 8], codebookSize: 16, codeDim: 4 });
    await expect(writeEmbeddingShards({ ...base, tokenizer: other })).rejects.toThrow(/tokenizer has 8×8 grids/);
    other.dispose();
    const wrong = { score: () => new Float32Array(1) };
    await expect(writeEmbeddingShards({ ...base, rerank: { scorer: wrong, candidates: 2 } })).rejects.toThrow(/1 scores for 14 captions/);
    // the scorer failed after the store was opened: nothing was committed
    expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')).total).toBe(0);
  });
});
