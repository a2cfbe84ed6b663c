import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError, loadPlugins, throwIfAborted } from '@synth2/core';
import { projectImporter } from '@synth2/core/internal';
import { describeBackend, initBackend, type BackendInfo } from '@synth2/nn';
import type { PipelineConfig } from '../config';
import { checkPluginSpecifiers, isLocalPath } from '../plugins';
import type { Reporter } from '../reporter';
import { RunDirectory, type StageEvent } from '../run-directory';
import { STAGE_BODIES, type StageRunContext } from '../stages';
import { checkEvalMetrics } from '../stages/evaluate';
import { checkCaptionSourceSettings } from './preflight';
import { runStageInChild } from './child';
import { STAGES, stageGraph, stagesToRun, withDependants, type StageGraph, type StageName } from './graph';
import { stageSettings } from './settings';
import { CHILD_STAGES, availableParallelism, wasmThreadsFor } from './threads';

/** Options of `runPipeline`. */
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

/** Refused before anything is imported or written: plugin specifiers that are not package names, unknown --redo stages. */
function checkOptions(config: PipelineConfig, options: PipelineOptions): void {
  checkPluginSpecifiers(config.plugins, { allowPaths: options.allowPluginPaths });
  for (const stage of options.redo ?? []) {
    if (!(STAGES as readonly string[]).includes(stage)) {
      throw new ConfigurationError(
        `--redo ${stage}: there is no such stage; the stages are ${STAGES.join(', ')}.`,
        { setting: 'redo' },
      );
    }
  }
}

/** Runs the whole Synth² experiment (or a prefix of it) in a run directory; finished stages are skipped. */
export async function runPipeline(
  config: PipelineConfig,
  options: PipelineOptions,
): Promise<{ run: RunDirectory; backend: BackendInfo }> {
  const { reporter } = options;
  checkOptions(config, options);
  // the caption source's settings are checked by the captioner itself before any stage runs
  checkCaptionSourceSettings(config);
  // an --out folder that holds someone's files is refused before anything is written
  await RunDirectory.assertUsable(options.out);
  const backend = await initBackend({ log: () => {} });
  reporter.log(`backend: ${describeBackend(backend)}`);
  if (config.plugins.length) {
    await loadPlugins(config.plugins, { importer: pluginImporter() });
    reporter.log(`plugins: ${config.plugins.join(', ')}`);
  }
  // plugin metric ids in eval.metrics are known once the plugins have registered
  checkEvalMetrics(config);
  const run = await RunDirectory.open(options.out, {
    config: config as unknown as Record<string, unknown>,
    seed: config.seed,
    // the compute path (native, wasm, tensorflow, …), not only the tfjs backend name
    backend: backend.path,
    redoCommand: options.redoCommand,
  });
  const graph = stageGraph(config);
  const order = stagesToRun(graph, options.until);
  if (options.redo?.length) await markRedo(run, options.redo, graph, order, reporter);
  const settings = stageSettings(config);
  const ctx: StageRunContext = { config, run, reporter, abortSignal: options.abortSignal };
  const parallel = Math.max(1, options.parallel ?? Math.min(2, availableParallelism()));
  const onEvent = (e: StageEvent) => reporter.event(e);
  const runStage = (stage: StageName, alone: boolean) =>
    run.run(
      stage,
      { settings: settings[stage], dependsOn: graph.deps(stage), reads: graph.reads(stage), onEvent },
      async (sc) => {
        const threads = parallel > 1 && alone ? wasmThreadsFor(stage, config, parallel) : undefined;
        const inChild = (parallel > 1 && CHILD_STAGES.has(stage)) || threads !== undefined;
        const outcome = await (inChild
          ? runStageInChild(ctx, stage, sc.resuming, threads)
          : STAGE_BODIES[stage](ctx, sc.dir));
        // Trainers stop cleanly on abort (checkpoint written) and return: such a stage is unfinished, never done.
        throwIfAborted(options.abortSignal);
        return outcome;
      },
    );
  await schedule(order, graph, parallel, runStage);
  return { run, backend };
}

/**
 * A small scheduler over the stage graph: a stage starts when the stages it needs are done, at most `parallel` at a
 * time (the baseline VLM trains in a child process while the generator trains here). The first failure stops new
 * starts; the stages running then finish before it is thrown.
 */
async function schedule(
  order: readonly StageName[],
  graph: StageGraph,
  parallel: number,
  runStage: (stage: StageName, alone: boolean) => Promise<unknown>,
): Promise<void> {
  const done = new Set<StageName>();
  const running = new Map<StageName, Promise<StageName>>();
  let failure: unknown;
  while (done.size < order.length && failure === undefined) {
    for (const stage of order) {
      if (running.size >= parallel) break;
      if (done.has(stage) || running.has(stage) || !graph.deps(stage).every((d) => done.has(d))) continue;
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
}

/** `--redo`: the named stages and every stage after them start afresh. */
async function markRedo(
  run: RunDirectory,
  redo: readonly StageName[],
  graph: StageGraph,
  order: readonly StageName[],
  reporter: Reporter,
): Promise<void> {
  const marked = new Set<StageName>();
  for (const stage of redo) {
    if (!order.includes(stage)) {
      throw new ConfigurationError(
        `--redo ${stage}: this command does not run the ${stage} stage (it runs ${order.join(', ')}). Use \`synth2 run --redo ${stage}\` or a command that includes it.`,
        { setting: 'redo' },
      );
    }
    withDependants(stage, graph).forEach((s) => marked.add(s));
  }
  const list = graph.stages.filter((s) => marked.has(s));
  reporter.log(`redo: ${list.join(', ')}`);
  await run.redo(list);
}

/**
 * Imports plugin packages the way the project the command runs in resolves them (core's `projectImporter`); local
 * files (allowed by `--allow-plugin-paths` only, see {@link checkPluginSpecifiers}) relative to it.
 */
function pluginImporter(): (specifier: string) => Promise<unknown> {
  const fromProject = projectImporter();
  return async (specifier: string) => {
    if (specifier.startsWith('file:')) return import(specifier);
    if (isLocalPath(specifier)) return import(pathToFileURL(resolve(process.cwd(), specifier)).href);
    return fromProject(specifier);
  };
}
