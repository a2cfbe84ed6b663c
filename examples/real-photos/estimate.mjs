// How the image size was chosen: short runs of the full configuration (full data sizes, few steps) at each image
// size, then each stage's time projected to the full step counts from its measured step rate:
//   stage time ≈ (stage seconds − train seconds) + full steps × train seconds / steps   (tokenizer, generator, VLMs)
//   generate ≈ full synthetic captions / captions per second; data, captions, evaluate, report as measured.
//   node estimate.mjs [folder] [--out runs/estimate] [--sizes 32,48,64,64g32]
// Size keys: 32 and 48 keep one downsampling stage (16×16 and 24×24 token grids), 64 has two (16×16), 64g32 one (32×32).
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic } from '@synth2/core';
import { main } from '@synth2/cli';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const valueOf = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const data = process.env.SYNTH2_DATA_DIR ?? resolve(here, '../../../shared/data');
const folder = argv.find((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--'))) ?? join(data, 'flickr8k-1k');
const concepts = join(data, 'concepts', 'coco', 'coco80_categories.tsv');
const outRoot = valueOf('--out') ?? join('runs', 'estimate');

/** Image size and tokenizer downsampling of each size key. */
const VARIANTS = {
  32: { imageSize: 32, hidden: [32] },
  48: { imageSize: 48, hidden: [32] },
  64: { imageSize: 64, hidden: [32, 32] },
  '64g32': { imageSize: 64, hidden: [32] },
};
const FULL_STEPS = { tokenizer: 600, generator: 800, 'vlm-baseline': 1500, 'vlm-synth2': 1500, captions: 2000 };
const SHORT_STEPS = { tokenizer: 60, generator: 60, vlm: 60, captions: 300 };

/** A stage's time at the full step count, from its summary in the short run's manifest. */
function projectStage(name, s) {
  if (FULL_STEPS[name] && name !== 'captions' && s.trainSeconds && s.steps) {
    const perStep = s.trainSeconds / s.steps;
    return { measured: s.seconds, perStep, projected: s.seconds - s.trainSeconds + FULL_STEPS[name] * perStep };
  }
  if (name === 'generate' && s.captionsPerSecond) return { measured: s.seconds, projected: FULL_STEPS.captions / s.captionsPerSecond };
  return { measured: s.seconds, projected: s.seconds };
}

const keys = (valueOf('--sizes') ?? '32,48,64,64g32').split(',');
const estimates = {};
for (const key of keys) {
  const v = VARIANTS[key];
  if (!v) throw new Error(`unknown size key "${key}"; use ${Object.keys(VARIANTS).join(', ')}`);
  const out = join(outRoot, `size-${key}`);
  const code = await main([
    'run', '--out', out, '--seed', '1', '--quiet',
    '--data.source', folder, '--data.holdOutFraction', '0', '--data.imageSize', String(v.imageSize),
    '--captions.concepts', concepts, '--captions.conceptsPerCaption', '2',
    '--data.train', '750', '--data.val', '50', '--data.test', '200', '--tokenizer.hidden', JSON.stringify(v.hidden),
    '--tokenizer.steps', String(SHORT_STEPS.tokenizer), '--generator.steps', String(SHORT_STEPS.generator),
    '--captions.count', String(SHORT_STEPS.captions), '--vlm.steps', String(SHORT_STEPS.vlm),
  ]);
  if (code !== 0) throw new Error(`short run ${key} failed (code ${code})`);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  const stages = Object.fromEntries(Object.entries(manifest.stages).map(([k, r]) => [k, projectStage(k, r.summary)]));
  const sum = (f) => Object.values(stages).reduce((t, s) => t + f(s), 0);
  estimates[key] = { ...v, stages, measuredSeconds: sum((s) => s.measured), projectedSeconds: sum((s) => s.projected) };
  console.log(`${key}: short run ${estimates[key].measuredSeconds.toFixed(0)} s, projected full ${estimates[key].projectedSeconds.toFixed(0)} s`);
  for (const [k, s] of Object.entries(stages)) {
    console.log(`  ${k.padEnd(13)} ${s.measured.toFixed(1)} s → ${s.projected.toFixed(1)} s${s.perStep ? ` (${s.perStep.toFixed(3)} s/step)` : ''}`);
  }
  // after every size: what was measured so far survives a stopped estimate
  await writeJsonAtomic(join(outRoot, 'estimate.json'), { folder, fullSteps: FULL_STEPS, shortSteps: SHORT_STEPS, estimates, date: new Date().toISOString() });
}
