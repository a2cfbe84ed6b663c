// Queued embedding generation at the demo model sizes: in-process runner vs 1 and 2 worker processes, and the
// per-job cost of the queue (enqueue, model load once per worker, shard write, merge). The models are untrained
// (speed does not depend on the weights). Writes bench-results/embedding-scaling.json.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, describeBackend } from '@synth2/nn';
import { CaptionTokenGenerator, VQTokenizer, demoGeneratorConfig, demoTokenizerConfig } from '@synth2/generator';
import {
  embeddingJobId,
  enqueueEmbeddingJobs,
  mergeEmbeddingShards,
  obliterateQueue,
  parseRedisUrl,
  planEmbeddingJobs,
  runEmbeddingJobsLocally,
  waitForJobs,
} from '../dist/index.js';
import { haveRedis, spawnWorker, startRedis } from '../dist/test/index.js';

const here = dirname(fileURLToPath(import.meta.url));
if (!haveRedis()) {
  console.error('embedding-scaling: redis-server is not installed (apt-get install redis-server)');
  process.exit(1);
}
const CAPTIONS = 768;
const BATCH = 64;
const PER_JOB = 128;
const SAMPLING = { steps: 8, temperature: 1, guidanceScale: 2 };
const loadStart = loadavg();
const backend = await initBackend({ log: () => {} });
const colors = ['red', 'blue', 'green', 'yellow', 'purple', 'orange', 'white', 'black'];
const shapes = ['circle', 'square', 'triangle', 'star', 'ring', 'diamond'];
const places = ['left', 'right', 'top', 'bottom', 'middle'];
const texts = Array.from({ length: CAPTIONS }, (_, i) => `a ${colors[i % 8]} ${shapes[(i >> 3) % 6]} on the ${places[(i >> 5) % 5]}`);
const records = texts.map((text, i) => ({ id: `c${i}`, text }));

const root = await mkdtemp(join(tmpdir(), 'synth2-ebench-'));
const tokenizer = VQTokenizer.create({ ...demoTokenizerConfig, seed: 1 });
const generator = CaptionTokenGenerator.forTokenizer(tokenizer, { ...demoGeneratorConfig, captions: texts, seed: 1 });
const models = { tokenizerDir: join(root, 'tokenizer'), generatorDir: join(root, 'generator') };
await tokenizer.save(models.tokenizerDir);
await generator.save(models.generatorDir);
tokenizer.dispose();
generator.dispose();
const plan = (name) =>
  planEmbeddingJobs({ runId: name, shardDir: join(root, name), records, ...models, sampling: SAMPLING, seed: 7919, batchSize: BATCH, recordsPerJob: PER_JOB });

const results = [];
{
  const jobs = plan('local');
  const t0 = performance.now();
  await runEmbeddingJobsLocally(jobs);
  await mergeEmbeddingShards({ jobs, out: join(root, 'local-store') });
  const seconds = (performance.now() - t0) / 1000;
  results.push({ runner: 'in-process', workers: 0, jobs: jobs.length, seconds, captionsPerSecond: CAPTIONS / seconds });
  console.log(`in-process: ${(CAPTIONS / seconds).toFixed(1)} captions/s (${seconds.toFixed(1)} s)`);
}
const redis = await startRedis();
const connection = parseRedisUrl(redis.url);
for (const workers of [1, 2]) {
  await obliterateQueue(connection);
  const name = `q${workers}`;
  const jobs = plan(name);
  const procs = Array.from({ length: workers }, () => spawnWorker(join(here, '..', 'dist', 'worker-process.js'), redis.url, {}, ['--lock-ms', '30000']));
  await new Promise((r) => {
    const t = setInterval(() => procs.every((p) => p.lines.some((l) => l.includes('ready'))) && (clearInterval(t), r()), 20);
  });
  // timed from enqueue to a merged store: includes each worker loading the models once
  const t0 = performance.now();
  await enqueueEmbeddingJobs(jobs, { connection });
  await waitForJobs(connection, jobs.map(embeddingJobId), { pollMs: 50 });
  await mergeEmbeddingShards({ jobs, out: join(root, `${name}-store`) });
  const seconds = (performance.now() - t0) / 1000;
  procs.forEach((p) => p.kill('SIGTERM'));
  results.push({ runner: 'queue', workers, jobs: jobs.length, seconds, captionsPerSecond: CAPTIONS / seconds });
  console.log(`queue, ${workers} worker(s): ${(CAPTIONS / seconds).toFixed(1)} captions/s (${seconds.toFixed(1)} s)`);
}
await redis.stop();
const out = {
  benchmark: 'embedding-scaling',
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  backend: describeBackend(backend),
  loadavg: { start: loadStart, end: loadavg() },
  setup: { captions: CAPTIONS, batchSize: BATCH, recordsPerJob: PER_JOB, sampling: SAMPLING, models: 'demo tokenizer + generator configs (untrained)' },
  note: 'every worker process is a full tfjs runtime (wasm, its own threads) on the same machine: on one 2-core machine workers compete for the cores; across machines they add up',
  results,
  queueOverOneProcess: results[1].seconds / results[0].seconds,
  speedup2over1: results[1].seconds / results[2].seconds,
};
await mkdir(join(here, '..', 'bench-results'), { recursive: true });
await writeFile(join(here, '..', 'bench-results', 'embedding-scaling.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify({ queueOverOneProcess: out.queueOverOneProcess, speedup2over1: out.speedup2over1 }));
process.exit(0);
