import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  ConfigurationError,
  InvalidInputError,
  loadProjectPlugins,
  parseJsonText,
  Synth2Error,
  writeFileAtomic,
} from '@synth2/core/internal';
import type { CaptionDiversity, DiversityConcept } from '../diversity/caption-diversity';
import { EVAL_METRIC_NAMES, evaluateCaptions, type CaptionEvaluation } from '../evaluate-captions';
import { resolveMetrics } from '../plugin-metrics';
import { splitCaptionPairs } from '../io/coco-files';
import { readJsonFile, readJsonFileTimed } from '../io/read-json-file';

/** Where the `synth2-eval` command writes its output and errors. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const USAGE = `Usage:
  synth2-eval --annotations A.json --results R.json [options]   COCO caption evaluation (official numbers)
  synth2-eval --pairs P.json [options]                           the same on [{image_id|image_name, captions, prediction}]
  synth2-eval diversity captions.jsonl [--k 20] [--seed 0] [--concepts C.json] [--json]

Evaluation options:
  --metrics LIST        comma-separated, from ${EVAL_METRIC_NAMES.join(',')} (default BLEU,ROUGE_L,CIDEr)
                        or a plugin metric's id (e.g. my-org/metric, with --plugin)
  --plugin PACKAGE      load a plugin package (by package name, resolved from the current directory) that
                        registers metrics; repeatable
  --per-image FILE      write per-image scores (JSON) to FILE
  --json                print the result as JSON instead of the table
  --on-invalid MODE     throw (default) or drop: skip bad results/references and report them
  --java PATH           Java executable for METEOR/SPICE (default $SYNTH2_JAVA or java)
  --meteor-jar PATH     meteor-1.5.jar (default $SYNTH2_METEOR_JAR)
  --spice-jar PATH      spice-1.0.jar (default $SYNTH2_SPICE_JAR)
Files may be gzip-compressed.`;

class UsageError extends Error {}

/** How many annotated images were scored: all of them, or the subset that has a prediction. */
function coverageLine(result: CaptionEvaluation): string {
  const scored = result.imageIds.length;
  const missing = result.annotatedImages - scored;
  if (missing <= 0) return `evaluated ${scored} images`;
  return `evaluated ${scored} of ${result.annotatedImages} annotated images (${missing} without a prediction are not scored, as in the official evaluation)`;
}

function formatTable(result: CaptionEvaluation): string {
  const lines: string[] = [];
  lines.push(coverageLine(result));
  if (result.dropped?.length) lines.push(`dropped ${result.dropped.length} invalid entries (see --json for the list)`);
  const s = result.bleuStats;
  if (s) {
    lines.push(`{'testlen': ${s.testlen}, 'reflen': ${s.reflen}, 'guess': [${s.guess.join(', ')}], 'correct': [${s.correct.join(', ')}]}`);
    lines.push(`ratio: ${(s.testlen + 1e-15) / (s.reflen + 1e-9)}`);
  }
  for (const [name, value] of Object.entries(result.metrics)) if (value !== undefined) lines.push(`${name}: ${value.toFixed(3)}`);
  return lines.join('\n') + '\n';
}

function formatDiversity(d: CaptionDiversity): string {
  const f = (x: number): string => x.toFixed(4);
  const lines = [
    `captions: ${d.captions}`,
    `tokens: ${d.tokens}`,
    `vocabulary: ${d.vocabularySize}`,
    `distinct-1: ${f(d.distinct1)}`,
    `distinct-2: ${f(d.distinct2)}`,
    `length: mean ${f(d.length.mean)}, std ${f(d.length.std)}, min ${d.length.min}, median ${d.length.median}, max ${d.length.max}`,
  ];
  if (d.concepts) {
    lines.push(`concept coverage: ${f(d.concepts.coverage)}`, `concept entropy: ${f(d.concepts.entropy)} (normalized ${f(d.concepts.normalizedEntropy)})`);
  }
  const c = d.clusters;
  lines.push(
    `clusters: k ${c.k}, seed ${c.seed}, sizes [${c.sizes.join(', ')}]`,
    `share in 5 largest clusters: ${f(c.top5Share)}`,
    `cluster entropy: ${f(c.entropy)} (normalized ${f(c.normalizedEntropy)})`,
  );
  return lines.join('\n') + '\n';
}

async function readCaptionsJsonl(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError('cannot read the captions file; check the path.', { file, cause: error });
  }
  const captions: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const value = parseJsonText(line, { file, line: i + 1 });
    const text = typeof value === 'string' ? value : (value as { text?: unknown; caption?: unknown } | null)?.text ?? (value as { caption?: unknown } | null)?.caption;
    if (typeof text !== 'string' || text.trim() === '') {
      throw new InvalidInputError('each line must be a caption string or an object with a non-empty "text" (or "caption") string.', {
        file,
        line: i + 1,
      });
    }
    captions.push(text);
  });
  if (captions.length === 0) throw new InvalidInputError('the captions file has no captions.', { file });
  return captions;
}

async function runDiversity(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { k: { type: 'string' }, seed: { type: 'string' }, concepts: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    io.stdout(USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('diversity needs exactly one captions.jsonl file.');
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(v)}.`);
    return n;
  };
  let concepts: DiversityConcept[] | undefined;
  if (values.concepts) {
    const raw = await readJsonFile(values.concepts);
    const list = Array.isArray(raw) ? raw : (raw as { concepts?: unknown } | null)?.concepts;
    if (!Array.isArray(list) || !list.every((c) => typeof c === 'string' || (c && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string'))) {
      throw new InvalidInputError('the concepts file must be a JSON array of names or of { name, synonyms? } objects.', { file: values.concepts });
    }
    concepts = list as DiversityConcept[];
  }
  const captions = await readCaptionsJsonl(positionals[0]);
  // loaded on demand: the evaluation command starts without it (and without what it imports)
  const { captionDiversity } = await import('../diversity/caption-diversity');
  const result = captionDiversity(captions, { k: num('k', values.k), seed: num('seed', values.seed), concepts });
  io.stdout(values.json ? JSON.stringify(result) + '\n' : formatDiversity(result));
  return 0;
}

/**
 * With `SYNTH2_EVAL_PROFILE=1` the command ends by writing its time breakdown (milliseconds) to stderr as one JSON
 * line: `startup` is node's start plus module loading (time since the process started), then reading,
 * decompression, JSON parsing, input checks, tokenization, each metric and the output.
 */
function profileReporter(io: CliIo): { timings: Record<string, number>; lap: (name: string) => void; restart: () => void; report: () => void } {
  const enabled = process.env.SYNTH2_EVAL_PROFILE === '1';
  const timings: Record<string, number> = { startup: performance.now() };
  let t = performance.now();
  return {
    timings,
    lap: (name) => {
      const now = performance.now();
      timings[name] = (timings[name] ?? 0) + now - t;
      t = now;
    },
    restart: () => {
      t = performance.now();
    },
    report: () => {
      if (!enabled) return;
      timings.total = performance.now();
      const rounded = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 10) / 10]));
      io.stderr(JSON.stringify({ profile: rounded }) + '\n');
    },
  };
}

/** Loads `--plugin` packages by name from the current directory (the same rule as the synth2 CLI's `plugins`). */
async function loadPluginPackages(names: string[]): Promise<void> {
  await loadProjectPlugins(names, { setting: '--plugin' });
}

/** `--metrics`: built-in names and registered plugin metric ids; an unknown one is a usage error listing both. */
function checkMetricsFlag(metrics: string[]): void {
  try {
    resolveMetrics(metrics);
  } catch (error) {
    if (ConfigurationError.isInstance(error)) throw new UsageError(`--metrics: ${error.message}`);
    throw error;
  }
}

async function runEvaluate(args: string[], io: CliIo): Promise<number> {
  const profile = profileReporter(io);
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      annotations: { type: 'string' },
      results: { type: 'string' },
      pairs: { type: 'string' },
      metrics: { type: 'string' },
      plugin: { type: 'string', multiple: true },
      'per-image': { type: 'string' },
      json: { type: 'boolean' },
      'on-invalid': { type: 'string' },
      java: { type: 'string' },
      'meteor-jar': { type: 'string' },
      'spice-jar': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    io.stdout(USAGE + '\n');
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}.`);
  if (values.plugin?.length) await loadPluginPackages(values.plugin);
  const metrics = values.metrics?.split(',').map((m) => m.trim()).filter(Boolean);
  if (metrics) checkMetricsFlag(metrics);
  const onInvalid = values['on-invalid'] ?? 'throw';
  if (onInvalid !== 'throw' && onInvalid !== 'drop') throw new UsageError(`--on-invalid must be throw or drop, not ${JSON.stringify(onInvalid)}.`);
  let references: Parameters<typeof evaluateCaptions>[0]['references'];
  let predictions: Parameters<typeof evaluateCaptions>[0]['predictions'];
  if (values.pairs) {
    if (values.annotations || values.results) throw new UsageError('use either --pairs or --annotations with --results, not both.');
    const pairs = await readJsonFileTimed(values.pairs, profile.timings);
    profile.restart();
    ({ references, predictions } = splitCaptionPairs(pairs));
    profile.lap('split');
  } else {
    if (!values.annotations || !values.results) throw new UsageError('--annotations and --results are both required (or --pairs).');
    const ann = await readJsonFileTimed(values.annotations, profile.timings);
    if (!ann || typeof ann !== 'object' || Array.isArray(ann) || !Array.isArray((ann as { annotations?: unknown }).annotations)) {
      throw new InvalidInputError('not COCO caption annotations: expected an object with an "annotations" array.', { file: values.annotations });
    }
    const res = await readJsonFileTimed(values.results, profile.timings);
    if (!Array.isArray(res)) throw new InvalidInputError('not a COCO results file: expected a JSON array of { image_id, caption }.', { file: values.results });
    references = ann as Parameters<typeof evaluateCaptions>[0]['references'];
    predictions = res as Parameters<typeof evaluateCaptions>[0]['predictions'];
  }
  profile.restart();
  const result = await evaluateCaptions({
    references,
    predictions,
    metrics,
    onInvalid,
    meteor: { java: values.java, jar: values['meteor-jar'] },
    spice: { java: values.java, jar: values['spice-jar'] },
  });
  profile.lap('evaluate');
  Object.assign(profile.timings, result.timings);
  const missing = result.annotatedImages - result.imageIds.length;
  if (missing > 0) {
    io.stderr(`synth2-eval: note: ${missing} of ${result.annotatedImages} annotated images have no prediction; the scores cover the ${result.imageIds.length} that do.\n`);
  }
  if (values.json) {
    const { metrics: m, bleuStats, imageIds, dropped, annotatedImages } = result;
    const summary = { metrics: m, bleuStats, images: imageIds.length, annotatedImages, imagesWithoutPrediction: Math.max(0, missing), dropped: dropped ?? [] };
    io.stdout(JSON.stringify(summary) + '\n');
  } else io.stdout(formatTable(result));
  // written after the scores are printed, so that a failed write loses nothing that was computed
  const code = values['per-image'] ? await writePerImage(values['per-image'], result, io) : 0;
  profile.lap('output');
  profile.report();
  return code;
}

async function writePerImage(file: string, result: CaptionEvaluation, io: CliIo): Promise<number> {
  try {
    await writeFileAtomic(file, JSON.stringify({ imageIds: result.imageIds, perImage: result.perImage }) + '\n');
    return 0;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    io.stderr(
      `synth2-eval: error: cannot write the per-image scores to ${file} (${reason}); the corpus scores above are complete. ` +
        'Choose a writable --per-image path and run again to get the per-image file.\n',
    );
    return 1;
  }
}

/** Runs the `synth2-eval` command; returns the exit code (0 ok, 1 failed, 2 bad usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    if (argv[0] === 'diversity') return await runDiversity(argv.slice(1), io);
    if (argv.length === 0) {
      io.stderr(USAGE + '\n');
      return 2;
    }
    return await runEvaluate(argv, io);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
      io.stderr(`synth2-eval: ${(error as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    if (Synth2Error.isInstance(error) || ConfigurationError.isInstance(error)) {
      io.stderr(`synth2-eval: error: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}
