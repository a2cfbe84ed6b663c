import type { Rng } from '@synth2/core';

/** A resumable stream of batches. */
export interface BatchSource<Batch> {
  /** Deterministic batch for a position in the stream: the trainer passes its own Rng (restored on resume). */
  next(rng: Rng): Batch;
  /** State to save with a checkpoint and restore on resume (epoch, cursor, permutation seed…). */
  getState(): unknown;
  setState(state: unknown): void;
  /** Items per batch, when known (used for the items/s throughput metric). */
  readonly batchSize?: number;
}
