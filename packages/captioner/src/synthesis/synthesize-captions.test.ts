import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, APICallError, CaptionRecordSchema, ConfigurationError, InvalidInputError, type CaptionRecord } from '@synth2/core';
import { synthesizeCaptions } from './synthesize-captions';
import { createOpenAICaptionSource } from '../sources/openai-caption-source';
import { createConceptGrammarSource } from '../sources/concept-grammar-source';
import { combineConcepts } from '../concepts/concept-list';
import { startChatCompletionsServer, type ChatCompletionsHandler, type ChatCompletionsServer } from '../test/chat-completions-server';
import { SHAPES_INVENTORY } from '../__fixtures__/shapes-inventory';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'synth2-captioner-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
let server: ChatCompletionsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function readRecords(file: string): Promise<CaptionRecord[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => CaptionRecordSchema.parse(JSON.parse(l)));
}
const exists = (f: string) => fs.access(f).then(() => true, () => false);

/** A server whose captions are unique and mention the first concept of the prompt. */
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

const shapePairs = () =>
  combineConcepts(
    SHAPES_INVENTORY.attributes.filter((a) => a.kind === 'color'),
    SHAPES_INVENTORY.objects,
  );

describe('synthesizeCaptions', () => {
  it('should write count valid caption records with concepts and provider metadata, deterministically from the seed', async () => {
    const source = createConceptGrammarSource({ inventory: SHAPES_INVENTORY });
    const a = path.join(dir, 'grammar-a.jsonl');
    const b = path.join(dir, 'grammar-b.jsonl');
    const summary = await synthesizeCaptions({ source, concepts: shapePairs(), count: 300, out: a, seed: 3, wordCount: 8 });
    await synthesizeCaptions({ source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }), concepts: shapePairs(), count: 300, out: b, seed: 3, wordCount: 8 });
    expect(summary).toMatchObject({ written: 300, count: 300, provider: 'concept-grammar', resumed: false, exhausted: false });
    const records = await readRecords(a);
    expect(records).toHaveLength(300);
    expect(records.map((r) => r.id)).toEqual(records.map((_, i) => `syn-${String(i).padStart(8, '0')}`));
    expect(new Set(records.map((r) => r.text)).size).toBe(300);
    for (const r of records) {
      expect(r.source).toBe('synthetic');
      expect(r.concepts).toHaveLength(2);
      expect(r.provider?.provider).toBe('concept-grammar');
    }
    expect(await fs.readFile(b, 'utf8')).toBe(await fs.readFile(a, 'utf8'));
    expect(await exists(`${a}.partial`)).toBe(false);
  });

  it('should balance concepts: every colour–shape pair equally often with the balanced sampler', async () => {
    const out = path.join(dir, 'balanced.jsonl');
    // no dedupe and no filters: every request gives exactly one record, so counts are the sampler's
    await synthesizeCaptions({
      source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }),
      concepts: shapePairs(),
      count: 64 * 5,
      out,
      dedupe: false,
      filters: false,
    });
    const counts = new Map<string, number>();
    for (const r of await readRecords(out)) counts.set(r.concepts.join('+'), (counts.get(r.concepts.join('+')) ?? 0) + 1);
    expect(counts.size).toBe(64);
    expect(new Set(counts.values())).toEqual(new Set([5]));
  });

  it('should keep at most `concurrency` requests in flight and record token usage', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const inner = uniqueCaptions();
    server = await startChatCompletionsServer(async (req, i) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      return { ...(await inner(req, i)), usage: { prompt: 30, completion: 12 } } as never;
    });
    const out = path.join(dir, 'concurrency.jsonl');
    const summary = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: server.baseURL, maxConcurrency: 4 }),
      concepts: ['dog', 'cat', 'horse'],
      count: 40,
      out,
    });
    expect(maxInFlight).toBe(4);
    expect(summary.written).toBe(40);
    expect(summary.usage).toEqual({ promptTokens: 30 * summary.requests, completionTokens: 12 * summary.requests, totalTokens: 42 * summary.requests });
    expect(summary.requests).toBeLessThanOrEqual(44);
  });

  it('should clean answers and reject refusals, banned phrasing, missing concepts, short captions and duplicates, counting reasons', async () => {
    const answers = [
      'Here is a caption:\n"A dog catching a frisbee on the beach."',
      "I'm sorry, but I can't help with that.",
      'An image of a dog sitting on a sofa.',
      'A cat sleeping on a mat.',
      'Dog.',
      'A dog catching a frisbee on the beach',
      'A black and white dog is jumping high to catch a red frisbee on the beach',
      'A black and white dog is jumping high to catch a red frisbee on the beach today',
      '1. Two dogs playing in the snow.\n2. A dog drinking water from a bowl.',
    ];
    server = await startChatCompletionsServer((_req, i) => ({ contents: [answers[i % answers.length]] }));
    const out = path.join(dir, 'filters.jsonl');
    const summary = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: server.baseURL, maxConcurrency: 1 }),
      concepts: ['dog'],
      count: 3,
      out,
      maxRequests: answers.length,
    });
    const records = await readRecords(out);
    expect(records.map((r) => r.text)).toEqual([
      'A dog catching a frisbee on the beach.',
      'A black and white dog is jumping high to catch a red frisbee on the beach',
      'Two dogs playing in the snow.',
    ]);
    expect(summary.rejected).toEqual({
      refusal: 1,
      'banned-phrase': 1,
      'missing-concept': 1,
      'too-short': 1,
      'exact-duplicate': 1,
      'near-duplicate': 1,
    });
    expect(summary.generated).toBe(9);
  });

  it('should stop with exhausted: true when maxRequests runs out, say so, and not publish the run as complete', async () => {
    const out = path.join(dir, 'exhausted.jsonl');
    const warnings: string[] = [];
    const summary = await synthesizeCaptions({
      onProgress: (e) => e.warning && warnings.push(e.warning),
      source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY, templates: { one: ['{a}'], two: ['{a} and {b}'] }, extraObjectProbability: 0, attributeProbability: { color: 0, size: 0, attribute: 0 } }),
      concepts: ['circle', 'square'],
      count: 10,
      out,
      maxRequests: 20,
      filters: { minWords: 1 },
    });
    expect(summary.exhausted).toBe(true);
    expect(summary.complete).toBe(false);
    expect(summary.written).toBe(2);
    expect(summary.rejected['exact-duplicate']).toBe(18);
    expect(summary.warning).toMatch(/wrote 2 of 10 captions: maxRequests \(20\) ran out after 18 captions rejected \(18 exact-duplicate\).*not complete.*raise maxRequests/i);
    expect(warnings).toEqual([summary.warning]);
    expect(await exists(out)).toBe(false);
    expect((await readRecords(`${out}.partial`)).map((r) => r.text).sort()).toEqual(['a circle', 'a square']);
    const progress = JSON.parse(await fs.readFile(`${out}.progress.json`, 'utf8')) as { complete: boolean; exhausted: boolean };
    expect(progress).toMatchObject({ complete: false, exhausted: true });
  });

  it('should resume an aborted run to exactly the file an uninterrupted run writes', async () => {
    const settings = { concepts: shapePairs(), count: 400, seed: 11, wordCount: 9, conceptsPerCaption: 1 };
    const whole = path.join(dir, 'whole.jsonl');
    await synthesizeCaptions({ ...settings, source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }), out: whole });
    const resumed = path.join(dir, 'resumed.jsonl');
    const controller = new AbortController();
    const error = await synthesizeCaptions({
      ...settings,
      source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }),
      out: resumed,
      abortSignal: controller.signal,
      onProgress: (e) => {
        if (e.written >= 150) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(AbortedError.isInstance(error)).toBe(true);
    expect(await exists(resumed)).toBe(false);
    expect((await readRecords(`${resumed}.partial`)).length).toBeGreaterThanOrEqual(150);
    const summary = await synthesizeCaptions({ ...settings, source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }), out: resumed });
    expect(summary.resumed).toBe(true);
    expect(summary.resumedFrom).toBeGreaterThanOrEqual(150);
    expect(await fs.readFile(resumed, 'utf8')).toBe(await fs.readFile(whole, 'utf8'));
    // Running it again is a no-op; asking for more continues the same stream.
    const again = await synthesizeCaptions({ ...settings, source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }), out: resumed });
    expect(again).toMatchObject({ written: 400, resumed: true });
    const more = await synthesizeCaptions({ ...settings, count: 450, source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }), out: resumed });
    expect(more.written).toBe(450);
    const all = await readRecords(resumed);
    expect(all.slice(0, 400).map((r) => r.text)).toEqual((await readRecords(whole)).map((r) => r.text));
  });

  it('should drop a half-written last line and a cut-short request when resuming', async () => {
    const settings = { concepts: shapePairs(), count: 60, seed: 5, captionsPerRequest: 3, dedupe: false as const };
    const whole = path.join(dir, 'cut-whole.jsonl');
    await synthesizeCaptions({ ...settings, source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }), out: whole });
    const cut = path.join(dir, 'cut.jsonl');
    const controller = new AbortController();
    await synthesizeCaptions({
      ...settings,
      source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }),
      out: cut,
      abortSignal: controller.signal,
      onProgress: (e) => e.written >= 36 && controller.abort(),
    }).catch(() => undefined);
    // Simulate a crash in the middle of a write: keep 31 whole lines (a request cut after 1 of 3) and half a line.
    const lines = (await fs.readFile(`${cut}.partial`, 'utf8')).split('\n').filter(Boolean);
    await fs.writeFile(`${cut}.partial`, `${lines.slice(0, 31).join('\n')}\n${lines[31].slice(0, 20)}`);
    const summary = await synthesizeCaptions({ ...settings, source: createConceptGrammarSource({ inventory: SHAPES_INVENTORY }), out: cut });
    expect(summary.resumedFrom).toBe(30);
    expect(await fs.readFile(cut, 'utf8')).toBe(await fs.readFile(whole, 'utf8'));
  });

  it('should resume a run killed with SIGKILL halfway with no duplicates and no lost captions', async () => {
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
    server = await startChatCompletionsServer(uniqueCaptions({ delayMs: 15 }));
    const out = path.join(dir, 'killed.jsonl');
    const settings = { baseURL: server.baseURL, out, count: 150, concurrency: 4, n: 2 };
    const child = spawn(process.execPath, [bundle, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let beforeKill = '';
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', async (d: Buffer) => {
        buf += d.toString();
        const written = Math.max(0, ...buf.split('\n').filter((l) => /^\d+$/.test(l)).map(Number));
        if (written >= 60 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited without being killed: ${stderr}`))));
    });
    expect(await exists(out)).toBe(false);
    beforeKill = await fs.readFile(`${out}.partial`, 'utf8');
    const servedBefore = server.requests.length;
    const summary = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: server.baseURL, model: 'child', maxRetries: 0, n: 2 }),
      concepts: ['dog', 'cat', 'horse', 'bicycle', 'pizza', 'umbrella'],
      count: 150,
      out,
      concurrency: 4,
      seed: 7,
    });
    expect(summary.resumed).toBe(true);
    expect(summary.resumedFrom).toBeGreaterThan(0);
    expect(summary.resumedFrom).toBeLessThan(150);
    expect(summary.written).toBe(150);
    expect(server.requests.length).toBeGreaterThan(servedBefore);
    const records = await readRecords(out);
    // no lost captions and no gaps: 150 records, ids in order, request groups complete and increasing
    expect(records).toHaveLength(150);
    expect(records.map((r) => r.id)).toEqual(records.map((_, i) => `syn-${String(i).padStart(8, '0')}`));
    let lastRequest = -1;
    for (let i = 0; i < records.length; ) {
      const req = records[i].provider!.requestIndex as number;
      const kept = records[i].provider!.choicesKept as number;
      expect(req).toBeGreaterThan(lastRequest);
      for (let j = 0; j < kept && i + j < records.length; j++) expect(records[i + j].provider!.requestIndex).toBe(req);
      lastRequest = req;
      i += kept;
    }
    // no duplicates
    expect(new Set(records.map((r) => r.text)).size).toBe(150);
    // what was on disk at the kill (whole requests) is kept unchanged at the start of the final file
    const keptLines = beforeKill.split('\n').slice(0, -1);
    const finalLines = (await fs.readFile(out, 'utf8')).split('\n');
    const wholeRequests = keptLines.filter((l, i) => {
      const r = JSON.parse(l) as CaptionRecord;
      const group = keptLines.filter((m) => (JSON.parse(m) as CaptionRecord).provider!.requestIndex === r.provider!.requestIndex);
      return group.length === r.provider!.choicesKept && i >= 0 && l.endsWith('}');
    });
    // (the resumed run cuts the file back to its last progress state, which lags the file only during a write)
    expect(summary.resumedFrom).toBeLessThanOrEqual(wholeRequests.length);
    expect(finalLines.slice(0, summary.resumedFrom)).toEqual(wholeRequests.slice(0, summary.resumedFrom));
  });

  it('should leave the partial file when the source fails, say why, and finish after the cause is fixed', async () => {
    let failing = true;
    const inner = uniqueCaptions();
    server = await startChatCompletionsServer((req, i) => (failing && i >= 5 ? { kind: 'status', status: 401 } : inner(req, i)));
    const out = path.join(dir, 'fails.jsonl');
    const run = () =>
      synthesizeCaptions({ source: createOpenAICaptionSource({ baseURL: server!.baseURL, maxConcurrency: 1 }), concepts: ['dog'], count: 20, out });
    const error = await run().catch((e: unknown) => e);
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/401/);
    expect(await exists(out)).toBe(false);
    expect(await readRecords(`${out}.partial`)).toHaveLength(5);
    failing = false;
    const summary = await run();
    expect(summary).toMatchObject({ written: 20, resumedFrom: 5 });
  });

  it('should stop promptly when aborted while requests hang, keeping what was written', async () => {
    const inner = uniqueCaptions();
    server = await startChatCompletionsServer((req, i) => (i < 6 ? inner(req, i) : { kind: 'hang' }));
    const out = path.join(dir, 'abort-hang.jsonl');
    const controller = new AbortController();
    const t0 = Date.now();
    const error = await synthesizeCaptions({
      source: createOpenAICaptionSource({ baseURL: server.baseURL, maxConcurrency: 3, timeout: 60_000 }),
      concepts: ['dog'],
      count: 50,
      out,
      abortSignal: controller.signal,
      // requests answer in any order; records are written in request order, so a hanging request holds back
      // those after it — abort once a few are written and the rest hang
      onProgress: (e) => e.written >= 3 && setTimeout(() => controller.abort(), 100),
    }).catch((e: unknown) => e);
    expect(AbortedError.isInstance(error)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    const kept = await readRecords(`${out}.partial`);
    expect(kept.length).toBeGreaterThanOrEqual(3);
    expect(kept.length).toBeLessThanOrEqual(6);
    expect(kept.map((r) => r.provider!.requestIndex)).toEqual(kept.map((_, i) => i));
  });

  it('should refuse to continue a file written with different settings', async () => {
    const out = path.join(dir, 'settings.jsonl');
    const source = createConceptGrammarSource({ inventory: SHAPES_INVENTORY });
    await synthesizeCaptions({ source, concepts: ['circle', 'star'], count: 5, out, seed: 1 });
    const error = await synthesizeCaptions({ source, concepts: ['circle', 'star'], count: 5, out, seed: 2 }).catch((e: unknown) => e);
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/different settings.*resume: false/);
    const fresh = await synthesizeCaptions({ source, concepts: ['circle', 'star'], count: 5, out, seed: 2, resume: false });
    expect(fresh.resumed).toBe(false);
  });

  it('should reject bad options with a clear error and write nothing', async () => {
    const source = createConceptGrammarSource({ inventory: SHAPES_INVENTORY });
    const out = path.join(dir, 'bad', 'never.jsonl');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ count: 0 }, /count must be an integer ≥ 1/],
      [{ count: 2.5 }, /count must be an integer/],
      [{ concepts: [] }, /no concepts were given/],
      [{ concepts: ['circle'], conceptsPerCaption: 2 }, /conceptsPerCaption is 2 but only 1 concept/],
      [{ sampler: 'random' }, /unknown sampler "random"/],
      [{ sampler: 'weighted', weights: [1] }, /weights has 1 entries but there are 2 concepts/],
      [{ concepts: [{ id: '', name: 'x' }] }, /invalid concept/],
      [{ source: {} }, /not a caption source/],
      [{ filters: { minWords: 5, maxWords: 2 } }, /minWords \(5\) and maxWords \(2\)/],
    ];
    for (const [bad, message] of cases) {
      const error = await synthesizeCaptions({ source, concepts: ['circle', 'star'], count: 5, out, ...bad } as never).catch((e: unknown) => e);
      expect(InvalidInputError.isInstance(error) || ConfigurationError.isInstance(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
    expect(await exists(path.dirname(out))).toBe(false);
  });
});
