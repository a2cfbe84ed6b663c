import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { APICallError, CaptionRecordSchema, type CaptionRecord } from '@synth2/core';
import { synthesizeCaptions } from './synthesize-captions';
import { createOpenAICaptionSource } from '../sources/openai-caption-source';
import type { ChatCompletionsHandler, ChatCompletionsServer } from '../test/chat-completions-server';
import { startFaultInjectingServer, type FaultInjectingServer } from '../test/fault-injecting-server';

// Caption synthesis against a real local server that injects faults: resets mid-body, stalls after the headers,
// HTML, truncated JSON, empty `choices`, `content: null` and HTTP 500.

const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'synth2-captioner-faults-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
let server: ChatCompletionsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
async function serve(handler: ChatCompletionsHandler, faults: Parameters<typeof startFaultInjectingServer>[1]): Promise<FaultInjectingServer> {
  const s = await startFaultInjectingServer(handler, faults);
  server = s;
  return s;
}

async function readRecords(file: string): Promise<CaptionRecord[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => CaptionRecordSchema.parse(JSON.parse(l)));
}
const exists = (f: string) => fs.access(f).then(() => true, () => false);
const readProgress = async (out: string) => JSON.parse(await fs.readFile(`${out}.progress.json`, 'utf8')) as Record<string, unknown>;

/** Unique captions that mention the first concept of the prompt, `req.n` per answer. */
function uniqueCaptions(opts: { delayMs?: number } = {}): ChatCompletionsHandler {
  let serial = 0;
  return (req) => {
    const user = req.messages.find((m) => m.role === 'user')!.content;
    const concept = /object\(s\): (.+?)\. The caption/.exec(user)![1].split(' and ')[0];
    const words = ['field', 'kitchen', 'street', 'beach', 'garden', 'room', 'park', 'yard'];
    return {
      delayMs: opts.delayMs,
      contents: Array.from({ length: req.n ?? 1 }, () => {
        const k = serial++;
        return `a ${concept} number ${k} standing in a ${words[k % words.length]} ${words[(k >> 3) % words.length]}`;
      }),
    };
  };
}

/** The records are ids 0…n-1 with each request's records together and requests in increasing order. */
function expectWholeOrderedRequests(records: CaptionRecord[]): number {
  expect(records.map((r) => r.id)).toEqual(records.map((_, i) => `syn-${String(i).padStart(8, '0')}`));
  let last = -1;
  let requests = 0;
  for (let i = 0; i < records.length; ) {
    const req = records[i].provider!.requestIndex as number;
    const kept = records[i].provider!.choicesKept as number;
    expect(req).toBeGreaterThan(last);
    for (let j = 0; j < kept; j++) expect(records[i + j]?.provider!.requestIndex).toBe(req);
    last = req;
    requests++;
    i += kept;
  }
  return requests;
}

const concepts = ['dog', 'cat', 'horse', 'bicycle', 'pizza', 'umbrella'];

describe('synthesizeCaptions against a faulty server', () => {
  it('should complete a run in one go at a 30% fault rate with the default settings, counting failures by reason', async () => {
    const s = await serve(uniqueCaptions(), { rate: 0.3, seed: 1 });
    const out = path.join(dir, 'faults-30.jsonl');
    const summary = await synthesizeCaptions({
      // the source's timeout is short so that stalls cost a second, not a minute (long enough that answers on a
      // busy machine are not cut off too); everything else is default
      source: createOpenAICaptionSource({ baseURL: s.baseURL, timeout: 1000, maxConcurrency: 8 }),
      concepts,
      count: 200,
      out,
    });
    expect(summary).toMatchObject({ written: 200, complete: true, exhausted: false });
    expect(summary.warning).toBeUndefined();
    const records = await readRecords(out);
    expect(records).toHaveLength(200);
    expect(new Set(records.map((r) => r.text)).size).toBe(200);
    const answered = expectWholeOrderedRequests(records);
    // every try is a success behind the file or a counted failure
    expect(summary.requests).toBe(answered + summary.failed);
    expect(summary.failed).toBeGreaterThan(10);
    expect(Object.values(summary.failures).reduce((a, b) => a + b, 0)).toBe(summary.failed);
    // the client retries 500s itself; the others reach the run and are counted by kind
    for (const reason of ['reset', 'timeout', 'malformed', 'empty']) expect(summary.failures[reason], reason).toBeGreaterThan(0);
    expect(Object.keys(s.counts()).sort()).toEqual(['empty-choices', 'html', 'null-content', 'reset', 'stall', 'status-500', 'truncated-json']);
    expect(await readProgress(out)).toMatchObject({ complete: true, written: 200, failed: summary.failed, requests: summary.requests });
  });

  it('should stop with a clear error when more requests fail than maxFailureRate allows, keeping what was written', async () => {
    const inner = uniqueCaptions();
    let broken = false;
    const s = await serve((req, i) => (broken ? { kind: 'raw', contentType: 'text/html', body: '<html><body>maintenance</body></html>' } : inner(req, i)), {
      rate: 0,
    });
    const out = path.join(dir, 'budget.jsonl');
    const run = () =>
      synthesizeCaptions({
        source: createOpenAICaptionSource({ baseURL: s.baseURL, maxConcurrency: 4 }),
        concepts,
        count: 100,
        out,
        onProgress: (e) => {
          if (e.written >= 10) broken = true;
        },
      });
    const error = await run().catch((e: unknown) => e);
    expect(APICallError.isInstance(error), String(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /caption synthesis stopped: \d+ of \d+ requests failed in this run \(\d+ malformed\), more than maxFailureRate \(50%\) allows; last error: .*text starting "<html>.*kept in .*budget\.jsonl\.partial.*run again/,
    );
    expect(await exists(out)).toBe(false);
    const kept = await readRecords(`${out}.partial`);
    expect(kept.length).toBeGreaterThanOrEqual(10);
    // the failed requests are recorded in the progress file, to be retried
    const progress = await readProgress(out);
    expect(progress.complete).toBe(false);
    expect((progress.retrying as { reason: string }[]).length).toBeGreaterThan(0);
    expect((progress.retrying as { reason: string }[]).every((r) => r.reason === 'malformed')).toBe(true);
    // once the server is fixed, the same call finishes the run
    broken = false;
    const summary = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: s.baseURL, maxConcurrency: 4 }),
      concepts,
      count: 100,
      out,
    });
    expect(summary).toMatchObject({ written: 100, complete: true, resumedFrom: kept.length });
  });

  it('should stop at the first failure with maxFailureRate: 0', async () => {
    const s = await serve(uniqueCaptions(), { rate: 1, faults: ['reset'] });
    const out = path.join(dir, 'strict.jsonl');
    const error = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: s.baseURL, maxConcurrency: 1 }),
      concepts,
      count: 10,
      out,
      maxFailureRate: 0,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/stopped: 1 of 1 requests failed in this run \(1 reset\)/);
    expect(s.requests).toHaveLength(1);
  });

  it('should never publish an empty file as complete when every answer has content: null', async () => {
    const s = await serve(uniqueCaptions(), { rate: 1, faults: ['null-content'] });
    const out = path.join(dir, 'null-content.jsonl');
    const error = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: s.baseURL, maxConcurrency: 4 }),
      concepts,
      count: 50,
      out,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/requests failed in this run \(\d+ empty\).*no caption text/);
    expect(await exists(out)).toBe(false);
    expect((await readProgress(out)).complete).toBe(false);
    // without a failure budget, each request is given up after maxRequestAttempts tries and the run ends short
    const warnings: string[] = [];
    const summary = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: s.baseURL, maxConcurrency: 4 }),
      concepts,
      count: 50,
      out,
      maxFailureRate: 1,
      maxRequests: 6,
      maxRequestAttempts: 2,
      onProgress: (e) => e.warning && warnings.push(e.warning),
    });
    expect(summary).toMatchObject({ written: 0, complete: false, exhausted: true, abandoned: 6, failed: 12, requests: 12, failures: { empty: 12 } });
    expect(summary.warning).toMatch(/wrote 0 of 50 captions: maxRequests \(6\) ran out after 12 failed tries \(12 empty\); 6 requests given up\. The run is not complete/);
    expect(warnings).toEqual([summary.warning]);
    expect(await exists(out)).toBe(false);
    expect(await readProgress(out)).toMatchObject({ complete: false, exhausted: true, written: 0 });
  });

  it('should retry a failed request later in the run and keep request order', async () => {
    const inner = uniqueCaptions();
    // the first try of the first two arrivals fails; everything else answers
    const s = await serve((req, i) => (i < 2 ? { kind: 'reset' } : inner(req, i)), { rate: 0 });
    const out = path.join(dir, 'retry-later.jsonl');
    const summary = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: s.baseURL, maxConcurrency: 2, maxRetries: 0 }),
      concepts,
      count: 12,
      out,
      dedupe: false,
    });
    expect(summary).toMatchObject({ written: 12, complete: true, failed: 2, failures: { reset: 2 }, requests: 14, abandoned: 0 });
    const records = await readRecords(out);
    expect(records.map((r) => r.provider!.requestIndex)).toEqual(records.map((_, i) => i));
    // the retried requests kept their concepts: the balanced sampler's first six draws cover all six concepts
    expect(new Set(records.slice(0, 6).map((r) => r.concepts[0])).size).toBe(6);
  });

  it('should resume a run killed with SIGKILL against a faulty server with exact totals for the whole run', async () => {
    const bundle = path.join(dir, 'child.mjs');
    await build({
      entryPoints: [path.join(here, '../__fixtures__/synthesis-child.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: bundle,
      logLevel: 'silent',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    });
    const s = await serve(uniqueCaptions({ delayMs: 10 }), { rate: 0.2, seed: 3, faults: ['reset', 'stall', 'html', 'truncated-json', 'empty-choices', 'null-content'] });
    const out = path.join(dir, 'killed-faults.jsonl');
    const settings = { baseURL: s.baseURL, out, count: 300, concurrency: 4, n: 2, timeout: 300 };
    const child = spawn(process.execPath, [bundle, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const written = Math.max(0, ...buf.split('\n').filter((l) => /^\d+$/.test(l)).map(Number));
        if (written >= 120 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited without being killed: ${stderr}`))));
    });
    expect(await exists(out)).toBe(false);
    const beforeResume = await readProgress(out);
    expect(beforeResume.failed).toBeGreaterThan(0);
    const summary = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: s.baseURL, model: 'child', maxRetries: 0, n: 2, timeout: 300 }),
      concepts,
      count: 300,
      out,
      concurrency: 4,
      seed: 7,
    });
    expect(summary).toMatchObject({ written: 300, complete: true, resumed: true });
    expect(summary.resumedFrom).toBeGreaterThan(0);
    expect(summary.resumedFrom).toBeLessThan(300);
    const records = await readRecords(out);
    expect(records).toHaveLength(300);
    expect(new Set(records.map((r) => r.text)).size).toBe(300);
    const answered = expectWholeOrderedRequests(records);
    // totals for the whole run, across the kill: every answer behind the file had 2 captions, all kept
    expect(summary.generated).toBe(2 * answered);
    expect(summary.rejected).toEqual({});
    expect(summary.requests).toBe(answered + summary.failed);
    expect(summary.failed).toBeGreaterThanOrEqual(beforeResume.failed as number);
    expect(Object.values(summary.failures).reduce((a, b) => a + b, 0)).toBe(summary.failed);
    // tokens: 20 prompt tokens per answer, including the answers with null content
    expect(summary.usage.promptTokens).toBe(20 * (answered + (summary.failures.empty ?? 0)));
  });
});
