import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setMaxListeners } from 'node:events';
import {
  AbortedError,
  CaptionRecordSchema,
  ConfigurationError,
  InvalidInputError,
  throwIfAborted,
  writeFileAtomic,
  type CaptionRecord,
  type CaptionResult,
  type CaptionSourceV1,
  type Concept,
  type TokenUsage,
} from '@synth2/core';
import { toConceptItems, type ConceptItemInput } from '../concepts/concept-list';
import { samplers, type SamplerFactory, type SamplerName } from '../concepts/samplers';
import { hash32, stableStringify } from '../internal/concurrency';
import { fileExists, readJsonlTolerant } from '../internal/jsonl-file';
import { createCaptionFilter, type CaptionFilterOptions } from './caption-filters';
import { cleanCaptionText } from './clean-caption';
import { CaptionDeduper } from './dedupe';

export interface SynthesisProgressEvent {
  /** Captions written so far (including those found when resuming). */
  written: number;
  count: number;
  /** Requests finished (this run and before). */
  requests: number;
  inFlight: number;
  /** Captions rejected so far, all reasons. */
  rejected: number;
  usage: TokenUsage;
  elapsedSeconds: number;
  captionsPerSecond: number;
}

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
  /** Give up after this many requests (default 10 × the requests the count needs, + 100). */
  maxRequests?: number;
  /** Continue an interrupted run with the same settings (default true); `false` starts over. */
  resume?: boolean;
  /** Prefix of caption ids (default `syn`): `syn-00000000`, … */
  idPrefix?: string;
  onProgress?: (event: SynthesisProgressEvent) => void;
  abortSignal?: AbortSignal;
}

export interface SynthesisSummary {
  out: string;
  /** Captions in `out`. */
  written: number;
  /** Captions asked for. */
  count: number;
  /** Requests made, this run and before. */
  requests: number;
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
  seconds: number;
  captionsPerSecond: number;
}

interface ProgressState {
  format: 'synth2-caption-progress';
  version: 1;
  configHash: string;
  /** Every request below this index is finished (written or wholly rejected). */
  nextRequest: number;
  written: number;
  generated: number;
  rejected: Record<string, number>;
  usage: TokenUsage;
  complete: boolean;
  exhausted: boolean;
  count: number;
}

const progressFile = (out: string) => `${out}.progress.json`;
const partialFile = (out: string) => `${out}.partial`;

function addUsage(total: TokenUsage, u?: TokenUsage): void {
  if (!u) return;
  total.promptTokens += u.promptTokens;
  total.completionTokens += u.completionTokens;
  total.totalTokens = (total.totalTokens ?? 0) + (u.totalTokens ?? u.promptTokens + u.completionTokens);
}

function positiveInt(name: string, v: number | undefined, min = 1): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) {
    throw new InvalidInputError(`${name} must be an integer ≥ ${min}, got ${v}`, { field: name });
  }
}

/**
 * Runs caption synthesis: samples concepts, asks the source for captions (with a concurrency limit), cleans,
 * filters and de-duplicates them, and streams caption records to JSONL in a deterministic order. An interrupted
 * run (crash, kill, abort) resumes from `<out>.partial` with no duplicates and no gaps; `out` appears, atomically,
 * only when the run is complete.
 */
export async function synthesizeCaptions(options: SynthesizeCaptionsOptions): Promise<SynthesisSummary> {
  const started = performance.now();
  // ---- validate everything before touching the disk ----
  const { source, out } = options;
  if (!source || source.specificationVersion !== 'v1' || typeof source.doGenerate !== 'function') {
    throw new InvalidInputError('source is not a caption source (CaptionSourceV1); create one with createOpenAICaptionSource, createGgufCaptionSource or createConceptGrammarSource', {
      field: 'source',
    });
  }
  if (typeof out !== 'string' || out.length === 0) throw new InvalidInputError('out must be the path of the JSONL file to write', { field: 'out' });
  positiveInt('count', options.count);
  if (options.count === undefined) throw new InvalidInputError('count is required: how many captions to write', { field: 'count' });
  positiveInt('conceptsPerCaption', options.conceptsPerCaption);
  positiveInt('captionsPerRequest', options.captionsPerRequest);
  positiveInt('wordCount', options.wordCount);
  positiveInt('concurrency', options.concurrency);
  positiveInt('maxRequests', options.maxRequests);
  const items = toConceptItems(options.concepts);
  const k = options.conceptsPerCaption ?? 1;
  const seed = options.seed ?? 0;
  const samplerName = options.sampler ?? 'balanced';
  const factory = typeof samplerName === 'function' ? samplerName : samplers[samplerName];
  if (!factory) {
    throw new InvalidInputError(`unknown sampler "${String(samplerName)}"; use uniform, balanced or weighted`, { field: 'sampler' });
  }
  const makeSampler = () => factory(items, { k, seed, weights: options.weights });
  let sampler = makeSampler(); // validates k and weights
  const filter = createCaptionFilter(options.filters);
  const dedupeOption = options.dedupe ?? 'near';
  const dedupeSettings =
    dedupeOption === false
      ? undefined
      : dedupeOption === true || dedupeOption === 'near'
        ? { mode: 'near' as const }
        : dedupeOption === 'exact'
          ? { mode: 'exact' as const }
          : { mode: dedupeOption.mode ?? 'near', threshold: dedupeOption.threshold };
  let deduper: CaptionDeduper | undefined;
  try {
    deduper = dedupeSettings ? new CaptionDeduper(dedupeSettings) : undefined;
  } catch (error) {
    throw new InvalidInputError((error as Error).message, { field: 'dedupe', cause: error });
  }
  const perRequest = options.captionsPerRequest ?? 1;
  const concurrency = options.concurrency ?? source.maxConcurrency ?? 1;
  const maxRequests = options.maxRequests ?? Math.ceil(options.count / perRequest) * 10 + 100;
  const idPrefix = options.idPrefix ?? 'syn';
  const filterKey =
    options.filters === false
      ? false
      : { ...options.filters, custom: options.filters?.custom ? String(options.filters.custom) : undefined };
  const configHash = hash32(
    stableStringify({
      provider: source.provider,
      model: source.modelId,
      concepts: items.map((g) => g.map((c) => [c.id, c.name, c.kind, c.synonyms, c.weight ?? null])),
      k,
      sampler: typeof samplerName === 'function' ? String(samplerName) : samplerName,
      weights: options.weights ?? null,
      seed,
      wordCount: options.wordCount ?? null,
      perRequest,
      filters: filterKey,
      dedupe: dedupeSettings ?? false,
      idPrefix,
    }),
  ).toString(16);
  throwIfAborted(options.abortSignal);

  // ---- find where we are ----
  const partial = partialFile(out);
  const progressPath = progressFile(out);
  const mismatch = (what: string) =>
    new ConfigurationError(
      `${what} was written by a synthesis run with different settings; delete it, write to another out, or pass resume: false to start over`,
      { setting: 'out' },
    );
  const readState = async (): Promise<ProgressState | undefined> => {
    if (!(await fileExists(progressPath))) return undefined;
    try {
      return JSON.parse(await fs.readFile(progressPath, 'utf8')) as ProgressState;
    } catch (error) {
      throw new InvalidInputError('the progress file is not valid JSON; delete it and the .partial file to start over', {
        file: progressPath,
        cause: error,
      });
    }
  };
  await fs.mkdir(path.dirname(path.resolve(out)), { recursive: true });
  if (options.resume === false) {
    await Promise.all([fs.rm(partial, { force: true }), fs.rm(progressPath, { force: true }), fs.rm(out, { force: true })]);
  }
  let state = await readState();
  if (state && state.configHash !== configHash) throw mismatch(out);
  if (await fileExists(out)) {
    if (!state) throw mismatch(out);
    if (state.complete && (state.written >= options.count || state.exhausted)) {
      return summaryOf(state, out, source, true, state.written, started, options.count);
    }
    // More captions wanted than a finished run wrote: continue it.
    await fs.rename(out, partial);
  }
  if (!state && (await fileExists(partial))) throw mismatch(partial);

  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  const rejected: Record<string, number> = {};
  let generated = 0;
  let written = 0;
  let nextRequest = 0;
  let resumedFrom = 0;
  if (state && (await fileExists(partial))) {
    const read = await readJsonlTolerant(partial, (line, _text, error) => {
      throw new InvalidInputError(`a caption record in the middle of the file is not valid JSON; the file was edited or corrupted — delete it to start over`, {
        file: partial,
        line,
        cause: error,
      });
    });
    const records = read.lines.map(({ value, line }) => {
      const parsed = CaptionRecordSchema.safeParse(value);
      const meta = parsed.success ? (parsed.data.provider as Record<string, unknown> | undefined) : undefined;
      if (!parsed.success || typeof meta?.requestIndex !== 'number' || typeof meta?.choicesKept !== 'number') {
        throw new InvalidInputError('not a caption record of this synthesis run; delete the file to start over', { file: partial, line });
      }
      return { record: parsed.data, request: meta.requestIndex, kept: meta.choicesKept };
    });
    // Drop the last request's records when its write was cut short.
    let keep = records.length;
    let truncateTo = read.validBytes;
    if (records.length > 0) {
      const last = records[records.length - 1];
      let first = records.length - 1;
      while (first > 0 && records[first - 1].request === last.request) first--;
      if (records.length - first !== last.kept) {
        keep = first;
        truncateTo = first === 0 ? 0 : read.lines[first - 1].end;
      }
    }
    if (truncateTo !== (await fs.stat(partial)).size) await fs.truncate(partial, truncateTo);
    const kept = records.slice(0, keep);
    for (const r of kept) deduper?.add(r.record.text);
    written = kept.length;
    resumedFrom = written;
    const lastRequest = kept.length > 0 ? kept[kept.length - 1].request : -1;
    // A cut-short request is asked again; otherwise continue after the last written request, or after the
    // last recorded one when trailing requests were wholly rejected.
    nextRequest = keep !== records.length ? records[keep].request : Math.max(lastRequest + 1, state.nextRequest);
    generated = state.generated;
    Object.assign(rejected, state.rejected);
    addUsage(usage, state.usage);
  } else {
    state = undefined;
    await fs.writeFile(partial, '');
    const initial: ProgressState = {
      format: 'synth2-caption-progress',
      version: 1,
      configHash,
      nextRequest: 0,
      written: 0,
      generated: 0,
      rejected: {},
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      complete: false,
      exhausted: false,
      count: options.count,
    };
    await writeFileAtomic(progressPath, `${JSON.stringify(initial, null, 1)}\n`);
  }
  const resumed = resumedFrom > 0 || nextRequest > 0;
  // Replay the sampler up to where the run stopped (deterministic per seed).
  sampler = makeSampler();
  for (let i = 0; i < nextRequest; i++) sampler.next();

  // ---- run ----
  const handle = await fs.open(partial, 'a');
  const internal = new AbortController();
  setMaxListeners(Math.max(10, concurrency * 2 + 10), internal.signal);
  const onExternalAbort = () => internal.abort(options.abortSignal?.reason);
  options.abortSignal?.addEventListener('abort', onExternalAbort, { once: true });
  let requests = nextRequest;
  let nextToIssue = nextRequest;
  let nextToWrite = nextRequest;
  let inFlight = 0;
  let failure: unknown;
  let exhausted = false;
  const buffer = new Map<number, { concepts: Concept[]; result: CaptionResult }>();
  let pendingLines: string[] = [];
  let lastStateWrite = performance.now();
  let lastFlush = performance.now();
  let flushQueued = false;
  let acceptRate = 1;
  let seenCaptions = 0;
  let acceptedCaptions = 0;

  const snapshot = (complete: boolean): ProgressState => ({
    format: 'synth2-caption-progress',
    version: 1,
    configHash,
    nextRequest: nextToWrite,
    written,
    generated,
    rejected: { ...rejected },
    usage: { ...usage },
    complete,
    exhausted,
    count: options.count,
  });
  const writeState = async (s: ProgressState) => {
    await writeFileAtomic(progressPath, `${JSON.stringify(s, null, 1)}\n`);
    lastStateWrite = performance.now();
  };
  /** Appends the records made so far, then (at most once a second, or when forced) the progress state. */
  const flush = async (force: boolean) => {
    // Take the lines and the state they correspond to together: the state never runs ahead of the file.
    const data = pendingLines.join('');
    const s = snapshot(false);
    pendingLines = [];
    lastFlush = performance.now();
    if (data) await handle.appendFile(data);
    if (force || performance.now() - lastStateWrite > 1000) await writeState(s);
  };
  const reject = (reason: string) => {
    rejected[reason] = (rejected[reason] ?? 0) + 1;
  };
  const emit = () => {
    if (!options.onProgress) return;
    const elapsed = (performance.now() - started) / 1000;
    options.onProgress({
      written,
      count: options.count,
      requests,
      inFlight,
      rejected: Object.values(rejected).reduce((a, b) => a + b, 0),
      usage: { ...usage },
      elapsedSeconds: elapsed,
      captionsPerSecond: elapsed > 0 ? (written - resumedFrom) / elapsed : 0,
    });
  };
  /** Turns request results into records, strictly in request order. */
  const drain = () => {
    while (buffer.has(nextToWrite) && written < options.count) {
      const { concepts, result } = buffer.get(nextToWrite)!;
      buffer.delete(nextToWrite);
      generated += result.captions.length + (result.rejected?.length ?? 0);
      addUsage(usage, result.usage);
      for (const r of result.rejected ?? []) reject(r.reason);
      const accepted: string[] = [];
      for (const raw of result.captions) {
        for (const c of cleanCaptionText(raw)) {
          seenCaptions++;
          if (c.reject) {
            reject(c.reject);
            continue;
          }
          const why = filter.check(c.text, concepts) ?? deduper?.check(c.text);
          if (why) {
            reject(why);
            continue;
          }
          if (written + accepted.length >= options.count) break;
          deduper?.add(c.text);
          accepted.push(c.text);
        }
      }
      acceptedCaptions += accepted.length;
      acceptRate = Math.max(0.05, acceptedCaptions / Math.max(1, seenCaptions));
      const ids = concepts.map((c) => c.id);
      accepted.forEach((text, j) => {
        const record: CaptionRecord = {
          id: `${idPrefix}-${String(written).padStart(8, '0')}`,
          text,
          concepts: ids,
          source: 'synthetic',
          provider: { ...result.metadata, requestIndex: nextToWrite, choiceIndex: j, choicesKept: accepted.length },
        };
        pendingLines.push(`${JSON.stringify(record)}\n`);
        written++;
      });
      nextToWrite++;
      emit();
    }
  };

  await new Promise<void>((resolveRun) => {
    let writing: Promise<void> = Promise.resolve();
    let done = false;
    const fail = (error: unknown) => {
      failure ??= error;
      if (!internal.signal.aborted) internal.abort(error);
    };
    const queueFlush = () => {
      if (flushQueued) return;
      flushQueued = true;
      writing = writing
        .then(() => {
          flushQueued = false;
          return flush(false);
        })
        .catch(fail);
    };
    // Results are processed in a later macrotask, so the next request (issued by `schedule` as soon as this one
    // settles) is on the wire before cleaning, filtering and de-duplication run.
    let drainQueued = false;
    const drainSoon = () => {
      if (drainQueued) return;
      drainQueued = true;
      setImmediate(() => {
        drainQueued = false;
        if (failure === undefined && !internal.signal.aborted) {
          try {
            drain();
          } catch (error) {
            fail(error);
          }
          if (pendingLines.length >= 256 || written >= options.count || performance.now() - lastFlush > 100) queueFlush();
        }
        schedule();
      });
    };
    const schedule = () => {
      if (done) return;
      if (failure === undefined && !internal.signal.aborted) {
        while (written < options.count && inFlight < concurrency && nextToIssue - nextToWrite < concurrency * 4) {
          const pending = inFlight + buffer.size;
          if (pending > 0 && written + pending * perRequest * acceptRate >= options.count) break;
          if (nextToIssue >= maxRequests) {
            if (pending === 0) exhausted = true;
            break;
          }
          issue(nextToIssue++);
        }
      }
      if (inFlight === 0 && !drainQueued && (written >= options.count || exhausted || failure !== undefined || internal.signal.aborted)) {
        done = true;
        void writing.then(() => resolveRun());
      }
    };
    const issue = (index: number) => {
      const concepts = sampler.next();
      inFlight++;
      // One signal per request, linked to the run's: clients that never remove their abort listeners (the
      // openai client keeps one per request) then cannot pile listeners onto a long-lived signal.
      const requestController = new AbortController();
      const forward = () => requestController.abort(internal.signal.reason);
      internal.signal.addEventListener('abort', forward, { once: true });
      Promise.resolve()
        .then(() =>
          source.doGenerate({
            concepts,
            n: perRequest,
            wordCount: options.wordCount,
            seed: hash32(`${seed}:${index}`),
            abortSignal: requestController.signal,
          }),
        )
        .finally(() => internal.signal.removeEventListener('abort', forward))
        .then(
          (result) => {
            inFlight--;
            requests++;
            if (failure !== undefined || internal.signal.aborted) return;
            buffer.set(index, { concepts, result });
            drainSoon();
          },
          (error) => {
            inFlight--;
            fail(error);
          },
        )
        .finally(schedule);
    };
    internal.signal.addEventListener('abort', () => queueMicrotask(schedule), { once: true });
    schedule();
  });
  options.abortSignal?.removeEventListener('abort', onExternalAbort);
  try {
    await flush(true);
  } finally {
    await handle.close();
  }
  if (failure !== undefined || options.abortSignal?.aborted) {
    if (options.abortSignal?.aborted) throw new AbortedError('caption synthesis aborted; run it again with the same settings to resume', { cause: options.abortSignal.reason });
    throw failure;
  }
  // ---- complete: publish atomically ----
  exhausted = written < options.count;
  const finalState = snapshot(true);
  await writeState(finalState);
  await fs.rename(partial, out);
  return summaryOf(finalState, out, source, resumed, resumedFrom, started, options.count, requests);
}

function summaryOf(
  state: ProgressState,
  out: string,
  source: CaptionSourceV1,
  resumed: boolean,
  resumedFrom: number,
  started: number,
  count: number,
  requests = state.nextRequest,
): SynthesisSummary {
  const seconds = (performance.now() - started) / 1000;
  return {
    out,
    written: state.written,
    count,
    requests,
    generated: state.generated,
    rejected: { ...state.rejected },
    usage: { ...state.usage },
    provider: source.provider,
    model: source.modelId,
    resumed,
    resumedFrom,
    exhausted: state.exhausted,
    seconds,
    captionsPerSecond: seconds > 0 ? (state.written - resumedFrom) / seconds : 0,
  };
}
