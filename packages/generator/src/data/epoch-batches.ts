import { Rng } from '@synth2/core';

/** Epoch-wise shuffled batches over `n` items (a core `BatchSource`): deterministic and resumable. */
export class EpochBatches<B> {
  private epoch = 0;
  private cursor = 0;
  private perm: number[];
  constructor(
    private readonly n: number,
    readonly batchSize: number,
    private readonly seed: number,
    private readonly collate: (idx: number[], rng: Rng) => B,
  ) {
    this.perm = new Rng(seed).fork(0).permutation(n);
  }
  next(rng: Rng): B {
    const idx: number[] = [];
    while (idx.length < this.batchSize) {
      if (this.cursor >= this.n) {
        this.epoch++;
        this.cursor = 0;
        this.perm = new Rng(this.seed).fork(this.epoch).permutation(this.n);
      }
      idx.push(this.perm[this.cursor++]);
    }
    return this.collate(idx, rng);
  }
  getState(): unknown {
    return { epoch: this.epoch, cursor: this.cursor };
  }
  setState(state: unknown): void {
    const s = state as { epoch: number; cursor: number };
    this.epoch = s.epoch;
    this.cursor = s.cursor;
    this.perm = new Rng(this.seed).fork(this.epoch).permutation(this.n);
  }
}
