/**
 * Looks inside a trained caption → token generator: decoded samples for single-object captions (every shape in two
 * colours, each caption twice) and how much the generator's first-step token distributions depend on the caption's
 * colour vs its shape (mean per-token total variation between captions that differ in one attribute, all positions
 * masked). A generator that draws colour but not shape shows a large colour TV and a small shape TV.
 *
 *   npm run inspect -w @synth2/generator -- <tokenizer dir> <generator dir> <out.png> ['{"guidanceScale":3}']
 */
import { saveImageGrid } from '@synth2/core';
import { initBackend, tf } from '@synth2/nn';
import { SHAPE_NAMES } from '@synth2/datasets';
import { CaptionTokenGenerator, VQTokenizer, demoSampling, generateImages } from '../src/index';

const [tokDir, genDir, out, samplingJson] = process.argv.slice(2);
if (!tokDir || !genDir || !out) {
  console.error('usage: inspect-samples <tokenizer dir> <generator dir> <out.png> [sampling options as JSON]');
  process.exit(2);
}
await initBackend({ log: () => {} });
const tokenizer = await VQTokenizer.load(tokDir);
const generator = await CaptionTokenGenerator.load(genDir);
const colors = ['red', 'blue'];
const captions = colors.flatMap((c) => SHAPE_NAMES.map((s) => `a large ${c} ${s}`));
const S = SHAPE_NAMES.length;

const net = generator.network;
const { words, mask } = generator.encodeCaptions(captions);
const B = captions.length;
const L = generator.config.maxCaptionLength;
const [P, G, K] = [generator.positions, generator.perPosition, generator.config.codebookSize];
const probs = tf.tidy(() => {
  const wordMask = tf.tensor2d(mask, [B, L], 'float32');
  const cap = net.encodeCaption(tf.tensor2d(words, [B, L], 'int32'), wordMask);
  const allMasked = new Int32Array(B * P * G).fill(K);
  return tf.softmax(net.predict(tf.tensor3d(net.slotIds(allMasked), [B, P, G], 'int32'), cap, wordMask)).dataSync() as Float32Array;
});
const per = P * G * K;
const tv = (a: number, b: number) => {
  let t = 0;
  for (let j = 0; j < per; j++) t += Math.abs(probs[a * per + j] - probs[b * per + j]);
  return t / 2 / (P * G);
};
const shapeTv: number[] = [];
const colourTv: number[] = [];
for (let c = 0; c < colors.length; c++) for (let s = 0; s < S; s++) for (let s2 = s + 1; s2 < S; s2++) shapeTv.push(tv(c * S + s, c * S + s2));
for (let s = 0; s < S; s++) colourTv.push(tv(s, S + s));
const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
console.log(`first-step token distributions, mean per-token TV: captions differing in shape ${mean(shapeTv).toFixed(3)}, in colour ${mean(colourTv).toFixed(3)}`);

const sampling = samplingJson ? (JSON.parse(samplingJson) as Record<string, unknown>) : {};
const images = await generateImages({ generator, tokenizer, captions: [...captions, ...captions], ...demoSampling, seed: 1, ...sampling });
const data = images.dataSync() as Float32Array;
const side = images.shape[1];
const cells = Array.from({ length: images.shape[0] }, (_, i) => ({
  data: data.slice(i * side * side * 3, (i + 1) * side * side * 3),
  width: side,
  height: side,
  channels: 3 as const,
}));
await saveImageGrid(out, cells, { columns: S });
console.log(`wrote ${out}: rows ${colors.join(', ')}, ${colors.join(', ')}; columns ${SHAPE_NAMES.join(', ')}`);
