import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AbortedError, APICallError, ConfigurationError, throwIfAborted, type CaptionSourceV1, type TokenUsage } from '@synth2/core';
import type { ConceptItemInput } from '../concepts/concept-list';
import type { SamplerFactory, SamplerName } from '../concepts/samplers';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import { fileExists } from '../internal/jsonl-file';
import { CAPTION_FILTER_KEYS } from './caption-filters';
import { DEDUPE_KEYS } from './dedupe';
import type { CaptionFilterOptions } from './caption-filters';
import {
  emptyTotals,
  initialState,
  partialFile,
  progressFile,
  readProgress,
  recoverPartial,
  writeProgress,
  type ProgressState,
  type RunTotals,
} from './progress-state';
import { FailureBudgetSpent, SynthesisRun, type RunOutcome } from './synthesis-run';
import { resolveSynthesisSettings, type SynthesisSettings } from './synthesis-settings';

/** Progress of a synthesis run, passed to `onProgress`. */
export interface SynthesisProgressEvent {
  /** Captions written so far (including those found when resuming). */
  written: number;
  count: number;
  /** Requests finished, failed tries included (this run and before). */
  requests: number;
  /** Tries that failed so far (this run and before); each is retried later in the run. */
  failed: number;
  inFlight: number;
  /** Captions rejected so far, all reasons. */
  rejected: number;
  usage: TokenUsage;
  elapsedSeconds: number;
  captionsPerSecond: number;
  /** Set on the last event of a run that ends short of `count`: what happened and what to do. */
  warning?: string;
}

/** Options of `synthesizeCaptions`. */
export interface SynthesizeCaptionsOptions {
  source: CaptionSourceV1;
  /** Concepts to write about: names, concept records, or fixed groups drawn as units (see `combineConcepts`). */
  concepts: readonly ConceptItemInput[];
  /** Captions wanted in `out`. */
  count: number;
  /** Output JSONL of caption records (core's `CaptionRecordSchema`). Written as `<out>.partial` until complete. */
  out: string;
  /** Concept items per caption (default 1). */
  conceptsPerCaption?: number;
  /** `balanced` (default), `uniform`, `weighted`, or your own sampler factory. */
  sampler?: SamplerName | SamplerFactory;
  /** Weights for the `weighted` sampler (default: each concept's `weight`). */
  weights?: readonly number[];
  seed?: number;
  /** Target length in words ("about N words"). */
  wordCount?: number;
  /** Captions asked per request (the source may return more or fewer; default 1). */
  captionsPerRequest?: number;
  /** Caption filters, or `false` to keep every non-empty caption. */
  filters?: CaptionFilterOptions | false;
  /** Duplicate removal: `near` (default; Jaccard ≥ 0.8 on word bigrams), `exact`, `false`, or options. */
  dedupe?: boolean | 'exact' | 'near' | { mode?: 'exact' | 'near'; threshold?: number };
  /** Requests in flight at once (default: the source's `maxConcurrency`, else 1). */
  concurrency?: number;
  /** Give up after this many requests (default 10 × the requests the count needs, + 100); retries are not counted. */
  maxRequests?: number;
  /**
   * Failure budget: stop (with an error that says how many requests failed and why) when more than this share of
   * the requests sent in this run failed, judged over at least 20 (default 0.5; 0 stops at the first failure).
   * Failed requests (retryable errors, empty or `null` answers) are retried later in the run.
   */
  maxFailureRate?: number;
  /** Tries of one request before it is given up and later requests make up for it (default 4). */
  maxRequestAttempts?: number;
  /** Continue an interrupted run with the same settings (default true); `false` starts over. */
  resume?: boolean;
  /** Prefix of caption ids (default `syn`): `syn-00000000`, … */
  idPrefix?: string;
  onProgress?: (event: SynthesisProgressEvent) => void;
  abortSignal?: AbortSignal;
}

/** What `synthesizeCaptions` wrote and how it went. */
export interface SynthesisSummary {
  out: string;
  /** Captions in `out`. */
  written: number;
  /** Captions asked for. */
  count: number;
  /** Requests behind the file, failed tries included, this run and before. */
  requests: number;
  /** Tries that failed (and were retried), this run and before. */
  failed: number;
  /** Failed tries by reason: `timeout`, `reset`, `connection`, `malformed`, `empty`, `http-503`, … */
  failures: Record<string, number>;
  /** Requests given up after `maxRequestAttempts` failed tries. */
  abandoned: number;
  /** Caption texts received from the source (before cleaning and filters). */
  generated: number;
  /** Rejected captions by reason (`refusal`, `empty`, `too-short`, `missing-concept`, `exact-duplicate`, …). */
  rejected: Record<string, number>;
  usage: TokenUsage;
  provider: string;
  model: string;
  /** True when an interrupted run was continued; `resumedFrom` captions were already there. */
  resumed: boolean;
  resumedFrom: number;
  /** True when `maxRequests` ran out before `count` captions passed the filters. */
  exhausted: boolean;
  /**
   * True when `count` captions were written and published as `out`. A run that ends short of `count` leaves its
   * records in `<out>.partial`, says why in `warning`, and is not complete.
   */
  complete: boolean;
  /** Why the run is not complete, and what to do; unset when it is. */
  warning?: string;
  seconds: number;
  captionsPerSecond: number;
}


const SYNTHESIZE_KEYS = optionKeys<SynthesizeCaptionsOptions>({
  source: true,
  concepts: true,
  count: true,
  out: true,
  conceptsPerCaption: true,
  sampler: true,
  weights: true,
  seed: true,
  wordCount: true,
  captionsPerRequest: true,
  filters: true,
  dedupe: true,
  concurrency: true,
  maxRequests: true,
  maxFailureRate: true,
  maxRequestAttempts: true,
  resume: true,
  idPrefix: true,
  onProgress: true,
  abortSignal: true,
});

/** Rejects unknown keys of the options and of their `filters` and `dedupe` objects, before any work. */
function rejectUnknownSynthesisOptions(options: SynthesizeCaptionsOptions): void {
  rejectUnknownOptions(options, SYNTHESIZE_KEYS, 'synthesizeCaptions');
  rejectUnknownOptions(options.filters, CAPTION_FILTER_KEYS, 'synthesizeCaptions', 'filters');
  rejectUnknownOptions(options.dedupe, DEDUPE_KEYS, 'synthesizeCaptions', 'dedupe');
}

/** Where a run starts: the totals and first request after resuming (or nothing), or the summary of a finished run. */
type RunStart =
  | { finished: SynthesisSummary }
  | { totals: RunTotals; nextRequest: number; resumedFrom: number; deduper: ReturnType<SynthesisSettings['makeDeduper']> };

/**
 * Runs caption synthesis: samples concepts, asks the source for captions (with a concurrency limit), cleans,
 * filters and de-duplicates them, and streams caption records to JSONL in a deterministic order. Failed requests
 * are retried later in the run within a failure budget (`maxFailureRate`). An interrupted run (crash, kill, abort)
 * resumes from `<out>.partial` with no duplicates, no gaps and exact totals; `out` appears, atomically, only when
 * `count` captions are written.
 */
export async function synthesizeCaptions(options: SynthesizeCaptionsOptions): Promise<SynthesisSummary> {
  const started = performance.now();
  rejectUnknownSynthesisOptions(options);
  const settings = resolveSynthesisSettings(options);
  throwIfAborted(options.abortSignal);
  const start = await startRun(settings, options.resume !== false, started);
  if ('finished' in start) return start.finished;
  const outcome = await runRequests(settings, start, options, started);
  return finishRun(settings, start, outcome, options, started);
}

const settingsMismatch = (what: string) =>
  new ConfigurationError(
    `${what} was written by a synthesis run with different settings; delete it, write to another out, or pass resume: false to start over`,
    { setting: 'out' },
  );

/** Finds where the run stands on disk: starts it afresh, resumes it, or returns the summary of a finished one. */
async function startRun(s: SynthesisSettings, resume: boolean, started: number): Promise<RunStart> {
  const { out } = s;
  const partial = partialFile(out);
  const progressPath = progressFile(out);
  await fs.mkdir(path.dirname(path.resolve(out)), { recursive: true });
  if (!resume) await Promise.all([fs.rm(partial, { force: true }), fs.rm(progressPath, { force: true }), fs.rm(out, { force: true })]);
  const state = await readProgress(progressPath);
  if (state && state.configHash !== s.configHash) throw settingsMismatch(out);
  if (await fileExists(out)) {
    if (!state) throw settingsMismatch(out);
    if (state.complete && state.written >= s.count) {
      return { finished: summaryOf(s, state, { resumed: true, resumedFrom: state.written, started, complete: true }) };
    }
    // More captions wanted than a finished run wrote: continue it.
    await fs.rename(out, partial);
  }
  if (!state && (await fileExists(partial))) throw settingsMismatch(partial);
  const deduper = s.makeDeduper();
  if (state && (await fileExists(partial))) {
    const { totals, nextRequest } = await recoverPartial(partial, state, deduper);
    return { totals, nextRequest, resumedFrom: totals.written, deduper };
  }
  await fs.writeFile(partial, '');
  await writeProgress(progressPath, initialState(s.configHash, s.count));
  return { totals: emptyTotals(), nextRequest: 0, resumedFrom: 0, deduper };
}

/** Runs the requests from where the run stands, appending to `<out>.partial`. */
async function runRequests(
  s: SynthesisSettings,
  start: Exclude<RunStart, { finished: SynthesisSummary }>,
  options: SynthesizeCaptionsOptions,
  started: number,
): Promise<RunOutcome> {
  // Replay the sampler up to where the run stopped (deterministic per seed).
  const sampler = s.makeSampler();
  for (let i = 0; i < start.nextRequest; i++) sampler.next();
  const handle = await fs.open(partialFile(s.out), 'a');
  try {
    const run = new SynthesisRun({
      settings: s,
      handle,
      progressPath: progressFile(s.out),
      totals: start.totals,
      nextRequest: start.nextRequest,
      sampler,
      deduper: start.deduper,
      abortSignal: options.abortSignal,
      onProgress: options.onProgress && ((p) => options.onProgress!(progressEvent(s, p, start.resumedFrom, started))),
    });
    return await run.run();
  } finally {
    await handle.close();
  }
}

function progressEvent(s: SynthesisSettings, p: Omit<SynthesisProgressEvent, 'count' | 'elapsedSeconds' | 'captionsPerSecond'>, resumedFrom: number, started: number): SynthesisProgressEvent {
  const elapsed = (performance.now() - started) / 1000;
  return { ...p, count: s.count, elapsedSeconds: elapsed, captionsPerSecond: elapsed > 0 ? (p.written - resumedFrom) / elapsed : 0 };
}

/** Publishes a complete run as `out`; a run short of `count` stays in `<out>.partial` with a warning. */
async function finishRun(
  s: SynthesisSettings,
  start: Exclude<RunStart, { finished: SynthesisSummary }>,
  outcome: RunOutcome,
  options: SynthesizeCaptionsOptions,
  started: number,
): Promise<SynthesisSummary> {
  if (outcome.aborted) throw new AbortedError('caption synthesis aborted; run it again with the same settings to resume', { cause: options.abortSignal?.reason });
  if (outcome.failure instanceof FailureBudgetSpent) throw failureBudgetError(s, outcome.failure, outcome.totals.written);
  if (outcome.failure !== undefined) throw outcome.failure;
  const complete = outcome.totals.written >= s.count;
  const state: ProgressState = {
    ...initialState(s.configHash, s.count),
    ...outcome.totals,
    nextRequest: outcome.nextRequest,
    complete,
    exhausted: !complete,
  };
  await writeProgress(progressFile(s.out), state);
  const resumed = start.resumedFrom > 0 || start.nextRequest > 0;
  if (complete) await fs.rename(partialFile(s.out), s.out);
  const summary = summaryOf(s, state, { resumed, resumedFrom: start.resumedFrom, started, complete });
  if (!complete) {
    summary.warning = shortRunWarning(s, state);
    options.onProgress?.({ ...progressEvent(s, { written: state.written, requests: state.requests, failed: state.failed, inFlight: 0, rejected: sum(state.rejected), usage: { ...state.usage } }, start.resumedFrom, started), warning: summary.warning });
  }
  return summary;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

function topReasons(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
}

function shortRunWarning(s: SynthesisSettings, state: ProgressState): string {
  const why = [
    state.failed > 0 ? `${state.failed} failed tries (${topReasons(state.failures)})` : '',
    state.abandoned > 0 ? `${state.abandoned} requests given up` : '',
    sum(state.rejected) > 0 ? `${sum(state.rejected)} captions rejected (${topReasons(state.rejected)})` : '',
  ].filter(Boolean);
  return (
    `caption synthesis wrote ${state.written} of ${s.count} captions: maxRequests (${s.maxRequests}) ran out` +
    (why.length ? ` after ${why.join('; ')}` : '') +
    `. The run is not complete: the captions are in ${partialFile(s.out)}, ${s.out} was not written. ` +
    'Raise maxRequests, widen the concepts or loosen filters/dedupe (or fix the source), then run again with the same settings to continue.'
  );
}

function failureBudgetError(s: SynthesisSettings, spent: FailureBudgetSpent, written: number): APICallError {
  const last = spent.last instanceof Error ? spent.last.message : String(spent.last);
  return new APICallError(
    `caption synthesis stopped: ${spent.failed} of ${spent.tries} requests failed in this run (${topReasons(spent.byReason)}), ` +
      `more than maxFailureRate (${Math.round(s.maxFailureRate * 100)}%) allows; last error: ${last}. ` +
      `The ${written} captions written so far are kept in ${partialFile(s.out)}: fix the cause (or raise maxFailureRate) and run again with the same settings to continue.`,
    {
      retryable: false,
      status: APICallError.isInstance(spent.last) ? spent.last.status : undefined,
      url: APICallError.isInstance(spent.last) ? spent.last.url : undefined,
      cause: spent.last,
    },
  );
}

function summaryOf(
  s: SynthesisSettings,
  state: ProgressState,
  run: { resumed: boolean; resumedFrom: number; started: number; complete: boolean },
): SynthesisSummary {
  const seconds = (performance.now() - run.started) / 1000;
  return {
    out: s.out,
    written: state.written,
    count: s.count,
    requests: state.requests,
    generated: state.generated,
    rejected: { ...state.rejected },
    failed: state.failed,
    failures: { ...state.failures },
    abandoned: state.abandoned,
    usage: { ...state.usage },
    provider: s.source.provider,
    model: s.source.modelId,
    resumed: run.resumed,
    resumedFrom: run.resumedFrom,
    exhausted: state.exhausted,
    complete: run.complete,
    seconds,
    captionsPerSecond: seconds > 0 ? (state.written - run.resumedFrom) / seconds : 0,
  };
}
