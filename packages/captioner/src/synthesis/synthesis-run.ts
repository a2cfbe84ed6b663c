import type { FileHandle } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { APICallError, type CaptionRecord, type CaptionResult, type Concept, type TokenUsage } from '@synth2/core';
import type { ConceptSampler } from '../concepts/samplers';
import { failureReason, type CaptionFailureReason } from '../internal/caption-request-error';
import { hash32 } from '../internal/concurrency';
import { cleanCaptionText } from './clean-caption';
import type { CaptionDeduper } from './dedupe';
import { addUsage, copyTotals, writeProgress, type ProgressState, type RetryingRequest, type RunTotals } from './progress-state';
import type { SynthesisSettings } from './synthesis-settings';

/** Failed tries allowed before the failure budget is judged: `maxFailureRate` of at least this many tries. */
const BUDGET_MIN_TRIES = 20;
/** Wait before a failed request is tried again: 100 ms, doubling per failed try, at most 2 s. */
const retryDelayMs = (failedTries: number) => Math.min(2000, 100 * 2 ** (failedTries - 1));

/** One request of the run from its first try until it is counted in the totals. */
interface OpenRequest {
  concepts: Concept[];
  attempts: number;
  failures: CaptionFailureReason[];
  /** Tokens of tries that answered but failed (empty answers). */
  usage: TokenUsage;
  lastError?: unknown;
  /** Set once the request is finished: its answer, or `abandoned` after too many failed tries. */
  outcome?: CaptionResult | 'abandoned';
}

export interface RunProgress {
  written: number;
  requests: number;
  failed: number;
  inFlight: number;
  rejected: number;
  usage: TokenUsage;
}

export interface SynthesisRunInit {
  settings: SynthesisSettings;
  handle: FileHandle;
  progressPath: string;
  totals: RunTotals;
  nextRequest: number;
  sampler: ConceptSampler;
  deduper: CaptionDeduper | undefined;
  abortSignal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
}

/** How a run ended: `failure` is the error that stopped it (a non-retryable error or a spent failure budget). */
export interface RunOutcome {
  totals: RunTotals;
  nextRequest: number;
  exhausted: boolean;
  failure?: unknown;
  aborted: boolean;
}

/**
 * The request loop of one synthesis run: issues requests (at most `concurrency` in flight, at most 4 × concurrency
 * ahead of the writer), retries failed ones later in the run within the failure budget, turns answers into caption
 * records strictly in request order, and appends them to the partial file with a progress state that always
 * matches it.
 */
export class SynthesisRun {
  private readonly s: SynthesisSettings;
  private readonly totals: RunTotals;
  private readonly open = new Map<number, OpenRequest>();
  private readonly retryQueue: { index: number; readyAt: number }[] = [];
  private readonly internal = new AbortController();
  private nextToIssue: number;
  private nextToWrite: number;
  private inFlight = 0;
  private exhausted = false;
  private failure: unknown;
  /** Tries and failed tries of this invocation (the failure budget judges these). */
  private tries = 0;
  private failedTries = 0;
  private readonly failedByReason: Record<string, number> = {};
  private readonly startRequests: number;
  private readonly startFailed: number;
  private acceptRate = 1;
  private seenCaptions = 0;
  private acceptedCaptions = 0;
  private pendingLines: string[] = [];
  private stateDirty = false;
  private lastFlush = performance.now();
  private writing: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private drainQueued = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private finished = false;
  private resolveRun: () => void = () => undefined;

  constructor(private readonly init: SynthesisRunInit) {
    this.s = init.settings;
    this.totals = copyTotals(init.totals);
    this.nextToIssue = init.nextRequest;
    this.nextToWrite = init.nextRequest;
    this.startRequests = init.totals.requests;
    this.startFailed = init.totals.failed;
    setMaxListeners(Math.max(10, this.s.concurrency * 2 + 10), this.internal.signal);
  }

  /** Runs until `count` captions are written, `maxRequests` runs out, the run fails, or it is aborted. */
  async run(): Promise<RunOutcome> {
    const external = this.init.abortSignal;
    const onExternalAbort = () => this.internal.abort(external?.reason);
    external?.addEventListener('abort', onExternalAbort, { once: true });
    if (external?.aborted) onExternalAbort();
    try {
      await new Promise<void>((resolve) => {
        this.resolveRun = resolve;
        this.internal.signal.addEventListener('abort', () => queueMicrotask(() => this.schedule()), { once: true });
        this.schedule();
      });
    } finally {
      external?.removeEventListener('abort', onExternalAbort);
      clearTimeout(this.retryTimer);
    }
    await this.flush(true);
    return {
      totals: copyTotals(this.totals),
      nextRequest: this.nextToWrite,
      exhausted: this.exhausted,
      failure: this.failure,
      aborted: external?.aborted ?? false,
    };
  }

  /** The progress state matching what has been appended to the file so far. */
  snapshot(): ProgressState {
    const retrying: RetryingRequest[] = [];
    for (const [request, r] of this.open) {
      if (r.failures.length > 0 && r.outcome === undefined) {
        retrying.push({ request, attempts: r.attempts, reason: r.failures[r.failures.length - 1], error: String((r.lastError as Error)?.message ?? r.lastError) });
      }
    }
    return {
      format: 'synth2-caption-progress',
      version: 2,
      configHash: this.s.configHash,
      nextRequest: this.nextToWrite,
      ...copyTotals(this.totals),
      retrying: retrying.sort((a, b) => a.request - b.request),
      complete: false,
      exhausted: this.exhausted,
      count: this.s.count,
    };
  }

  private get stopping(): boolean {
    return this.failure !== undefined || this.internal.signal.aborted;
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    if (!this.internal.signal.aborted) this.internal.abort(error);
  }

  // ---- scheduling ----

  private schedule(): void {
    if (this.finished) return;
    if (!this.stopping) {
      this.issueReadyRetries();
      this.issueNewRequests();
      this.armRetryTimer();
    }
    const settled = this.totals.written >= this.s.count || this.exhausted || this.stopping;
    if (this.inFlight === 0 && !this.drainQueued && settled) {
      this.finished = true;
      void this.writing.then(() => this.resolveRun());
    }
  }

  /** Requests that are not yet counted: in flight, answered and waiting for their turn, or waiting for a retry. */
  private get pendingCount(): number {
    return this.open.size;
  }

  private issueReadyRetries(): void {
    if (this.totals.written >= this.s.count) {
      this.retryQueue.length = 0;
      return;
    }
    const now = performance.now();
    this.retryQueue.sort((a, b) => a.index - b.index);
    for (let i = 0; i < this.retryQueue.length && this.inFlight < this.s.concurrency; ) {
      if (this.retryQueue[i].readyAt <= now) this.issue(this.retryQueue.splice(i, 1)[0].index);
      else i++;
    }
  }

  private issueNewRequests(): void {
    const { concurrency, count, perRequest, maxRequests } = this.s;
    while (this.totals.written < count && this.inFlight < concurrency && this.nextToIssue - this.nextToWrite < concurrency * 4) {
      const pending = this.pendingCount;
      if (pending > 0 && this.totals.written + pending * perRequest * this.acceptRate >= count) break;
      if (this.nextToIssue >= maxRequests) {
        if (pending === 0) this.exhausted = true;
        break;
      }
      const index = this.nextToIssue++;
      this.open.set(index, { concepts: this.init.sampler.next(), attempts: 0, failures: [], usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 } });
      this.issue(index);
    }
  }

  /** Wakes the scheduler when the next waiting retry is due (ready ones go out as soon as a slot frees). */
  private armRetryTimer(): void {
    if (this.retryTimer !== undefined) return;
    const now = performance.now();
    const due = this.retryQueue.filter((r) => r.readyAt > now).map((r) => r.readyAt);
    if (due.length === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, Math.min(...due) - now);
  }

  private issue(index: number): void {
    const request = this.open.get(index)!;
    request.attempts++;
    this.inFlight++;
    // One signal per request, linked to the run's: clients that never remove their abort listeners (the openai
    // client keeps one per request) then cannot pile listeners onto a long-lived signal.
    const controller = new AbortController();
    const forward = () => controller.abort(this.internal.signal.reason);
    this.internal.signal.addEventListener('abort', forward, { once: true });
    const seedKey = request.attempts === 1 ? `${this.s.seed}:${index}` : `${this.s.seed}:${index}:${request.attempts}`;
    Promise.resolve()
      .then(() =>
        this.s.source.doGenerate({
          concepts: request.concepts,
          n: this.s.perRequest,
          wordCount: this.s.wordCount,
          seed: hash32(seedKey),
          abortSignal: controller.signal,
        }),
      )
      .finally(() => this.internal.signal.removeEventListener('abort', forward))
      .then(
        (result) => {
          this.inFlight--;
          this.onAnswer(index, request, result);
        },
        (error: unknown) => {
          this.inFlight--;
          this.onError(index, request, error);
        },
      )
      .catch((error: unknown) => this.fail(error))
      .finally(() => this.schedule());
  }

  // ---- answers and failures ----

  private onAnswer(index: number, request: OpenRequest, result: CaptionResult): void {
    if (this.stopping) return;
    this.tries++;
    if (isEmptyAnswer(result)) {
      addUsage(request.usage, result.usage);
      this.onFailure(index, request, 'empty', new APICallError('the source answered with no caption text (empty or null content in every choice)', { retryable: true }));
      return;
    }
    request.outcome = result;
    this.drainSoon();
  }

  private onError(index: number, request: OpenRequest, error: unknown): void {
    if (this.stopping) return;
    this.tries++;
    // Only errors the source marks as retryable are retried; anything else (bad key, unknown model, bugs) stops.
    if (!(APICallError.isInstance(error) && error.retryable)) return this.fail(error);
    this.onFailure(index, request, failureReason(error), error);
  }

  private onFailure(index: number, request: OpenRequest, reason: CaptionFailureReason, error: unknown): void {
    request.failures.push(reason);
    request.lastError = error;
    this.failedTries++;
    this.failedByReason[reason] = (this.failedByReason[reason] ?? 0) + 1;
    this.stateDirty = true;
    if (this.failedTries > this.s.maxFailureRate * Math.max(this.tries, BUDGET_MIN_TRIES)) {
      this.fail(new FailureBudgetSpent(this.tries, this.failedTries, { ...this.failedByReason }, error));
      return;
    }
    if (request.attempts >= this.s.maxRequestAttempts) {
      request.outcome = 'abandoned';
      this.drainSoon();
      return;
    }
    this.retryQueue.push({ index, readyAt: performance.now() + retryDelayMs(request.failures.length) });
    this.emit();
  }

  // ---- records, in request order ----

  /** Results are processed in a later macrotask, so the next request is on the wire before cleaning runs. */
  private drainSoon(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    setImmediate(() => {
      this.drainQueued = false;
      if (!this.stopping) {
        try {
          this.drain();
        } catch (error) {
          this.fail(error);
        }
        const now = performance.now();
        if (this.pendingLines.length >= 256 || this.totals.written >= this.s.count || now - this.lastFlush > 100) this.queueFlush();
      }
      this.schedule();
    });
  }

  private drain(): void {
    for (let r = this.open.get(this.nextToWrite); r?.outcome !== undefined && this.totals.written < this.s.count; r = this.open.get(this.nextToWrite)) {
      this.open.delete(this.nextToWrite);
      this.countTries(r);
      if (r.outcome === 'abandoned') this.totals.abandoned++;
      else this.writeRecords(this.nextToWrite, r.concepts, r.outcome);
      this.nextToWrite++;
      this.stateDirty = true;
      this.emit();
    }
  }

  private countTries(r: OpenRequest): void {
    const t = this.totals;
    t.requests += r.attempts;
    t.failed += r.failures.length;
    for (const reason of r.failures) t.failures[reason] = (t.failures[reason] ?? 0) + 1;
    addUsage(t.usage, r.usage);
  }

  private writeRecords(index: number, concepts: Concept[], result: CaptionResult): void {
    const t = this.totals;
    t.generated += result.captions.length + (result.rejected?.length ?? 0);
    addUsage(t.usage, result.usage);
    for (const r of result.rejected ?? []) this.reject(r.reason);
    const accepted = this.acceptCaptions(result.captions, concepts);
    const ids = concepts.map((c) => c.id);
    accepted.forEach((text, j) => {
      const record: CaptionRecord = {
        id: `${this.s.idPrefix}-${String(t.written).padStart(8, '0')}`,
        text,
        concepts: ids,
        source: 'synthetic',
        provider: { ...result.metadata, requestIndex: index, choiceIndex: j, choicesKept: accepted.length },
      };
      this.pendingLines.push(`${JSON.stringify(record)}\n`);
      t.written++;
    });
  }

  /** Cleans, filters and de-duplicates one answer's captions, up to the captions still wanted. */
  private acceptCaptions(captions: readonly string[], concepts: Concept[]): string[] {
    const accepted: string[] = [];
    for (const raw of captions) {
      for (const c of cleanCaptionText(raw)) {
        this.seenCaptions++;
        if (c.reject) {
          this.reject(c.reject);
          continue;
        }
        const why = this.s.filter.check(c.text, concepts) ?? this.init.deduper?.check(c.text);
        if (why) {
          this.reject(why);
          continue;
        }
        if (this.totals.written + accepted.length >= this.s.count) break;
        this.init.deduper?.add(c.text);
        accepted.push(c.text);
      }
    }
    this.acceptedCaptions += accepted.length;
    this.acceptRate = Math.max(0.05, this.acceptedCaptions / Math.max(1, this.seenCaptions));
    return accepted;
  }

  private reject(reason: string): void {
    this.totals.rejected[reason] = (this.totals.rejected[reason] ?? 0) + 1;
  }

  private emit(): void {
    this.init.onProgress?.({
      written: this.totals.written,
      requests: this.startRequests + this.tries,
      failed: this.startFailed + this.failedTries,
      inFlight: this.inFlight,
      rejected: Object.values(this.totals.rejected).reduce((a, b) => a + b, 0),
      usage: { ...this.totals.usage },
    });
  }

  // ---- the partial file and the progress state ----

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.writing = this.writing
      .then(() => {
        this.flushQueued = false;
        return this.flush(false);
      })
      .catch((error: unknown) => this.fail(error));
  }

  /**
   * Appends the records made so far, then the progress state taken together with them: the state never runs ahead
   * of the file, and lags it only while this write is under way (a resumed run cuts the file back to the state).
   * Flushes happen at most every 100 ms or 256 records; the state is synced to disk only when forced (at the end).
   */
  private async flush(force: boolean): Promise<void> {
    const data = this.pendingLines.join('');
    const state = this.snapshot();
    this.pendingLines = [];
    this.lastFlush = performance.now();
    if (data) await this.init.handle.appendFile(data);
    if (force || data || this.stateDirty) {
      this.stateDirty = false;
      await writeProgress(this.init.progressPath, state, { fsync: force });
    }
  }
}

/** An answer with no caption text at all: every choice empty or `null`. */
function isEmptyAnswer(result: CaptionResult): boolean {
  return result.captions.every((c) => !c.trim()) && (result.rejected ?? []).every((r) => r.reason === 'empty');
}

/** Why a run stopped when more requests failed than `maxFailureRate` allows: this invocation's tries, failed tries by reason, and the last error. */
export class FailureBudgetSpent {
  constructor(
    readonly tries: number,
    readonly failed: number,
    readonly byReason: Record<string, number>,
    readonly last: unknown,
  ) {}
}
