// The Synth² experiment in ~100 lines, composing the SDK's packages in memory (no CLI, no run directory).
//   node experiment.mjs           small but meaningful sizes (a few minutes on 2 cores)
//   node experiment.mjs --tiny    seconds; what `npm test` runs
// For the full protocol with resumable stages and a report, use `npm run demo` (the synth2 CLI).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vocabulary, readJsonlAll, CaptionRecordSchema } from '@synth2/core';
import { initBackend, describeBackend, tf } from '@synth2/nn';
import { colorShapePairConcepts, heldOutPairRecall, heldOutPairSet, makeSplits, pairGapCounts, shapesItemMeta } from '@synth2/datasets';
import { createConceptGrammarSource, demoGrammarOptions, gapFillingWeights, synthesizeCaptions } from '@synth2/captioner';
import {
  VQTokenizer, CaptionTokenGenerator, trainTokenizer, generateEmbeddings,
  demoTokenizerConfig, demoGeneratorConfig, demoGeneratorTraining, demoSampling,
} from '@synth2/generator';
import { CaptioningVLM, demoVlmConfig, trainVLM } from '@synth2/vlm';
import { evaluateCaptions } from '@synth2/eval';

const tiny = process.argv.includes('--tiny');
const size = tiny
  ? { train: 60, test: 30, tok: 20, gen: 20, syn: 60, vlm: 15 }
  : { train: 600, test: 150, tok: 300, gen: 600, syn: 1500, vlm: 600 };
const seed = 1;
console.log(describeBackend(await initBackend({ log: () => {} })));

// 1. Human data: the shapes world with a quarter of the colour–shape pairs held out of train.
const splits = makeSplits({ train: size.train, test: size.test, holdOutFraction: 0.25, seed });
const heldOut = heldOutPairSet(splits.manifest.heldOutPairs);
const toImages = (items) => {
  const S = items[0].width;
  const data = new Float32Array(items.length * S * S * 3);
  items.forEach((it, i) => it.pixels.forEach((v, k) => (data[i * S * S * 3 + k] = v / 255)));
  return { data, shape: [items.length, S, S, 3] };
};
const train = splits.train.items;
const test = splits.test.items;

// 2. VQ tokenizer and caption → token generator, trained on the human train split only.
const tokenizer = VQTokenizer.create({ ...demoTokenizerConfig, seed });
await trainTokenizer(tokenizer, toImages(train), { steps: size.tok, batchSize: 32, lr: 3e-3, restartEvery: 50, seed, log: () => {} });
const embed = (items) => tf.tidy(() => tokenizer.embed(tokenizer.encode(toImages(items))));
const trainTokens = tokenizer.encode(toImages(train));
const per = trainTokens.shape[1] * trainTokens.shape[2];
const tokenData = trainTokens.dataSync();
const examples = train.flatMap((it, i) => it.captions.map((caption) => ({ caption, tokens: tokenData.subarray(i * per, (i + 1) * per) })));
// forTokenizer: the demo generator reads and predicts tokens through this tokenizer's code vectors (codebookDim)
const generator = CaptionTokenGenerator.forTokenizer(tokenizer, { ...demoGeneratorConfig, seed, captions: examples.map((e) => e.caption) });
await generator.train(examples, { ...demoGeneratorTraining, steps: size.gen, seed, log: () => {} });

// 3. Synthetic captions from the world's concepts (every colour–shape pair), offline grammar. Gap filling: the pairs
//    the human captions name least (the held-out ones: never) get most of them, until human + synthetic are even.
const inv = splits.world.inventory;
const pairs = colorShapePairConcepts(inv);
const weights = gapFillingWeights(pairGapCounts(pairs, train.flatMap((it) => it.captions)), size.syn, 1);
const out = join(await mkdtemp(join(tmpdir(), 'synth2-example-')), 'captions.jsonl');
await synthesizeCaptions({ source: createConceptGrammarSource({ inventory: inv, seed, ...demoGrammarOptions }), concepts: pairs, count: size.syn, out, seed, wordCount: 10, sampler: 'weighted', weights });
const vocab = generator.captions.vocabulary;
const synthetic = (await readJsonlAll(out, CaptionRecordSchema)).map((r) => r.text).filter((t) => vocab.tokenize(t).every((w) => vocab.has(w)));

// 4. Their image embeddings, generated in embedding space (no pixels).
const synEmb = await generateEmbeddings({ generator, tokenizer, captions: synthetic, ...demoSampling, seed });

// 5. Two VLMs with the same number of steps: human only, and human + synthetic.
const humanCaptions = train.map((it) => it.captions);
const realEmb = embed(train);
async function trainOne(withSynthetic) {
  const model = CaptioningVLM.create({
    ...demoVlmConfig.architecture, seed,
    vocabulary: Vocabulary.build([...humanCaptions.flat(), ...(withSynthetic ? synthetic : [])]),
  });
  await trainVLM({
    model, steps: size.vlm, batchSize: 32, lr: 2e-3, seed, log: () => {},
    real: { embeddings: realEmb, captions: humanCaptions },
    ...(withSynthetic ? { synthetic: { embeddings: synEmb, captions: synthetic }, mix: { real: 0.5, synthetic: 0.5 } } : {}),
  });
  return model;
}
const models = { baseline: await trainOne(false), synth2: await trainOne(true) };

// 6. Evaluate on all test images and on those with a held-out composition.
const testEmb = embed(test);
const references = Object.fromEntries(test.map((it) => [it.imageId, it.captions]));
const scenes = test.map((it) => ({ ...shapesItemMeta(it, heldOut), imageId: it.imageId }));
for (const [name, model] of Object.entries(models)) {
  const captions = await model.caption(testEmb, { strategy: 'beam', beamSize: 5 });
  const predictions = Object.fromEntries(test.map((it, i) => [it.imageId, captions[i]]));
  const all = await evaluateCaptions({ references, predictions });
  const ho = scenes.filter((s) => s.heldOut);
  const pick = (m) => Object.fromEntries(ho.map((s) => [s.imageId, m[s.imageId]]));
  const held = await evaluateCaptions({ references: pick(references), predictions: pick(predictions) });
  const recall = heldOutPairRecall(ho.map((s) => ({ caption: predictions[s.imageId], objects: s.objects })), heldOut) ?? 0;
  console.log(`${name.padEnd(8)} CIDEr ${all.metrics.CIDEr.toFixed(3)}  held-out CIDEr ${held.metrics.CIDEr.toFixed(3)}  held-out pair recall ${recall.toFixed(2)}  e.g. "${captions[0]}"`);
}
