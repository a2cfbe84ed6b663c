import * as tf from '@tensorflow/tfjs-core';
import { ConfigurationError, InvalidInputError, Rng } from '@synth2/core';

/** How a parameter is initialised. All random draws come from the module's seeded {@link Rng}. */
export type Initializer =
  | { kind: 'normal'; std: number }
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'uniform'; limit: number }
  | { kind: 'heNormal' };

/** Options every module accepts. */
export interface ModuleOptions {
  /** Source of the initial parameter values (default: `new Rng(0)`). */
  rng?: Rng;
}

/** Options of `Module.param` (for subclasses declaring a parameter): trainable or not, and dtype. */
export interface ParamOptions {
  trainable?: boolean;
  dtype?: 'float32' | 'int32';
}

type Entry = { kind: 'param'; name: string; variable: tf.Variable } | { kind: 'child'; name: string; module: Module };

/** Fan-in of a weight shape: all dims but the last (dense `[in, out]`, conv `[kh, kw, in, out]`). */
function fanIn(shape: number[]): number {
  if (shape.length <= 1) return Math.max(1, shape[0] ?? 1);
  return shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/** Fills a typed array with initial values drawn from `rng`. */
export function initialValues(shape: number[], init: Initializer, rng: Rng, dtype: 'float32' | 'int32' = 'float32'): Float32Array | Int32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  switch (init.kind) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'normal':
      for (let i = 0; i < size; i++) out[i] = rng.normal(0, init.std);
      break;
    case 'uniform':
      for (let i = 0; i < size; i++) out[i] = rng.uniform(-init.limit, init.limit);
      break;
    case 'heNormal': {
      const std = Math.sqrt(2 / fanIn(shape));
      for (let i = 0; i < size; i++) out[i] = rng.normal(0, std);
      break;
    }
    default:
      throw new InvalidInputError(`unknown initializer ${JSON.stringify(init)}; use normal, zeros, ones, uniform or heNormal`);
  }
  return out;
}

/**
 * Base class of every neural building block: owns named parameters (tfjs variables) and child modules in a tree.
 * A parameter's full name is its module's path plus its own name (`vlm.decoder.blocks.0.attn.q.weight`).
 */
export abstract class Module {
  /** The name given at construction (the path prefix when this module is a root). */
  readonly name: string;
  /** Seeded source of initial values; children should be given the same instance. */
  protected readonly rng: Rng;
  private readonly entries: Entry[] = [];
  private parent: Module | undefined;
  private localName: string;

  constructor(name: string, options: ModuleOptions = {}) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidInputError('a module needs a non-empty name (the prefix of its parameter names)');
    }
    this.name = name;
    this.localName = name;
    this.rng = options.rng ?? new Rng(0);
  }

  /** This module's full path (`parent.path + '.' + name`). */
  get path(): string {
    return this.parent ? `${this.parent.path}.${this.localName}` : this.localName;
  }

  /** Creates (once) and returns a variable named `${path}.${name}`. */
  protected param(name: string, shape: number[], init: Initializer, opts: ParamOptions = {}): tf.Variable {
    const existing = this.entries.find((e) => e.name === name);
    if (existing) {
      if (existing.kind !== 'param') throw new InvalidInputError(`${this.path}.${name} is already a submodule, not a parameter`);
      if (!tf.util.arraysEqual(existing.variable.shape, shape)) {
        throw new InvalidInputError(
          `parameter ${this.path}.${name} already exists with shape [${existing.variable.shape}], asked for [${shape}]`,
        );
      }
      return existing.variable;
    }
    if (!shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new InvalidInputError(`parameter ${this.path}.${name}: shape [${shape}] must be positive integers`);
    }
    const dtype = opts.dtype ?? 'float32';
    const values = initialValues(shape, init, this.rng, dtype);
    let variable: tf.Variable;
    try {
      variable = tf.tidy(() => tf.variable(tf.tensor(values, shape, dtype), opts.trainable ?? true));
    } catch (error) {
      if (/no backend/i.test(String((error as Error)?.message))) {
        throw new ConfigurationError(
          `cannot create parameter ${this.path}.${name}: no tfjs backend is ready. Call \`await initBackend()\` from '@synth2/nn' before building modules.`,
          { setting: 'backend', cause: error },
        );
      }
      throw error;
    }
    this.entries.push({ kind: 'param', name, variable });
    return variable;
  }

  /** Registers `module` as a submodule under `${path}.${name}` and returns it. */
  protected child<M extends Module>(name: string, module: M): M {
    if (this.entries.some((e) => e.name === name)) {
      throw new InvalidInputError(`${this.path} already has a parameter or submodule named "${name}"`);
    }
    if (module.parent) throw new InvalidInputError(`module ${module.path} already belongs to another module`);
    module.parent = this;
    module.localName = name;
    this.entries.push({ kind: 'child', name, module });
    return module;
  }

  /** All parameters, fully qualified names, in creation order. */
  parameters(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    this.collect(this.path, out);
    return out;
  }

  private collect(prefix: string, out: Map<string, tf.Variable>): void {
    for (const e of this.entries) {
      if (e.kind === 'param') out.set(`${prefix}.${e.name}`, e.variable);
      else e.module.collect(`${prefix}.${e.name}`, out);
    }
  }

  /** The trainable variables, in creation order. */
  trainableVariables(): tf.Variable[] {
    return [...this.parameters().values()].filter((v) => v.trainable);
  }

  /** Number of scalar values in all parameters. */
  numParameters(): number {
    let n = 0;
    for (const v of this.parameters().values()) n += v.size;
    return n;
  }

  /** Frees every parameter of this module and its children. */
  dispose(): void {
    for (const v of this.parameters().values()) if (!v.isDisposed) v.dispose();
  }
}

/** Throws an `InvalidInputError` unless `x`'s last dimension is `dim`. */
export function expectLastDim(x: tf.Tensor, dim: number, what: string, minRank = 1): void {
  if (x.rank < minRank || x.shape[x.rank - 1] !== dim) {
    throw new InvalidInputError(
      `${what}: expected a tensor of rank ≥ ${minRank} with last dimension ${dim}, got shape [${x.shape}]; check the layer's input size`,
    );
  }
}
