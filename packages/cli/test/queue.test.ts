import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptionRecordSchema, ShardedTensorReader, readJsonlAll } from '@synth2/core';
import { redisTestsReady, startRedis } from '@synth2/queue/test';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');
const ready = redisTestsReady('CLI queue tests', bin);

/** A miniature pipeline up to embedding generation (the generate batch size is given apart). */
const TINY_STAGES = [
  '--seed', '3', '--json',
  '--data.train', '48', '--data.val', '8', '--data.test', '24',
  '--tokenizer.steps', '15', '--generator.steps', '15',
  '--captions.count', '40',
];
/** Small generate batches so the stage makes several jobs. */
const TINY = [...TINY_STAGES, '--generate.batchSize', '8'];
const ENV = { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' };

type Event = Record<string, any>;

/** Runs synth2; with `interruptOn`, sends SIGINT (Ctrl-C) once a stdout line matches. */
function synth2(args: string[], interruptOn?: RegExp): Promise<{ code: number; events: Event[]; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
    let out = '';
    let err = '';
    let sent = false;
    const watch = () => {
      if (interruptOn && !sent && interruptOn.test(out + err)) {
        sent = true;
        p.kill('SIGINT');
      }
    };
    p.stdout.on('data', (d) => {
      out += d;
      watch();
    });
    p.stderr.on('data', (d) => {
      err += d;
      watch();
    });
    p.on('close', (code) => {
      const events = (out + err)
        .split('\n')
        .filter((l) => l.startsWith('{') && l.endsWith('}'))
        .map((l) => JSON.parse(l) as Event);
      resolve({ code: code ?? -1, events, stderr: err, stdout: out });
    });
  });
}

/** Starts `synth2 worker` and resolves once it is listening. */
function startWorker(url: string, name = 'synth2'): Promise<ChildProcess & { log: string }> {
  const p = spawn(process.execPath, [bin, 'worker', '--queue', url, '--name', name, '--lock-ms', '20000'], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV }) as ChildProcess & {
    log: string;
  };
  p.log = '';
  return new Promise((resolve, reject) => {
    p.stderr!.on('data', (d: Buffer) => {
      p.log += d.toString();
      if (p.log.includes('worker ready')) resolve(p);
    });
    p.on('exit', (code) => reject(new Error(`synth2 worker exited with ${code}: ${p.log}`)));
  });
}

async function store(dir: string) {
  const reader = await ShardedTensorReader.open(dir, { requireComplete: true, verify: true });
  return { manifest: reader.manifest, ids: await reader.ids(), files: await readdir(dir) };
}

describe.skipIf(!ready)('synth2 --queue (real Redis, 2 synth2 worker processes)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let workers: (ChildProcess & { log: string })[] = [];
  let root: string;
  beforeAll(async () => {
    redis = await startRedis();
    workers = await Promise.all([startWorker(redis.url), startWorker(redis.url)]);
    root = await mkdtemp(join(tmpdir(), 'synth2-cli-queue-'));
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGTERM');
    await redis?.stop();
  });

  it('should run captions and generate on the workers and leave a run directory like a local one', async () => {
    const out = join(root, 'queued');
    const run = await synth2(['generate', '--out', out, '--queue', redis.url, '--queue.recordsPerJob', '8', ...TINY]);
    expect(run.code, run.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.stages.captions.status).toBe('done');
    expect(manifest.stages.generate.status).toBe('done');
    expect(manifest.stages.captions.summary.queue.jobs).toBeGreaterThan(1);
    // progress as completed/total jobs, then the stage is done
    const jobProgress = run.events.filter((e) => e.type === 'progress' && e.unit === 'jobs');
    expect(jobProgress.some((e) => e.stage === 'captions' && e.done === e.total)).toBe(true);
    expect(jobProgress.some((e) => e.stage === 'generate' && e.done === e.total && e.total === 5)).toBe(true);
    // same files and schemas as a local run; no job shards left behind
    const captions = await readJsonlAll(join(out, 'captions', 'captions.jsonl'), CaptionRecordSchema);
    expect(captions).toHaveLength(40);
    expect(new Set(captions.map((c) => c.id)).size).toBe(40);
    expect((await readdir(join(out, 'captions'))).sort()).toEqual(['captions.jsonl']);
    expect((await readdir(join(out, 'generate'))).sort()).toEqual(['embeddings', 'gallery.json']);
    const emb = await store(join(out, 'generate', 'embeddings'));
    expect(emb.manifest).toMatchObject({ kind: 'image-embeddings', complete: true, total: 40, meta: { captions: 'captions/captions.jsonl' } });
    expect(emb.ids).toEqual(captions.map((c) => c.id));
    // both workers are used by the two stages' jobs
    const log = workers.map((w) => w.log).join('');
    expect(log).toMatch(/✓ captions job/);
    expect(log).toMatch(/✓ embeddings job/);
    // the queue shows the finished jobs
    const status = await synth2(['status', '--queue', redis.url, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).queue.counts.failed).toBe(0);
  });

  it('should generate exactly the embeddings of the in-process stage, whatever the batch size and job split', async () => {
    const local = join(root, 'local');
    const first = await synth2(['generate', '--out', local, ...TINY]);
    expect(first.code, first.stderr).toBe(0);
    // The same run with only its generate stage redone on the queue.
    const queued = join(root, 'local-then-queued');
    await cp(local, queued, { recursive: true });
    const m = JSON.parse(await readFile(join(queued, 'manifest.json'), 'utf8'));
    delete m.stages.generate;
    await writeFile(join(queued, 'manifest.json'), JSON.stringify(m));
    await rm(join(queued, 'generate'), { recursive: true });
    // other generator batches (5) and jobs (15 records, the last one 10): each caption draws from its own index
    const again = await synth2(['generate', '--out', queued, '--queue', redis.url, '--queue.recordsPerJob', '15', '--queue.stages', '["generate"]', ...TINY_STAGES, '--generate.batchSize', '5']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.events.filter((e) => e.type === 'stage-start').map((e) => e.stage)).toEqual(['generate']);
    const a = await store(join(local, 'generate', 'embeddings'));
    const b = await store(join(queued, 'generate', 'embeddings'));
    // one store layout: per caption its embeddings [h·w, d] and the token grid [h·w] they are the codebook rows of
    expect(a.manifest.tensors.tokens).toEqual({ dtype: 'I32', shape: [a.manifest.tensors.embeddings.shape[0]] });
    expect(b.manifest).toEqual(a.manifest); // same shards, counts and sha256 of every shard file
    expect(b.files).toEqual(a.files);
    for (const f of a.files) {
      expect((await readFile(join(queued, 'generate', 'embeddings', f))).equals(await readFile(join(local, 'generate', 'embeddings', f)))).toBe(true);
    }
  });

  it('should stop waiting on Ctrl-C without recording the stage, and finish it on the next run', async () => {
    const out = join(root, 'interrupted');
    const args = ['captions', '--out', out, '--queue', redis.url, '--queue.name', 'later', ...TINY];
    // no worker listens on queue "later" yet: the stage waits until Ctrl-C
    const first = await synth2(args, /captions: \d+ jobs on queue/);
    expect(first.code).not.toBe(0);
    const before = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(before.stages.captions.status).not.toBe('done');
    expect(existsSync(join(out, 'captions', 'captions.jsonl'))).toBe(false);
    const worker = await startWorker(redis.url, 'later');
    try {
      const second = await synth2(args);
      expect(second.code, second.stderr).toBe(0);
      // the jobs stayed queued: nothing new is enqueued, the worker drains them, the stage is done after the merge
      expect(second.events.some((e) => e.type === 'log' && /\(0 enqueued now/.test(e.message))).toBe(true);
      const after = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
      expect(after.stages.captions.status).toBe('done');
      expect(await readJsonlAll(join(out, 'captions', 'captions.jsonl'), CaptionRecordSchema)).toHaveLength(40);
      expect(worker.log).toMatch(/✓ captions job/);
    } finally {
      worker.kill('SIGTERM');
    }
  });

  it('should reject a --queue that is not a Redis URL before doing any work', async () => {
    const out = join(root, 'bad');
    const bad = await synth2(['generate', '--out', out, '--queue', 'http://127.0.0.1:6379', ...TINY]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/queue\.url.*Redis URL/);
    expect(existsSync(out)).toBe(false);
  });
});
