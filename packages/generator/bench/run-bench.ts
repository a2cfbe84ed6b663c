/**
 * Benchmark of @synth2/generator on the shapes world at the demo's settings (JSON to bench-results/generator.json):
 * (1) tokenizer PSNR and codebook usage on test images; (2) faithfulness of generated embeddings, judged by a probe
 * trained on real single-object embeddings (colour, shape, both; seen vs held-out pairs); (3) synthesis throughput,
 * embedding path vs pixel path, in the same run; (4) wall time of training both models. Also how much the generator
 * uses the caption's shape and colour words (bench/caption-sensitivity.ts).
 * Env: BENCH_QUICK=1 for a smoke run; BENCH_OUT to change the output file; experiments: TOK_SAVE/TOK_LOAD,
 * PROBE_SAVE/PROBE_LOAD, GEN_SAVE/GEN_LOAD (folders) reuse trained models.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveImageGrid, type ImageTensor } from '@synth2/core';
import { initBackend, describeBackend, tf, loadCheckpoint } from '@synth2/nn';
import { COLOR_NAMES, SHAPE_NAMES, createShapesWorld, makeSplits, mentionedPairs } from '@synth2/datasets';
import {
  CaptionTokenGenerator,
  VQTokenizer,
  demoGeneratorConfig,
  demoGeneratorTraining,
  demoSampling,
  demoTokenizerConfig,
  demoTokenizerTraining,
  generateEmbeddings,
  generateEmbeddingsViaPixels,
  generateImages,
  exemplarKeyer,
  imageExemplarKeys,
} from '../src/index';
import { fitProbeForTokenizer, scoreAttributes as score } from './probe';
import { captionSensitivity } from './caption-sensitivity';

const here = dirname(fileURLToPath(import.meta.url));
const pkgRoot = join(here, '..', '..');
const quick = process.env.BENCH_QUICK === '1';
const num = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const log = (msg: string) => console.error(`[bench] ${msg}`);
/** Experiment overrides (JSON objects merged over the demo settings), e.g. TOK_CONFIG='{"hidden":[64,64]}'. */
const jsonEnv = (k: string): Record<string, unknown> => (process.env[k] ? (JSON.parse(process.env[k] as string) as Record<string, unknown>) : {});
const tokConfig = { ...demoTokenizerConfig, ...jsonEnv('TOK_CONFIG') };
const tokTraining = { ...demoTokenizerTraining, ...jsonEnv('TOK_TRAIN') };
const genConfig = { ...demoGeneratorConfig, ...jsonEnv('GEN_CONFIG') };
const genTraining = { ...demoGeneratorTraining, ...jsonEnv('GEN_TRAIN') };
const samplingConfig = { ...demoSampling, ...jsonEnv('SAMPLING') };
const only = process.env.BENCH_ONLY; // 'tokenizer': stop after the probe on real embeddings

async function main() {
  const started = Date.now();
  const loadStart = os.loadavg();
  const info = await initBackend({ log: () => {} });
  log(describeBackend(info));
  const seed = num('BENCH_SEED', 0);
  const nTrain = quick ? 200 : 2000;
  const splits = makeSplits({ train: nTrain, test: quick ? 60 : 300, holdOutFraction: 0.25, seed, world: { seed } });
  const held = new Set(splits.manifest.heldOutPairs.map((p) => `${p.color} ${p.shape}`));
  const pixels = (items: { pixels: Uint8Array }[]) => {
    const out = new Uint8Array(items.length * 3072);
    items.forEach((it, i) => out.set(it.pixels, i * 3072));
    return { data: out, shape: [items.length, 32, 32, 3] as [number, number, number, number] };
  };
  const trainImages = pixels(splits.train.items);
  const testImages = pixels(splits.test.items);

  // (4a) tokenizer training
  const tokSteps = quick ? 60 : num('TOK_STEPS', tokTraining.steps);
  let tokenizer = VQTokenizer.create(tokConfig);
  let t0 = Date.now();
  if (process.env.TOK_LOAD) {
    tokenizer = await VQTokenizer.load(process.env.TOK_LOAD);
  } else {
    await tokenizer.train(trainImages, { ...tokTraining, steps: tokSteps, log: () => {} });
    if (process.env.TOK_SAVE) await tokenizer.save(process.env.TOK_SAVE);
  }
  const tokenizerSeconds = (Date.now() - t0) / 1000;
  log(`tokenizer: ${tokSteps} steps in ${tokenizerSeconds.toFixed(1)} s`);
  // (1) reconstruction and codebook usage on test images
  const tokEval = await tokenizer.evaluate(testImages);
  log(`tokenizer test: PSNR ${tokEval.psnr.toFixed(2)} dB, ${tokEval.usedCodes} codes used, perplexity ${tokEval.perplexity.toFixed(1)}`);

  // (2) faithfulness probe, trained on real single-object embeddings (all pairs), checked on held-back real ones
  const { probe, probeReal, probeItems, probeIds, nFit } = await fitProbeForTokenizer(tokenizer, { seed, quick });
  log(`probe on real embeddings: colour ${probeReal.color.toFixed(3)}, shape ${probeReal.shape.toFixed(3)}`);

  if (only === 'tokenizer') {
    const out = process.env.BENCH_OUT ?? join(pkgRoot, 'bench-results', 'tokenizer-experiment.json');
    await mkdir(dirname(out), { recursive: true });
    const r = { date: new Date().toISOString(), loadavg: os.loadavg(), tokenizer: { ...tokConfig, ...tokTraining, steps: tokSteps }, tokenizerSeconds, tokEval, probeReal };
    await writeFile(out, JSON.stringify(r, null, 2) + '\n');
    log(`wrote ${out}`);
    return;
  }

  // (4b) generator training on all human pairs (5 captions per image)
  const idsT = tokenizer.encode(trainImages);
  const ids = idsT.dataSync() as Int32Array;
  idsT.dispose();
  const hw = tokenizer.tokensPerImage;
  // GEN_CONFIG='{"exemplars":true}': retrieval-augmented generator, captions keyed by the world's concept inventory
  const keyOf = genConfig.exemplars ? exemplarKeyer(splits.world.inventory) : undefined;
  const examples = splits.train.items.flatMap((it, i) => {
    const keys = keyOf ? imageExemplarKeys(it.captions, keyOf) : undefined;
    return it.captions.map((caption, k) => ({ caption, tokens: ids.subarray(i * hw, (i + 1) * hw), ...(keys ? { exemplarKeys: keys[k], image: i } : {}) }));
  });

  // evaluation captions: single-object scenes of every colour–shape pair, captions that name the pair
  const evalWorld = createShapesWorld({ seed: seed + 11, minObjects: 1, maxObjects: 1 });
  const perPair = quick ? 2 : num('EVAL_PER_PAIR', 8);
  const evalCaps: { caption: string; c: number; s: number; held: boolean }[] = [];
  const vocabCheck = new Set(examples.flatMap((e) => e.caption.toLowerCase().match(/[a-z]+/g) ?? []));
  COLOR_NAMES.forEach((c, ci) =>
    SHAPE_NAMES.forEach((s, si) => {
      let got = 0;
      for (let i = 0; got < perPair && i < 200; i++) {
        const it = evalWorld.item((ci * 8 + si) * 1000 + i, { constraint: { requireOneOf: [[c, s]] } });
        const cap = it.captions.find(
          (t) => mentionedPairs(t).includes(`${c} ${s}`) && (t.toLowerCase().match(/[a-z]+/g) ?? []).every((w) => vocabCheck.has(w)),
        );
        if (cap) {
          evalCaps.push({ caption: cap, c: ci, s: si, held: held.has(`${c} ${s}`) });
          got++;
        }
      }
    }),
  );
  const genSteps = quick ? 60 : num('GEN_STEPS', genTraining.steps);
  const generator = CaptionTokenGenerator.forTokenizer(tokenizer, { ...genConfig, captions: examples.map((e) => e.caption) });
  t0 = Date.now();
  const genRes = process.env.GEN_LOAD
    ? { finalLoss: NaN }
    : await generator.train(examples, { ...genTraining, steps: genSteps, log: () => {} });
  if (process.env.GEN_LOAD) await loadCheckpoint(process.env.GEN_LOAD, generator.network);
  if (process.env.GEN_SAVE) await generator.save(process.env.GEN_SAVE);
  const generatorSeconds = (Date.now() - t0) / 1000;
  log(`generator: ${genSteps} steps in ${generatorSeconds.toFixed(1)} s, final loss ${genRes.finalLoss.toFixed(3)}`);

  const sampling = { ...samplingConfig, seed: 1 };
  const evalKeys = keyOf ? { exemplarKeys: evalCaps.map((e) => keyOf(e.caption)) } : {};
  const genE = await generateEmbeddings({ generator, tokenizer, captions: evalCaps.map((e) => e.caption), ...sampling, ...evalKeys });
  const pred = probe.predict(genE.dataSync() as Float32Array);
  genE.dispose();
  const pick = (h: boolean) => {
    const idx = evalCaps.map((e, i) => (e.held === h ? i : -1)).filter((i) => i >= 0);
    return score({ color: Int32Array.from(idx, (i) => pred.color[i]), shape: Int32Array.from(idx, (i) => pred.shape[i]) }, idx.map((i) => evalCaps[i]));
  };
  const faithfulness = { seen: pick(false), heldOut: pick(true) };
  log(`generated, seen pairs: ${JSON.stringify(faithfulness.seen)}; held-out: ${JSON.stringify(faithfulness.heldOut)}`);
  // (2b) how much the generator uses the caption's shape and colour words (real probe-test scenes, object masked)
  const probeTestItems = probeItems.slice(nFit);
  const probeTokens = probeIds.subarray(nFit * hw);
  const sensitivity = captionSensitivity(
    generator,
    probeTestItems.map((it, i) => {
      const o = it.scene.objects[0];
      return {
        caption: it.captions.find((t) => mentionedPairs(t).includes(`${o.color} ${o.shape}`)) ?? it.captions[0],
        tokens: probeTokens.subarray(i * hw, (i + 1) * hw),
        box: { x0: o.x - o.radius, y0: o.y - o.radius, x1: o.x + o.radius, y1: o.y + o.radius },
        color: o.color,
        shape: o.shape,
      };
    }),
    { colors: COLOR_NAMES, shapes: SHAPE_NAMES },
  );
  log(`caption sensitivity (nats per object token lost when the word is swapped): shape ${sensitivity.shapeWordNats.toFixed(3)}, colour ${sensitivity.colorWordNats.toFixed(3)}`);
  // sampling choices: decoding steps, guidance, temperature (same captions, same probe)
  const sweep: Record<string, unknown>[] = [];
  const variants = process.env.BENCH_NO_SWEEP === '1' ? [] : quick
    ? [{ steps: 4, guidanceScale: 1, temperature: 1 }]
    : [
        { steps: 8, guidanceScale: 1, temperature: 1 },
        { steps: 8, guidanceScale: 2, temperature: 1 },
        { steps: 8, guidanceScale: 3, temperature: 1, priorCorrection: 0 },
        { steps: 8, guidanceScale: 3, temperature: 1, priorCorrection: 0.5 },
        { steps: 16, guidanceScale: 3, temperature: 1 },
        { steps: 8, guidanceScale: 3, temperature: 0.5 },
      ];
  for (const v of variants) {
    const s0 = Date.now();
    const e = await generateEmbeddings({ generator, tokenizer, captions: evalCaps.map((x) => x.caption), ...sampling, ...v });
    const secs = (Date.now() - s0) / 1000;
    const p = probe.predict(e.dataSync() as Float32Array);
    e.dispose();
    const sub = (h: boolean) => {
      const idx = evalCaps.map((x, i) => (x.held === h ? i : -1)).filter((i) => i >= 0);
      return score({ color: Int32Array.from(idx, (i) => p.color[i]), shape: Int32Array.from(idx, (i) => p.shape[i]) }, idx.map((i) => evalCaps[i]));
    };
    sweep.push({ ...v, seen: sub(false), heldOut: sub(true), captionsPerSec: evalCaps.length / secs });
    log(`sampling ${JSON.stringify(v)}: seen both ${sub(false).both.toFixed(3)}, held-out both ${sub(true).both.toFixed(3)}`);
  }

  // (3) throughput: embedding path vs pixel path on the same captions, same sampling, same run
  const nThroughput = quick ? 256 : num('THROUGHPUT_CAPTIONS', 2048); // THROUGHPUT_CAPTIONS=64 for quick experiments
  const thrCaps = Array.from({ length: nThroughput }, (_, i) => examples[(i * 7919) % examples.length].caption);
  const timeIt = async (f: () => Promise<tf.Tensor>) => {
    const s = Date.now();
    const t = await f();
    await t.data();
    t.dispose();
    return (Date.now() - s) / 1000;
  };
  // warm-up of both paths (kernel compilation, allocations)
  await timeIt(() => generateEmbeddingsViaPixels({ generator, tokenizer, captions: thrCaps.slice(0, 64), ...sampling }));
  const embSeconds = await timeIt(() => generateEmbeddings({ generator, tokenizer, captions: thrCaps, ...sampling }));
  const pixSeconds = await timeIt(() => generateEmbeddingsViaPixels({ generator, tokenizer, captions: thrCaps, ...sampling }));
  const throughput = {
    captions: nThroughput,
    embeddingPathSeconds: embSeconds,
    pixelPathSeconds: pixSeconds,
    embeddingPathCaptionsPerSec: nThroughput / embSeconds,
    pixelPathCaptionsPerSec: nThroughput / pixSeconds,
    speedup: pixSeconds / embSeconds,
    estimatedSecondsFor6000Captions: (6000 / nThroughput) * embSeconds,
  };
  log(`throughput: embedding ${throughput.embeddingPathCaptionsPerSec.toFixed(0)}/s, pixel ${throughput.pixelPathCaptionsPerSec.toFixed(0)}/s, ×${throughput.speedup.toFixed(2)}`);

  // picture: generations (seen and held-out pairs) next to tokenizer reconstructions of real test images
  if (!quick || process.env.BENCH_PICTURE === '1') {
    const heldPairs = splits.manifest.heldOutPairs.slice(0, 4).map((p) => `${p.color} ${p.shape}`);
    const seenPairs = ['red circle', 'blue square', 'green triangle', 'yellow star'].filter((p) => !held.has(p)).slice(0, 4);
    const picCaps = [...seenPairs, ...heldPairs].map((p) => `a ${p} on a black background`);
    const usable = picCaps.filter((c) => (c.match(/[a-z]+/g) ?? []).every((w) => vocabCheck.has(w)));
    const imgs = await generateImages({ generator, tokenizer, captions: usable, ...sampling, seed: 3 });
    const recon = tf.tidy(() => tokenizer.decode(tokenizer.encode({ data: testImages.data.subarray(0, 8 * 3072), shape: [8, 32, 32, 3] })));
    const up = (data: Float32Array | Uint8Array, scale = 3): ImageTensor => {
      const S = 32 * scale;
      const out = new Float32Array(S * S * 3);
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++)
          for (let c = 0; c < 3; c++) {
            const v = data[((Math.floor(y / scale) * 32 + Math.floor(x / scale)) * 3) + c];
            out[(y * S + x) * 3 + c] = data instanceof Uint8Array ? v / 255 : v;
          }
      return { data: out, width: S, height: S, channels: 3 };
    };
    const gv = imgs.dataSync() as Float32Array;
    const rv = recon.dataSync() as Float32Array;
    const row1 = usable.map((_, i) => up(gv.subarray(i * 3072, (i + 1) * 3072)));
    const row2 = Array.from({ length: 8 }, (_, i) => up(testImages.data.subarray(i * 3072, (i + 1) * 3072)));
    const row3 = Array.from({ length: 8 }, (_, i) => up(rv.subarray(i * 3072, (i + 1) * 3072)));
    await mkdir(join(pkgRoot, 'docs'), { recursive: true });
    await saveImageGrid(join(pkgRoot, 'docs', 'generations.png'), row1, { columns: 8, padding: 4 });
    await saveImageGrid(join(pkgRoot, 'docs', 'reconstructions.png'), [...row2, ...row3], { columns: 8, padding: 4 });
    await writeFile(join(pkgRoot, 'docs', 'generations.json'), JSON.stringify({ captions: usable, heldOut: usable.map((c) => heldPairs.some((p) => c.includes(p))) }, null, 2) + '\n');
    tf.dispose([imgs, recon]);
  }

  const result = {
    benchmark: 'generator',
    date: new Date().toISOString(),
    quick,
    backend: describeBackend(info),
    loadavgStart: loadStart,
    loadavgEnd: os.loadavg(),
    cpus: os.cpus().length,
    settings: {
      trainImages: nTrain,
      trainPairs: examples.length,
      heldOutPairs: [...held],
      tokenizer: { ...tokConfig, ...tokTraining, steps: tokSteps },
      generator: { ...genConfig, ...genTraining, steps: genSteps, parameters: generator.network.numParameters() },
      sampling,
    },
    tokenizer: { testImages: splits.test.items.length, ...tokEval },
    faithfulness: { evalCaptions: evalCaps.length, probeOnRealEmbeddings: probeReal, generatedSeenPairs: faithfulness.seen, generatedHeldOutPairs: faithfulness.heldOut, captionSensitivity: sensitivity, samplingSweep: sweep },
    throughput,
    trainingWallSeconds: { tokenizer: tokenizerSeconds, generator: generatorSeconds, both: tokenizerSeconds + generatorSeconds },
    totalSeconds: (Date.now() - started) / 1000,
  };
  const out = process.env.BENCH_OUT ?? join(pkgRoot, 'bench-results', quick ? 'generator-quick.json' : 'generator.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(result, null, 2) + '\n');
  log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
