import cliProgress from 'cli-progress';
import type { StageEvent } from './run-directory';

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
  private bar?: cliProgress.SingleBar;
  private barStage?: string;
  private lastJson = 0;

  constructor(
    readonly mode: OutputMode,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {}

  log(message: string): void {
    if (this.mode === 'pretty') {
      this.stopBar();
      this.out.write(`${message}\n`);
    } else if (this.mode === 'json') this.json({ type: 'log', message });
  }

  event(e: StageEvent): void {
    if (this.mode === 'json') return this.json(e);
    if (this.mode === 'quiet') {
      if (e.type === 'stage-failed') this.out.write(`✗ ${e.stage}: ${e.error}\n`);
      return;
    }
    this.stopBar();
    if (e.type === 'stage-skip') this.out.write(`• ${e.stage}: skipped (${e.reason})\n`);
    else if (e.type === 'stage-start') this.out.write(`▶ ${e.stage}${e.resuming ? ' (resuming)' : ''} — ${e.reason}\n`);
    else if (e.type === 'stage-done') this.out.write(`✓ ${e.stage} in ${formatSeconds(e.seconds)}\n`);
    else this.out.write(`✗ ${e.stage}: ${e.error}\n`);
  }

  progress(p: ProgressUpdate): void {
    if (this.mode === 'quiet') return;
    if (this.mode === 'json') {
      const now = Date.now();
      if (now - this.lastJson < 1000 && p.done < p.total) return;
      this.lastJson = now;
      return this.json({ type: 'progress', ...p });
    }
    const info = p.info
      ? Object.entries(p.info)
          .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
          .join(' ')
      : '';
    if (!this.bar || this.barStage !== p.stage) {
      this.stopBar();
      this.bar = new cliProgress.SingleBar(
        {
          format: `  ${p.stage} [{bar}] {value}/{total} ${p.unit} | {rate} ${p.unit}/s | ETA {eta_formatted} | {info}`,
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
      this.barStage = p.stage;
      this.bar.start(p.total, p.done, { info, rate: '0' });
      (this.bar as unknown as { startedAt: number }).startedAt = Date.now();
    }
    const started = (this.bar as unknown as { startedAt: number }).startedAt;
    const rate = p.done / Math.max(1e-3, (Date.now() - started) / 1000);
    this.bar.setTotal(p.total);
    this.bar.update(p.done, { info, rate: formatNumber(rate) });
    if (p.done >= p.total) this.stopBar();
  }

  stopBar(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
      this.barStage = undefined;
    }
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
