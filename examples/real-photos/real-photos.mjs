// The Synth² pipeline on a folder of real photos, then the results table: baseline and Synth² CIDEr next to two
// reference points that need no training, each with a bootstrap interval over the test images.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { writeJsonAtomic } from '@synth2/core';
import { main } from '@synth2/cli';
import {
  ciderOf,
  compareSystems,
  meanWithInterval,
  nearestTrainCaptions,
  randomTrainCaptions,
  readRunSplit,
} from './reference-points.mjs';

/**
 * The full configuration: image size, tokenizer downsampling and steps per stage. How the image size was chosen
 * (per-stage step rates at 32, 48 and 64 px): README.md.
 */
export const FULL = {
  imageSize: 64,
  flags: [
    '--data.train', '750', '--data.val', '50', '--data.test', '200',
    '--tokenizer.hidden', '[32,32]', '--tokenizer.steps', '600',
    '--generator.steps', '800', '--captions.count', '2000', '--vlm.steps', '1500',
  ],
};

/** Seconds: what `npm test` runs (every stage, a few steps each). */
export const TINY = {
  imageSize: 32,
  flags: [
    '--data.train', '40', '--data.val', '0', '--data.test', '20',
    '--tokenizer.steps', '10', '--generator.steps', '10', '--captions.count', '30', '--vlm.steps', '10',
    '--eval.beamSize', '1',
  ],
};

/** The 1-minute load average every 15 s while `work` runs: what else the machine was doing. */
async function withLoadSamples(work) {
  const samples = [loadavg()[0]];
  const timer = setInterval(() => samples.push(loadavg()[0]), 15_000);
  timer.unref();
  try {
    return { value: await work(), samples };
  } finally {
    clearInterval(timer);
    samples.push(loadavg()[0]);
  }
}

const round = (x, d = 4) => (x == null ? x : Math.round(x * 10 ** d) / 10 ** d);
const summarizeLoad = (xs) => ({ mean: round(xs.reduce((s, x) => s + x, 0) / xs.length, 2), max: round(Math.max(...xs), 2), samples: xs.length });

/** The commit of the checkout the example runs in (none outside a git checkout). */
function gitCommit(dir) {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Wall seconds from the first stage's start to the last stage's end (the manifest's: a re-scored run keeps its own). */
async function pipelineWallSeconds(out) {
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  const stages = Object.values(manifest.stages).filter((r) => r.startedAt && r.finishedAt);
  const start = Math.min(...stages.map((r) => Date.parse(r.startedAt)));
  const end = Math.max(...stages.map((r) => Date.parse(r.finishedAt)));
  return (end - start) / 1000;
}

/** Runs the pipeline (resuming a run directory it made), then scores the reference points of the finished run. */
export async function runRealPhotos({ folder, concepts, out, config = FULL, seed = 1, extraFlags = [], quiet = false }) {
  const argv = [
    'run', '--out', out, '--seed', String(seed), ...(quiet ? ['--quiet'] : []),
    '--data.source', folder, '--data.holdOutFraction', '0', '--data.imageSize', String(config.imageSize),
    '--captions.concepts', concepts, '--captions.conceptsPerCaption', '2',
    ...config.flags, ...extraFlags,
  ];
  const started = performance.now();
  const { value: code, samples } = await withLoadSamples(() => main(argv));
  const invocationSeconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`synth2 run exited with code ${code}; see the messages above (the run resumes from ${out})`);
  const refStarted = performance.now();
  const table = await scoreRun(out, seed);
  const run = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
  return {
    dataset: basename(resolve(folder)),
    seed,
    imageSize: run.config.data.imageSize,
    tokenizer: { hidden: run.config.tokenizer.hidden ?? null, grid: table.grid, steps: run.stages.tokenizer?.steps },
    steps: {
      tokenizer: run.config.tokenizer.steps,
      generator: run.config.generator.steps,
      vlm: run.config.vlm.steps,
      syntheticCaptions: run.config.captions.count,
    },
    images: { train: run.stages.data?.train, val: run.stages.data?.val, test: run.stages.data?.test, skipped: run.stages.data?.skipped },
    backend: run.backend,
    ...table.scores,
    seconds: {
      // this invocation's wall time (seconds for a finished run it only re-scores), and the stages' own span
      pipeline: round(invocationSeconds, 1),
      stagesWall: round(await pipelineWallSeconds(out), 1),
      referencePoints: round((performance.now() - refStarted) / 1000, 1),
      stages: Object.fromEntries(Object.entries(run.timings).map(([k, v]) => [k, round(v, 1)])),
    },
    // the load while this invocation ran the pipeline (a re-scored run: only while it checked the stages)
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadAverage1m: summarizeLoad(samples) },
    argv: argv.slice(1),
    commit: gitCommit(out),
    date: new Date().toISOString(),
  };
}

/** The results table of a finished run: CIDEr of the models and of both reference points, intervals, comparisons. */
export async function scoreRun(out, seed) {
  const scores = JSON.parse(await readFile(join(out, 'evaluate', 'scores.json'), 'utf8'));
  const [train, test] = [await readRunSplit(out, 'train'), await readRunSplit(out, 'test')];
  const nearest = await nearestTrainCaptions(join(out, 'tokenizer', 'model'), train, test);
  const random = await ciderOf(test, randomTrainCaptions(train, test, seed));
  const nearestScores = await ciderOf(test, nearest.predictions);
  // the reference points are scored by the same call as the models: rescoring the baseline's captions must agree
  const rescored = await ciderOf(test, scores.models.baseline.predictions);
  const per = {
    baseline: scores.models.baseline.perImageCider.all,
    synth2: scores.models.synth2.perImageCider.all,
    randomTrainCaption: random.perImage,
    nearestTrainCaption: nearestScores.perImage,
  };
  const cider = Object.fromEntries(
    Object.entries(per).map(([k, xs]) => {
      const m = meanWithInterval(xs, seed);
      return [k, { value: round(m.mean), interval95: m.interval.map((x) => round(x)) }];
    }),
  );
  const pairs = [['synth2', 'baseline'], ['baseline', 'nearestTrainCaption'], ['synth2', 'nearestTrainCaption'], ['baseline', 'randomTrainCaption'], ['synth2', 'randomTrainCaption']];
  const comparisons = Object.fromEntries(
    pairs.map(([b, a]) => {
      const c = compareSystems(per[a], per[b], seed);
      return [`${b} / ${a}`, { ratio: round(c.ratio), interval95: c.bootstrap?.ratioInterval.map((x) => round(x)) ?? null, shareBetter: round(c.bootstrap?.shareBetter, 3) }];
    }),
  );
  return {
    grid: nearest.grid,
    scores: {
      cider,
      comparisons,
      check: { baselineCiderFromRun: round(scores.models.baseline.all.CIDEr, 6), baselineCiderRescored: round(rescored.cider, 6) },
      examples: test.items.slice(0, 3).map((it) => ({
        imageId: it.imageId,
        human: it.captions[0],
        baseline: scores.models.baseline.predictions[it.imageId],
        synth2: scores.models.synth2.predictions[it.imageId],
        nearestTrainCaption: nearest.predictions[it.imageId],
      })),
    },
  };
}

/** Writes the results JSON atomically (a folder that does not exist is made). */
export async function writeResults(file, results) {
  await writeJsonAtomic(file, results);
}
