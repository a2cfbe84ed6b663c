// CPU seconds per train step of the tokenizer (batch 32) and the generator (batch 64, the demo's settings) at each
// image size, on random pixels and tokens: what an image size costs, measured as CPU time so that other work on a
// shared machine changes it little. A step's CPU time is taken between step 3 and the last (setup left out).
//   node step-cost.mjs [--steps 12] [--sizes 32,48,64,64g32]
// Size keys as in estimate.mjs: 32 and 48 keep one downsampling stage, 64 has two (16×16 tokens), 64g32 one (32×32).
import { Rng } from '@synth2/core';
import { CaptionTokenGenerator, VQTokenizer, demoGeneratorConfig, demoTokenizerConfig, trainTokenizer } from '@synth2/generator';
import { describeBackend, initBackend } from '@synth2/nn';

const argv = process.argv.slice(2);
const valueOf = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const steps = Number(valueOf('--steps') ?? 12);
const VARIANTS = {
  32: { imageSize: 32, hidden: [32] },
  48: { imageSize: 48, hidden: [32] },
  64: { imageSize: 64, hidden: [32, 32] },
  '64g32': { imageSize: 64, hidden: [32] },
};
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** CPU seconds per step of `train`, which calls `onProgress({ step })` after every step. */
async function perStep(train) {
  let from;
  let to;
  await train(({ step }) => {
    if (step === 3) from = cpuSeconds();
    if (step === steps) to = cpuSeconds();
  });
  return (to - from) / (steps - 3);
}

const info = await initBackend();
console.log(describeBackend(info));
const rng = new Rng(1);
const results = {};
for (const key of (valueOf('--sizes') ?? '32,48,64,64g32').split(',')) {
  const v = VARIANTS[key];
  const S = v.imageSize;
  const images = { data: Float32Array.from({ length: 64 * S * S * 3 }, () => rng.uniform()), shape: [64, S, S, 3] };
  const tokenizer = VQTokenizer.create({ ...demoTokenizerConfig, imageSize: S, hidden: v.hidden, seed: 1 });
  const tokenizerStep = await perStep((onProgress) => trainTokenizer(tokenizer, images, { steps, batchSize: 32, onProgress, log: () => {} }));
  const g = tokenizer.gridSize;
  const words = ['a', 'dog', 'runs', 'on', 'the', 'grass', 'two', 'people', 'sit', 'by', 'water', 'red'];
  const examples = Array.from({ length: 256 }, () => ({
    caption: Array.from({ length: 10 }, () => words[rng.int(words.length)]).join(' '),
    tokens: Int32Array.from({ length: g * g }, () => rng.int(demoTokenizerConfig.codebookSize)),
  }));
  const generator = CaptionTokenGenerator.forTokenizer(tokenizer, { ...demoGeneratorConfig, seed: 1, captions: examples.map((e) => e.caption) });
  const generatorStep = await perStep((onProgress) => generator.train(examples, { steps, batchSize: 64, onProgress, log: () => {} }));
  generator.dispose();
  tokenizer.dispose();
  results[key] = { ...v, grid: g, tokenizerCpuSecondsPerStep: tokenizerStep, generatorCpuSecondsPerStep: generatorStep };
  console.log(JSON.stringify({ key, ...results[key] }));
}
