import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError } from '@synth2/core';
import { positiveInt } from './linear';
import { Module, type ModuleOptions } from './module';

/** Padding of a convolution: `same` keeps the size, `valid` adds none. */
export type ConvPadding = 'same' | 'valid';

/** Options of `Conv2d`. */
export interface Conv2dOptions extends ModuleOptions {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  padding?: ConvPadding;
  bias?: boolean;
}

function checkNhwc(x: tf.Tensor, channels: number, where: string): void {
  if (x.rank !== 4 || x.shape[3] !== channels) {
    throw new InvalidInputError(`${where}: x must be NHWC [B, H, W, ${channels}], got shape [${x.shape}]`);
  }
}

function checkPadding(padding: unknown, where: string): ConvPadding {
  if (padding !== 'same' && padding !== 'valid') throw new InvalidInputError(`${where}: padding must be 'same' or 'valid', got ${String(padding)}`);
  return padding;
}

/** 2-D convolution, NHWC; `weight: [k, k, in, out]` (He normal), `bias: [out]` (zeros). */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: ConvPadding;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(name: string, options: Conv2dOptions) {
    super(name, options);
    this.inChannels = positiveInt(options.inChannels, `${name}: inChannels`);
    this.outChannels = positiveInt(options.outChannels, `${name}: outChannels`);
    this.kernel = positiveInt(options.kernel, `${name}: kernel`);
    this.stride = positiveInt(options.stride ?? 1, `${name}: stride`);
    this.padding = checkPadding(options.padding ?? 'same', name);
    this.weight = this.param('weight', [this.kernel, this.kernel, this.inChannels, this.outChannels], { kind: 'heNormal' });
    this.bias = options.bias === false ? undefined : this.param('bias', [this.outChannels], { kind: 'zeros' });
  }

  /** `x: [B, H, W, inChannels]` → `[B, H', W', outChannels]`. */
  apply(x: tf.Tensor): tf.Tensor4D {
    checkNhwc(x, this.inChannels, `Conv2d ${this.path}`);
    return tf.tidy(() => {
      let y: tf.Tensor4D = tf.conv2d(x as tf.Tensor4D, this.weight as tf.Tensor4D, this.stride, this.padding);
      if (this.bias) y = tf.add(y, this.bias);
      return y;
    });
  }
}

/** Options of `ConvTranspose2d`. */
export interface ConvTranspose2dOptions extends ModuleOptions {
  inChannels: number;
  outChannels: number;
  kernel: number;
  /** Upsampling factor (default 2). */
  stride?: number;
  padding?: ConvPadding;
  bias?: boolean;
}

/**
 * Transposed 2-D convolution (upsampling), NHWC; `weight: [k, k, out, in]` (He normal), `bias: [out]`.
 * Output `H·stride` with 'same' padding, `(H−1)·stride + k` with 'valid'.
 */
export class ConvTranspose2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: ConvPadding;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(name: string, options: ConvTranspose2dOptions) {
    super(name, options);
    this.inChannels = positiveInt(options.inChannels, `${name}: inChannels`);
    this.outChannels = positiveInt(options.outChannels, `${name}: outChannels`);
    this.kernel = positiveInt(options.kernel, `${name}: kernel`);
    this.stride = positiveInt(options.stride ?? 2, `${name}: stride`);
    this.padding = checkPadding(options.padding ?? 'same', name);
    // He init over the input channels that feed each output position.
    this.weight = this.param('weight', [this.kernel, this.kernel, this.outChannels, this.inChannels], {
      kind: 'normal',
      std: Math.sqrt(2 / (this.kernel * this.kernel * this.inChannels)),
    });
    this.bias = options.bias === false ? undefined : this.param('bias', [this.outChannels], { kind: 'zeros' });
  }

  apply(x: tf.Tensor): tf.Tensor4D {
    checkNhwc(x, this.inChannels, `ConvTranspose2d ${this.path}`);
    const [b, h, w] = x.shape as [number, number, number, number];
    const s = this.stride;
    const outH = this.padding === 'same' ? h * s : (h - 1) * s + this.kernel;
    const outW = this.padding === 'same' ? w * s : (w - 1) * s + this.kernel;
    return tf.tidy(() => {
      let y = tf.conv2dTranspose(x as tf.Tensor4D, this.weight as tf.Tensor4D, [b, outH, outW, this.outChannels], s, this.padding);
      if (this.bias) y = tf.add(y, this.bias);
      return y;
    });
  }
}

/** Options of `ResConvBlock`. */
export interface ResConvBlockOptions extends ModuleOptions {
  channels: number;
  /** Kernel size of both convolutions (default 3). */
  kernel?: number;
}

/** Residual conv block: `x + conv2(relu(conv1(relu(x))))`, both convolutions `channels → channels`, 'same'. */
export class ResConvBlock extends Module {
  readonly channels: number;
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;

  constructor(name: string, options: ResConvBlockOptions) {
    super(name, options);
    this.channels = positiveInt(options.channels, `${name}: channels`);
    const kernel = options.kernel ?? 3;
    const rng = this.rng;
    this.conv1 = this.child('conv1', new Conv2d('conv1', { inChannels: this.channels, outChannels: this.channels, kernel, rng }));
    this.conv2 = this.child('conv2', new Conv2d('conv2', { inChannels: this.channels, outChannels: this.channels, kernel, rng }));
  }

  apply(x: tf.Tensor): tf.Tensor4D {
    checkNhwc(x, this.channels, `ResConvBlock ${this.path}`);
    return tf.tidy(() => tf.add(x, this.conv2.apply(tf.relu(this.conv1.apply(tf.relu(x))))) as tf.Tensor4D);
  }
}
