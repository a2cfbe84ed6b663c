import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError } from '@synth2/core';
import { fusedAdamW, fusedAdamWAvailable } from './fused-adamw';

/** Options of `AdamW`: learning rate, betas, epsilon and weight decay. */
export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Which parameters get weight decay (default: rank ≥ 2, i.e. weights but not biases, norms or gates). */
  decay?: (name: string, variable: tf.Variable) => boolean;
  /** Use the fused single-pass update on wasm/cpu (default true). */
  fused?: boolean;
}

/**
 * AdamW (Loshchilov & Hutter): Adam moments with bias correction, weight decay decoupled from the gradient
 * (`p ← p − lr·(m̂/(√v̂+eps) + wd·p)`). Its moments are tfjs variables named after the parameters
 * (`<param>.adam_m`, `<param>.adam_v`) so they can be checkpointed; `t` is the number of updates done.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly names: string[];
  readonly params: tf.Variable[];
  readonly m: tf.Variable[];
  readonly v: tf.Variable[];
  private readonly decays: boolean[];
  private readonly fused: boolean;
  /** Updates applied so far. */
  t = 0;

  constructor(params: Map<string, tf.Variable>, options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    const decay = options.decay ?? ((_n: string, v: tf.Variable) => v.rank >= 2);
    this.names = [...params.keys()];
    this.params = [...params.values()];
    this.fused = options.fused ?? true;
    this.decays = this.names.map((n, i) => decay(n, this.params[i]));
    this.m = this.params.map((p) => tf.variable(tf.zerosLike(p), false));
    this.v = this.params.map((p) => tf.variable(tf.zerosLike(p), false));
  }

  /**
   * Applies one update with gradients in the order of `params`, each first multiplied by `gradScale` (global-norm
   * clipping). Uses one fused kernel per tensor on wasm/cpu (see `fused-adamw.ts`), tfjs ops elsewhere or when
   * `fused: false` was given. Call inside `tf.tidy`.
   */
  apply(grads: tf.Tensor[], lr: number, gradScale = 1): void {
    if (grads.length !== this.params.length) {
      throw new InvalidInputError(`AdamW.apply: got ${grads.length} gradients for ${this.params.length} parameters`);
    }
    this.t += 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 / (1 - Math.pow(b1, this.t));
    const c2 = 1 / (1 - Math.pow(b2, this.t));
    const fused = this.fused && fusedAdamWAvailable();
    tf.tidy(() => {
      for (let i = 0; i < this.params.length; i++) {
        const p = this.params[i];
        const decay = this.decays[i] ? this.weightDecay : 0;
        if (fused) {
          const [pNew, mNew, vNew] = fusedAdamW(p, grads[i], this.m[i], this.v[i], { lr, beta1: b1, beta2: b2, c1, c2, eps: this.eps, decay, gradScale });
          this.m[i].assign(mNew);
          this.v[i].assign(vNew);
          p.assign(pNew);
          continue;
        }
        const g = gradScale === 1 ? grads[i] : tf.mul(grads[i], gradScale);
        const m = tf.add(tf.mul(this.m[i], b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(this.v[i], b2), tf.mul(tf.square(g), 1 - b2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        let update = tf.div(tf.mul(m, c1), tf.add(tf.sqrt(tf.mul(v, c2)), this.eps));
        if (decay > 0) update = tf.add(update, tf.mul(p, decay));
        p.assign(tf.sub(p, tf.mul(update, lr)));
      }
    });
  }

  /** Moments as named tensors (`<param>.adam_m` / `.adam_v`) for a checkpoint. */
  stateTensors(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    this.names.forEach((n, i) => {
      out.set(`${n}.adam_m`, this.m[i]);
      out.set(`${n}.adam_v`, this.v[i]);
    });
    return out;
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
