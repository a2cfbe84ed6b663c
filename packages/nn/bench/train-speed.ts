// Training-speed benchmark: `npm run bench -w @synth2/core`.
// Runs the reference LM and VQ-VAE on tfjs wasm for three setups, each in a fresh process:
//   baseline — stock tfjs wasm (+ a JS UnsortedSegmentSum, without which the LM cannot train at all);
//   portable — this package's fast kernels and gradients, no native code;
//   fastest  — portable + the native OpenBLAS addon when it is built (else the same as portable).
// Writes bench-results/train-speed.json (atomically). Options: --quick (fewer steps), --only=<mode>.
import type * as TF from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Mode = 'baseline' | 'portable' | 'fastest';
const MODES: Mode[] = ['baseline', 'portable', 'fastest'];
const here = dirname(fileURLToPath(import.meta.url)); // bench/.build when bundled
const args = process.argv.slice(2);
const quick = args.includes('--quick');

async function child(mode: Mode): Promise<unknown> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  await import('@tensorflow/tfjs-backend-wasm');
  const { registerFastKernels } = await import('../src/tf/kernels/index');
  const { segmentSumKernels } = await import('../src/tf/kernels/segment-sum');
  const { nativeAddonPath } = await import('../src/tf/kernels/native-addon');
  const m = await import('./reference-models');
  await tf.setBackend('wasm');
  await tf.ready();
  let kernels: string[];
  if (mode === 'baseline') {
    const c = segmentSumKernels.find((k) => k.backendName === 'wasm')!;
    tf.registerKernel(c);
    kernels = ['wasm:UnsortedSegmentSum (JS scatter-add, needed to train an embedding at all)'];
  } else {
    const native = mode === 'fastest' && nativeAddonPath() !== null;
    kernels = await registerFastKernels('wasm', { native, threads: native ? cpus().length : undefined });
  }
  const backend = tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } };
  let peakTensorBytes = 0;
  const notePeak = () => (peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes));
  const opt = () => tf.train.adam(1e-3);

  const train = (params: TF.Variable[], lossFn: (step: number) => TF.Scalar, minSteps: number, minSeconds: number) => {
    const o = opt();
    const step = (i: number) => {
      let loss = NaN;
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => lossFn(i), params);
        notePeak();
        o.applyGradients(grads as TF.NamedTensorMap as Record<string, TF.Variable>);
        loss = value.dataSync()[0]!;
      });
      return loss;
    };
    const firstLoss = step(0); // warm-up (kernel setup, XNNPACK operator creation)
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let n = 0;
    let lastLoss = firstLoss;
    while (n < minSteps || (performance.now() - t0) / 1000 < minSeconds) {
      lastLoss = step(++n);
      if (n >= minSteps * 4) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpuSeconds = (c.user + c.system) / 1e6;
    o.dispose();
    // cpuSecondsPerStep: CPU time of this process (all its threads) per step — far less sensitive than wall time
    // to other work on a shared machine; equals wall time on an idle machine for the single-threaded paths.
    return { steps: n, seconds, stepsPerSec: n / seconds, cpuSecondsPerStep: cpuSeconds / n, firstLoss, lastLoss };
  };

  const result: Record<string, unknown> = { mode, kernels, loadavgStart: loadavg() };

  // Reference LM
  {
    const lm = m.createLm(m.REFERENCE_LM);
    const cfg = m.REFERENCE_LM;
    const slow = mode === 'baseline';
    const r = train(
      lm.params,
      (i) => {
        const { ids, targets } = lm.batch(i);
        return lm.loss(ids, targets);
      },
      quick ? 2 : slow ? 3 : 8,
      quick ? 5 : slow ? 15 : 30,
    );
    const flops = m.lmFlopsPerStep(cfg);
    result.lm = {
      config: cfg,
      params: lm.numParams,
      gflopPerStep: flops / 1e9,
      ...r,
      tokensPerSec: r.stepsPerSec * cfg.batch * cfg.seq,
      effectiveGflops: (r.stepsPerSec * flops) / 1e9,
      peakTensorMB: peakTensorBytes / 2 ** 20,
      wasmHeapMB: backend.wasm.HEAPU8.length / 2 ** 20,
      rssMB: process.memoryUsage().rss / 2 ** 20,
    };
    peakTensorBytes = 0;
    lm.dispose();
  }
  // Reference VQ-VAE
  {
    const vq = m.createVqVae(m.REFERENCE_VQ);
    const cfg = m.REFERENCE_VQ;
    const x = vq.images(0);
    tf.tidy(() => void vq.encodeCodes(x).dataSync());
    const t0 = performance.now();
    const reps = quick ? 3 : 10;
    for (let i = 0; i < reps; i++) tf.tidy(() => void vq.encodeCodes(x).dataSync());
    const encodeImgPerSec = (reps * cfg.batch) / ((performance.now() - t0) / 1000);
    const entry: Record<string, unknown> = {
      config: cfg,
      params: vq.numParams,
      mflopPerImageForward: m.vqFlopsPerImage() / 1e6,
      encodeImgPerSec,
    };
    try {
      const r = train(vq.params, () => vq.loss(x), quick ? 2 : 5, quick ? 4 : 20);
      Object.assign(entry, r, { trainImgPerSec: r.stepsPerSec * cfg.batch });
    } catch (e) {
      entry.trainError = e instanceof Error ? e.message : String(e);
      entry.trainImgPerSec = 0;
    }
    Object.assign(entry, {
      peakTensorMB: peakTensorBytes / 2 ** 20,
      wasmHeapMB: backend.wasm.HEAPU8.length / 2 ** 20, // the wasm heap never shrinks: LM + VQ-VAE high-water mark
    });
    result.vq = entry;
    x.dispose();
    vq.dispose();
  }
  result.wasmHeapMB = backend.wasm.HEAPU8.length / 2 ** 20;
  result.peakRssMB = process.resourceUsage().maxRSS / 1024;
  result.loadavgEnd = loadavg();
  return result;
}

function parent(): void {
  const only = args.find((a) => a.startsWith('--only='))?.slice(7) as Mode | undefined;
  const runs: Record<string, any> = {};
  for (const mode of MODES.filter((x) => !only || x === only)) {
    process.stderr.write(`train-speed: ${mode}…\n`);
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, ...(quick ? ['--quick'] : [])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    const line = out.trim().split('\n').pop()!;
    runs[mode] = JSON.parse(line);
    const r = runs[mode];
    process.stderr.write(
      `  LM ${r.lm.stepsPerSec.toFixed(3)} steps/s, ${r.lm.tokensPerSec.toFixed(0)} tok/s, ${r.lm.effectiveGflops.toFixed(1)} GFLOP/s; ` +
        `(${r.lm.cpuSecondsPerStep.toFixed(2)} cpu-s/step); VQ train ${r.vq.trainImgPerSec.toFixed(1)} img/s${r.vq.trainError ? ` (fails: ${r.vq.trainError})` : ''}, encode ${r.vq.encodeImgPerSec.toFixed(0)} img/s\n`,
    );
  }
  const base = runs.baseline;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  const summary: Record<string, unknown> = {};
  for (const [mode, r] of Object.entries(runs)) {
    summary[mode] = {
      lmStepsPerSec: r.lm.stepsPerSec,
      lmTokensPerSec: r.lm.tokensPerSec,
      lmEffectiveGflops: r.lm.effectiveGflops,
      lmCpuSecondsPerStep: r.lm.cpuSecondsPerStep,
      vqCpuSecondsPerStep: r.vq.cpuSecondsPerStep ?? null,
      // load-independent estimates: steps per CPU-second (a lower bound for multi-threaded native BLAS)
      lmStepsPerCpuSec: 1 / r.lm.cpuSecondsPerStep,
      vqTrainImgPerCpuSec: r.vq.cpuSecondsPerStep ? r.vq.config.batch / r.vq.cpuSecondsPerStep : 0,
      loadavgDuring: [r.loadavgStart[0], r.loadavgEnd[0]],
      vqTrainImgPerSec: r.vq.trainImgPerSec,
      vqEncodeImgPerSec: r.vq.encodeImgPerSec,
      lmPeakTensorMB: r.lm.peakTensorMB,
      lmWasmHeapMB: r.lm.wasmHeapMB,
      vqPeakTensorMB: r.vq.peakTensorMB,
      peakRssMB: r.peakRssMB,
      lmSpeedupVsBaseline: base ? ratio(r.lm.stepsPerSec, base.lm.stepsPerSec) : null,
      vqTrainSpeedupVsBaseline: base ? ratio(r.vq.trainImgPerSec, base.vq.trainImgPerSec) : null,
    };
  }
  const targets = {
    portable: { lmStepsPerSec: 0.7, vqTrainImgPerSec: 50 },
    fastest: { lmStepsPerSec: 1.5, vqTrainImgPerSec: 150 },
  };
  const met = Object.fromEntries(
    Object.entries(targets)
      .filter(([k]) => runs[k])
      .map(([k, t]) => [k, { lm: runs[k].lm.stepsPerSec >= t.lmStepsPerSec, vq: runs[k].vq.trainImgPerSec >= t.vqTrainImgPerSec }]),
  );
  const report = {
    bench: 'train-speed',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    loadavg: loadavg(),
    quick,
    note: 'CPU shared with other work: compare modes within one run; loadavg recorded per mode.',
    targets,
    targetsMet: met,
    summary,
    runs,
  };
  const dir = join(here, '..', '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'train-speed.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  process.stderr.write(`wrote ${file}\n`);
}

const ci = args.indexOf('--child');
if (ci >= 0) {
  child(args[ci + 1] as Mode).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
} else {
  parent();
}
