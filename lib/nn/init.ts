/**
 * Weight initializers with `torch.nn.init` semantics, drawing from the seeded
 * generator (./engine/random.ts). Each fills a Parameter in place and returns it.
 *
 * Fans follow PyTorch: for a weight of shape [out, in, ...kernel],
 * fan_in = in * prod(kernel) and fan_out = out * prod(kernel).
 */
import { tf } from '../engine/tf';
import { defaultGenerator, Generator } from '../engine/random';
import { Parameter } from './parameter';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** `torch.nn.init._calculate_fan_in_and_fan_out`. */
export function fans(shape: number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new Error(`fans: need a tensor with at least 2 dimensions to compute fan in/out, got shape [${shape}]`);
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** `torch.nn.init.calculate_gain`. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unknown nonlinearity '${nonlinearity}'; use one of linear, conv1d, conv2d, sigmoid, tanh, relu, leaky_relu, selu`);
  }
}

function fill(p: Parameter, values: Float32Array): Parameter {
  const t = tf.tensor(values, p.shape, 'float32');
  p.assign(t);
  t.dispose();
  return p;
}

/** U(a, b); PyTorch's default is U(0, 1). */
export function uniform_(p: Parameter, a = 0, b = 1, gen: Generator = defaultGenerator): Parameter {
  return fill(p, gen.uniformArray(p.size, a, b));
}

/** N(mean, std^2); PyTorch's default is N(0, 1). */
export function normal_(p: Parameter, mean = 0, std = 1, gen: Generator = defaultGenerator): Parameter {
  return fill(p, gen.normalArray(p.size, mean, std));
}

export function constant_(p: Parameter, value: number): Parameter {
  return fill(p, new Float32Array(p.size).fill(value));
}

export const zeros_ = (p: Parameter) => constant_(p, 0);
export const ones_ = (p: Parameter) => constant_(p, 1);

/** U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio). */
export function xavierUniform_(p: Parameter, gain = 1, gen: Generator = defaultGenerator): Parameter {
  const { fanIn, fanOut } = fans(p.shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(p, -bound, bound, gen);
}

/** N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal_(p: Parameter, gain = 1, gen: Generator = defaultGenerator): Parameter {
  const { fanIn, fanOut } = fans(p.shape);
  return normal_(p, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), gen);
}

export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (PyTorch's `a`, default 0). */
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(shape: number[], opts: KaimingOptions): number {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' } = opts;
  const f = fans(shape);
  const fan = mode === 'fan_in' ? f.fanIn : f.fanOut;
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

/** U(-b, b) with b = gain * sqrt(3 / fan) (He et al.). */
export function kaimingUniform_(p: Parameter, opts: KaimingOptions = {}, gen: Generator = defaultGenerator): Parameter {
  const bound = Math.sqrt(3) * kaimingStd(p.shape, opts);
  return uniform_(p, -bound, bound, gen);
}

/** N(0, std^2) with std = gain / sqrt(fan). */
export function kaimingNormal_(p: Parameter, opts: KaimingOptions = {}, gen: Generator = defaultGenerator): Parameter {
  return normal_(p, 0, kaimingStd(p.shape, opts), gen);
}

/**
 * Keras' `HeNormal`: a normal with std sqrt(2 / fan_in), truncated at two standard
 * deviations (values outside are redrawn), as `TruncatedNormal` does. Keras scales
 * the std by 1/0.87962566 so that the truncated distribution has the intended std.
 */
export function heNormal_(p: Parameter, gen: Generator = defaultGenerator): Parameter {
  const std = Math.sqrt(2 / fans(p.shape).fanIn) / 0.87962566103423978;
  const out = new Float32Array(p.size);
  for (let i = 0; i < out.length; i++) {
    let z = gen.normal();
    while (Math.abs(z) > 2) z = gen.normal();
    out[i] = z * std;
  }
  return fill(p, out);
}

/** PyTorch's default for Linear/Conv weights: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function defaultWeightInit_(p: Parameter, gen: Generator = defaultGenerator): Parameter {
  return kaimingUniform_(p, { a: Math.sqrt(5) }, gen);
}

/** PyTorch's default for Linear/Conv biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the weight's fan_in. */
export function defaultBiasInit_(bias: Parameter, fanIn: number, gen: Generator = defaultGenerator): Parameter {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform_(bias, -bound, bound, gen);
}

export type InitName = 'uniform' | 'normal' | 'xavier_uniform' | 'xavier_normal' | 'kaiming_uniform' | 'kaiming_normal' | 'zeros' | 'ones' | 'he_normal';

/** Initializers by the names used in XANESNET run files (`kernel_init`, `bias_init`). */
export const initializers: Record<InitName, (p: Parameter, gen?: Generator) => Parameter> = {
  uniform: (p, g) => uniform_(p, 0, 1, g),
  normal: (p, g) => normal_(p, 0, 1, g),
  xavier_uniform: (p, g) => xavierUniform_(p, 1, g),
  xavier_normal: (p, g) => xavierNormal_(p, 1, g),
  kaiming_uniform: (p, g) => kaimingUniform_(p, {}, g),
  kaiming_normal: (p, g) => kaimingNormal_(p, {}, g),
  zeros: (p) => zeros_(p),
  ones: (p) => ones_(p),
  he_normal: (p, g) => heNormal_(p, g),
};

/** Look an initializer up by name, with an error that lists the valid names. */
export function getInitializer(name: string): (p: Parameter, gen?: Generator) => Parameter {
  const key = name.toLowerCase() as InitName;
  const fn = initializers[key];
  if (!fn) {
    throw new Error(`unknown initializer '${name}'; use one of: ${Object.keys(initializers).join(', ')}`);
  }
  return fn;
}
