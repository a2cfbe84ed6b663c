import cliProgress from 'cli-progress';
import type { StageEvent } from './run-directory';

/** How the CLI prints progress: `pretty` (progress bars), `quiet` or `json` (one event per line). */
export type OutputMode = 'pretty' | 'quiet' | 'json';

/** Progress of a long stage: `done` out of `total` units (steps, captions, images). */
export interface ProgressUpdate {
  stage: string;
  done: number;
  total: number;
  unit: string;
  /** Extra fields shown after the bar, e.g. `{ loss: 2.31 }`. */
  info?: Record<string, number | string>;
}

/**
 * Renders pipeline events: progress bars with rate and ETA on a terminal (`pretty`), nothing but errors
 * (`quiet`), or one JSON object per line (`json`, for scripts).
 */
export class Reporter {
  private multi?: cliProgress.MultiBar;
  private readonly bars = new Map<string, { bar: cliProgress.SingleBar; startedAt: number }>();
  private lastJson = new Map<string, number>();

  constructor(
    readonly mode: OutputMode,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {}

  log(message: string): void {
    if (this.mode === 'pretty') this.write(`${message}\n`);
    else if (this.mode === 'json') this.json({ type: 'log', message });
  }

  event(e: StageEvent): void {
    if (this.mode === 'json') return this.json(e);
    if (this.mode === 'quiet') {
      if (e.type === 'stage-failed') this.out.write(`✗ ${e.stage}: ${e.error}\n`);
      return;
    }
    if (e.type !== 'stage-start') this.removeBar(e.stage);
    if (e.type === 'stage-skip') this.write(`• ${e.stage}: skipped (${e.reason})\n`);
    else if (e.type === 'stage-start') this.write(`▶ ${e.stage}${e.resuming ? ' (resuming)' : ''} — ${e.reason}\n`);
    else if (e.type === 'stage-done') this.write(`✓ ${e.stage} in ${formatSeconds(e.seconds)}\n`);
    else this.write(`✗ ${e.stage}: ${e.error}\n`);
  }

  /** Progress of a stage; several stages may report at once (one bar each). */
  progress(p: ProgressUpdate): void {
    if (this.mode === 'quiet') return;
    if (this.mode === 'json') {
      const now = Date.now();
      if (now - (this.lastJson.get(p.stage) ?? 0) < 1000 && p.done < p.total) return;
      this.lastJson.set(p.stage, now);
      return this.json({ type: 'progress', ...p });
    }
    const info = p.info
      ? Object.entries(p.info)
          .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
          .join(' ')
      : '';
    if (!(this.out as NodeJS.WriteStream).isTTY) return this.plainProgress(p, info);
    let entry = this.bars.get(p.stage);
    if (!entry) {
      this.multi ??= new cliProgress.MultiBar(
        {
          format: `  {stage} [{bar}] {value}/{total} {unit} | {rate} {unit}/s | ETA {eta_formatted} | {info}`,
          stream: this.out,
          hideCursor: false,
          clearOnComplete: false,
          etaBuffer: 50,
          fps: 5,
          noTTYOutput: !(this.out as NodeJS.WriteStream).isTTY,
          notTTYSchedule: 10_000,
        },
        cliProgress.Presets.shades_classic,
      );
      entry = { bar: this.multi.create(p.total, p.done, { stage: p.stage, unit: p.unit, info, rate: '0' }), startedAt: Date.now() };
      this.bars.set(p.stage, entry);
    }
    const rate = p.done / Math.max(1e-3, (Date.now() - entry.startedAt) / 1000);
    entry.bar.setTotal(p.total);
    entry.bar.update(p.done, { stage: p.stage, unit: p.unit, info, rate: formatNumber(rate) });
  }

  private readonly plainStarted = new Map<string, number>();

  /** Without a terminal: one line per stage every 10 s (and at the end) instead of redrawn bars. */
  private plainProgress(p: ProgressUpdate, info: string): void {
    const now = Date.now();
    if (!this.plainStarted.has(p.stage)) this.plainStarted.set(p.stage, now);
    const last = this.lastJson.get(p.stage);
    if (last !== undefined && now - last < 10_000 && p.done < p.total) return;
    this.lastJson.set(p.stage, now);
    const seconds = Math.max(1e-3, (now - this.plainStarted.get(p.stage)!) / 1000);
    const rate = p.done / seconds;
    const eta = rate > 0 ? formatSeconds((p.total - p.done) / rate) : '?';
    this.out.write(`  ${p.stage} ${p.done}/${p.total} ${p.unit} | ${formatNumber(rate)} ${p.unit}/s | ETA ${eta}${info ? ` | ${info}` : ''}\n`);
  }

  /** Stops every bar (call before printing a final summary). */
  stopBar(): void {
    if (this.multi) {
      this.multi.stop();
      this.multi = undefined;
      this.bars.clear();
    }
  }

  private removeBar(stage: string): void {
    const entry = this.bars.get(stage);
    if (!entry || !this.multi) return;
    entry.bar.stop();
    this.multi.remove(entry.bar);
    this.bars.delete(stage);
    if (this.bars.size === 0) this.stopBar();
  }

  private write(text: string): void {
    if (this.multi && (this.out as NodeJS.WriteStream).isTTY) this.multi.log(text);
    else this.out.write(text);
  }

  private json(value: unknown): void {
    this.out.write(`${JSON.stringify(value)}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}
