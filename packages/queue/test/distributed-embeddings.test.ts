import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardedTensorReader } from '@synth2/core';
import { initBackend } from '@synth2/nn';
import { CaptionTokenGenerator, VQTokenizer, generateEmbeddings, writeEmbeddingShards } from '@synth2/generator';
import {
  embeddingJobId,
  embeddingJobDir,
  enqueueEmbeddingJobs,
  getQueueStatus,
  mergeEmbeddingShards,
  parseRedisUrl,
  planEmbeddingJobs,
  processEmbeddingJob,
  runEmbeddingJobsLocally,
  waitForJobs,
} from '../src/index';
import { redisTestsReady, spawnWorker, startRedis, waitForWorkerLine } from '../src/test/local-services';

const here = dirname(fileURLToPath(import.meta.url));
const workerScript = join(here, '..', 'dist', 'worker-process.js');
const ready = redisTestsReady('distributed embedding tests', workerScript);

const COLORS = ['red', 'blue', 'green', 'yellow'];
const SHAPES = ['circle', 'square', 'ring'];
const TRAIN = COLORS.flatMap((c) => SHAPES.map((s) => `a ${c} ${s}`));
/** 36 synthetic captions: every colour–shape pair three times, with different ids. */
const RECORDS = [0, 1, 2].flatMap((k) => TRAIN.map((text, i) => ({ id: `cap-${k}-${i}`, text })));
const BATCH = 4;
const SAMPLING = { steps: 4, temperature: 1, guidanceScale: 2 };
const SEED = 3 * 7919;

/** A tiny tokenizer (16×16 images → 8×8 grid, 16 codes of dim 4) and generator trained for a few steps. */
async function trainTinyModels(root: string): Promise<{ tokenizerDir: string; generatorDir: string }> {
  await initBackend({ log: () => {} });
  const n = TRAIN.length;
  const px = new Float32Array(n * 16 * 16 * 3);
  TRAIN.forEach((_, i) => {
    for (let p = 0; p < 16 * 16; p++) {
      const inside = (p % 16) * (i % 3) < 24;
      px.set([inside ? (i % 4) / 3 : 0.1, inside ? 0.5 : 0.9, ((i * 7) % 5) / 4], (i * 256 + p) * 3);
    }
  });
  const tokenizer = VQTokenizer.create({ imageSize: 16, hidden: [8], codebookSize: 16, codeDim: 4, seed: 1 });
  const images = { data: px, shape: [n, 16, 16, 3] as [number, number, number, number] };
  await tokenizer.train(images, { steps: 3, batchSize: 4, log: () => {} } as never);
  const ids = tokenizer.encode(images);
  const tokens = (await ids.data()) as Int32Array;
  ids.dispose();
  const generator = CaptionTokenGenerator.create({ captions: TRAIN, gridHeight: 8, gridWidth: 8, codebookSize: 16, dim: 16, heads: 2, layers: 1, seed: 1 });
  await generator.train(
    TRAIN.map((caption, i) => ({ caption, tokens: tokens.slice(i * 64, (i + 1) * 64) })),
    { steps: 5, batchSize: 4, log: () => {} } as never,
  );
  const tokenizerDir = join(root, 'tokenizer');
  const generatorDir = join(root, 'generator');
  await tokenizer.save(tokenizerDir);
  await generator.save(generatorDir);
  tokenizer.dispose();
  generator.dispose();
  return { tokenizerDir, generatorDir };
}

/** The reference: one in-process writeEmbeddingShards call over all records, as `synth2 generate` runs it. */
async function generateInProcess(models: { tokenizerDir: string; generatorDir: string }, out: string, shardSize: number, batchSize = BATCH) {
  const tokenizer = await VQTokenizer.load(models.tokenizerDir);
  const generator = await CaptionTokenGenerator.load(models.generatorDir);
  await writeEmbeddingShards({
    generator,
    tokenizer,
    records: RECORDS,
    dir: out,
    ...SAMPLING,
    seed: SEED,
    batchSize,
    shardSize,
    meta: { captions: 'captions/captions.jsonl' },
  });
  tokenizer.dispose();
  generator.dispose();
}

/** Every file of a store, by name. */
async function storeFiles(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir)).sort();
  return Object.fromEntries(await Promise.all(names.map(async (f) => [f, (await readFile(join(dir, f))).toString('base64')])));
}

async function readStore(dir: string) {
  const reader = await ShardedTensorReader.open(dir, { requireComplete: true, verify: true });
  const all = await reader.loadAll();
  return { manifest: reader.manifest, ids: all.ids, data: all.tensors.embeddings.data as Float32Array, tokens: all.tensors.tokens.data as Int32Array };
}

describe('processEmbeddingJob with a retrieval-augmented generator', () => {
  it('should retrieve by the records\' exemplar keys, and draw from the run indices of its range, as generateEmbeddings does in-process', async () => {
    await initBackend({ log: () => {} });
    const root = await mkdtemp(join(tmpdir(), 'synth2-queue-exemplars-'));
    const tokenizer = VQTokenizer.create({ imageSize: 16, hidden: [8], codebookSize: 16, codeDim: 4, seed: 1 });
    const rng = (i: number) => ((i * 2654435761) >>> 0) / 2 ** 32;
    const grids = TRAIN.map((_, i) => Array.from({ length: 64 }, (_, j) => Math.floor(rng(i * 64 + j + 1) * 16)));
    const generator = CaptionTokenGenerator.create({ captions: TRAIN, gridHeight: 8, gridWidth: 8, codebookSize: 16, dim: 16, heads: 2, layers: 1, exemplars: true, seed: 1 });
    await generator.train(
      TRAIN.map((caption, i) => ({ caption, tokens: grids[i], exemplarKeys: [caption.split(' ')[2]], image: i })),
      { steps: 5, batchSize: 4, log: () => {} },
    );
    const models = { tokenizerDir: join(root, 'tokenizer'), generatorDir: join(root, 'generator') };
    await tokenizer.save(models.tokenizerDir);
    await generator.save(models.generatorDir);
    const records = RECORDS.slice(0, 8).map((r) => ({ ...r, exemplarKeys: [r.text.split(' ')[2]] }));
    const jobs = planEmbeddingJobs({ runId: 'ex', shardDir: join(root, 'shards'), records, ...models, sampling: SAMPLING, seed: SEED, batchSize: BATCH, recordsPerJob: 4 });
    expect(jobs[1]).toMatchObject({ start: 4, records: records.slice(4).map((r) => ({ ...r, exemplarKeys: [r.exemplarKeys[0]] })) });
    // the second job alone: its captions draw from their run indices 4..7
    const { dir } = await processEmbeddingJob(jobs[1]);
    const shard = (await (await ShardedTensorReader.open(dir)).loadAll()).tensors.embeddings.data as Float32Array;
    const reference: Float32Array[] = [];
    for (const keys of [true, false]) {
      const emb = await generateEmbeddings({
        generator,
        tokenizer,
        captions: records.map((r) => r.text),
        exemplarKeys: keys ? records.map((r) => r.exemplarKeys) : undefined,
        ...SAMPLING,
        seed: SEED,
      });
      reference.push(((await emb.data()) as Float32Array).slice((4 * emb.size) / 8));
      emb.dispose();
    }
    expect(Array.from(shard)).toEqual(Array.from(reference[0]));
    expect(Array.from(reference[1])).not.toEqual(Array.from(reference[0])); // the keys change what is generated
    tokenizer.dispose();
    generator.dispose();
  });
});

describe('planEmbeddingJobs', () => {
  it('should cut contiguous record ranges aligned to generator batches', () => {
    const jobs = planEmbeddingJobs({ runId: 'r', shardDir: '/s', records: RECORDS, tokenizerDir: '/t', generatorDir: '/g', seed: 5, batchSize: 4, recordsPerJob: 10 });
    expect(jobs.map((j) => [j.start, j.records.length])).toEqual([
      [0, 12],
      [12, 12],
      [24, 12],
    ]);
    expect(jobs.flatMap((j) => j.records.map((r) => r.id))).toEqual(RECORDS.map((r) => r.id));
  });

  it('should reject empty input and duplicate ids with a clear error', () => {
    const base = { runId: 'r', shardDir: '/s', tokenizerDir: '/t', generatorDir: '/g', seed: 1 };
    expect(() => planEmbeddingJobs({ ...base, records: [] })).toThrow(/no caption records/);
    expect(() => planEmbeddingJobs({ ...base, records: [RECORDS[0], RECORDS[0]] })).toThrow(/duplicate record id "cap-0-0"/);
  });
});

describe.skipIf(!ready)('distributed embedding generation on BullMQ', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let root: string;
  let models: { tokenizerDir: string; generatorDir: string };
  beforeAll(async () => {
    redis = await startRedis();
    root = await mkdtemp(join(tmpdir(), 'synth2-queue-emb-'));
    models = await trainTinyModels(root);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('should equal the in-process run when 3 workers drain it and one is killed mid-run', async () => {
    await generateInProcess(models, join(root, 'local'), 16);
    const local = await readStore(join(root, 'local'));
    expect(local.ids).toEqual(RECORDS.map((r) => r.id));

    const jobs = planEmbeddingJobs({
      runId: 'emb1',
      shardDir: join(root, 'dist-shards'),
      records: RECORDS,
      ...models,
      sampling: SAMPLING,
      seed: SEED,
      batchSize: BATCH,
    });
    expect(jobs).toHaveLength(9);
    const connection = parseRedisUrl(redis.url);
    // The victim starts alone, so it is killed with work left (and, most likely, a job it holds): deterministic on any machine.
    const victim = spawnWorker(workerScript, redis.url, {}, ['--lock-ms', '1500']);
    await enqueueEmbeddingJobs(jobs, { connection });
    await enqueueEmbeddingJobs(jobs, { connection }); // idempotent: same job ids
    await waitForWorkerLine(victim, '"status":"done"');
    victim.kill('SIGKILL');
    const midway = await getQueueStatus(connection);
    expect(midway.counts.completed).toBeLessThan(jobs.length); // killed mid-run
    const workers = [victim, ...[1, 2].map(() => spawnWorker(workerScript, redis.url, {}, ['--lock-ms', '1500']))];
    const progress: number[] = [];
    const waited = await waitForJobs(connection, jobs.map(embeddingJobId), { onProgress: (e) => progress.push(e.done) });
    expect(waited).toEqual({ done: 9, total: 9 });
    expect(progress.at(-1)).toBe(9);
    const status = await getQueueStatus(connection);
    expect(status.counts.completed).toBe(9);
    expect(status.counts.failed).toBe(0);
    for (const w of workers.slice(1)) w.kill('SIGTERM');

    const manifest = await mergeEmbeddingShards({ jobs, out: join(root, 'dist'), shardSize: 16, meta: { captions: 'captions/captions.jsonl' }, removeShards: true });
    const dist = await readStore(join(root, 'dist'));
    expect(manifest).toEqual(local.manifest); // same schema, shards, counts, settings and sha256s
    expect(dist.ids).toEqual(local.ids); // no loss, no duplicates, same order
    expect(Buffer.from(dist.data.buffer).equals(Buffer.from(local.data.buffer))).toBe(true); // the same numbers
    expect(Array.from(dist.tokens)).toEqual(Array.from(local.tokens));
    expect(await storeFiles(join(root, 'dist'))).toEqual(await storeFiles(join(root, 'local'))); // byte for byte
    expect(existsSync(embeddingJobDir(jobs[0].shardDir, 0))).toBe(false);
    // the survivors did the work
    const doneBy = workers.map((w) => w.lines.filter((l) => l.includes('"status":"done"')).length);
    expect(doneBy[1] + doneBy[2]).toBeGreaterThan(0);
    expect(doneBy.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(9);
  });

  it('should give the same store with other job sizes and generator batch sizes, and rewrite a retried job identically', async () => {
    const plan = (shardDir: string, recordsPerJob: number, batchSize: number) =>
      planEmbeddingJobs({ runId: 'emb2', shardDir, records: RECORDS, ...models, sampling: SAMPLING, seed: SEED, batchSize, recordsPerJob });
    const jobs = plan(join(root, 'local-jobs'), 12, BATCH);
    expect(await runEmbeddingJobsLocally(jobs)).toEqual({ processed: 3, skipped: 0 });
    const first = await storeFiles(embeddingJobDir(jobs[1].shardDir, 1));
    await processEmbeddingJob(jobs[1]); // a retry after a crash
    expect(await storeFiles(embeddingJobDir(jobs[1].shardDir, 1))).toEqual(first);
    expect(await runEmbeddingJobsLocally(jobs)).toEqual({ processed: 0, skipped: 3 }); // resume
    await mergeEmbeddingShards({ jobs, out: join(root, 'local-merged'), shardSize: 16, meta: { captions: 'captions/captions.jsonl' } });
    // other splits: 5-record jobs of single-caption batches, and one job of the whole run
    const odd = plan(join(root, 'odd-jobs'), 5, 1);
    expect(odd.map((j) => j.records.length)).toEqual([5, 5, 5, 5, 5, 5, 5, 1]);
    await runEmbeddingJobsLocally(odd);
    await mergeEmbeddingShards({ jobs: odd, out: join(root, 'odd-merged'), shardSize: 16, meta: { captions: 'captions/captions.jsonl' } });
    await generateInProcess(models, join(root, 'local-batch-36'), 16, 36);
    const local = await storeFiles(join(root, 'local'));
    expect(await storeFiles(join(root, 'local-merged'))).toEqual(local);
    expect(await storeFiles(join(root, 'odd-merged'))).toEqual(local);
    expect(await storeFiles(join(root, 'local-batch-36'))).toEqual(local);
  });

  it('should refuse to merge missing or foreign shards and write nothing', async () => {
    const jobs = planEmbeddingJobs({ runId: 'emb3', shardDir: join(root, 'partial'), records: RECORDS, ...models, seed: 1, batchSize: 12 });
    await processEmbeddingJob(jobs[0]);
    const out = join(root, 'partial-out');
    await expect(mergeEmbeddingShards({ jobs, out })).rejects.toThrow(/2 embedding shards are not written yet \(first: 1, 2\)/);
    expect(existsSync(out)).toBe(false);
    // a shard of other records in the place of job 1
    const other = planEmbeddingJobs({ runId: 'x', shardDir: join(root, 'partial'), records: [...RECORDS].reverse(), ...models, seed: 1, batchSize: 12 });
    await processEmbeddingJob(other[1]);
    await processEmbeddingJob(jobs[2]);
    await expect(mergeEmbeddingShards({ jobs, out })).rejects.toThrow(/holds other records than its job/);
    expect(existsSync(out)).toBe(false);
    // a job store written with other sampling settings in the place of job 1
    const [, otherSettings] = planEmbeddingJobs({ runId: 'y', shardDir: join(root, 'partial'), records: RECORDS, ...models, sampling: { steps: 2 }, seed: 1, batchSize: 12 });
    await processEmbeddingJob(otherSettings);
    await expect(mergeEmbeddingShards({ jobs, out })).rejects.toThrow(/written with other settings/);
    expect(existsSync(out)).toBe(false);
  });

  it('should fail the job with a clear reason when a checkpoint is missing', async () => {
    const jobs = planEmbeddingJobs({ runId: 'emb4', shardDir: join(root, 'bad'), records: RECORDS.slice(0, 2), tokenizerDir: join(root, 'nope'), generatorDir: models.generatorDir, seed: 1 });
    await expect(processEmbeddingJob(jobs[0])).rejects.toThrow(/nope/);
    expect(existsSync(embeddingJobDir(jobs[0].shardDir, 0))).toBe(false);
  });
});
