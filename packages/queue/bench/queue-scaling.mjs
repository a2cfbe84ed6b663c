// Throughput of distributed caption synthesis with 1, 2 and 4 workers against a local chat-completions server with
// a fixed latency per request. Writes bench-results/queue-scaling.json.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  enqueueCaptionJobs,
  obliterateQueue,
  parseRedisUrl,
  planCaptionJobs,
  waitForQueue,
} from '../dist/index.js';
import { haveRedis, spawnWorker, startChatServer, startRedis } from '../dist/test/index.js';

const here = dirname(fileURLToPath(import.meta.url));
if (!haveRedis()) {
  console.error('queue-scaling: redis-server is not installed (apt-get install redis-server)');
  process.exit(1);
}
const LATENCY_MS = 50;
const JOBS = 120;
const redis = await startRedis();
const chat = await startChatServer(LATENCY_MS);
const connection = parseRedisUrl(redis.url);
const results = [];
const concepts = Array.from({ length: 40 }, (_, i) => `concept ${i}`);
for (const workers of [1, 2, 4]) {
  await obliterateQueue(connection);
  const root = await mkdtemp(join(tmpdir(), 'synth2-qbench-'));
  const jobs = planCaptionJobs({
    runId: `bench${workers}`,
    shardDir: join(root, 'shards'),
    concepts,
    count: JOBS,
    overshoot: 1,
    batchSize: 1,
    seed: 1,
  });
  const procs = Array.from({ length: workers }, () =>
    spawnWorker(join(here, '..', 'dist', 'worker-process.js'), redis.url, { OPENAI_API_KEY: 'x' }, [
      '--endpoint',
      `chat=${chat.url}`,
    ]),
  );
  await new Promise((r) => {
    const t = setInterval(
      () => procs.every((p) => p.lines.some((l) => l.includes('ready'))) && (clearInterval(t), r()),
      20,
    );
  });
  const t0 = performance.now();
  await enqueueCaptionJobs(
    jobs,
    { provider: 'openai-compatible', endpoint: 'chat', settings: { model: 'stub' }, plugins: [] },
    { connection },
  );
  await waitForQueue(connection, { pollMs: 20 });
  const seconds = (performance.now() - t0) / 1000;
  procs.forEach((p) => p.kill('SIGTERM'));
  const ideal = (workers * 1000) / LATENCY_MS;
  const throughput = JOBS / seconds;
  results.push({
    workers,
    jobs: JOBS,
    seconds,
    captionsPerSecond: throughput,
    idealCaptionsPerSecond: ideal,
    efficiency: throughput / ideal,
  });
  console.log(
    `workers ${workers}: ${throughput.toFixed(1)} captions/s (ideal ${ideal}) in ${seconds.toFixed(2)} s`,
  );
}
await chat.close();
await redis.stop();
const out = {
  benchmark: 'queue-scaling',
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadavg: loadavg(),
  latencyMs: LATENCY_MS,
  note: 'one request (one caption) per job, worker concurrency 1; ideal = workers / latency',
  results,
  speedup: {
    2: results[1].captionsPerSecond / results[0].captionsPerSecond,
    4: results[2].captionsPerSecond / results[0].captionsPerSecond,
  },
};
await mkdir(join(here, '..', 'bench-results'), { recursive: true });
await writeFile(join(here, '..', 'bench-results', 'queue-scaling.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out.speedup));
process.exit(0);
