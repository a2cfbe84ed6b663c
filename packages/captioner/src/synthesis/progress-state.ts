import { promises as fs } from 'node:fs';
import { CaptionRecordSchema, InvalidInputError, writeFileAtomic, type TokenUsage } from '@synth2/core';
import { fileExists, readJsonlTolerant } from '../internal/jsonl-file';
import type { CaptionDeduper } from './dedupe';

/**
 * What the requests behind the output file add up to. Every count covers exactly the requests below
 * `nextRequest`: those whose records are in the file, and those wholly rejected or given up.
 */
export interface RunTotals {
  written: number;
  /** Caption texts received (before cleaning and filters). */
  generated: number;
  rejected: Record<string, number>;
  usage: TokenUsage;
  /** Requests sent, failed tries included. */
  requests: number;
  /** Tries that failed (timeouts, resets, malformed or empty answers, 5xx after the client's retries, …). */
  failed: number;
  /** Failed tries by reason (`timeout`, `reset`, `malformed`, `empty`, `http-503`, …). */
  failures: Record<string, number>;
  /** Requests given up after `maxRequestAttempts` failed tries (later requests made up for them). */
  abandoned: number;
}

/** A request that failed and waits to be tried again later in the run. */
export interface RetryingRequest {
  request: number;
  attempts: number;
  reason: string;
  error: string;
}

export interface ProgressState extends RunTotals {
  format: 'synth2-caption-progress';
  version: 2;
  configHash: string;
  /** Every request below this index is finished (written, wholly rejected, or given up) and counted in the totals. */
  nextRequest: number;
  /** Requests at or after `nextRequest` that failed and are to be retried (informational; a resumed run redoes them). */
  retrying: RetryingRequest[];
  /** True only when `count` captions were written and the file was published as `out`. */
  complete: boolean;
  /** True when `maxRequests` ran out before `count` captions passed the filters. */
  exhausted: boolean;
  count: number;
}

export const progressFile = (out: string) => `${out}.progress.json`;
export const partialFile = (out: string) => `${out}.partial`;

export function emptyTotals(): RunTotals {
  return {
    written: 0,
    generated: 0,
    rejected: {},
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    requests: 0,
    failed: 0,
    failures: {},
    abandoned: 0,
  };
}

export function addUsage(total: TokenUsage, u?: TokenUsage): void {
  if (!u) return;
  total.promptTokens += u.promptTokens;
  total.completionTokens += u.completionTokens;
  total.totalTokens = (total.totalTokens ?? 0) + (u.totalTokens ?? u.promptTokens + u.completionTokens);
}

export function copyTotals(t: RunTotals): RunTotals {
  return { ...t, rejected: { ...t.rejected }, usage: { ...t.usage }, failures: { ...t.failures } };
}

export function initialState(configHash: string, count: number): ProgressState {
  return {
    format: 'synth2-caption-progress',
    version: 2,
    configHash,
    nextRequest: 0,
    ...emptyTotals(),
    retrying: [],
    complete: false,
    exhausted: false,
    count,
  };
}

/** Reads the progress file (undefined when there is none); files of version 1 get the counts they lacked. */
export async function readProgress(file: string): Promise<ProgressState | undefined> {
  if (!(await fileExists(file))) return undefined;
  let raw: Partial<ProgressState> & { version?: number };
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8')) as typeof raw;
  } catch (error) {
    throw new InvalidInputError('the progress file is not valid JSON; delete it and the .partial file to start over', { file, cause: error });
  }
  const nextRequest = raw.nextRequest ?? 0;
  return {
    ...initialState(raw.configHash ?? '', raw.count ?? 0),
    ...raw,
    version: 2,
    requests: raw.requests ?? nextRequest,
    nextRequest,
  } as ProgressState;
}

export async function writeProgress(file: string, state: ProgressState, options: { fsync?: boolean } = {}): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 1)}\n`, { fsync: options.fsync ?? true });
}

export interface RecoveredPartial {
  /** Totals of the kept records' requests. */
  totals: RunTotals;
  /** The first request to (re)do. */
  nextRequest: number;
}

interface PartialRecord {
  request: number;
  kept: number;
  text: string;
}

async function readPartialRecords(partial: string): Promise<{ records: PartialRecord[]; ends: number[] }> {
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
    return { request: meta.requestIndex, kept: meta.choicesKept, text: parsed.data.text };
  });
  return { records, ends: read.lines.map((l) => l.end) };
}

/** How many leading records belong to whole requests (a request cut short by a crash is dropped). */
function wholeRequestPrefix(records: PartialRecord[]): number {
  if (records.length === 0) return 0;
  const last = records[records.length - 1];
  let first = records.length - 1;
  while (first > 0 && records[first - 1].request === last.request) first--;
  return records.length - first === last.kept ? records.length : first;
}

/**
 * Brings `<out>.partial` back to the point the progress state describes, so that the totals are exact: records of
 * requests at or after `state.nextRequest` (written after the last state write, before a crash or kill) are cut
 * and those requests redone. A file that holds fewer records than the state counts (cut or edited outside the
 * run) keeps its whole requests; its totals then come from the state as they are. Feeds the kept captions to
 * `deduper`.
 */
export async function recoverPartial(partial: string, state: ProgressState, deduper: CaptionDeduper | undefined): Promise<RecoveredPartial> {
  const { records, ends } = await readPartialRecords(partial);
  let keep = 0;
  while (keep < records.length && records[keep].request < state.nextRequest) keep++;
  let totals = copyTotals(state);
  let nextRequest = state.nextRequest;
  if (keep !== state.written) {
    keep = wholeRequestPrefix(records.slice(0, Math.min(keep, state.written)));
    nextRequest = keep < records.length ? records[keep].request : keep > 0 ? records[keep - 1].request + 1 : 0;
    totals = { ...totals, written: keep };
  }
  const truncateTo = keep === 0 ? 0 : ends[keep - 1];
  if (truncateTo !== (await fs.stat(partial)).size) await fs.truncate(partial, truncateTo);
  for (const r of records.slice(0, keep)) deduper?.add(r.text);
  return { totals, nextRequest };
}
