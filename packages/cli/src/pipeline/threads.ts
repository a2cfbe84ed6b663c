import os from 'node:os';
import type { PipelineConfig } from '../config';
import { queued } from '../queued-stages';
import type { StageName } from './graph';

/** Stages that run in a child process when stages run in parallel (each training needs a core of its own). */
export const CHILD_STAGES = new Set<StageName>(['vlm-baseline', 'vlm-full']);

/**
 * Stages that start with no other stage beside them (the tokenizer — the captions stage beside it is light — and the
 * embedding generation) and whose kernels gain from wasm threads: they run in a child process with one wasm thread per
 * core the pipeline may use. A child is used because threads are chosen when a process starts its backend, and idle
 * pool threads spin: a threaded process beside another training process would slow both. An explicit
 * `SYNTH2_THREADS` is always respected.
 */
export const THREADED_STAGES = new Set<StageName>(['tokenizer', 'generate']);

export function availableParallelism(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** The wasm threads a stage running alone gets in its child process, or `undefined` to run it without. */
export function wasmThreadsFor(
  stage: StageName,
  config: PipelineConfig,
  parallel: number,
): number | undefined {
  if (!THREADED_STAGES.has(stage) || process.env.SYNTH2_THREADS?.trim()) return undefined;
  if (stage === 'generate' && queued(config, 'generate')) return undefined;
  return Math.min(parallel, availableParallelism());
}
