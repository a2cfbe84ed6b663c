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
import { describeBackend, initBackend } from '@synth2/nn';
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
  const picked: Picked[] = [];
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
  const candidates = Number(process.env.ORACLE_CANDIDATES ?? 0);
  const settings = samplingSettings(process.env.SAMPLING_SWEEP);
  // fresh samples (oracle, sweep) come from the run's generator, loaded once for both
  const sampler =
    candidates || settings.length
      ? await freshSampler(runDir, tokenizer, probe, (p) => texts.get(all.ids[p.row])!)
      : undefined;
  const oracle =
    sampler && candidates ? await oracleBestOf(sampler, candidates, picked.slice(0, 512)) : undefined;
  const sweep =
    sampler && settings.length
      ? await samplingSweep(sampler, settings, picked.slice(0, 1024), seed)
      : undefined;
  sampler?.dispose();
  const result = {
    ...(oracle ? { oracleBestOf: oracle } : {}),
    ...(sweep ? { samplingSweep: sweep } : {}),
    run: runDir,
    generate: manifest.stages?.generate?.summary ?? null,
    singlePairCaptions: picked.length,
    probeOnRealEmbeddings: probeReal,
    ...bySplit(pred, picked),
  };
  console.log(JSON.stringify(result, null, 2));
  if (out) await writeJsonAtomic(out, result);
}

type Picked = { row: number; c: number; s: number; held: boolean };
type Predictions = { color: Int32Array; shape: Int32Array };

/** Colour / shape / both right, separately for captions of seen and of held-out pairs. */
function bySplit(pred: Predictions, picked: Picked[]) {
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
  return { seenPairs: part(false), heldOutPairs: part(true) };
}

/** SAMPLING_SWEEP: a JSON array of sampling-option objects (checked by the generator's own schema when used). */
function samplingSettings(env: string | undefined): Record<string, unknown>[] {
  if (!env) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(env);
  } catch (e) {
    throw new Error(
      `SAMPLING_SWEEP is not JSON (${(e as Error).message}); give an array such as '[{"guidanceScale":5}]'`,
    );
  }
  if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) {
    throw new Error(
      'SAMPLING_SWEEP must be a JSON array of sampling-option objects, e.g. \'[{"guidanceScale":5},{"steps":16}]\'',
    );
  }
  return parsed as Record<string, unknown>[];
}

/**
 * Samples the run's generator afresh for picked captions (read without the words the generator never saw, as the
 * generate stage does) and returns the probe's predictions.
 */
async function freshSampler(
  runDir: string,
  tokenizer: VQTokenizer,
  probe: Awaited<ReturnType<typeof fitProbeForTokenizer>>['probe'],
  text: (p: Picked) => string,
) {
  const generator = await CaptionTokenGenerator.load(join(runDir, 'generator', 'model'));
  const vocab = generator.captions.vocabulary;
  return {
    async predict(caps: Picked[], sampling: Record<string, unknown>): Promise<Predictions> {
      const captions = caps.map((p) =>
        vocab
          .tokenize(text(p))
          .filter((w) => vocab.has(w))
          .join(' '),
      );
      const e = await generateEmbeddings({ generator, tokenizer, captions, ...demoSampling, ...sampling });
      try {
        return probe.predict(e.dataSync() as Float32Array);
      } finally {
        e.dispose();
      }
    },
    dispose: () => generator.dispose(),
  };
}
type FreshSampler = Awaited<ReturnType<typeof freshSampler>>;

/** Both right (seen / held-out pairs) of fresh samples with each sampling setting. */
async function samplingSweep(
  sampler: FreshSampler,
  settings: Record<string, unknown>[],
  caps: Picked[],
  seed: number,
) {
  const rows = [];
  for (const setting of settings) {
    const t0 = performance.now();
    const pred = await sampler.predict(caps, { seed, ...setting });
    const seconds = (performance.now() - t0) / 1000;
    const { seenPairs: seen, heldOutPairs: heldOut } = bySplit(pred, caps);
    rows.push({ sampling: { ...demoSampling, ...setting }, seconds, seen, heldOut });
    console.error(
      `[probe-run] ${JSON.stringify(setting)}: both right seen ${seen.both.toFixed(3)}, held-out ${heldOut.both.toFixed(3)} (${seconds.toFixed(1)} s)`,
    );
  }
  return { captions: caps.length, rows };
}

/** Share of captions (seen / held-out pairs) with at least one of the first k candidates right, k = 1…n. */
async function oracleBestOf(sampler: FreshSampler, n: number, caps: Picked[]) {
  const anyRight = new Uint8Array(caps.length);
  const rows: { candidates: number; seen: number; heldOut: number }[] = [];
  const share = (h: boolean) => {
    const idx = caps.map((c, i) => (c.held === h ? i : -1)).filter((i) => i >= 0);
    return idx.reduce((a, i) => a + anyRight[i], 0) / Math.max(1, idx.length);
  };
  for (let k = 0; k < n; k++) {
    const p = await sampler.predict(caps, { seed: 100 + k * 1_000_003 });
    caps.forEach((c, i) => {
      if (p.color[i] === c.c && p.shape[i] === c.s) anyRight[i] = 1;
    });
    rows.push({ candidates: k + 1, seen: share(false), heldOut: share(true) });
    console.error(
      `[probe-run] oracle best of ${k + 1}: seen ${share(false).toFixed(3)}, held-out ${share(true).toFixed(3)}`,
    );
  }
  return { captions: caps.length, rows };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
