/**
 * Convolution layers with PyTorch's names, layouts and defaults:
 * `Conv1d`, `Conv2d`, `ConvTranspose1d`, `ConvTranspose2d`, and the
 * functional forms `conv1d`, `conv2d`, `convTranspose1d`, `convTranspose2d`.
 *
 * Inputs are in PyTorch layout, (N, C, L) / (N, C, H, W) (or unbatched (C, L) /
 * (C, H, W)); weights are [out, in, k...] (Conv) and [in, out, k...]
 * (ConvTranspose). A 1-d convolution is a 2-d one of height 1. On the wasm
 * backend with the native addon, the convolutions run in this layout as
 * native kernels (im2col + OpenBLAS sgemm, lib/engine/native/conv.ts).
 * Otherwise tensors are transposed to tfjs' NHWC (tfjs has no NCHW
 * convolution on wasm), and the arithmetic, with gradients that work on every
 * backend, is in ./conv_ops.ts.
 *
 * Not supported (yet): groups, padding_mode other than 'zeros'.
 */
import { tf } from '../engine/tf';
import { Module } from './module';
import { Parameter } from './parameter';
import { defaultBiasInit_, defaultWeightInit_, fans } from './init';
import { conv2dNHWC, convOutSize, convTranspose2dNHWC, dilateKernel, Pair } from './conv_ops';
import { conv2dNCHW, convTranspose2dNCHW, nativeOpsActive } from '../engine/native';

export type ConvSize = number | number[];
export type ConvPadding = ConvSize | 'valid' | 'same';

export interface ConvOptions {
  stride?: ConvSize;
  /** Zeros added on both sides of each spatial dimension, or 'valid' (none) / 'same' (stride 1 only). */
  padding?: ConvPadding;
  dilation?: ConvSize;
  bias?: boolean;
}

export interface ConvTransposeOptions {
  stride?: ConvSize;
  /** Rows removed from both ends of the full transposed output (PyTorch's `padding`). */
  padding?: ConvSize;
  /** Extra rows added at the end of the output (must be < stride or < dilation). */
  outputPadding?: ConvSize;
  dilation?: ConvSize;
  bias?: boolean;
}

/** The geometry of one layer, always two spatial dimensions (a 1-d layer has height 1, kernel 1). */
interface Geometry {
  dims: 1 | 2;
  kernel: Pair;
  stride: Pair;
  dilation: Pair;
  /** [before, after] zeros per spatial dimension (ConvTranspose: rows cropped). */
  padding: [Pair, Pair];
  outputPadding: Pair;
}

/** `3` or `[3]` (1-d) / `3` or `[3, 5]` (2-d) as a [height, width] pair; a 1-d layer gets `fill` for height. */
function toPair(v: ConvSize, dims: 1 | 2, what: string, where: string, fill: number): Pair {
  const arr = typeof v === 'number' ? new Array(dims).fill(v) : v;
  if (arr.length !== dims || !arr.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error(`${where}: ${what} must be a non-negative integer or a list of ${dims}, got ${JSON.stringify(v)}`);
  }
  return dims === 1 ? [fill, arr[0]] : [arr[0], arr[1]];
}

function geometry(
  where: string,
  dims: 1 | 2,
  kernelSize: ConvSize,
  opts: { stride?: ConvSize; padding?: ConvPadding; dilation?: ConvSize; outputPadding?: ConvSize },
): Geometry {
  const kernel = toPair(kernelSize, dims, 'kernel_size', where, 1);
  const stride = toPair(opts.stride ?? 1, dims, 'stride', where, 1);
  const dilation = toPair(opts.dilation ?? 1, dims, 'dilation', where, 1);
  const outputPadding = toPair(opts.outputPadding ?? 0, dims, 'output_padding', where, 0);
  if ([...kernel, ...stride, ...dilation].some((n) => n < 1)) {
    throw new Error(`${where}: kernel_size, stride and dilation must be positive`);
  }
  const p = opts.padding ?? 0;
  let padding: [Pair, Pair];
  if (p === 'valid') {
    padding = [
      [0, 0],
      [0, 0],
    ];
  } else if (p === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new Error(`${where}: padding='same' is not supported for strided convolutions (as in PyTorch); give the padding as a number`);
    }
    // total d*(k-1) zeros, the odd one on the right (PyTorch's choice)
    const same = (k: number, d: number): Pair => [Math.floor((d * (k - 1)) / 2), d * (k - 1) - Math.floor((d * (k - 1)) / 2)];
    padding = [same(kernel[0], dilation[0]), same(kernel[1], dilation[1])];
  } else {
    const [ph, pw] = toPair(p, dims, 'padding', where, 0);
    padding = [
      [ph, ph],
      [pw, pw],
    ];
  }
  return { dims, kernel, stride, dilation, padding, outputPadding };
}

const LAYOUT = { 1: '(N, C, L)', 2: '(N, C, H, W)' } as const;

/** Check the input's rank and channels; returns whether it is unbatched ((C, L) / (C, H, W)). */
function checkInput(x: tf.Tensor, g: Geometry, channels: number, where: string): boolean {
  const rank = g.dims + 2;
  if (x.rank !== rank && x.rank !== rank - 1) {
    throw new Error(`${where}: expected a ${rank}-D input ${LAYOUT[g.dims]} or an unbatched ${rank - 1}-D one, got shape [${x.shape}]`);
  }
  const unbatched = x.rank === rank - 1;
  const c = x.shape[unbatched ? 0 : 1];
  if (c !== channels) {
    throw new Error(
      `${where}: input of shape [${x.shape}] has ${c} channels in dimension ${unbatched ? 0 : 1}, expected ${channels} ` +
        `(layout ${LAYOUT[g.dims]}). Check in_channels, or the out_channels of the layer before.`,
    );
  }
  return unbatched;
}

/** The input as [N, C, H, W] (a 1-d input (N, C, L) becomes [N, C, 1, L]; an unbatched one gets N = 1). */
function toNCHW(x: tf.Tensor, g: Geometry, unbatched: boolean): tf.Tensor4D {
  const xb = unbatched ? x.expandDims(0) : x;
  return (g.dims === 2 ? xb : xb.expandDims(2)) as tf.Tensor4D;
}

/** [N, C, H, W] back to the layer's layout (dropping the height of a 1-d layer, and the batch if unbatched). */
function fromNCHW(y: tf.Tensor4D, g: Geometry, unbatched: boolean): tf.Tensor {
  const t = g.dims === 2 ? y : y.squeeze([2]);
  return unbatched ? t.squeeze([0]) : t;
}

/** A PyTorch weight [a, b, kh, kw], or [a, b, k] for a 1-d layer, as [a, b, kh, kw] (kh = 1). */
function weight4D(weight: tf.Tensor, g: Geometry): tf.Tensor4D {
  return (g.dims === 2 ? weight : weight.expandDims(2)) as tf.Tensor4D;
}

/** [N, C, H, W] to NHWC, tfjs' layout. */
function toNHWC(x: tf.Tensor4D): tf.Tensor4D {
  return x.transpose([0, 2, 3, 1]);
}

/** NHWC [N, H, W, C] back to NCHW. */
function fromNHWC(y: tf.Tensor4D): tf.Tensor4D {
  return y.transpose([0, 3, 1, 2]);
}

/** A PyTorch weight [a, b, kh, kw] as the tfjs kernel [kh, kw, b, a]. */
function toKernel(weight4: tf.Tensor4D): tf.Tensor4D {
  return weight4.transpose([2, 3, 1, 0]);
}

function addBias(y: tf.Tensor4D, bias: tf.Tensor | null | undefined): tf.Tensor4D {
  return bias ? tf.add(y, bias) : y; // NHWC: the bias broadcasts over the last (channel) dimension
}

/**
 * y = x * w + b for PyTorch-layout x and weight [out, in, k...].
 *
 * On wasm with the native addon (nativeOpsActive), one NCHW kernel does it
 * (im2col + sgemm, lib/engine/native/conv.ts) and its gradients; otherwise the
 * input is padded and transposed to NHWC for conv_ops.ts, whose gradients are
 * written with plain convolutions.
 */
function convForward(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null | undefined, g: Geometry, where: string): tf.Tensor {
  return tf.tidy(() => {
    const unbatched = checkInput(x, g, weight.shape[1]!, where);
    const t = toNCHW(x, g, unbatched);
    const [N, , H, W] = t.shape;
    const [[pt, pb], [pl, pr]] = g.padding;
    const [kh, kw] = [g.dilation[0] * (g.kernel[0] - 1) + 1, g.dilation[1] * (g.kernel[1] - 1) + 1];
    if (H + pt + pb < kh || W + pl + pr < kw) {
      const size = g.dims === 2 ? `${H + pt + pb} x ${W + pl + pr}` : `${W + pl + pr}`;
      const k = g.dims === 2 ? `${kh} x ${kw}` : `${kw}`;
      throw new Error(
        `${where}: the padded input (${size}) is smaller than the (dilated) kernel (${k}); input shape [${x.shape}]. Use a larger input, more padding or a smaller kernel.`,
      );
    }
    const w4 = weight4D(weight, g);
    if (nativeOpsActive() && N > 0) {
      const outSize: Pair = [convOutSize(H + pt + pb, kh, g.stride[0]), convOutSize(W + pl + pr, kw, g.stride[1])];
      const geom = { inSize: [H, W] as Pair, outSize, kernel: g.kernel, stride: g.stride, dilation: g.dilation, pad: [pt, pl] as Pair };
      return fromNCHW(conv2dNCHW(t, w4, bias as tf.Tensor1D | null, geom), g, unbatched);
    }
    const xp =
      pt || pb || pl || pr
        ? tf.pad(toNHWC(t), [
            [0, 0],
            [pt, pb],
            [pl, pr],
            [0, 0],
          ])
        : toNHWC(t);
    const w = dilateKernel(toKernel(w4), g.dilation);
    return fromNCHW(fromNHWC(addBias(conv2dNHWC(xp, w, g.stride), bias)), g, unbatched);
  });
}

/**
 * The transposed convolution for PyTorch-layout x and weight [in, out, k...]:
 * out size = (size - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
 */
function convTransposeForward(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null | undefined, g: Geometry, where: string): tf.Tensor {
  return tf.tidy(() => {
    for (let i = 0; i < 2; i++) {
      if (!(g.outputPadding[i] < g.stride[i] || g.outputPadding[i] < g.dilation[i])) {
        throw new Error(`${where}: output_padding (${g.outputPadding[i]}) must be smaller than either stride (${g.stride[i]}) or dilation (${g.dilation[i]})`);
      }
    }
    const unbatched = checkInput(x, g, weight.shape[0]!, where);
    const t = toNCHW(x, g, unbatched);
    const [N, , H, W] = t.shape;
    const out = (size: number, i: 0 | 1) => (size - 1) * g.stride[i] - 2 * g.padding[i][0] + g.dilation[i] * (g.kernel[i] - 1) + g.outputPadding[i] + 1;
    const [Ho, Wo] = [out(H, 0), out(W, 1)];
    if (Ho < 1 || Wo < 1) {
      throw new Error(`${where}: the output would be empty (${g.dims === 2 ? `${Ho} x ${Wo}` : Wo}) for input shape [${x.shape}]; use less padding`);
    }
    const [pt, pl] = [g.padding[0][0], g.padding[1][0]];
    const w4 = weight4D(weight, g);
    const cout = weight.shape[1]!;
    if (nativeOpsActive() && N > 0) {
      // the input gradient of the convolution [N, Cout, Ho, Wo] -> [N, Cin, H, W] with this weight
      const geom = { inSize: [Ho, Wo] as Pair, outSize: [H, W] as Pair, kernel: g.kernel, stride: g.stride, dilation: g.dilation, pad: [pt, pl] as Pair };
      const y = convTranspose2dNCHW(t, w4, geom);
      return fromNCHW(bias ? tf.add(y, bias.reshape([1, cout, 1, 1])) : y, g, unbatched);
    }
    // weight [in, out, k] = a convolution's weight [Cout, Cin, k] read backwards: tfjs kernel [k, out, in]
    const w = dilateKernel(toKernel(w4), g.dilation);
    const full = convTranspose2dNHWC(toNHWC(t), w, g.stride, [pt + Ho, pl + Wo]);
    const y = tf.slice(full, [0, pt, pl, 0], [N, Ho, Wo, cout]) as tf.Tensor4D;
    return fromNCHW(fromNHWC(addBias(y, bias)), g, unbatched);
  });
}

// ---- functional forms (torch.nn.functional) ------------------------------------------

/** `F.conv1d(x, weight, bias, stride, padding, dilation)`: x (N, Cin, L), weight [Cout, Cin, k]. */
export function conv1d(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor | null, opts: ConvOptions = {}): tf.Tensor {
  return convForward(x, weight, bias, geometry('conv1d', 1, weight.shape[2]!, opts), 'conv1d');
}

/** `F.conv2d`: x (N, Cin, H, W), weight [Cout, Cin, kh, kw]. */
export function conv2d(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor | null, opts: ConvOptions = {}): tf.Tensor {
  return convForward(x, weight, bias, geometry('conv2d', 2, weight.shape.slice(2), opts), 'conv2d');
}

/** `F.conv_transpose1d`: x (N, Cin, L), weight [Cin, Cout, k]. */
export function convTranspose1d(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor | null, opts: ConvTransposeOptions = {}): tf.Tensor {
  return convTransposeForward(x, weight, bias, geometry('convTranspose1d', 1, weight.shape[2]!, opts), 'convTranspose1d');
}

/** `F.conv_transpose2d`: x (N, Cin, H, W), weight [Cin, Cout, kh, kw]. */
export function convTranspose2d(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor | null, opts: ConvTransposeOptions = {}): tf.Tensor {
  return convTransposeForward(x, weight, bias, geometry('convTranspose2d', 2, weight.shape.slice(2), opts), 'convTranspose2d');
}

// ---- layers ----------------------------------------------------------------------------

/**
 * Shared by all four layers. PyTorch's default initialisation:
 * weight ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias ~ the same bound,
 * with fan_in = weight.shape[1] * prod(kernel) (for ConvTranspose that is out_channels * prod(kernel),
 * as PyTorch computes it from the weight [in, out, k...]).
 */
abstract class ConvNd extends Module {
  weight: Parameter;
  bias: Parameter | null;
  protected readonly geom: Geometry;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: ConvSize,
    dims: 1 | 2,
    readonly transposed: boolean,
    opts: ConvOptions & { outputPadding?: ConvSize },
  ) {
    super();
    const head = `${new.target.name}(${inChannels}, ${outChannels}, kernel_size=${JSON.stringify(kernelSize)})`;
    if (![inChannels, outChannels].every((n) => Number.isInteger(n) && n > 0)) {
      throw new Error(`${head}: in_channels and out_channels must be positive integers`);
    }
    this.geom = geometry(head, dims, kernelSize, opts);
    const kernel = dims === 2 ? this.geom.kernel : [this.geom.kernel[1]];
    const shape = transposed ? [inChannels, outChannels, ...kernel] : [outChannels, inChannels, ...kernel];
    this.weight = defaultWeightInit_(Parameter.filled(shape, 0));
    this.bias = opts.bias === false ? null : defaultBiasInit_(Parameter.filled([outChannels], 0), fans(shape).fanIn);
  }

  /** The settings in PyTorch's notation, e.g. `(4, 4)` for a 2-d kernel, `(3,)` for a 1-d one. */
  protected tuple(p: Pair): string {
    return this.geom.dims === 2 ? `(${p[0]}, ${p[1]})` : `(${p[1]},)`;
  }

  protected get where(): string {
    return `${this.constructor.name}(${this.inChannels}, ${this.outChannels}, kernel_size=${this.tuple(this.geom.kernel)})`;
  }

  extraRepr(): string {
    const g = this.geom;
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${this.tuple(g.kernel)}, stride=${this.tuple(g.stride)}`;
    const pad: Pair = [g.padding[0][0], g.padding[1][0]];
    if (pad.some((v) => v !== 0)) s += `, padding=${this.tuple(pad)}`;
    if (g.dilation.some((v) => v !== 1)) s += `, dilation=${this.tuple(g.dilation)}`;
    if (g.outputPadding.some((v) => v !== 0)) s += `, output_padding=${this.tuple(g.outputPadding)}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}

/** `Conv1d(in, out, kernelSize, {stride, padding, dilation, bias})` on (N, C, L) or (C, L). */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: ConvSize, opts: ConvOptions = {}) {
    super(inChannels, outChannels, kernelSize, 1, false, opts);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return convForward(x, this.weight, this.bias, this.geom, this.where);
  }
}

/** `Conv2d(in, out, kernelSize, {stride, padding, dilation, bias})` on (N, C, H, W) or (C, H, W); sizes may be [h, w]. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: ConvSize, opts: ConvOptions = {}) {
    super(inChannels, outChannels, kernelSize, 2, false, opts);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return convForward(x, this.weight, this.bias, this.geom, this.where);
  }
}

/** `ConvTranspose1d(in, out, kernelSize, {stride, padding, outputPadding, dilation, bias})`; weight [in, out, k]. */
export class ConvTranspose1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: ConvSize, opts: ConvTransposeOptions = {}) {
    super(inChannels, outChannels, kernelSize, 1, true, opts);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return convTransposeForward(x, this.weight, this.bias, this.geom, this.where);
  }
}

/** `ConvTranspose2d(in, out, kernelSize, {stride, padding, outputPadding, dilation, bias})`; weight [in, out, kh, kw]. */
export class ConvTranspose2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: ConvSize, opts: ConvTransposeOptions = {}) {
    super(inChannels, outChannels, kernelSize, 2, true, opts);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return convTransposeForward(x, this.weight, this.bias, this.geom, this.where);
  }
}
