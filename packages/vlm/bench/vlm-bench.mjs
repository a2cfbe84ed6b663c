// Benchmark of @synth2/vlm at the demo's settings (run `npm run bench -w @synth2/vlm` after a build):
// training steps/s, tokens/s and peak memory on the selected backend (wasm by default), and decoding speed
// (captions/s, greedy and beam 3). Data: shapes-world-like captions over random 8×8×32 embeddings (speed does
// not depend on the values). Writes bench-results/vlm.json.
import { mkdir, writeFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir, loadavg, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, Vocabulary } from '@synth2/core';
import { initBackend, tf } from '@synth2/nn';
import { CaptioningVLM, demoVlmConfig, trainVLM } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const steps = Number(process.env.BENCH_STEPS ?? 60);
const warmup = Math.min(10, Math.floor(steps / 3));
const arch = demoVlmConfig.architecture;
const batchSize = Number(process.env.BENCH_BATCH ?? demoVlmConfig.training.batchSize);
const counts = { realImages: 2000, captionsPerImage: 5, synthetic: 6000, test: 300 };

const colours = ['red', 'green', 'blue', 'yellow', 'purple', 'orange', 'white', 'black'];
const shapes = ['circle', 'square', 'triangle', 'star', 'cross', 'heart', 'diamond', 'ring'];
const sizes = ['small', 'large', 'big', 'tiny'];
const places = ['on the left', 'on the right', 'at the top', 'at the bottom', 'in the middle'];
const relations = ['to the left of', 'to the right of', 'above', 'below', 'next to'];
const starts = ['a', 'there is a', 'an image with a', 'a picture of a'];

function caption(rng) {
  const obj = () => `${rng.choice(sizes)} ${rng.choice(colours)} ${rng.choice(shapes)}`;
  return rng.bool(0.5) ? `${rng.choice(starts)} ${obj()} ${rng.choice(places)}` : `${rng.choice(starts)} ${obj()} ${rng.choice(relations)} a ${obj()}`;
}

function embeddings(rng, n) {
  const size = n * arch.grid[0] * arch.grid[1] * arch.embeddingDim;
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = rng.normal();
  return { data, shape: [n, arch.grid[0] * arch.grid[1], arch.embeddingDim] };
}

const threads = process.env.BENCH_THREADS ? Number(process.env.BENCH_THREADS) : undefined;
const backendInfo = await initBackend({ threads, log: () => undefined });
const rng = new Rng(1);
const realCaptions = Array.from({ length: counts.realImages }, () => Array.from({ length: counts.captionsPerImage }, () => caption(rng)));
const synthCaptions = Array.from({ length: counts.synthetic }, () => caption(rng));
const vocabulary = Vocabulary.build([...realCaptions.flat(), ...synthCaptions]);
const real = { embeddings: embeddings(rng, counts.realImages), captions: realCaptions };
const synthetic = { embeddings: embeddings(rng, counts.synthetic), captions: synthCaptions };
const test = embeddings(rng, counts.test);

const trials = Number(process.env.BENCH_TRIALS ?? 2);
let peakRss = process.memoryUsage().rss;
let peakHeap = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  // the wasm heap only grows: its size is the peak of live tensors + scratch
  const heap = tf.backend()?.wasm?.HEAPU8?.byteLength ?? tf.memory().numBytes;
  peakHeap = Math.max(peakHeap, heap);
};
const runs = [];
let model;
let result;
for (let trial = 0; trial < trials; trial++) {
  model?.dispose();
  model = CaptioningVLM.create({ ...arch, vocabulary });
  const dir = await mkdtemp(join(tmpdir(), 'synth2-vlm-bench-'));
  let tWarm = 0;
  const loadBefore = loadavg();
  const t0 = performance.now();
  result = await trainVLM({
    model,
    real,
    synthetic,
    mix: demoVlmConfig.training.mix,
    steps,
    batchSize,
    lr: demoVlmConfig.training.lr,
    checkpointDir: dir,
    checkpointEvery: steps,
    resume: false,
    backend: threads ? { threads } : undefined,
    log: () => undefined,
    onProgress: (e) => {
      sample();
      if (e.step === warmup) tWarm = performance.now();
    },
  });
  const tEnd = performance.now();
  await rm(dir, { recursive: true, force: true });
  const stepsPerSec = (steps - warmup) / ((tEnd - tWarm) / 1000);
  runs.push({ stepsPerSec, tokensPerSec: (stepsPerSec * result.tokens) / steps, wallSeconds: (tEnd - t0) / 1000, finalLoss: result.finalLoss, loadavgBefore: loadBefore, loadavgAfter: loadavg() });
  console.error(`trial ${trial}: ${stepsPerSec.toFixed(2)} steps/s (load ${loadBefore[0].toFixed(1)})`);
}
const best = runs.reduce((a, b) => (b.stepsPerSec > a.stepsPerSec ? b : a));
const tokensPerStep = result.tokens / steps;
sample();

async function timeDecode(options) {
  const start = performance.now();
  const out = await model.caption(test, options);
  sample();
  const seconds = (performance.now() - start) / 1000;
  return { captions: out.length, seconds, captionsPerSec: out.length / seconds, example: out[0] };
}
const greedy = await timeDecode({ strategy: 'greedy' });
const beam3 = await timeDecode({ strategy: 'beam', beamSize: 3 });

const report = {
  bench: 'vlm',
  date: new Date().toISOString(),
  backend: result.backend,
  backendInfo: { name: backendInfo.name, threads: backendInfo.threads, native: backendInfo.native, kernels: backendInfo.kernels },
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
  settings: { architecture: arch, batchSize, mix: demoVlmConfig.training.mix, ...counts, vocabulary: vocabulary.size },
  parameters: model.numParameters(),
  training: {
    steps,
    timedSteps: steps - warmup,
    stepsPerSec: best.stepsPerSec,
    tokensPerSec: best.tokensPerSec,
    tokensPerStep,
    estimatedSecondsForDemo: demoVlmConfig.training.steps / best.stepsPerSec,
    demoSteps: demoVlmConfig.training.steps,
    trials: runs,
  },
  memory: { peakRssMiB: peakRss / 2 ** 20, peakWasmHeapMiB: peakHeap / 2 ** 20 },
  decoding: { greedy, beam3 },
  loadavgAfter: loadavg(),
};
await mkdir(join(here, '..', 'bench-results'), { recursive: true });
await writeFile(join(here, '..', 'bench-results', 'vlm.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
model.dispose();
