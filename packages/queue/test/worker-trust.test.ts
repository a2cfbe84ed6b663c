import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captionJobId,
  enqueueCaptionJobs,
  obliterateQueue,
  parseRedisUrl,
  planCaptionJobs,
  runWorker,
  shardFile,
  waitForJobs,
  type CaptionSourceSpec,
} from '../src/index';
import { haveRedis, startRedis } from '../src/test/local-services';

const ready = haveRedis();
if (!ready)
  console.warn('[skip] worker trust tests: redis-server not installed (apt-get install redis-server)');

/** A chat-completions server that records every request's path and Authorization header. */
async function recordingServer(): Promise<{
  url: string;
  seen: { path: string; authorization?: string }[];
  close: () => Promise<void>;
}> {
  const seen: { path: string; authorization?: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          model: 'stub',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'A small dog next to a red wall' },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A plugin as a `data:` URL; importing it writes `marker` (so a test can tell whether it was ever imported). */
function pluginUrl(id: string, marker: string): string {
  const code = `
    import { writeFileSync } from 'node:fs';
    writeFileSync(${JSON.stringify(marker)}, 'imported');
    export const synth2Plugin = {
      specificationVersion: 'v1',
      name: ${JSON.stringify(id)},
      register(registries) {
        registries.captionSources.register({
          id: ${JSON.stringify(id)},
          plugin: ${JSON.stringify(id)},
          description: 'test source',
          create: () => ({
            specificationVersion: 'v1',
            provider: 'test',
            modelId: 'fixed',
            async doGenerate({ concepts, n }) {
              return { captions: Array.from({ length: n }, () => 'A ' + concepts.map((c) => c.name).join(' and ') + ' on a table'), metadata: {} };
            },
          }),
        });
      },
    };`;
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

describe.skipIf(!ready)('runWorker trust model (real Redis on loopback)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let root: string;
  const savedKey = process.env.OPENAI_API_KEY;
  beforeAll(async () => {
    redis = await startRedis();
    root = await mkdtemp(join(tmpdir(), 'synth2-trust-'));
    process.env.OPENAI_API_KEY = 'worker-secret-key';
  });
  afterAll(async () => {
    if (savedKey === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = savedKey;
    await redis?.stop();
    await rm(root, { recursive: true, force: true });
  });

  /** Enqueues one one-request job per source spec (run ids `<name>`) and waits for each: its error or 'done'. */
  async function runJobs(queueName: string, specs: Record<string, CaptionSourceSpec>, shardRoot = root) {
    const connection = parseRedisUrl(redis.url);
    const outcome: Record<string, string> = {};
    const jobs = Object.fromEntries(
      Object.entries(specs).map(([name, spec]) => [
        name,
        planCaptionJobs({
          runId: name,
          shardDir: join(shardRoot, queueName, name),
          concepts: ['dog'],
          count: 1,
          overshoot: 1,
          batchSize: 1,
        }),
      ]),
    );
    for (const [name, spec] of Object.entries(specs))
      await enqueueCaptionJobs(jobs[name], spec, { connection, queueName });
    for (const [name, list] of Object.entries(jobs)) {
      outcome[name] = await waitForJobs(connection, list.map(captionJobId), { queueName, pollMs: 20 }).then(
        () => 'done',
        (error: Error) => error.message,
      );
    }
    return { outcome, jobs };
  }

  it("should call only the worker's named endpoints with its key, and fail at once a job that supplies a URL or an unknown endpoint", async () => {
    const trusted = await recordingServer();
    const attacker = await recordingServer();
    const queueName = 'trust-endpoints';
    const worker = runWorker({
      connection: parseRedisUrl(redis.url),
      queueName,
      endpoints: { llm: trusted.url },
    });
    try {
      const { outcome, jobs } = await runJobs(queueName, {
        named: { provider: 'openai-compatible', endpoint: 'llm', settings: { model: 'stub' }, plugins: [] },
        url: {
          provider: 'openai-compatible',
          settings: { baseURL: attacker.url, model: 'stub' },
          plugins: [],
        },
        unknown: {
          provider: 'openai-compatible',
          endpoint: 'elsewhere',
          settings: { model: 'stub' },
          plugins: [],
        },
        env: {
          provider: 'openai-compatible',
          endpoint: 'llm',
          settings: { env: { OPENAI_BASE_URL: attacker.url } },
          plugins: [],
        },
        headers: {
          provider: 'openai-compatible',
          endpoint: 'llm',
          settings: { headers: { 'x-forward-to': attacker.url } },
          plugins: [],
        },
      });
      expect(outcome.named).toBe('done');
      expect(outcome.url).toMatch(
        /failed after 1 attempts: job refused by this worker: the job sets "baseURL" for the openai-compatible source, which only the worker decides: a job names one of the worker's endpoints with `endpoint`, never a URL/,
      );
      expect(outcome.unknown).toMatch(
        /failed after 1 attempts: .*endpoint "elsewhere", which this worker does not have \(it has: default, llm\)\. Configure it on the worker \(--endpoint elsewhere=URL\)/,
      );
      expect(outcome.env).toMatch(/failed after 1 attempts: .*sets "env"/);
      expect(outcome.headers).toMatch(/failed after 1 attempts: .*sets "headers"/);
      // the key went to the worker's endpoint only; the URL a job chose was never called
      expect(attacker.seen).toEqual([]);
      expect(trusted.seen.length).toBeGreaterThan(0);
      expect(
        trusted.seen.every(
          (r) => r.authorization === 'Bearer worker-secret-key' && r.path.endsWith('/chat/completions'),
        ),
      ).toBe(true);
      expect(await readFile(shardFile(jobs.named[0].shardDir, 0), 'utf8')).toMatch(
        /small dog next to a red wall/,
      );
      for (const name of ['url', 'unknown', 'env', 'headers'])
        expect(existsSync(shardFile(jobs[name][0].shardDir, 0)), name).toBe(false);
    } finally {
      await worker.close();
      await obliterateQueue(parseRedisUrl(redis.url), queueName);
      await trusted.close();
      await attacker.close();
    }
  });

  it('should import only allow-listed plugins a job names, and fail a job naming any other without importing it', async () => {
    const allowedMarker = join(root, 'allowed-imported');
    const evilMarker = join(root, 'evil-imported');
    const allowed = pluginUrl('trusted/source', allowedMarker);
    const evil = pluginUrl('evil/source', evilMarker);
    const queueName = 'trust-plugins';
    const worker = runWorker({ connection: parseRedisUrl(redis.url), queueName, allowedPlugins: [allowed] });
    try {
      const { outcome, jobs } = await runJobs(queueName, {
        evil: { provider: 'evil/source', settings: {}, plugins: [evil] },
        mixed: { provider: 'trusted/source', settings: {}, plugins: [allowed, evil] },
        good: { provider: 'trusted/source', settings: {}, plugins: [allowed] },
      });
      expect(outcome.evil).toMatch(
        /failed after 1 attempts: job refused by this worker: the job names plugin "data:text\/javascript,.*", which this worker does not allow \(allowed: data:text\/javascript,.*\); it was not imported\. Start the worker with --allow-plugin/,
      );
      expect(outcome.mixed).toMatch(/which this worker does not allow/);
      expect(existsSync(evilMarker)).toBe(false);
      expect(outcome.good).toBe('done');
      expect(existsSync(allowedMarker)).toBe(true);
      expect(await readFile(shardFile(jobs.good[0].shardDir, 0), 'utf8')).toMatch(/A dog on a table/);
    } finally {
      await worker.close();
      await obliterateQueue(parseRedisUrl(redis.url), queueName);
    }
  });

  it("should refuse a job whose shard folder is outside the worker's data roots", async () => {
    const queueName = 'trust-roots';
    const inside = join(root, 'data');
    const outside = await mkdtemp(join(tmpdir(), 'synth2-trust-outside-'));
    const worker = runWorker({ connection: parseRedisUrl(redis.url), queueName, dataRoots: [inside] });
    try {
      const grammar: CaptionSourceSpec = { provider: 'concept-grammar', settings: {}, plugins: [] };
      const ok = await runJobs(queueName, { ok: grammar }, inside);
      expect(ok.outcome.ok).toBe('done');
      const out = await runJobs(queueName, { out: grammar }, outside);
      expect(out.outcome.out).toMatch(
        /failed after 1 attempts: job refused by this worker: the job's shardDir .* is outside this worker's data roots/,
      );
      expect(existsSync(shardFile(out.jobs.out[0].shardDir, 0))).toBe(false);
    } finally {
      await worker.close();
      await obliterateQueue(parseRedisUrl(redis.url), queueName);
      await rm(outside, { recursive: true, force: true });
    }
  });
});
