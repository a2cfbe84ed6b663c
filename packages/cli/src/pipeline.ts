import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CaptionRecordSchema,
  ConceptInventorySchema,
  ConfigurationError,
  throwIfAborted,
  ImageCaptionPairSchema,
  Rng,
  ShardedTensorReader,
  Vocabulary,
  ShardedTensorWriter,
  loadPlugins,
  getRegistries,
  readJson,
  readJsonlAll,
  writeJsonAtomic,
  writeJsonl,
  type CaptionSourceV1,
  type Concept,
  type ImageCaptionPair,
} from '@synth2/core';
import { describeBackend, initBackend, tf, type BackendInfo } from '@synth2/nn';
import { makeSplits, mentionedPairs, type ShapesSplitManifest } from '@synth2/datasets';
import { createConceptGrammarSource, createOpenAICaptionSource, defaultCaptionSource, gapFillingWeights, loadConcepts, synthesizeCaptions } from '@synth2/captioner';
import {
  CaptionTokenGenerator,
  GeneratorConfigSchema,
  TokenizerConfigSchema,
  VQTokenizer,
  demoGeneratorConfig,
  demoGeneratorTraining,
  demoSampling,
  demoTokenizerConfig,
  demoTokenizerTraining,
  generateEmbeddings,
  exemplarKeyer,
  generateImages,
  imageExemplarKeys,
  trainTokenizer,
} from '@synth2/generator';
import { CaptioningVLM, VlmArchitectureSchema, demoVlmConfig, trainVLM } from '@synth2/vlm';
import { captionDiversity, evaluateCaptions, pairedBootstrap } from '@synth2/eval';
import { loadImages, loadTokens, saveImages, saveTokens, sliceImages, toUnitFloat, type ImageSet, type TokenSet } from './artifacts';
import { hasFullReference, splitNames, type PipelineConfig, type SplitName } from './config';
import { encodePngBase64 } from './png';
import { renderReport, type ModelReport, type ReportInput } from './report';
import type { Reporter } from './reporter';
import { RunDirectory, type StageEvent } from './run-directory';
import { checkPluginSpecifiers, isLocalPath } from './plugins';
import { objectNaming } from './object-accuracy';
import { EMBEDDING_STORE, queued, runQueuedCaptions, runQueuedEmbeddings, type QueuedStageContext } from './queued-stages';

/** The stages of `synth2 run`, in order. */
export const STAGES = [
  'data',
  'tokenizer',
  'generator',
  'captions',
  'generate',
  'vlm-baseline',
  'vlm-synth2',
  'vlm-full',
  'evaluate',
  'report',
] as const;
export type StageName = (typeof STAGES)[number];

export interface PipelineOptions {
  out: string;
  reporter: Reporter;
  /** Run only these stages and the stages they need (default: all). */
  until?: StageName | StageName[];
  /** Stages run at once (default: 2 on a machine with 2+ cores; the baseline VLM then trains in a child process). */
  parallel?: number;
  abortSignal?: AbortSignal;
  /** Redo these stages and every stage that uses their outputs, even when they finished with the same settings. */
  redo?: StageName[];
  /** Let `plugins` name local files (absolute or relative paths, file: URLs), not only installed packages. */
  allowPluginPaths?: boolean;
  /** How to redo a stage, for error messages (default: `synth2 run --out <out> --redo <stage>`). */
  redoCommand?: (stage: string) => string;
}

interface SplitItem extends ImageCaptionPair {
  meta?: { heldOut?: boolean; objects?: { color: string; shape: string }[] };
}

const SplitItemSchema = ImageCaptionPairSchema;

/**
 * What each stage's settings hash covers: the user's config AND the library defaults it resolves to, so that a
 * new default in a package (a new validated demo setting) reruns the stages it affects.
 */
function stageSettings(config: PipelineConfig): Record<StageName, unknown> {
  const vlm = resolvedVlmSettings(config);
  return {
    data: { seed: config.seed, data: config.data, ...(hasFullReference(config) ? { layout: 'train-full' } : {}) },
    tokenizer: { seed: config.seed, ...splitSettings(TokenizerConfigSchema, demoTokenizerConfig, demoTokenizerTraining, config.tokenizer) },
    generator: { seed: config.seed, ...splitSettings(GeneratorConfigSchema, demoGeneratorConfig, demoGeneratorTraining, config.generator) },
    captions: { seed: config.seed, captions: config.captions, plugins: config.plugins },
    generate: { seed: config.seed, generate: config.generate, demoSampling },
    'vlm-baseline': { seed: config.seed, ...vlm, kind: 'baseline' },
    'vlm-synth2': { seed: config.seed, ...vlm, kind: 'synth2' },
    'vlm-full': { seed: config.seed, ...vlm, kind: 'full' },
    evaluate: { eval: config.eval },
    report: { version: 1 },
  };
}

const DEPENDS: Record<StageName, StageName[]> = {
  data: [],
  tokenizer: ['data'],
  generator: ['tokenizer'],
  captions: ['data'],
  generate: ['generator', 'captions'],
  'vlm-baseline': ['tokenizer'],
  'vlm-synth2': ['tokenizer', 'generate'],
  'vlm-full': ['tokenizer'],
  evaluate: ['vlm-baseline', 'vlm-synth2', 'captions'],
  report: ['evaluate'],
};

/**
 * What each stage reads of the finished stages — a whole stage, or one path in it — checked against the SHA-256 in
 * the run manifest before it starts. `vlm-full` counts only when the config has it; `generate` also reads the
 * baseline VLM when it re-ranks.
 */
const READS: Record<StageName, (StageName | `${StageName}/${string}`)[]> = {
  data: [],
  tokenizer: ['data'],
  generator: ['data', 'tokenizer'],
  captions: ['data'],
  generate: ['data', 'tokenizer', 'generator', 'captions'],
  'vlm-baseline': ['data', 'tokenizer'],
  'vlm-synth2': ['data', 'tokenizer', 'captions', 'generate'],
  'vlm-full': ['data', 'tokenizer'],
  evaluate: ['data', 'tokenizer', 'captions', 'vlm-baseline', 'vlm-synth2', 'vlm-full'],
  report: ['data', 'generate/gallery.json', 'vlm-baseline/metrics.jsonl', 'vlm-synth2/metrics.jsonl', 'vlm-full/metrics.jsonl', 'evaluate'],
};

/** `stage` and every stage that uses its outputs, directly or through others, in pipeline order. */
function withDependants(stage: StageName, stages: readonly StageName[], deps: (s: StageName) => StageName[]): StageName[] {
  const out = new Set<StageName>([stage]);
  // to a fixed point: a stage may depend on one listed after it (generate on vlm-baseline when it re-ranks)
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stages) {
      if (!out.has(s) && deps(s).some((d) => out.has(d))) {
        out.add(s);
        grew = true;
      }
    }
  }
  return stages.filter((s) => out.has(s));
}

/** Runs the whole Synth² experiment (or a prefix of it) in a run directory; finished stages are skipped. */
export async function runPipeline(config: PipelineConfig, options: PipelineOptions): Promise<{ run: RunDirectory; backend: BackendInfo }> {
  const { reporter } = options;
  // refused before anything is imported or written: plugin specifiers that are not package names, an unknown
  // --redo stage, and an --out folder that holds someone's files
  checkPluginSpecifiers(config.plugins, { allowPaths: options.allowPluginPaths });
  for (const stage of options.redo ?? []) {
    if (!(STAGES as readonly string[]).includes(stage)) {
      throw new ConfigurationError(`--redo ${stage}: there is no such stage; the stages are ${STAGES.join(', ')}.`, { setting: 'redo' });
    }
  }
  await RunDirectory.assertUsable(options.out);
  const backend = await initBackend({ log: () => {} });
  reporter.log(`backend: ${describeBackend(backend)}`);
  if (config.plugins.length) {
    await loadPlugins(config.plugins, { importer: projectImporter() });
    reporter.log(`plugins: ${config.plugins.join(', ')}`);
  }
  const run = await RunDirectory.open(options.out, {
    config: config as unknown as Record<string, unknown>,
    seed: config.seed,
    backend: backend.name,
    redoCommand: options.redoCommand,
  });
  const settings = stageSettings(config);
  const onEvent = (e: StageEvent) => reporter.event(e);
  const wantFull = hasFullReference(config);
  const stages = STAGES.filter((s) => s !== 'vlm-full' || wantFull);
  const deps = (s: StageName) =>
    DEPENDS[s]
      .filter((d) => stages.includes(d))
      .concat(s === 'evaluate' && wantFull ? ['vlm-full'] : [])
      .concat(s === 'generate' && rerankedByVlm(config) ? ['vlm-baseline'] : []);
  const ctx: StageRunContext = { config, run, reporter, abortSignal: options.abortSignal };
  // With `until`, run that stage and only the stages it needs.
  const needed = new Set<StageName>();
  const need = (s: StageName) => {
    if (needed.has(s)) return;
    needed.add(s);
    deps(s).forEach(need);
  };
  if (options.until) [options.until].flat().forEach(need);
  const order = stages.filter((s) => !options.until || needed.has(s));
  if (options.redo?.length) await markRedo(run, options.redo, { stages, order, deps, reporter });
  const reads = (s: StageName): string[] =>
    READS[s]
      .filter((d) => stages.includes(d.split('/')[0] as StageName))
      .concat(s === 'generate' && rerankedByVlm(config) ? ['vlm-baseline'] : []);
  const parallel = Math.max(1, options.parallel ?? Math.min(2, availableParallelism()));
  const runStage = (stage: StageName, alone: boolean) =>
    run.run(stage, { settings: settings[stage], dependsOn: deps(stage), reads: reads(stage), onEvent }, async (sc) => {
      const threads = parallel > 1 && alone ? wasmThreadsFor(stage, config, parallel) : undefined;
      const inChild = (parallel > 1 && CHILD_STAGES.has(stage)) || threads !== undefined;
      const outcome = await (inChild ? runStageInChild(ctx, stage, sc.resuming, threads) : STAGE_BODIES[stage](ctx, sc.dir));
      // Trainers stop cleanly on abort (checkpoint written) and return: such a stage is unfinished, never done.
      throwIfAborted(options.abortSignal);
      return outcome;
    });
  // A small scheduler over the stage graph: a stage starts when the stages it needs are done, at most `parallel` at
  // a time (the baseline VLM trains in a child process while the generator trains here).
  const done = new Set<StageName>();
  const running = new Map<StageName, Promise<StageName>>();
  let failure: unknown;
  while (done.size < order.length && failure === undefined) {
    for (const stage of order) {
      if (running.size >= parallel) break;
      if (done.has(stage) || running.has(stage) || !deps(stage).every((d) => done.has(d))) continue;
      running.set(
        stage,
        runStage(stage, running.size === 0).then(
          () => stage,
          (error: unknown) => {
            failure ??= error;
            return stage;
          },
        ),
      );
    }
    if (!running.size) break;
    const finished = await Promise.race(running.values());
    running.delete(finished);
    if (failure === undefined) done.add(finished);
  }
  if (failure !== undefined) {
    await Promise.allSettled(running.values());
    throw failure;
  }
  return { run, backend };
}

/** `--redo`: the named stages and every stage after them start afresh. */
async function markRedo(
  run: RunDirectory,
  redo: readonly StageName[],
  plan: { stages: readonly StageName[]; order: readonly StageName[]; deps: (s: StageName) => StageName[]; reporter: Reporter },
): Promise<void> {
  const marked = new Set<StageName>();
  for (const stage of redo) {
    if (!plan.order.includes(stage)) {
      throw new ConfigurationError(
        `--redo ${stage}: this command does not run the ${stage} stage (it runs ${plan.order.join(', ')}). Use \`synth2 run --redo ${stage}\` or a command that includes it.`,
        { setting: 'redo' },
      );
    }
    withDependants(stage, plan.stages, plan.deps).forEach((s) => marked.add(s));
  }
  const list = plan.stages.filter((s) => marked.has(s));
  plan.reporter.log(`redo: ${list.join(', ')}`);
  await run.redo(list);
}

/** `generate.candidates` are re-ranked by the baseline VLM: the generate stage needs that VLM. */
const rerankedByVlm = (config: PipelineConfig): boolean => config.generate.candidates > 1;

/** Stages that run in a child process when stages run in parallel (each training needs a core of its own). */
const CHILD_STAGES = new Set<StageName>(['vlm-baseline', 'vlm-full']);

/**
 * Stages that start with no other stage beside them (the tokenizer — the captions stage beside it is light — and the
 * embedding generation) and whose kernels gain from wasm threads: they run in a child process with one wasm thread per
 * core the pipeline may use (tokenizer 1.34×, sampling 1.36× faster with 2; generator/bench-results/token-grid-16-experiment.json).
 * A child is used because threads are chosen when a process starts its backend, and idle pool threads spin: a threaded
 * process beside another training process would slow both. An explicit `SYNTH2_THREADS` is always respected.
 */
const THREADED_STAGES = new Set<StageName>(['tokenizer', 'generate']);

function wasmThreadsFor(stage: StageName, config: PipelineConfig, parallel: number): number | undefined {
  if (!THREADED_STAGES.has(stage) || process.env.SYNTH2_THREADS?.trim()) return undefined;
  if (stage === 'generate' && queued(config, 'generate')) return undefined;
  return Math.min(parallel, availableParallelism());
}

function availableParallelism(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Runs one stage's body in a child process (`synth2 _stage`), forwarding its progress and logs. */
async function runStageInChild(
  ctx: StageRunContext,
  stage: StageName,
  resuming: boolean,
  threads?: number,
): Promise<{ summary?: Record<string, unknown>; outputs?: string[] }> {
  const bin = join(cliDistDir(), 'bin.js');
  const child = spawn(process.execPath, [bin, '_stage', stage, '--out', ctx.run.root, '--config', JSON.stringify(ctx.config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SYNTH2_RESUMING: resuming ? '1' : '0', ...(threads ? { SYNTH2_THREADS: String(threads) } : {}) },
  });
  const onAbort = () => child.kill('SIGINT');
  ctx.abortSignal?.addEventListener('abort', onAbort, { once: true });
  let result: { summary?: Record<string, unknown>; outputs?: string[] } | undefined;
  let stderr = '';
  let buffer = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as { type: string; message?: string; outcome?: typeof result } & Record<string, unknown>;
      if (e.type === 'progress') ctx.reporter.progress(e as never);
      else if (e.type === 'log') ctx.reporter.log(e.message!);
      else if (e.type === 'stage-outcome') result = e.outcome;
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  ctx.abortSignal?.removeEventListener('abort', onAbort);
  if (code !== 0 || !result) {
    throw new Error(`stage ${stage} failed in its worker process (exit ${code}): ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  }
  return result;
}

/** The child side of {@link runStageInChild}: runs one stage body against a read-only view of the run. */
export async function runStageBody(config: PipelineConfig, root: string, stage: StageName, reporter: Reporter, abortSignal?: AbortSignal) {
  const backend = await initBackend({ log: () => {} });
  // a stage given wasm threads says whether it got them (or why not)
  if (THREADED_STAGES.has(stage) && Number(process.env.SYNTH2_THREADS) > 1) reporter.log(`${stage}: ${describeBackend(backend)}`);
  const run = await RunDirectory.view(root);
  const body = STAGE_BODIES[stage];
  if (!body) throw new ConfigurationError(`unknown stage "${stage}"; stages: ${STAGES.join(', ')}`);
  const outcome = await body({ config, run, reporter, abortSignal }, join(root, stage));
  throwIfAborted(abortSignal);
  return outcome;
}

function cliDistDir(): string {
  // the build shims import.meta.url in CommonJS (tsup `shims`)
  return dirname(fileURLToPath(import.meta.url));
}

interface StageRunContext {
  config: PipelineConfig;
  run: RunDirectory;
  reporter: Reporter;
  abortSignal?: AbortSignal;
}

type StageBody = (ctx: StageRunContext, dir: string) => Promise<{ outputs?: string[]; summary?: Record<string, unknown> }>;

function progress(ctx: StageRunContext, stage: string, unit = 'steps') {
  return (e: { step: number; steps: number; loss?: number }) =>
    ctx.reporter.progress({ stage, done: e.step, total: e.steps, unit, info: e.loss !== undefined ? { loss: e.loss } : undefined });
}

const p = (ctx: StageRunContext, ...parts: string[]) => join(ctx.run.root, ...parts);

/**
 * Splits a stage's flat settings (`tokenizer: { steps, codebookSize, … }`) into model settings (keys of the model's
 * config schema) and training settings (the rest), over the library's validated demo defaults.
 */
function splitSettings(
  schema: { shape: Record<string, unknown> },
  modelDefaults: object,
  trainingDefaults: object,
  overrides: Record<string, unknown>,
): { model: Record<string, unknown>; training: Record<string, unknown> } {
  const model: Record<string, unknown> = { ...modelDefaults };
  const training: Record<string, unknown> = { ...trainingDefaults };
  for (const [k, v] of Object.entries(overrides)) (k in schema.shape ? model : training)[k] = v;
  return { model, training };
}

// ---------------------------------------------------------------- data
const dataStage: StageBody = async (ctx, dir) => {
  const { data, seed } = ctx.config;
  if (data.source !== 'shapes') {
    const { loadRealFolder } = await import('./real-data');
    return loadRealFolder(ctx.config, dir, ctx.reporter);
  }
  const splits = makeSplits({
    train: data.train,
    val: data.val,
    test: data.test,
    holdOutFraction: data.holdOutFraction,
    seed,
    world: { seed, imageSize: data.imageSize as 32 | 64 },
  });
  const heldOut = new Set(splits.manifest.heldOutPairs.map((pp) => `${pp.color} ${pp.shape}`));
  const used = Math.max(1, Math.round(splits.train.items.length * data.humanFraction));
  for (const name of splitNames(ctx.config)) {
    const items = name === 'train' ? splits.train.items.slice(0, used) : name === 'train-full' ? splits.train.items : splits[name].items;
    const S = data.imageSize;
    const pixels = new Uint8Array(items.length * S * S * 3);
    items.forEach((it, i) => pixels.set(it.pixels, i * S * S * 3));
    await saveImages(join(dir, `${name}.images.safetensors`), { data: pixels, shape: [items.length, S, S, 3] });
    const records: SplitItem[] = items.map((it) => ({
      imageId: it.imageId,
      captions: it.captions,
      width: S,
      height: S,
      concepts: it.concepts,
      meta: {
        heldOut: it.scene.objects.some((o) => heldOut.has(`${o.color} ${o.shape}`)),
        objects: it.scene.objects.map((o) => ({ color: o.color, shape: o.shape })),
      },
    }));
    await writeJsonl(join(dir, `${name}.jsonl`), records);
  }
  await writeJsonAtomic(join(dir, 'splits.json'), splits.manifest);
  await writeJsonAtomic(join(dir, 'inventory.json'), splits.world.inventory);
  return {
    outputs: ['data'],
    summary: {
      train: used,
      val: splits.val.items.length,
      test: splits.test.items.length,
      heldOutPairs: splits.manifest.heldOutPairs.length,
      testHeldOutImages: splits.manifest.splits.test.heldOutImages,
    },
  };
};

/** A split's image–caption records as the data stage wrote them. */
async function readItems(ctx: StageRunContext, name: SplitName): Promise<SplitItem[]> {
  return (await readJsonlAll(p(ctx, 'data', `${name}.jsonl`), SplitItemSchema)) as SplitItem[];
}

async function readSplit(ctx: StageRunContext, name: SplitName): Promise<{ items: SplitItem[]; images: ImageSet }> {
  return { items: await readItems(ctx, name), images: await loadImages(p(ctx, 'data', `${name}.images.safetensors`)) };
}

// ---------------------------------------------------------------- tokenizer
const tokenizerStage: StageBody = async (ctx, dir) => {
  const train = await readSplit(ctx, 'train');
  const { model, training } = splitSettings(TokenizerConfigSchema, demoTokenizerConfig, demoTokenizerTraining, ctx.config.tokenizer);
  const tokenizer = VQTokenizer.create({ ...model, imageSize: ctx.config.data.imageSize, seed: ctx.config.seed } as never);
  const result = await trainTokenizer(tokenizer, toUnitFloat(train.images), {
    ...(training as { steps: number }),
    seed: ctx.config.seed,
    checkpointDir: join(dir, 'trainer'),
    checkpointEvery: 250,
    metricsFile: join(dir, 'metrics.jsonl'),
    onProgress: progress(ctx, 'tokenizer'),
    abortSignal: ctx.abortSignal,
    log: () => {},
  });
  await tokenizer.save(join(dir, 'model'));
  const summary: Record<string, unknown> = { steps: result.steps, finalLoss: result.finalLoss, trainSeconds: result.seconds };
  for (const name of splitNames(ctx.config)) {
    const split = name === 'train' ? train : await readSplit(ctx, name);
    const tokens = encodeAll(tokenizer, split.images);
    await saveTokens(join(dir, `${name}.tokens.safetensors`), tokens);
    if (name === 'test') {
      const ev = await tokenizer.evaluate(toUnitFloat(split.images));
      Object.assign(summary, { testPsnr: ev.psnr, perplexity: ev.perplexity, usedCodes: ev.usedCodes, deadCodes: ev.deadCodes });
    }
  }
  tokenizer.dispose();
  return { outputs: ['tokenizer/model', ...splitNames(ctx.config).map((name) => `tokenizer/${name}.tokens.safetensors`)], summary };
};

function encodeAll(tokenizer: VQTokenizer, images: ImageSet, batch = 256): TokenSet {
  const n = images.shape[0];
  const g = tokenizer.gridSize;
  const out = new Int32Array(n * g * g);
  for (let i = 0; i < n; i += batch) {
    const idx = Array.from({ length: Math.min(batch, n - i) }, (_, k) => i + k);
    const ids = tokenizer.encode(toUnitFloat(sliceImages(images, idx)));
    out.set(ids.dataSync() as Int32Array, i * g * g);
    ids.dispose();
  }
  return { data: out, shape: [n, g, g] };
}

async function loadTokenizer(ctx: StageRunContext): Promise<VQTokenizer> {
  return VQTokenizer.load(p(ctx, 'tokenizer', 'model'));
}

/** Codebook embeddings `[N, h·w, d]` of a split's cached tokens. */
async function splitEmbeddings(ctx: StageRunContext, tokenizer: VQTokenizer, name: SplitName) {
  const tokens = await loadTokens(p(ctx, 'tokenizer', `${name}.tokens.safetensors`));
  const emb = tf.tidy(() => tokenizer.embed(tf.tensor3d(tokens.data, tokens.shape, 'int32')));
  const data = emb.dataSync() as Float32Array;
  const shape = emb.shape as [number, number, number];
  emb.dispose();
  return { data: new Float32Array(data), shape };
}

// ---------------------------------------------------------------- generator
const generatorStage: StageBody = async (ctx, dir) => {
  const train = await readSplit(ctx, 'train');
  const tokens = await loadTokens(p(ctx, 'tokenizer', 'train.tokens.safetensors'));
  const per = tokens.shape[1] * tokens.shape[2];
  const { model, training } = splitSettings(GeneratorConfigSchema, demoGeneratorConfig, demoGeneratorTraining, ctx.config.generator);
  // a retrieval-augmented generator also gets each caption's exemplar keys; the examples of one image share `image`
  const keyOf = model.exemplars ? await exemplarKeyerFor(ctx) : undefined;
  const examples = train.items.flatMap((it, i) => {
    const keys = keyOf && imageExemplarKeys(it.captions, keyOf);
    return it.captions.map((caption, k) => ({
      caption,
      tokens: tokens.data.subarray(i * per, (i + 1) * per),
      ...(keys ? { exemplarKeys: keys[k], image: i } : {}),
    }));
  });
  const tokenizer = await loadTokenizer(ctx);
  const generator = CaptionTokenGenerator.forTokenizer(tokenizer, { ...model, seed: ctx.config.seed, captions: examples.map((e) => e.caption) } as never);
  tokenizer.dispose();
  const result = await generator.train(examples, {
    ...(training as { steps: number }),
    seed: ctx.config.seed,
    checkpointDir: join(dir, 'trainer'),
    checkpointEvery: 500,
    metricsFile: join(dir, 'metrics.jsonl'),
    onProgress: progress(ctx, 'generator'),
    abortSignal: ctx.abortSignal,
    log: () => {},
  });
  await generator.save(join(dir, 'model'));
  generator.dispose();
  return { outputs: ['generator/model'], summary: { steps: result.steps, finalLoss: result.finalLoss, trainSeconds: result.seconds } };
};

/** The exemplar keyer of the run's concept inventory (`generator.exemplars`). */
async function exemplarKeyerFor(ctx: StageRunContext): Promise<(caption: string) => string[]> {
  const file = p(ctx, 'data', 'inventory.json');
  if (!existsSync(file)) {
    throw new ConfigurationError('generator.exemplars needs a concept inventory to key captions by (the shapes world writes one); leave it off for this data source', {
      setting: 'generator.exemplars',
    });
  }
  return exemplarKeyer(ConceptInventorySchema.parse(await readJson(file)));
}

// ---------------------------------------------------------------- captions
/** The caption source the config asks for, and why it was chosen. */
export async function resolveCaptionSource(
  config: PipelineConfig,
  inventory: unknown,
): Promise<{ source: CaptionSourceV1; reason: string }> {
  const c = config.captions;
  const openai = { baseURL: c.baseURL, model: c.model, maxConcurrency: c.concurrency, ...(c.options as object) };
  if (c.source === 'auto') {
    // captions.options go to whichever source auto picks (the grammar ignores LLM settings and vice versa)
    const d = defaultCaptionSource({ openai, grammar: c.options as never, inventory: inventory as never, seed: config.seed });
    return { source: d.source, reason: d.reason };
  }
  if (c.source === 'grammar') {
    return {
      source: createConceptGrammarSource({ inventory: inventory as never, seed: config.seed, ...(c.options as object) }),
      reason: 'captions.source is "grammar": writing captions with the offline concept grammar',
    };
  }
  if (c.source === 'openai') {
    const source = createOpenAICaptionSource(openai);
    return { source, reason: `captions.source is "openai": writing captions with the OpenAI-compatible LLM (model ${source.modelId})` };
  }
  const source = await getRegistries().captionSources.create(c.source, { ...c.options, inventory });
  return { source, reason: `captions.source is "${c.source}" (plugin): ${source.provider} / ${source.modelId}` };
}

/** Concept items for synthetic captions: every colour–shape pair of the world (held-out ones included). */
function pairConcepts(inventory: { objects: Concept[]; attributes: Concept[] }): Concept[][] {
  const colors = inventory.attributes.filter((a) => a.kind === 'color');
  return colors.flatMap((color) => inventory.objects.map((shape) => [color, shape]));
}

/**
 * `captions.gapFill`: sampling weights for the colour–shape pair concepts from how often the human train captions
 * name each pair (the held-out ones: never), so that a share of the synthetic captions fills those gaps first.
 */
async function gapFillWeightsFor(ctx: StageRunContext, concepts: Concept[][], share: number): Promise<{ weights: number[] } | undefined> {
  const pairs = concepts.map((item) => {
    const color = item.find((x) => x.kind === 'color');
    const shape = item.find((x) => x.kind !== 'color');
    return item.length === 2 && color && shape ? `${color.name} ${shape.name}` : undefined;
  });
  if (ctx.config.data.source !== 'shapes' || pairs.some((x) => x === undefined)) {
    ctx.reporter.log(
      `captions: gap filling off (captions.gapFill counts the shapes world's colour–shape pairs in its human captions; these concepts are not such pairs): using the ${ctx.config.captions.sampler} sampler`,
    );
    return undefined;
  }
  const counts = new Map<string, number>();
  for (const item of await readItems(ctx, 'train')) {
    for (const caption of item.captions) for (const pair of mentionedPairs(caption)) counts.set(pair, (counts.get(pair) ?? 0) + 1);
  }
  const existing = pairs.map((x) => counts.get(x!) ?? 0);
  const budget = ctx.config.captions.count * ctx.config.captions.conceptsPerCaption;
  const weights = gapFillingWeights(existing, budget, share);
  const unnamed = existing.filter((n) => n === 0).length;
  const toUnnamed = weights.reduce((s, w, i) => s + (existing[i] === 0 ? w : 0), 0) / budget;
  ctx.reporter.log(
    `captions: gap filling (${share}): ${unnamed} of ${pairs.length} colour–shape pairs are named by no human caption; they get ${(100 * toUnnamed).toFixed(0)}% of the synthetic captions`,
  );
  return { weights };
}

const captionsStage: StageBody = async (ctx, dir) => {
  const inventoryFile = p(ctx, 'data', 'inventory.json');
  const inventory = existsSync(inventoryFile) ? ((await readJson(inventoryFile)) as { objects: Concept[]; attributes: Concept[] }) : undefined;
  const c = ctx.config.captions;
  const concepts: Concept[][] = c.concepts
    ? (await loadConcepts(c.concepts)).map((x) => [x])
    : inventory
      ? pairConcepts(inventory)
      : [];
  if (!concepts.length) {
    throw new ConfigurationError('No concepts to write captions about: set captions.concepts to a concept list file (one concept per line).', {
      setting: 'captions.concepts',
    });
  }
  const gaps = c.gapFill > 0 ? await gapFillWeightsFor(ctx, concepts, c.gapFill) : undefined;
  const sampling = gaps ? { sampler: 'weighted' as const, weights: gaps.weights } : { sampler: c.sampler };
  // --queue: the jobs go to `synth2 worker` processes; the stage is done once their shards are merged.
  if (queued(ctx.config, 'captions')) return runQueuedCaptions(queueContext(ctx, 'captions'), dir, { concepts, inventory, sampling });
  const { source, reason } = await resolveCaptionSource(ctx.config, inventory);
  ctx.reporter.log(`captions: ${reason}`);
  try {
    const summary = await synthesizeCaptions({
      source,
      concepts,
      count: c.count,
      out: join(dir, 'captions.jsonl'),
      conceptsPerCaption: c.conceptsPerCaption,
      ...sampling,
      seed: ctx.config.seed,
      wordCount: c.wordCount,
      concurrency: c.concurrency,
      onProgress: (e) => ctx.reporter.progress({ stage: 'captions', done: e.written, total: e.count, unit: 'captions' }),
      abortSignal: ctx.abortSignal,
    });
    return {
      outputs: ['captions/captions.jsonl'],
      summary: { written: summary.written, requests: summary.requests, rejected: summary.rejected, provider: summary.provider, model: summary.model, reason },
    };
  } finally {
    await source.close?.();
  }
};

// ---------------------------------------------------------------- generate
const generateStage: StageBody = async (ctx, dir) => {
  const all = await readJsonlAll(p(ctx, 'captions', 'captions.jsonl'), CaptionRecordSchema);
  const tokenizer = await loadTokenizer(ctx);
  const generator = await CaptionTokenGenerator.load(p(ctx, 'generator', 'model'));
  // The generator can only condition on words it was trained with: it reads each caption without the words it never
  // saw (the VLM still trains on the full caption); captions with fewer than half their words known are left out.
  const vocab = generator.captions.vocabulary;
  const conditioning = new Map<string, string>();
  let partial = 0;
  for (const r of all) {
    const words = vocab.tokenize(r.text);
    const known = words.filter((w) => vocab.has(w));
    if (!known.length || known.length * 2 < words.length) continue;
    conditioning.set(r.id, known.join(' '));
    if (known.length < words.length) partial++;
  }
  const records = all.filter((r) => conditioning.has(r.id));
  const keyOf = generator.config.exemplars ? await exemplarKeyerFor(ctx) : undefined;
  const unreadable = all.length - records.length;
  if (unreadable || partial) {
    ctx.reporter.log(
      `generate: ${partial} of ${all.length} synthetic captions have words the generator never saw (read without them); ${unreadable} with mostly unknown words are left out`,
    );
  }
  if (!records.length) throw new ConfigurationError('No synthetic caption uses words the generator knows; check the caption source and the human captions.');
  const n = tokenizer.gridSize * tokenizer.gridSize;
  const d = tokenizer.config.codeDim;
  const batch = ctx.config.generate.batchSize;
  const sampling = {
    steps: ctx.config.generate.steps ?? demoSampling.steps,
    temperature: ctx.config.generate.temperature ?? demoSampling.temperature,
    guidanceScale: ctx.config.generate.guidanceScale ?? demoSampling.guidanceScale,
    priorCorrection: ctx.config.generate.priorCorrection ?? demoSampling.priorCorrection,
  };
  // batch i of the run samples with seed base + i, wherever it runs (here or on a queue worker)
  const seedBase = ctx.config.seed * 7919;
  const started = Date.now();
  const candidates = ctx.config.generate.candidates;
  // re-ranking judge: the baseline VLM, trained on the human train pairs only (the stage depends on it then)
  const judge = candidates > 1 ? await CaptioningVLM.load(p(ctx, 'vlm-baseline', 'model')) : undefined;
  if (judge) ctx.reporter.log(`generate: best of ${candidates} candidates per caption, re-ranked by the baseline VLM's caption log-likelihood`);
  let firstScore = 0;
  let keptScore = 0;
  if (queued(ctx.config, 'generate')) {
    // --queue: contiguous caption ranges as jobs with the seeds of the loop below, merged into the same store.
    await runQueuedEmbeddings(queueContext(ctx, 'generate'), dir, {
      records: records.map((r) => ({ id: r.id, text: conditioning.get(r.id)!, ...(keyOf ? { exemplarKeys: keyOf(r.text) } : {}) })),
      sampling,
      seed: seedBase,
      batchSize: batch,
    });
  } else {
    const writer = await ShardedTensorWriter.open(join(dir, 'embeddings'), {
      kind: 'image-embeddings',
      tensors: { embeddings: { dtype: 'F32', shape: [n, d] } },
      ...EMBEDDING_STORE,
    });
    for (let i = 0; i < records.length; i += batch) {
      const chunk = records.slice(i, i + batch).filter((r) => !writer.has(r.id));
      if (chunk.length) {
        const emb = await generateEmbeddings({
          generator,
          tokenizer,
          captions: chunk.map((r) => conditioning.get(r.id)!),
          exemplarKeys: keyOf && chunk.map((r) => keyOf(r.text)),
          ...sampling,
          seed: seedBase + i,
          abortSignal: ctx.abortSignal,
          ...(judge && {
            rerank: {
              scorer: judge,
              candidates,
              onScores: (first: Float32Array, kept: Float32Array) => {
                first.forEach((s) => (firstScore += s));
                kept.forEach((s) => (keptScore += s));
              },
            },
          }),
        } as never);
        const data = (await emb.data()) as Float32Array;
        emb.dispose();
        await writer.append(
          chunk.map((r) => r.id),
          { embeddings: data },
        );
      }
      ctx.reporter.progress({ stage: 'generate', done: Math.min(records.length, i + batch), total: records.length, unit: 'captions' });
    }
    await writer.close();
  }
  // A few decoded generations for the report (pixels are only made here, never for training).
  const samples = records.slice(0, 12);
  const images = await generateImages({ generator, tokenizer, captions: samples.map((r) => conditioning.get(r.id)!), seed: ctx.config.seed } as never);
  const px = (await images.data()) as Float32Array;
  const S = images.shape[1];
  images.dispose();
  const gallery = await Promise.all(
    samples.map(async (r, k) => ({ caption: r.text, png: await encodePngBase64(px.subarray(k * S * S * 3, (k + 1) * S * S * 3), S, S) })),
  );
  await writeJsonAtomic(join(dir, 'gallery.json'), gallery);
  generator.dispose();
  tokenizer.dispose();
  judge?.dispose();
  const seconds = (Date.now() - started) / 1000;
  return {
    outputs: ['generate/embeddings', 'generate/gallery.json'],
    summary: {
      captions: records.length,
      leftOut: unreadable,
      readWithoutUnknownWords: partial,
      captionsPerSecond: records.length / seconds,
      // mean caption log-likelihood under the baseline VLM: the first candidate vs the kept one
      ...(judge ? { candidates, meanScoreFirst: firstScore / records.length, meanScoreKept: keptScore / records.length } : {}),
    },
  };
};

/** What a queued stage needs: the run, and the settings hashes of its inputs (new inputs → new job ids). */
function queueContext(ctx: StageRunContext, stage: 'captions' | 'generate'): QueuedStageContext {
  const inputs = DEPENDS[stage].map((d) => [d, ctx.run.stage(d)?.configHash]);
  return { config: ctx.config, root: ctx.run.root, reporter: ctx.reporter, abortSignal: ctx.abortSignal, inputs };
}

// ---------------------------------------------------------------- vlm
async function realPairs(ctx: StageRunContext, tokenizer: VQTokenizer, name: SplitName) {
  return { items: await readItems(ctx, name), embeddings: await splitEmbeddings(ctx, tokenizer, name) };
}

/** The VLMs' settings: the demo defaults and the user's overrides. */
function resolvedVlmSettings(config: PipelineConfig): { model: Record<string, unknown>; training: Record<string, unknown> } {
  return splitSettings(VlmArchitectureSchema, demoVlmConfig.architecture, demoVlmConfig.training, config.vlm);
}

function vlmSettings(ctx: StageRunContext) {
  const { model, training } = resolvedVlmSettings(ctx.config);
  return { architecture: model, training };
}

function makeVlmStage(kind: 'baseline' | 'synth2' | 'full'): StageBody {
  return async (ctx, dir) => {
    const tokenizer = await loadTokenizer(ctx);
    // the full-human reference trains on the whole human split, the others on the (possibly reduced) one
    const train = await realPairs(ctx, tokenizer, kind === 'full' ? 'train-full' : 'train');
    const val = await realPairs(ctx, tokenizer, 'val');
    let synthetic: { embeddings: { data: Float32Array; shape: [number, number, number] }; captions: string[] } | undefined;
    if (kind === 'synth2') {
      const records = await readJsonlAll(p(ctx, 'captions', 'captions.jsonl'), CaptionRecordSchema);
      const reader = await ShardedTensorReader.open(p(ctx, 'generate', 'embeddings'), { requireComplete: true, verify: true });
      const all = await reader.loadAll();
      const byId = new Map(records.map((r) => [r.id, r.text]));
      const t = all.tensors.embeddings;
      synthetic = {
        embeddings: { data: t.data as Float32Array, shape: [all.ids.length, t.shape[1], t.shape[2]] as [number, number, number] },
        captions: all.ids.map((id) => byId.get(id) ?? ''),
      };
    }
    const settings = vlmSettings(ctx);
    const humanCaptions = train.items.map((it) => it.captions);
    const model = CaptioningVLM.create({
      ...settings.architecture,
      embeddingDim: train.embeddings.shape[2],
      grid: [tokenizer.gridSize, tokenizer.gridSize],
      seed: ctx.config.seed,
      vocabulary: Vocabulary.build([...humanCaptions.flat(), ...(synthetic?.captions ?? [])]),
    } as never);
    tokenizer.dispose();
    const { mix, ...trainOpts } = settings.training as { mix?: { real: number; synthetic: number } };
    const result = await trainVLM({
      ...trainOpts,
      model,
      real: { embeddings: train.embeddings, captions: humanCaptions },
      synthetic: synthetic ? { embeddings: synthetic.embeddings, captions: synthetic.captions } : undefined,
      mix: synthetic ? (mix ?? { real: 0.5, synthetic: 0.5 }) : { real: 1, synthetic: 0 },
      seed: ctx.config.seed,
      validation: val.items.length ? { embeddings: val.embeddings, references: val.items.map((it) => it.captions) } : undefined,
      checkpointDir: join(dir, 'checkpoints'),
      metricsFile: join(dir, 'metrics.jsonl'),
      onProgress: progress(ctx, `vlm-${kind}`),
      abortSignal: ctx.abortSignal,
      log: () => {},
    } as never);
    await model.save(join(dir, 'model'));
    model.dispose();
    return {
      // the report draws the loss curve from metrics.jsonl when there is one
      outputs: [`vlm-${kind}/model`, ...(existsSync(join(dir, 'metrics.jsonl')) ? [`vlm-${kind}/metrics.jsonl`] : [])],
      summary: {
        steps: result.steps,
        finalLoss: result.finalLoss,
        trainSeconds: result.seconds,
        stepsPerSecond: result.steps / Math.max(1e-9, result.seconds),
        bestValCIDEr: result.best?.metrics.CIDEr,
        humanImages: train.items.length,
        synthetic: synthetic?.captions.length ?? 0,
      },
    };
  };
}

// ---------------------------------------------------------------- evaluate
interface ModelScores {
  all: Record<string, number>;
  heldOut?: Record<string, number>;
  heldOutPairRecall?: number;
  /** Colour/shape naming accuracy on single-object test images (shapes world only). */
  objectNaming?: ReturnType<typeof objectNaming>;
  predictions: Record<string, string>;
  /** Per-image CIDEr-D in test-split order (all images; held-out images), for the paired bootstrap. */
  perImageCider?: { all: number[]; heldOut?: number[] };
}

async function scoreModel(ctx: StageRunContext, modelDir: string, test: Awaited<ReturnType<typeof realPairs>>, heldOut: Set<string>): Promise<ModelScores> {
  const model = await CaptioningVLM.load(modelDir);
  const beam = ctx.config.eval.beamSize;
  const captions = await model.caption(test.embeddings, beam > 1 ? { strategy: 'beam', beamSize: beam } : { strategy: 'greedy' });
  model.dispose();
  const predictions: Record<string, string> = {};
  const references: Record<string, string[]> = {};
  test.items.forEach((it, i) => {
    predictions[it.imageId] = captions[i];
    references[it.imageId] = it.captions;
  });
  const metrics = ctx.config.eval.metrics as never;
  const ciderInOrder = (e: Awaited<ReturnType<typeof evaluateCaptions>>, ids: string[]) => {
    const per = e.perImage.CIDEr;
    if (!per) return undefined;
    const at = new Map(e.imageIds.map((id, i) => [String(id), per[i]]));
    return ids.map((id) => at.get(id) ?? 0);
  };
  const allEval = await evaluateCaptions({ references, predictions, metrics });
  const all = allEval.metrics as Record<string, number>;
  const perImageCider: ModelScores['perImageCider'] = { all: ciderInOrder(allEval, test.items.map((it) => it.imageId)) ?? [] };
  const hoItems = test.items.filter((it) => it.meta?.heldOut);
  let ho: Record<string, number> | undefined;
  let recall: number | undefined;
  if (hoItems.length) {
    const sub = (m: Record<string, unknown>) => Object.fromEntries(hoItems.map((it) => [it.imageId, m[it.imageId]]));
    const hoEval = await evaluateCaptions({ references: sub(references) as never, predictions: sub(predictions) as never, metrics });
    ho = hoEval.metrics as Record<string, number>;
    perImageCider.heldOut = ciderInOrder(hoEval, hoItems.map((it) => it.imageId));
    let total = 0;
    let hit = 0;
    for (const it of hoItems) {
      const named = new Set(mentionedPairs(predictions[it.imageId]));
      for (const o of it.meta?.objects ?? []) {
        const key = `${o.color} ${o.shape}`;
        if (!heldOut.has(key)) continue;
        total++;
        if (named.has(key)) hit++;
      }
    }
    recall = total ? hit / total : undefined;
  }
  const named = objectNaming(
    test.items.flatMap((it) => (it.meta?.objects ? [{ caption: predictions[it.imageId], objects: it.meta.objects }] : [])),
    heldOut,
  );
  const naming = named.seen || named.heldOut ? named : undefined;
  return { all, heldOut: ho, heldOutPairRecall: recall, objectNaming: naming, predictions, perImageCider };
}

/**
 * Paired bootstrap of Synth² vs baseline per-image CIDEr-D (how much the ratio depends on the test images drawn).
 * None when the baseline scores 0 everywhere (no ratio); an interval end that is unbounded (a resample where the
 * baseline scores 0) is `null` in JSON.
 */
export function ciderBootstrap(b: number[] | undefined, s: number[] | undefined, seed: number) {
  if (!b?.length || !s || s.length !== b.length || !b.some((x) => x > 0)) return undefined;
  const r = pairedBootstrap(b, s, { samples: 2000, seed });
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    ratioInterval: r.ratioInterval.map(finite) as [number | null, number | null],
    differenceInterval: r.differenceInterval,
    shareBetter: r.shareBetter,
    level: r.level,
    samples: r.samples,
  };
}

const evaluateStage: StageBody = async (ctx, dir) => {
  const tokenizer = await loadTokenizer(ctx);
  const test = await realPairs(ctx, tokenizer, 'test');
  tokenizer.dispose();
  const manifest = existsSync(p(ctx, 'data', 'splits.json')) ? ((await readJson(p(ctx, 'data', 'splits.json'))) as ShapesSplitManifest) : undefined;
  const heldOut = new Set((manifest?.heldOutPairs ?? []).map((pp) => `${pp.color} ${pp.shape}`));
  const models: Record<string, ModelScores> = {};
  const kinds = ['baseline', 'synth2', ...(hasFullReference(ctx.config) ? ['full'] : [])];
  for (const kind of kinds) {
    models[kind] = await scoreModel(ctx, p(ctx, `vlm-${kind}`, 'model'), test, heldOut);
    ctx.reporter.log(`evaluate: ${kind} CIDEr ${models[kind].all.CIDEr?.toFixed(3)} (held-out ${models[kind].heldOut?.CIDEr?.toFixed(3) ?? '–'})`);
  }
  const human = (await readItems(ctx, 'train')).flatMap((it) => it.captions);
  const synthetic = (await readJsonlAll(p(ctx, 'captions', 'captions.jsonl'), CaptionRecordSchema)).map((r) => r.text);
  const rng = new Rng(ctx.config.seed);
  const sample = (xs: string[], k: number) => (xs.length <= k ? xs : rng.sample(xs, k));
  // Per-caption cluster assignments are dropped: the report needs the summary only.
  const summarize = (texts: string[]) => {
    const d = captionDiversity(sample(texts, 6000), { k: 20, seed: ctx.config.seed });
    const { assignments: _assignments, ...clusters } = (d.clusters ?? {}) as Record<string, unknown>;
    return { ...d, clusters };
  };
  const diversity = { human: summarize(human), synthetic: summarize(synthetic) };
  const b = models.baseline;
  const s = models.synth2;
  const ratio = (x?: number, y?: number) => (x != null && y != null && y > 0 ? x / y : undefined);
  const summary: Record<string, unknown> = {
    ciderAll: {
      baseline: b.all.CIDEr,
      synth2: s.all.CIDEr,
      ratio: ratio(s.all.CIDEr, b.all.CIDEr),
      bootstrap: ciderBootstrap(b.perImageCider?.all, s.perImageCider?.all, ctx.config.seed),
    },
    ciderHeldOut: {
      baseline: b.heldOut?.CIDEr,
      synth2: s.heldOut?.CIDEr,
      ratio: ratio(s.heldOut?.CIDEr, b.heldOut?.CIDEr),
      bootstrap: ciderBootstrap(b.perImageCider?.heldOut, s.perImageCider?.heldOut, ctx.config.seed),
    },
    heldOutPairRecall: { baseline: b.heldOutPairRecall, synth2: s.heldOutPairRecall },
    objectNaming: { baseline: b.objectNaming, synth2: s.objectNaming },
  };
  if (models.full) {
    const gap = (models.full.all.CIDEr ?? 0) - (b.all.CIDEr ?? 0);
    summary.gapClosed = gap > 0 ? ((s.all.CIDEr ?? 0) - (b.all.CIDEr ?? 0)) / gap : undefined;
  }
  await writeJsonAtomic(join(dir, 'scores.json'), { models, diversity, summary, testImages: test.items.length, heldOutTestImages: test.items.filter((it) => it.meta?.heldOut).length });
  return { outputs: ['evaluate/scores.json'], summary };
};

// ---------------------------------------------------------------- report
const reportStage: StageBody = async (ctx) => {
  const scores = (await readJson(p(ctx, 'evaluate', 'scores.json'))) as {
    models: Record<string, ModelScores>;
    diversity: Record<string, Record<string, unknown>>;
    summary: Record<string, unknown>;
    testImages: number;
    heldOutTestImages: number;
  };
  const labels: Record<string, string> = {
    baseline: hasFullReference(ctx.config) ? `baseline (${ctx.config.data.humanFraction * 100}% human)` : 'baseline (human only)',
    synth2: 'Synth² (human + synthetic)',
    full: 'baseline (100% human)',
  };
  const curve = async (kind: string) => {
    const file = p(ctx, `vlm-${kind}`, 'metrics.jsonl');
    if (!existsSync(file)) return undefined;
    const rows = (await readJsonlAll(file)) as { step: number; loss: number }[];
    const every = Math.max(1, Math.floor(rows.length / 200));
    return rows.filter((_, i) => i % every === 0).map((r) => ({ step: r.step, loss: r.loss }));
  };
  const models: ModelReport[] = [];
  for (const [kind, m] of Object.entries(scores.models)) {
    models.push({ label: labels[kind] ?? kind, all: m.all, heldOut: m.heldOut, heldOutPairRecall: m.heldOutPairRecall, objectNaming: m.objectNaming, curve: await curve(kind) });
  }
  const test = await readSplit(ctx, 'test');
  const S = test.images.shape[1];
  const ho = test.items.map((it, i) => [it, i] as const).filter(([it]) => it.meta?.heldOut).slice(0, 8);
  const seen = test.items.map((it, i) => [it, i] as const).filter(([it]) => !it.meta?.heldOut).slice(0, 4);
  const samples = await Promise.all(
    [...ho, ...seen].map(async ([it, i]) => ({
      imageId: it.imageId,
      heldOut: !!it.meta?.heldOut,
      references: it.captions,
      png: await encodePngBase64(sliceImages(test.images, [i]).data, S, S),
      captions: Object.fromEntries(Object.entries(scores.models).map(([k, m]) => [labels[k] ?? k, m.predictions[it.imageId]])),
    })),
  );
  const gallery = existsSync(p(ctx, 'generate', 'gallery.json'))
    ? ((await readJson(p(ctx, 'generate', 'gallery.json'))) as { caption: string; png: string }[])
    : [];
  const timings = Object.fromEntries(
    Object.entries(ctx.run.data.stages)
      .filter(([, r]) => typeof r.summary?.seconds === 'number')
      .map(([k, r]) => [k, r.summary.seconds as number]),
  );
  type RatioSummary = { ratio?: number; bootstrap?: { ratioInterval: [number | null, number | null]; level: number } };
  const sum = scores.summary as { ciderAll?: RatioSummary; ciderHeldOut?: RatioSummary; gapClosed?: number };
  const fmtRatio = (r?: RatioSummary) => {
    if (r?.ratio == null) return '–';
    const end = (x: number | null) => (x == null ? '∞' : x.toFixed(2));
    const ci = r.bootstrap ? ` (${Math.round(r.bootstrap.level * 100)}% bootstrap interval over test images ${r.bootstrap.ratioInterval.map(end).join('–')})` : '';
    return `${r.ratio.toFixed(3)}×${ci}`;
  };
  const div = (d: Record<string, unknown>) => {
    const c = d.clusters as { top5Share?: number; entropy?: number } | undefined;
    return {
      captions: d.captions as number,
      vocabulary: d.vocabularySize as number,
      'distinct-1': d.distinct1 as number,
      'distinct-2': d.distinct2 as number,
      'mean length': (d.length as { mean: number }).mean,
      'top-5 cluster share': c?.top5Share as number,
      'cluster entropy': c?.entropy as number,
    };
  };
  const input: ReportInput = {
    title: 'Synth² on the shapes world',
    subtitle: `seed ${ctx.config.seed} · ${ctx.config.data.train} human train images (${ctx.config.data.humanFraction * 100}% used) · ${scores.testImages} test images (${scores.heldOutTestImages} with a held-out composition) · backend ${ctx.run.data.backend}`,
    models,
    highlights: [
      { label: 'CIDEr, Synth² / baseline (all test images)', value: fmtRatio(sum.ciderAll) },
      { label: 'CIDEr, Synth² / baseline (held-out compositions)', value: fmtRatio(sum.ciderHeldOut) },
      ...(sum.gapClosed != null ? [{ label: 'share of the gap to the full-human baseline closed', value: sum.gapClosed.toFixed(2) }] : []),
    ],
    diversity: Object.entries(scores.diversity).map(([label, d]) => ({ label, values: div(d) })),
    timings,
    samples,
    generations: gallery,
  };
  const results = {
    config: ctx.config,
    backend: ctx.run.data.backend,
    models: Object.fromEntries(
      Object.entries(scores.models).map(([k, m]) => [k, { all: m.all, heldOut: m.heldOut, heldOutPairRecall: m.heldOutPairRecall, objectNaming: m.objectNaming }]),
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

const STAGE_BODIES: Record<StageName, StageBody> = {
  data: dataStage,
  tokenizer: tokenizerStage,
  generator: generatorStage,
  captions: captionsStage,
  generate: generateStage,
  'vlm-baseline': makeVlmStage('baseline'),
  'vlm-synth2': makeVlmStage('synth2'),
  'vlm-full': makeVlmStage('full'),
  evaluate: evaluateStage,
  report: reportStage,
};

/**
 * Imports plugin packages from the directory the command runs in (not from the CLI's own install); local files
 * (allowed by `--allow-plugin-paths` only, see {@link checkPluginSpecifiers}) relative to it.
 */
function projectImporter(): (specifier: string) => Promise<unknown> {
  return async (specifier: string) => {
    const { createRequire } = await import('node:module');
    const { pathToFileURL } = await import('node:url');
    if (specifier.startsWith('file:')) return import(specifier);
    if (isLocalPath(specifier)) return import(pathToFileURL(resolve(process.cwd(), specifier)).href);
    const require = createRequire(join(process.cwd(), 'package.json'));
    let resolved: string;
    try {
      resolved = require.resolve(specifier);
    } catch {
      return import(specifier);
    }
    return import(pathToFileURL(resolved).href);
  };
}
