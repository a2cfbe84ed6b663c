/** Learning-rate schedule options: linear warmup then cosine decay to `lr · minLrRatio`. */
export interface ScheduleOptions {
  /** Steps of linear warmup from `lr/warmupSteps` to `lr` (default 0). */
  warmupSteps?: number;
  /** Final learning rate as a fraction of the peak (default 0.1). */
  minLrRatio?: number;
}

/** Learning rate for 0-based `step` of `steps`: warmup `lr·(step+1)/warmup`, then cosine from `lr` to `lr·minLrRatio`. */
export function learningRateAt(step: number, steps: number, lr: number, schedule: ScheduleOptions = {}): number {
  const warmup = Math.max(0, Math.floor(schedule.warmupSteps ?? 0));
  const minRatio = schedule.minLrRatio ?? 0.1;
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const decaySteps = Math.max(1, steps - warmup - 1);
  const progress = Math.min(1, Math.max(0, (step - warmup) / decaySteps));
  const min = lr * minRatio;
  return min + (lr - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
