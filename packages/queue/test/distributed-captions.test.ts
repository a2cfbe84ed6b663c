import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAICaptionSource } from '@synth2/captioner';
import {
  enqueueCaptionJobs,
  getQueueStatus,
  mergeCaptionShards,
  parseRedisUrl,
  planCaptionJobs,
  runCaptionJobsLocally,
  waitForQueue,
} from '../src/index';
import {
  redisTestsReady,
  spawnWorker,
  startChatServer,
  startRedis,
  waitForWorkerLine,
} from '../src/test/local-services';

const here = dirname(fileURLToPath(import.meta.url));
const workerScript = join(here, '..', 'dist', 'worker-process.js');
const ready = redisTestsReady('distributed caption tests', workerScript);

const CONCEPTS = ['dog', 'cat', 'bicycle', 'kite', 'pizza', 'umbrella', 'train', 'boat', 'clock', 'vase'];

describe.skipIf(!ready)('distributed caption synthesis on BullMQ', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let chat: Awaited<ReturnType<typeof startChatServer>>;
  beforeAll(async () => {
    redis = await startRedis();
    chat = await startChatServer(40);
  });
  afterAll(async () => {
    await chat?.close();
    await redis?.stop();
  });

  it('should equal a single-process run when 3 workers drain it and one is killed mid-run', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth2-queue-'));
    const plan = (shardDir: string) =>
      planCaptionJobs({
        runId: 'run1',
        shardDir,
        concepts: CONCEPTS,
        count: 60,
        overshoot: 1,
        batchSize: 3,
        seed: 5,
        wordCount: 10,
      });

    // Reference: the local, in-process runner.
    const localJobs = plan(join(root, 'local'));
    const source = createOpenAICaptionSource({ baseURL: chat.url, apiKey: 'test', model: 'stub' });
    await runCaptionJobsLocally(localJobs, source);
    await mergeCaptionShards({ jobs: localJobs, count: 60, out: join(root, 'local.jsonl'), dedupe: false });

    // Distributed: 3 worker processes, one killed once it has finished a job.
    const jobs = plan(join(root, 'dist'));
    const connection = parseRedisUrl(redis.url);
    const env = { OPENAI_API_KEY: 'test' };
    // The victim starts alone and is killed once it has finished a job, with work left: deterministic on any machine.
    // the workers, not the jobs, know the server's URL: jobs name it "chat"
    const workerArgs = ['--lock-ms', '1500', '--endpoint', `chat=${chat.url}`];
    const victim = spawnWorker(workerScript, redis.url, env, workerArgs);
    await enqueueCaptionJobs(
      jobs,
      { provider: 'openai-compatible', endpoint: 'chat', settings: { model: 'stub' }, plugins: [] },
      { connection },
    );
    // Enqueueing again is idempotent (same job ids).
    await enqueueCaptionJobs(
      jobs,
      { provider: 'openai-compatible', endpoint: 'chat', settings: { model: 'stub' }, plugins: [] },
      { connection },
    );
    await waitForWorkerLine(victim, '"status":"done"');
    victim.kill('SIGKILL');
    const midway = await getQueueStatus(connection);
    expect(midway.counts.completed).toBeLessThan(jobs.length);
    const workers = [victim, ...[1, 2].map(() => spawnWorker(workerScript, redis.url, env, workerArgs))];
    const final = await waitForQueue(connection);
    expect(final.counts.completed).toBe(jobs.length);
    for (const w of workers.slice(1)) w.kill('SIGTERM');
    await mergeCaptionShards({ jobs, count: 60, out: join(root, 'dist.jsonl'), dedupe: false });

    const local = (await readFile(join(root, 'local.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const dist = (await readFile(join(root, 'dist.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(local).toHaveLength(60);
    const key = (r: { id: string; text: string }) => `${r.id}\t${r.text}`;
    expect(new Set(dist.map(key)).size).toBe(dist.length); // no duplicates
    expect(dist.map(key).sort()).toEqual(local.map(key).sort()); // no loss
    // The survivors did the victim's work too.
    const doneBy = workers.map((w) => w.lines.filter((l) => l.includes('"status":"done"')).length);
    expect(doneBy[1] + doneBy[2]).toBeGreaterThan(0);
  });

  it('should refuse to merge while batches are missing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth2-queue-'));
    const jobs = planCaptionJobs({
      runId: 'r',
      shardDir: join(root, 's'),
      concepts: CONCEPTS,
      count: 4,
      batchSize: 2,
    });
    await expect(mergeCaptionShards({ jobs, count: 4, out: join(root, 'o.jsonl') })).rejects.toThrow(
      /have no shard yet/,
    );
    expect(existsSync(join(root, 'o.jsonl'))).toBe(false);
  });
});

describe('planCaptionJobs', () => {
  it('should be deterministic and batch requests', () => {
    const a = planCaptionJobs({
      runId: 'r',
      shardDir: '/x',
      concepts: CONCEPTS,
      count: 10,
      overshoot: 1,
      batchSize: 4,
      seed: 1,
    });
    const b = planCaptionJobs({
      runId: 'r',
      shardDir: '/x',
      concepts: CONCEPTS,
      count: 10,
      overshoot: 1,
      batchSize: 4,
      seed: 1,
    });
    expect(a).toEqual(b);
    expect(a.map((j) => j.requests.length)).toEqual([4, 4, 2]);
    // balanced sampler: 10 requests over 10 concepts covers each once
    expect(new Set(a.flatMap((j) => j.requests.map((r) => r.concepts[0].name))).size).toBe(10);
  });

  it('should draw concepts by the weights of the weighted sampler', () => {
    const weights = CONCEPTS.map((_, i) => (i === 3 ? 1 : 0));
    const jobs = planCaptionJobs({
      runId: 'r',
      shardDir: '/x',
      concepts: CONCEPTS,
      count: 20,
      overshoot: 1,
      seed: 2,
      sampler: 'weighted',
      weights,
    });
    expect(new Set(jobs.flatMap((j) => j.requests.map((r) => r.concepts[0].name)))).toEqual(
      new Set(['kite']),
    );
  });

  it('should reject an empty concept list', () => {
    expect(() => planCaptionJobs({ runId: 'r', shardDir: '/x', concepts: [], count: 1 })).toThrow(
      /no concepts/,
    );
  });
});

describe('parseRedisUrl', () => {
  it('should parse URLs and reject other schemes', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6390/2')).toMatchObject({ host: '127.0.0.1', port: 6390, db: 2 });
    expect(() => parseRedisUrl('http://x')).toThrow(/not a Redis URL/);
  });
});
