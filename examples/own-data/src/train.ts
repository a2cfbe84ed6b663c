// From a folder of photos with captions to a trained VLM and its scores, with the packages' own functions.
//   node dist/train.js <COCO-format folder> [out] [--tiny]     (--tiny: seconds; what `npm test` runs)
import { conceptsFromCaptions, createConceptGrammarSource, synthesizeCaptions } from '@synth2/captioner';
import { CaptionRecordSchema, Vocabulary, readJsonlAll } from '@synth2/core';
import { loadCocoFolder, type LoadedPair } from '@synth2/datasets';
import { evaluateCaptions } from '@synth2/eval';
import { CaptionTokenGenerator, VQTokenizer, generateEmbeddings } from '@synth2/generator';
import { demoGeneratorConfig, demoGeneratorTraining, demoSampling, demoTokenizerConfig, demoTokenizerTraining } from '@synth2/generator';
import { initBackend } from '@synth2/nn';
import { CaptioningVLM, demoVlmConfig, trainVLM } from '@synth2/vlm';

const [folder, out = 'runs/own-data'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const steps = process.argv.includes('--tiny') ? 10 : 800;
await initBackend();
// 1. Your photos (32×32) and captions; the last 20 are the test set
const pairs = await loadCocoFolder(folder, { image: { size: 32 }, onError: 'skip' }).toArray();
const [train, test] = [pairs.slice(0, -20), pairs.slice(-20)];
const images = (ps: LoadedPair[]) => ({ data: Float32Array.from(ps.flatMap((p) => [...p.image!.data])), shape: [ps.length, 32, 32, 3] as [number, number, number, number] });
const captions = train.map((p) => p.captions);
// 2. A VQ tokenizer turns images into grids of codebook vectors (what the VLM reads)
const tokenizer = VQTokenizer.create({ ...demoTokenizerConfig, imageSize: 32 });
await tokenizer.train(images(train), { ...demoTokenizerTraining, steps });
const ids = tokenizer.encode(images(train));
const [grids, per] = [await ids.data(), tokenizer.gridSize ** 2];
// 3. A caption → image-token generator, trained on your pairs
const generator = CaptionTokenGenerator.forTokenizer(tokenizer, { ...demoGeneratorConfig, captions: captions.flat() });
await generator.train(train.flatMap((p, i) => p.captions.map((caption) => ({ caption, tokens: grids.subarray(i * per, (i + 1) * per) }))), { ...demoGeneratorTraining, steps });
// 4. Synthetic captions about the things your captions name, and image embeddings for them
const concepts = conceptsFromCaptions(captions.flat());
await synthesizeCaptions({ source: createConceptGrammarSource({ seed: 1 }), concepts, count: steps * 5, out: `${out}/captions.jsonl`, seed: 1 });
const synthetic = (await readJsonlAll(`${out}/captions.jsonl`, CaptionRecordSchema)).map((r) => r.text);
const syntheticEmbeddings = await generateEmbeddings({ generator, tokenizer, captions: synthetic, ...demoSampling, seed: 1 });
// 5. Two VLMs, human pairs only (baseline) and human + synthetic (Synth²), scored on the test photos
const [real, testEmbeddings] = [tokenizer.embed(ids), tokenizer.embed(tokenizer.encode(images(test)))];
const vocabulary = Vocabulary.build([...captions.flat(), ...synthetic]);
const references = Object.fromEntries(test.map((p) => [p.imageId, p.captions]));
for (const [name, share] of [['baseline', 0], ['synth2', 0.5]] as const) {
  const model = CaptioningVLM.create({ ...demoVlmConfig.architecture, embeddingDim: tokenizer.config.codeDim, grid: [tokenizer.gridSize, tokenizer.gridSize], vocabulary });
  await trainVLM({ model, real: { embeddings: real, captions }, synthetic: { embeddings: syntheticEmbeddings, captions: synthetic }, mix: { real: 1 - share, synthetic: share }, steps: steps * 2, batchSize: 32 });
  const predicted = await model.caption(testEmbeddings);
  const { metrics } = await evaluateCaptions({ references, predictions: Object.fromEntries(test.map((p, i) => [p.imageId, predicted[i]])) });
  console.log(`${name}: CIDEr ${metrics.CIDEr?.toFixed(3)}, BLEU-4 ${metrics.Bleu_4?.toFixed(3)}, ROUGE-L ${metrics.ROUGE_L?.toFixed(3)}`);
  await model.save(`${out}/vlm-${name}`);
}
