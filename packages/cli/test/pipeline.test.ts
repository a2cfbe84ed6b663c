import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mentionedPairs } from '@synth2/datasets';
import { beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');

/** A miniature pipeline: every stage runs for real, at sizes that take seconds. */
const TINY = [
  '--data.train', '48', '--data.val', '8', '--data.test', '24',
  '--tokenizer.steps', '15', '--generator.steps', '15',
  '--captions.count', '40', '--vlm.steps', '12', '--vlm.evalEvery', '12', '--vlm.batchSize', '16',
];

interface Run {
  code: number;
  events: Record<string, any>[];
  stderr: string;
}

function synth2(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const events = (out + err)
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      resolve({ code: code ?? -1, events, stderr: err });
    });
  });
}

const started = (r: Run) => r.events.filter((e) => e.type === 'stage-start').map((e) => e.stage);

describe.skipIf(!existsSync(bin))('synth2 run (miniature pipeline, end to end)', () => {
  let out: string;
  let first: Run;
  beforeAll(async () => {
    out = join(await mkdtemp(join(tmpdir(), 'synth2-cli-')), 'run');
    first = await synth2(['run', '--out', out, '--seed', '3', '--json', ...TINY]);
  }, 300_000);

  it('should run every stage and write results.json and report.html', async () => {
    expect(first.code, first.stderr).toBe(0);
    // Stages start when what they need is done (the baseline VLM trains in a child process beside the generator).
    const order = started(first);
    expect([...order].sort()).toEqual(['captions', 'data', 'evaluate', 'generate', 'generator', 'report', 'tokenizer', 'vlm-baseline', 'vlm-synth2']);
    const before = (a: string, b: string) => order.indexOf(a) < order.indexOf(b);
    expect(before('data', 'tokenizer') && before('tokenizer', 'generator') && before('generator', 'generate')).toBe(true);
    expect(before('generate', 'vlm-synth2') && before('vlm-synth2', 'evaluate') && before('evaluate', 'report')).toBe(true);
    const baseline = first.events.find((e) => e.type === 'stage-done' && e.stage === 'vlm-baseline');
    expect(baseline?.summary.steps).toBe(12);
    expect(first.events.find((e) => e.type === 'log' && /^backend: /.test(e.message))).toBeTruthy();
    expect(first.events.some((e) => e.type === 'log' && /offline concept grammar/.test(e.message))).toBe(true);
    if (availableParallelism() >= 2 && !process.env.SYNTH2_THREADS) {
      // the tokenizer and the embedding generation run alone, in a worker process with one wasm thread per core
      for (const stage of ['tokenizer', 'generate']) {
        const line = first.events.find((e) => e.type === 'log' && e.message.startsWith(`${stage}: backend`));
        expect(line?.message, stage).toMatch(/wasm \(SIMD, 2 threads/);
      }
    }
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    // results.json names the compute path the run used, as the backend line says it
    const backendLine = first.events.find((e) => e.type === 'log' && /^backend: /.test(e.message))!.message as string;
    expect(results.backend).toBe(/native kernels/.test(backendLine) ? 'native' : backendLine.split(' ')[2]);
    for (const model of ['baseline', 'synth2']) {
      expect(results.models[model].all.CIDEr).toBeGreaterThanOrEqual(0);
      expect(results.models[model].heldOut.CIDEr).toBeGreaterThanOrEqual(0);
      expect(results.models[model].heldOutPairRecall).toBeGreaterThanOrEqual(0);
    }
    expect(results.diversity.human.vocabularySize).toBeGreaterThan(10);
    // paired bootstrap of Synth² vs baseline over the test images (none when the tiny baseline scores 0 everywhere)
    for (const part of ['ciderAll', 'ciderHeldOut']) {
      const { baseline, bootstrap } = results.summary[part];
      if (!(baseline > 0)) {
        expect(bootstrap).toBeUndefined();
        continue;
      }
      const [lo, hi] = bootstrap.ratioInterval;
      expect(lo).toBeGreaterThanOrEqual(0);
      if (hi !== null) expect(hi).toBeGreaterThanOrEqual(lo); // null: unbounded (a resample where the baseline scores 0)
      expect(bootstrap.differenceInterval[0]).toBeLessThanOrEqual(bootstrap.differenceInterval[1]);
      expect(bootstrap.shareBetter).toBeGreaterThanOrEqual(0);
      expect(bootstrap.shareBetter).toBeLessThanOrEqual(1);
      expect(bootstrap.samples).toBe(2000);
    }
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(Object.values(manifest.stages).every((s: any) => s.status === 'done')).toBe(true);
  });

  it('should skip every finished stage when re-run with the same settings', async () => {
    const again = await synth2(['run', '--out', out, '--seed', '3', '--json', ...TINY]);
    expect(again.code, again.stderr).toBe(0);
    expect(started(again)).toEqual([]);
    expect(again.events.filter((e) => e.type === 'stage-skip')).toHaveLength(9);
  });

  it('should rerun a changed stage and the stages after it only', async () => {
    const changed = await synth2(['run', '--out', out, '--seed', '3', '--json', ...TINY, '--vlm.steps', '8']);
    expect(changed.code, changed.stderr).toBe(0);
    expect([...started(changed)].sort()).toEqual(['evaluate', 'report', 'vlm-baseline', 'vlm-synth2']);
  });

  it('should keep the best of N generated candidates per caption with generate.candidates', async () => {
    // re-ranked by the baseline VLM (already trained, so it is not rerun)
    const byVlm = await synth2(['run', '--out', out, '--seed', '3', '--json', ...TINY, '--vlm.steps', '8', '--generate.candidates', '3']);
    expect(byVlm.code, byVlm.stderr).toBe(0);
    expect([...started(byVlm)].sort()).toEqual(['evaluate', 'generate', 'report', 'vlm-synth2']);
    const summary = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')).stages.generate.summary;
    expect(summary.candidates).toBe(3);
    // the kept candidate is never worse than the first under the scorer, and better for some caption
    expect(summary.meanScoreKept).toBeGreaterThan(summary.meanScoreFirst);
    // a new baseline VLM re-ranks again
    const newBaseline = await synth2(['run', '--out', out, '--seed', '3', '--json', ...TINY, '--vlm.steps', '9', '--generate.candidates', '3']);
    expect(newBaseline.code, newBaseline.stderr).toBe(0);
    expect([...started(newBaseline)].sort()).toEqual(['evaluate', 'generate', 'report', 'vlm-baseline', 'vlm-synth2']);
    const queued = await synth2(['run', '--out', out, '--seed', '3', '--json', ...TINY, '--generate.candidates', '3', '--queue.url', 'redis://127.0.0.1:1']);
    expect(queued.code).not.toBe(0);
    expect(queued.stderr).toMatch(/"generate.candidates": re-ranking \(candidates > 1\) runs in-process only/);
    expect(started(queued)).toEqual([]);
  }, 300_000);

  it('should give the colour–shape pairs no human caption names most synthetic captions with captions.gapFill', async () => {
    const share = async (gapFill: string) => {
      const dir = join(await mkdtemp(join(tmpdir(), 'synth2-gap-')), 'run');
      const r = await synth2(['captions', '--out', dir, '--seed', '3', '--json', ...TINY, '--captions.count', '300', '--captions.gapFill', gapFill]);
      expect(r.code, r.stderr).toBe(0);
      const named = new Set<string>();
      for (const line of (await readFile(join(dir, 'data', 'train.jsonl'), 'utf8')).trim().split('\n')) {
        for (const c of (JSON.parse(line) as { captions: string[] }).captions) for (const pair of mentionedPairs(c)) named.add(pair);
      }
      const pairs = (await readFile(join(dir, 'captions', 'captions.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { concepts: string[] }).concepts.map((c) => c.split(':')[1]).join(' '));
      expect(pairs.length).toBe(300);
      return { unnamedPairs: 64 - named.size, share: pairs.filter((x) => !named.has(x)).length / pairs.length };
    };
    const even = await share('0');
    const filled = await share('1');
    expect(filled.unnamedPairs).toBe(even.unnamedPairs);
    expect(even.unnamedPairs).toBeGreaterThanOrEqual(16); // the held-out pairs at least
    // evenly: about their share of the 64 pairs; gap filling: most captions, since human captions never name them
    expect(even.share).toBeLessThan((even.unnamedPairs / 64) * 1.3);
    expect(filled.share).toBeGreaterThan(0.6);
  }, 120_000);

  it('should pass captions.grammar to the offline grammar when the auto source falls back to it', async () => {
    const twoPairShare = async (extra: string[]) => {
      const dir = join(await mkdtemp(join(tmpdir(), 'synth2-opts-')), 'run');
      const r = await synth2(['captions', '--out', dir, '--seed', '3', '--json', ...TINY, '--captions.count', '200', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      const texts = (await readFile(join(dir, 'captions', 'captions.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { text: string }).text);
      return texts.filter((t) => mentionedPairs(t).length > 1).length / texts.length;
    };
    // by default about 30% of the captions describe a second, random object; the grammar option turns that off
    expect(await twoPairShare([])).toBeGreaterThan(0.1);
    expect(await twoPairShare(['--captions.grammar.extraObjectProbability', '0'])).toBe(0);
  }, 120_000);

  it('should render report.html in headless Chromium with the table and images', async () => {
    const CHROMIUM = process.env.SYNTH2_CHROMIUM ?? '/usr/bin/chromium';
    if (!existsSync(CHROMIUM)) {
      console.warn(`[skip] report rendering: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
      return;
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      expect(errors).toEqual([]);
      expect(await page.locator('#metrics tbody tr').count()).toBe(2);
      expect(await page.locator('#bar-chart rect.bar').count()).toBe(4);
      expect(await page.locator('#training-curves polyline').count()).toBe(2);
      const widths = await page.$$eval('img', (imgs) => imgs.map((i) => (i as any).naturalWidth as number));
      expect(widths.length).toBeGreaterThan(4);
      expect(widths.every((w) => w === 32)).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it('should train the full-human reference on the whole human split with --human-fraction', async () => {
    const hf = join(dirname(out), 'run-hf');
    // also the generator options that read tokens through the tokenizer's codebook (the stage passes it the codebook)
    // and retrieve exemplars (the stages key the captions with the world's concept inventory)
    const r = await synth2([
      'run', '--out', hf, '--seed', '3', '--json', ...TINY, '--human-fraction', '0.25',
      '--generator.codebookDim', '1', '--generator.axialPositions', '--generator.exemplars',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const done = (stage: string) => r.events.find((e) => e.type === 'stage-done' && e.stage === stage)?.summary;
    expect(done('vlm-baseline')?.humanImages).toBe(12);
    expect(done('vlm-synth2')?.humanImages).toBe(12);
    expect(done('vlm-full')?.humanImages).toBe(48);
    const results = JSON.parse(await readFile(join(hf, 'results.json'), 'utf8'));
    expect(results.models.full.all.CIDEr).toBeGreaterThanOrEqual(0);
    const genConfig = JSON.parse(await readFile(join(hf, 'generator', 'model', 'config.json'), 'utf8')).generator;
    expect(genConfig.codebookDim).toBe(32); // any value > 0 means: the run tokenizer's codeDim
    expect(genConfig.axialPositions).toBe(true);
    const saved = JSON.parse(await readFile(join(hf, 'generator', 'model', 'config.json'), 'utf8'));
    expect(genConfig.exemplars).toBe(true);
    expect(saved.exemplarCorpus.grids.length).toBe(12 * 16 * 16); // the 12 human train images' 16×16 grids
    expect(Object.keys(saved.exemplarCorpus.keys).length).toBeGreaterThan(3);
  }, 300_000);

  it('should refuse an unknown key before any work, naming it and the nearest valid key', async () => {
    const fresh = join(await mkdtemp(join(tmpdir(), 'synth2-unknown-')), 'run');
    for (const [flag, key, nearest] of [
      ['--vlm.train.steps', 'vlm.train', /Valid keys of "vlm": .*\bsteps\b/],
      ['--tokenizer.stpes', 'tokenizer.stpes', /Did you mean "tokenizer.steps"\?/],
      ['--captions.grammar.synonymProbabilty', 'captions.grammar.synonymProbabilty', /Did you mean "captions.grammar.synonymProbability"\?/],
    ] as const) {
      const r = await synth2(['run', '--out', fresh, flag, '3']);
      expect(r.code, flag).toBe(1);
      expect(r.stderr, flag).toContain(`unknown option "${key}"`);
      expect(r.stderr, flag).toMatch(nearest);
      expect(existsSync(fresh), flag).toBe(false);
    }
  });

  it('should stop the captions stage with the warning when synthesis ends short of captions.count', async () => {
    // a real local OpenAI-compatible server that always answers with the same caption: it names the wrong concepts or
    // repeats itself, the filters reject it, and the run gives up when its request budget (10 × 12 + 100) is spent
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'x', object: 'chat.completion', model: 'same', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'A red circle on a black background.' } }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const run = join(await mkdtemp(join(tmpdir(), 'synth2-short-')), 'run');
      const llm = ['--captions.source', 'openai', '--captions.baseURL', `http://127.0.0.1:${port}/v1`, '--captions.model', 'same', '--captions.openai.apiKey', 'local'];
      const r = await synth2(['captions', '--out', run, '--json', ...TINY, '--captions.count', '12', ...llm]);
      expect(r.code, r.stderr).toBe(1);
      const warning = r.events.find((e) => e.type === 'log' && /^captions: warning: /.test(e.message));
      expect(warning?.message).toMatch(/wrote \d+ of 12 captions: maxRequests \(220\) ran out/);
      expect(warning?.message).toMatch(/captions\.jsonl\.partial/);
      expect(r.stderr).toMatch(/the captions stage stops here/);
      expect(existsSync(join(run, 'captions', 'captions.jsonl'))).toBe(false);
      expect(existsSync(join(run, 'captions', 'captions.jsonl.partial'))).toBe(true);
      const manifest = JSON.parse(await readFile(join(run, 'manifest.json'), 'utf8'));
      expect(manifest.stages.captions.status).toBe('failed');
    } finally {
      server.close();
    }
  }, 120_000);

  it('should explain a bad config value and exit non-zero', async () => {
    const bad = await synth2(['run', '--out', out, '--data.holdOutFraction', '3']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/data\.holdOutFraction/);
  });
});

if (!existsSync(bin)) console.warn(`[skip] CLI end-to-end tests: build the package first (${bin} missing)`);
