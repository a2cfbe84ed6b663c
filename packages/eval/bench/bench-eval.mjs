/* global process, console, performance */
// Benchmark: the full COCO evaluation (PTB tokenize + BLEU-1..4 + ROUGE-L + CIDEr-D) of the MAGIC result file
// (4,982 images, 24,906 references), single process. The official Python implementation takes about 7.5 s wall
// on these machines (tokenizer 1.3 s, BLEU 1.1 s, ROUGE-L 0.7 s, CIDEr 3.9 s). Target: under 0.75 s.
// Writes bench-results/coco-eval.json. Run with `npm run bench -w @synth2/eval`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');
const dataDir = process.env.SYNTH2_DATA_DIR ? resolve(process.env.SYNTH2_DATA_DIR) : resolve(pkg, '..', '..', '..', 'shared', 'data');
const file = join(dataDir, 'coco-eval', 'magic_mscoco_karpathy_test_magic_result.json.gz');
if (!existsSync(file)) {
  console.log(`[skip] benchmark data not found: ${file} (set SYNTH2_DATA_DIR)`);
  process.exit(0);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x) => Math.round(x * 10) / 10;

// Wall time is what the target is about; CPU time (user + system, all threads incl. GC) is also recorded because
// the machines are shared and wall time grows with the load average.
// One cold evaluation in a fresh process (no JIT warm-up): what a user running it once gets.
const COLD_SCRIPT = `
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
const t0 = performance.now();
const { evaluateCaptions, splitCaptionPairs } = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))});
const t1 = performance.now();
const items = JSON.parse(gunzipSync(readFileSync(${JSON.stringify(file)})).toString('utf8'));
const { references, predictions } = splitCaptionPairs(items);
const t2 = performance.now();
const c = process.cpuUsage();
const r = await evaluateCaptions({ references, predictions });
const t3 = performance.now();
const cu = process.cpuUsage(c);
console.log(JSON.stringify({ importMs: t1 - t0, readMs: t2 - t1, evaluateMs: t3 - t2, cpuMs: (cu.user + cu.system) / 1000, timings: r.timings, metrics: r.metrics, images: r.imageIds.length }));
`;

const coldRuns = [];
for (let i = 0; i < 5; i++) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', COLD_SCRIPT], { encoding: 'utf8' });
  coldRuns.push(JSON.parse(out.trim().split('\n').pop()));
}

// Warm: repeated evaluations in this process.
const { evaluateCaptions, splitCaptionPairs } = await import(join(pkg, 'dist', 'index.js'));
const { references, predictions } = splitCaptionPairs(JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')));
const warm = [];
let last;
for (let i = 0; i < 8; i++) {
  const t = performance.now();
  last = await evaluateCaptions({ references, predictions });
  warm.push({ ms: performance.now() - t, timings: last.timings });
}

// End to end through the CLI: node start, gunzip, JSON parse, evaluate, print.
const cli = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  execFileSync(process.execPath, [join(pkg, 'dist', 'bin.js'), '--pairs', file], { encoding: 'utf8' });
  cli.push(performance.now() - t);
}

const stageMedians = (runs) => Object.fromEntries(Object.keys(runs[0].timings).map((k) => [k, round(median(runs.map((r) => r.timings[k])))]));
const result = {
  benchmark: 'coco-eval: tokenize + BLEU-1..4 + ROUGE-L + CIDEr-D of the MAGIC file, single process',
  data: 'coco-eval/magic_mscoco_karpathy_test_magic_result.json.gz (4982 images)',
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  loadavg: os.loadavg(),
  target: { maxSeconds: 0.75, officialPythonSeconds: 7.5 },
  coldEvaluateMs: { median: round(median(coldRuns.map((r) => r.evaluateMs))), runs: coldRuns.map((r) => round(r.evaluateMs)), stages: stageMedians(coldRuns) },
  coldEvaluateCpuMs: { median: round(median(coldRuns.map((r) => r.cpuMs))), runs: coldRuns.map((r) => round(r.cpuMs)) },
  coldReadAndParseMs: round(median(coldRuns.map((r) => r.readMs))),
  warmEvaluateMs: { median: round(median(warm.map((r) => r.ms))), runs: warm.map((r) => round(r.ms)), stages: stageMedians(warm) },
  cliWallMs: { median: round(median(cli)), runs: cli.map(round) },
  speedupVsOfficial: round(7500 / median(coldRuns.map((r) => r.evaluateMs))),
  metTarget: median(coldRuns.map((r) => r.evaluateMs)) < 750,
  metrics: last.metrics,
  loadavgAfter: os.loadavg(),
};
const outFile = join(pkg, 'bench-results', 'coco-eval.json');
await mkdir(dirname(outFile), { recursive: true });
await writeFile(outFile + '.tmp', JSON.stringify(result, null, 2) + '\n');
await rename(outFile + '.tmp', outFile);
console.log(JSON.stringify(result, null, 2));
