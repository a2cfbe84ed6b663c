// Benchmark: caption synthesis against a local OpenAI-compatible server with 50 ms latency per request.
// Targets: throughput within 10% of concurrency / latency at concurrency 1, 8 and 32; client CPU overhead per
// caption under 1 ms. Also measures the offline concept grammar. Writes bench-results/throughput.json.
// BENCH_TRIALS (default 2) trials per setting, BENCH_SECONDS (default 4) seconds per trial.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  combineConcepts,
  createConceptGrammarSource,
  createOpenAICaptionSource,
  synthesizeCaptions,
} from '../dist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const LATENCY_MS = 50;
const SECONDS_PER_RUN = Number(process.env.BENCH_SECONDS ?? 4);

const server = spawn(process.execPath, [path.join(here, 'latency-server.mjs'), String(LATENCY_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
const baseURL = await new Promise((resolve, reject) => {
  let buf = '';
  server.stdout.on('data', (d) => {
    buf += d;
    if (buf.includes('\n')) resolve(buf.trim());
  });
  server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
});

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'synth2-captioner-bench-'));
const concepts = ['dog', 'cat'];
const results = [];
try {
  // warm-up (JIT, sockets)
  await synthesizeCaptions({
    source: createOpenAICaptionSource({ baseURL, maxConcurrency: 8 }),
    concepts,
    count: 80,
    out: path.join(tmp, 'warmup.jsonl'),
    resume: false,
  });
  /** Control: bare fetch() workers against the same server — the ceiling this machine allows right now. */
  const control = async (concurrency, requests) => {
    const body = JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'Make up a caption about: dog.' }], n: 1 });
    let left = requests;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) {
          const res = await fetch(`${baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          await res.json();
        }
      }),
    );
    return requests / ((performance.now() - t0) / 1000);
  };
  // Interference from other processes only ever slows a run down, so each setting runs TRIALS times and the
  // fastest trial is the measurement; every trial is kept in the JSON.
  const TRIALS = Number(process.env.BENCH_TRIALS ?? 2);
  for (const concurrency of [1, 8, 32]) {
    const ideal = (concurrency / LATENCY_MS) * 1000; // requests per second
    let controlRps = 0;
    for (let t = 0; t < TRIALS; t++) controlRps = Math.max(controlRps, await control(concurrency, Math.max(20, Math.round(ideal * SECONDS_PER_RUN * 0.5))));
    for (const n of [1, 4]) {
      const trials = [];
      for (let t = 0; t < TRIALS; t++) {
        const requests = Math.max(20, Math.round(ideal * SECONDS_PER_RUN));
        const out = path.join(tmp, `c${concurrency}-n${n}-${t}.jsonl`);
        const load = os.loadavg()[0];
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const summary = await synthesizeCaptions({
          source: createOpenAICaptionSource({ baseURL, maxConcurrency: concurrency, n }),
          concepts,
          count: requests * n,
          out,
          resume: false,
        });
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        trials.push({
          loadavg1m: +load.toFixed(2),
          captions: summary.written,
          requests: summary.requests,
          seconds: +seconds.toFixed(3),
          requestsPerSecond: +(summary.requests / seconds).toFixed(1),
          captionsPerSecond: +(summary.written / seconds).toFixed(1),
          clientCpuMsPerCaption: +(cpuMs / summary.written).toFixed(4),
          clientCpuMsPerRequest: +(cpuMs / summary.requests).toFixed(4),
          rejected: summary.rejected,
        });
      }
      const best = trials.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
      const minCpu = Math.min(...trials.map((t) => t.clientCpuMsPerCaption));
      const row = {
        concurrency,
        choicesPerRequest: n,
        idealRequestsPerSecond: ideal,
        requestsPerSecond: best.requestsPerSecond,
        ratioToIdeal: +(best.requestsPerSecond / ideal).toFixed(4),
        captionsPerSecond: best.captionsPerSecond,
        clientCpuMsPerCaption: minCpu,
        bareFetchRequestsPerSecond: +controlRps.toFixed(1),
        bareFetchRatioToIdeal: +(controlRps / ideal).toFixed(4),
        // Wall time the client adds per request slot beyond a bare fetch() call at the same moment, per caption.
        wallOverheadMsPerCaptionVsBareFetch: +(((concurrency * 1000) / best.requestsPerSecond - (concurrency * 1000) / controlRps) / n).toFixed(3),
        withinTenPercent: best.requestsPerSecond >= 0.9 * ideal,
        overheadUnder1ms: minCpu < 1,
        trials,
      };
      results.push(row);
      console.log(
        `concurrency ${String(concurrency).padStart(2)}  n=${n}: ${row.requestsPerSecond} req/s (ideal ${ideal}, ${(row.ratioToIdeal * 100).toFixed(1)}%; bare fetch ${(row.bareFetchRatioToIdeal * 100).toFixed(1)}%), ` +
          `${row.captionsPerSecond} captions/s, client CPU ${row.clientCpuMsPerCaption} ms/caption, +${row.wallOverheadMsPerCaptionVsBareFetch} ms/caption wall vs bare fetch, load ${trials.map((t) => t.loadavg1m).join('/')}`,
      );
    }
  }
  // the offline grammar, for scale
  const inventory = {
    name: 'bench-shapes',
    objects: ['circle', 'square', 'triangle', 'star', 'heart', 'cross', 'diamond', 'ring'].map((s) => ({ id: `shape:${s}`, name: s, kind: 'shape' })),
    attributes: ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'white'].map((c) => ({ id: `color:${c}`, name: c, kind: 'color' })),
    relations: ['to the left of', 'to the right of', 'above', 'below'].map((r) => ({ id: `rel:${r}`, name: r, kind: 'relation' })),
    positions: ['on the left', 'on the right', 'at the top', 'at the bottom', 'in the center'].map((p) => ({ id: `pos:${p}`, name: p, kind: 'position' })),
    places: ['a gray background', 'a black background', 'a striped background'].map((p) => ({ id: `bg:${p}`, name: p, kind: 'background' })),
  };
  const pairs = combineConcepts(inventory.attributes, inventory.objects);
  const g0 = performance.now();
  const grammar = await synthesizeCaptions({
    source: createConceptGrammarSource({ inventory }),
    concepts: pairs,
    count: 6000,
    out: path.join(tmp, 'grammar.jsonl'),
    wordCount: 9,
    resume: false,
  });
  const gs = (performance.now() - g0) / 1000;
  const grammarRow = {
    captions: grammar.written,
    requests: grammar.requests,
    seconds: +gs.toFixed(3),
    captionsPerSecond: +(grammar.written / gs).toFixed(0),
    rejected: grammar.rejected,
    exhausted: grammar.exhausted,
  };
  console.log(`concept grammar: ${grammarRow.captions} shapes-world captions in ${grammarRow.seconds} s (${grammarRow.captionsPerSecond}/s), rejected ${JSON.stringify(grammar.rejected)}`);

  const json = {
    bench: 'throughput',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadavg: os.loadavg(),
    latencyMs: LATENCY_MS,
    targets: { ratioToIdeal: 0.9, clientCpuMsPerCaption: 1 },
    openaiCompatible: results,
    allPass: results.every((r) => r.withinTenPercent && r.overheadUnder1ms),
    notes:
      'clientCpuMsPerCaption is process CPU time (user+system, all threads) per caption, fastest trial; on a loaded machine each ' +
      'wake-up after an idle wait costs extra, which dominates at concurrency 1. bareFetch* is a control run with plain fetch() ' +
      'workers against the same server at the same moment: the ceiling the machine allows.',
    conceptGrammar: grammarRow,
  };
  await fs.mkdir(path.join(here, '..', 'bench-results'), { recursive: true });
  const file = path.join(here, '..', 'bench-results', 'throughput.json');
  await fs.writeFile(`${file}.tmp`, `${JSON.stringify(json, null, 2)}\n`);
  await fs.rename(`${file}.tmp`, file);
  console.log(`all targets met: ${json.allPass}; loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; wrote ${path.relative(process.cwd(), file)}`);
} finally {
  server.kill('SIGTERM');
  await fs.rm(tmp, { recursive: true, force: true });
}
