import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { readJson, readJsonlAll } from '@synth2/core';
import { sliceImages } from '../artifacts';
import { hasFullReference, type PipelineConfig } from '../config';
import { encodePngBase64 } from '../png';
import { renderReport, type ModelReport, type ReportInput } from '../report';
import { readSplit, runPath, type StageBody, type StageRunContext } from './context';
import {
  GallerySchema,
  MetricsRowSchema,
  ScoresFileSchema,
  type DiversitySummary,
  type ScoresFile,
} from './scores';

type RatioSummary = ScoresFile['summary']['ciderAll'];

/** How the report names each model. */
function modelLabels(config: PipelineConfig): Record<string, string> {
  return {
    baseline: hasFullReference(config)
      ? `baseline (${config.data.humanFraction * 100}% human)`
      : 'baseline (human only)',
    synth2: 'Synth² (human + synthetic)',
    full: 'baseline (100% human)',
  };
}

/** `Synth² on the shapes world`, or on the real folder the run read (its folder name). */
function reportTitle(config: PipelineConfig): string {
  return config.data.source === 'shapes' ? 'Synth² on the shapes world' : `Synth² on ${basename(resolve(config.data.source))}`;
}

/** A model's training loss curve (at most about 200 points), from its `metrics.jsonl` when there is one. */
async function lossCurve(ctx: StageRunContext, kind: string) {
  const file = runPath(ctx, `vlm-${kind}`, 'metrics.jsonl');
  if (!existsSync(file)) return undefined;
  const rows = (await readJsonlAll(file, MetricsRowSchema)).flatMap((r) =>
    r.loss === undefined ? [] : [{ step: r.step, loss: r.loss }],
  );
  const every = Math.max(1, Math.floor(rows.length / 200));
  return rows.filter((_, i) => i % every === 0);
}

/** Test images with every model's caption: up to 8 with a held-out composition and 4 without. */
async function sampleCaptions(ctx: StageRunContext, scores: ScoresFile, labels: Record<string, string>) {
  const test = await readSplit(ctx, 'test');
  const S = test.images.shape[1];
  const indexed = test.items.map((it, i) => [it, i] as const);
  const ho = indexed.filter(([it]) => it.meta?.heldOut).slice(0, 8);
  const seen = indexed.filter(([it]) => !it.meta?.heldOut).slice(0, 4);
  return Promise.all(
    [...ho, ...seen].map(async ([it, i]) => ({
      imageId: it.imageId,
      heldOut: !!it.meta?.heldOut,
      references: it.captions,
      png: await encodePngBase64(sliceImages(test.images, [i]).data, S, S),
      captions: Object.fromEntries(
        Object.entries(scores.models).map(([k, m]) => [labels[k] ?? k, m.predictions[it.imageId]]),
      ),
    })),
  );
}

/** `1.234× (95% bootstrap interval over test images 1.10–1.40)`, or `–` without a ratio. */
function formatRatio(r?: RatioSummary): string {
  if (r?.ratio == null) return '–';
  const end = (x: number | null) => (x == null ? '∞' : x.toFixed(2));
  const ci = r.bootstrap
    ? ` (${Math.round(r.bootstrap.level * 100)}% bootstrap interval over test images ${r.bootstrap.ratioInterval.map(end).join('–')})`
    : '';
  return `${r.ratio.toFixed(3)}×${ci}`;
}

/** The diversity table row of one caption set. */
const diversityRow = (d: DiversitySummary) => ({
  captions: d.captions,
  vocabulary: d.vocabularySize,
  'distinct-1': d.distinct1,
  'distinct-2': d.distinct2,
  'mean length': d.length.mean,
  'top-5 cluster share': d.clusters.top5Share as number,
  'cluster entropy': d.clusters.entropy as number,
});

/** `report`: `results.json` (config, scores, diversity, timings, stage summaries) and `report.html`. */
export const reportStage: StageBody = async (ctx) => {
  const scores = await readJson(runPath(ctx, 'evaluate', 'scores.json'), ScoresFileSchema);
  const labels = modelLabels(ctx.config);
  const models: ModelReport[] = [];
  for (const [kind, m] of Object.entries(scores.models)) {
    models.push({
      label: labels[kind] ?? kind,
      all: m.all,
      heldOut: m.heldOut,
      heldOutPairRecall: m.heldOutPairRecall,
      objectNaming: m.objectNaming,
      curve: await lossCurve(ctx, kind),
    });
  }
  const galleryFile = runPath(ctx, 'generate', 'gallery.json');
  const gallery = existsSync(galleryFile) ? await readJson(galleryFile, GallerySchema) : [];
  const timings = Object.fromEntries(
    Object.entries(ctx.run.data.stages)
      .filter(([, r]) => typeof r.summary?.seconds === 'number')
      .map(([k, r]) => [k, r.summary.seconds as number]),
  );
  const sum = scores.summary;
  const input: ReportInput = {
    title: reportTitle(ctx.config),
    subtitle: `seed ${ctx.config.seed} · ${ctx.config.data.train} human train images (${ctx.config.data.humanFraction * 100}% used) · ${scores.testImages} test images (${scores.heldOutTestImages} with a held-out composition) · backend ${ctx.run.data.backend}`,
    models,
    highlights: [
      { label: 'CIDEr, Synth² / baseline (all test images)', value: formatRatio(sum.ciderAll) },
      // a folder of real photos has no held-out compositions
      ...(scores.heldOutTestImages > 0
        ? [{ label: 'CIDEr, Synth² / baseline (held-out compositions)', value: formatRatio(sum.ciderHeldOut) }]
        : []),
      ...(sum.gapClosed != null
        ? [{ label: 'share of the gap to the full-human baseline closed', value: sum.gapClosed.toFixed(2) }]
        : []),
    ],
    diversity: Object.entries(scores.diversity).map(([label, d]) => ({ label, values: diversityRow(d) })),
    timings,
    samples: await sampleCaptions(ctx, scores, labels),
    generations: gallery,
  };
  const results = {
    config: ctx.config,
    backend: ctx.run.data.backend,
    models: Object.fromEntries(
      Object.entries(scores.models).map(([k, m]) => [
        k,
        {
          all: m.all,
          heldOut: m.heldOut,
          heldOutPairRecall: m.heldOutPairRecall,
          objectNaming: m.objectNaming,
        },
      ]),
    ),
    summary: scores.summary,
    diversity: scores.diversity,
    timings,
    stages: Object.fromEntries(Object.entries(ctx.run.data.stages).map(([k, r]) => [k, r.summary])),
  };
  await ctx.run.writeJson('results.json', results);
  await ctx.run.writeText('report.html', renderReport(input));
  return { outputs: ['results.json', 'report.html'] };
};
