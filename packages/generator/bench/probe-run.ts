/**
 * Faithfulness of the synthetic embeddings of a `synth2 run` directory, judged like the benchmark's: the probe
 * (trained on real single-object embeddings of the run's own tokenizer) reads colour and shape from every synthetic
 * embedding whose caption names exactly one colour–shape pair; reported separately for seen and held-out pairs.
 * This measures what the demo's VLM actually trains on — including `generate.candidates` re-ranking.
 *
 *   npm run probe-run -w @synth2/generator -- <run dir> [out.json]
 *
 * Env: PROBE_LOAD / PROBE_SAVE (folders) reuse a trained probe for the same tokenizer. ORACLE_CANDIDATES=N also
 * samples N candidates (the demo's sampling settings) for the first 512 single-pair captions with the run's generator
 * and reports, for 1…N, the share of captions with at least one candidate the probe finds right: what best-of-N
 * re-ranking could reach with a perfect judge. SAMPLING_SWEEP='[{"guidanceScale":2},{"choiceTemperature":0.3}]' samples the
 * first 1,024 single-pair captions afresh with each setting (over the demo's sampling) and reports both right: how
 * much the sampler, not the trained generator, decides.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShardedTensorReader, writeJsonAtomic } from '@synth2/core';
import { describeBackend, initBackend } from '@synth2/core/tf';
import { COLOR_NAMES, SHAPE_NAMES, mentionedPairs, type ColorName, type ShapeName } from '@synth2/datasets';
import { CaptionTokenGenerator, VQTokenizer, demoSampling, generateEmbeddings } from '../src/index';
import { fitProbeForTokenizer, scoreAttributes } from './probe';

async function main() {
  const [runDir, out] = process.argv.slice(2);
  if (!runDir) throw new Error('usage: probe-run <run dir> [out.json]');
  const info = await initBackend({ log: () => {} });
  console.error(`[probe-run] ${describeBackend(info)}`);
  const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
  const seed: number = manifest.config?.seed ?? 1;
  const splits = JSON.parse(await readFile(join(runDir, 'data', 'splits.json'), 'utf8'));
  const held = new Set<string>(
    splits.heldOutPairs.map((p: { color: string; shape: string }) => `${p.color} ${p.shape}`),
  );
  const tokenizer = await VQTokenizer.load(join(runDir, 'tokenizer', 'model'));
  const { probe, probeReal } = await fitProbeForTokenizer(tokenizer, { seed });
  console.error(
    `[probe-run] probe on real embeddings: colour ${probeReal.color.toFixed(3)}, shape ${probeReal.shape.toFixed(3)}`,
  );

  const texts = new Map<string, string>();
  for (const line of (await readFile(join(runDir, 'captions', 'captions.jsonl'), 'utf8'))
    .trim()
    .split('\n')) {
    const r = JSON.parse(line) as { id: string; text: string };
    texts.set(r.id, r.text);
  }
  const all = await (await ShardedTensorReader.open(join(runDir, 'generate', 'embeddings'))).loadAll();
  const emb = all.tensors.embeddings.data as Float32Array;
  const D = tokenizer.tokensPerImage * tokenizer.config.codeDim;
  const picked: { row: number; c: number; s: number; held: boolean }[] = [];
  all.ids.forEach((id, row) => {
    const pairs = mentionedPairs(texts.get(id) ?? '');
    if (pairs.length !== 1) return;
    const [color, shape] = pairs[0].split(' ') as [ColorName, ShapeName];
    picked.push({
      row,
      c: COLOR_NAMES.indexOf(color),
      s: SHAPE_NAMES.indexOf(shape),
      held: held.has(pairs[0]),
    });
  });
  const pred = { color: new Int32Array(picked.length), shape: new Int32Array(picked.length) };
  for (let i = 0; i < picked.length; i += 512) {
    const chunk = picked.slice(i, i + 512);
    const x = new Float32Array(chunk.length * D);
    chunk.forEach((p, k) => x.set(emb.subarray(p.row * D, (p.row + 1) * D), k * D));
    const r = probe.predict(x);
    pred.color.set(r.color, i);
    pred.shape.set(r.shape, i);
  }
  const part = (h: boolean) => {
    const idx = picked.map((p, i) => (p.held === h ? i : -1)).filter((i) => i >= 0);
    return scoreAttributes(
      {
        color: Int32Array.from(idx, (i) => pred.color[i]),
        shape: Int32Array.from(idx, (i) => pred.shape[i]),
      },
      idx.map((i) => picked[i]),
    );
  };
  const oracle = await oracleBestOf(
    Number(process.env.ORACLE_CANDIDATES ?? 0),
    runDir,
    tokenizer,
    probe,
    picked,
    all.ids,
    texts,
  );
  const sweep = await samplingSweep(
    process.env.SAMPLING_SWEEP ? (JSON.parse(process.env.SAMPLING_SWEEP) as Record<string, unknown>[]) : [],
    runDir,
    tokenizer,
    probe,
    picked,
    all.ids,
    texts,
    seed,
  );
  const result = {
    ...(oracle ? { oracleBestOf: oracle } : {}),
    ...(sweep ? { samplingSweep: sweep } : {}),
    run: runDir,
    generate: manifest.stages?.generate?.summary ?? null,
    singlePairCaptions: picked.length,
    probeOnRealEmbeddings: probeReal,
    seenPairs: part(false),
    heldOutPairs: part(true),
  };
  console.log(JSON.stringify(result, null, 2));
  if (out) await writeJsonAtomic(out, result);
}

/** Both-right shares (seen / held-out pairs) of fresh samples for the first 1,024 single-pair captions, per setting. */
async function samplingSweep(
  settings: Record<string, unknown>[],
  runDir: string,
  tokenizer: VQTokenizer,
  probe: Awaited<ReturnType<typeof fitProbeForTokenizer>>['probe'],
  picked: { row: number; c: number; s: number; held: boolean }[],
  ids: readonly string[],
  texts: Map<string, string>,
  seed: number,
) {
  if (!settings.length) return undefined;
  const generator = await CaptionTokenGenerator.load(join(runDir, 'generator', 'model'));
  const caps = picked.slice(0, 1024);
  const conditioning = readableCaptions(
    generator,
    caps.map((p) => texts.get(ids[p.row])!),
  );
  const rows: Record<string, unknown>[] = [];
  for (const setting of settings) {
    const t0 = performance.now();
    const e = await generateEmbeddings({
      generator,
      tokenizer,
      captions: conditioning,
      ...demoSampling,
      seed,
      ...setting,
    });
    const seconds = (performance.now() - t0) / 1000;
    const p = probe.predict(e.dataSync() as Float32Array);
    e.dispose();
    const part = (h: boolean) => {
      const idx = caps.map((c, i) => (c.held === h ? i : -1)).filter((i) => i >= 0);
      return scoreAttributes(
        { color: Int32Array.from(idx, (i) => p.color[i]), shape: Int32Array.from(idx, (i) => p.shape[i]) },
        idx.map((i) => caps[i]),
      );
    };
    const row = {
      sampling: { ...demoSampling, ...setting },
      seconds,
      seen: part(false),
      heldOut: part(true),
    };
    rows.push(row);
    console.error(
      `[probe-run] ${JSON.stringify(setting)}: both right seen ${row.seen.both.toFixed(3)}, held-out ${row.heldOut.both.toFixed(3)} (${seconds.toFixed(1)} s)`,
    );
  }
  generator.dispose();
  return { captions: caps.length, rows };
}

/** The captions as the generate stage reads them: without the words the generator never saw. */
function readableCaptions(generator: CaptionTokenGenerator, captions: string[]): string[] {
  const vocab = generator.captions.vocabulary;
  return captions.map((t) =>
    vocab
      .tokenize(t)
      .filter((w) => vocab.has(w))
      .join(' '),
  );
}

/** Share of captions (seen / held-out pairs) with at least one of the first k candidates right, k = 1…n. */
async function oracleBestOf(
  n: number,
  runDir: string,
  tokenizer: VQTokenizer,
  probe: Awaited<ReturnType<typeof fitProbeForTokenizer>>['probe'],
  picked: { row: number; c: number; s: number; held: boolean }[],
  ids: readonly string[],
  texts: Map<string, string>,
) {
  if (!n) return undefined;
  const generator = await CaptionTokenGenerator.load(join(runDir, 'generator', 'model'));
  const caps = picked.slice(0, 512);
  // the generator reads a caption without the words it never saw, as the generate stage does
  const conditioning = readableCaptions(
    generator,
    caps.map((p) => texts.get(ids[p.row])!),
  );
  const anyRight = new Uint8Array(caps.length);
  const rows: { candidates: number; seen: number; heldOut: number }[] = [];
  for (let k = 0; k < n; k++) {
    const e = await generateEmbeddings({
      generator,
      tokenizer,
      captions: conditioning,
      ...demoSampling,
      seed: 100 + k * 1_000_003,
    });
    const p = probe.predict(e.dataSync() as Float32Array);
    e.dispose();
    caps.forEach((c, i) => {
      if (p.color[i] === c.c && p.shape[i] === c.s) anyRight[i] = 1;
    });
    const share = (h: boolean) => {
      const idx = caps.map((c, i) => (c.held === h ? i : -1)).filter((i) => i >= 0);
      return idx.reduce((a, i) => a + anyRight[i], 0) / Math.max(1, idx.length);
    };
    rows.push({ candidates: k + 1, seen: share(false), heldOut: share(true) });
    console.error(
      `[probe-run] oracle best of ${k + 1}: seen ${share(false).toFixed(3)}, held-out ${share(true).toFixed(3)}`,
    );
  }
  generator.dispose();
  return { captions: caps.length, rows };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
