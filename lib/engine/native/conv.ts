/**
 * Native 2-d convolutions for the wasm backend, in PyTorch's layout (NCHW),
 * as three tfjs kernels running conv.cc (im2col + OpenBLAS sgemm):
 *
 *     HyperlabConv2D                x [N,C,H,W], w [O,C,kh,kw], bias? [O]  -> y [N,O,OH,OW]
 *     HyperlabConv2DBackpropInput   dy [N,O,OH,OW], w                      -> dx [N,C,H,W]
 *     HyperlabConv2DBackpropFilter  x, dy                                  -> dw [O,C,kh,kw]
 *     HyperlabChannelSum            dy                                     -> db [O]  (sum over N, H, W)
 *
 * with gradients registered the tfjs way, so tf.grad / hl.backward go through
 * them like any op. The three convolution kernels are each other's gradients
 * (the input gradient is the transposed convolution, whose own gradients are a
 * convolution and a filter gradient), so ConvTranspose layers run natively too,
 * and gradients of gradients work.
 *
 * Working in NCHW, as PyTorch does, needs no transposes between layers (tfjs'
 * own convolutions are NHWC). lib/nn/conv.ts uses these when nativeOpsActive();
 * otherwise it runs the plain, differentiable NHWC path of lib/nn/conv_ops.ts.
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, optionalOffset, registerWasmKernel, runKernel } from './wasm';

export type Pair = [number, number];

/**
 * The geometry every kernel gets as attributes: input size [H, W], output size
 * [OH, OW], kernel [kh, kw], stride, dilation, and the zeros before the rows and
 * columns (`pad` = [top, left]; the zeros after follow from the sizes).
 */
export interface ConvGeometry {
  inSize: Pair;
  outSize: Pair;
  kernel: Pair;
  stride: Pair;
  dilation: Pair;
  pad: Pair;
}

const CONV = 'HyperlabConv2D';
const BACKPROP_INPUT = 'HyperlabConv2DBackpropInput';
const BACKPROP_FILTER = 'HyperlabConv2DBackpropFilter';
const CHANNEL_SUM = 'HyperlabChannelSum';

/** The addon's 15 geometry numbers: N C H W  O KH KW  OH OW  SH SW  PT PL  DH DW. */
function geometryArgs(N: number, C: number, O: number, g: ConvGeometry): number[] {
  return [N, C, ...g.inSize, O, ...g.kernel, ...g.outSize, ...g.stride, ...g.pad, ...g.dilation];
}

function conv2dKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, w, bias } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(CONV, inputs);
  const g = attrs as unknown as ConvGeometry;
  const [N, C] = x.shape;
  const O = w.shape[0];
  const y = backend.makeOutput([N, O, ...g.outSize], 'float32');
  const heap = heapOf(backend);
  addonFor(CONV).conv2d(heap, offsetOf(backend, x), offsetOf(backend, w), optionalOffset(backend, bias), offsetOf(backend, y), ...geometryArgs(N, C, O, g));
  return y;
}

function backpropInputKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, w } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(BACKPROP_INPUT, inputs);
  const g = attrs as unknown as ConvGeometry;
  const [O, C] = w.shape;
  const N = dy.shape[0];
  const dx = backend.makeOutput([N, C, ...g.inSize], 'float32');
  const heap = heapOf(backend);
  addonFor(BACKPROP_INPUT).conv2dBackpropInput(heap, offsetOf(backend, dy), offsetOf(backend, w), offsetOf(backend, dx), ...geometryArgs(N, C, O, g));
  return dx;
}

function backpropFilterKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(BACKPROP_FILTER, inputs);
  const g = attrs as unknown as ConvGeometry;
  const [N, C] = x.shape;
  const O = dy.shape[1];
  const dw = backend.makeOutput([O, C, ...g.kernel], 'float32');
  const heap = heapOf(backend);
  addonFor(BACKPROP_FILTER).conv2dBackpropFilter(heap, offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, dw), ...geometryArgs(N, C, O, g));
  return dw;
}

function channelSumKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(CHANNEL_SUM, inputs);
  const [N, C, ...rest] = x.shape;
  const out = backend.makeOutput([C], 'float32');
  const heap = heapOf(backend);
  addonFor(CHANNEL_SUM).channelSum(
    heap,
    offsetOf(backend, x),
    offsetOf(backend, out),
    N,
    C,
    rest.reduce((p, d) => p * d, 1),
  );
  return out;
}

type Attrs = Record<string, unknown>;
const conv = (x: tf.Tensor, w: tf.Tensor, attrs: Attrs) => runKernel<tf.Tensor>(CONV, { x, w }, attrs);
const backpropInput = (dy: tf.Tensor, w: tf.Tensor, attrs: Attrs) => runKernel<tf.Tensor>(BACKPROP_INPUT, { dy, w }, attrs);
const backpropFilter = (x: tf.Tensor, dy: tf.Tensor, attrs: Attrs) => runKernel<tf.Tensor>(BACKPROP_FILTER, { x, dy }, attrs);

let registered = false;

/** Register the kernels for the wasm backend and their gradients (once). */
export function registerConvKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(CONV, conv2dKernel);
  registerWasmKernel(BACKPROP_INPUT, backpropInputKernel);
  registerWasmKernel(BACKPROP_FILTER, backpropFilterKernel);
  registerWasmKernel(CHANNEL_SUM, channelSumKernel);
  // y = conv(x, w) + bias
  tf.registerGradient({
    kernelName: CONV,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy, saved, attrs) => {
      const [x, w] = saved;
      const g = dy as tf.Tensor;
      return {
        x: () => backpropInput(g, w, attrs),
        w: () => backpropFilter(x, g, attrs),
        bias: () => runKernel<tf.Tensor>(CHANNEL_SUM, { x: g }),
      };
    },
  });
  // dx = backpropInput(dy, w) is linear in dy (the transposed convolution) and in w.
  tf.registerGradient({
    kernelName: BACKPROP_INPUT,
    inputsToSave: ['dy', 'w'],
    gradFunc: (ddx, saved, attrs) => {
      const [dy, w] = saved;
      const g = ddx as tf.Tensor;
      return { dy: () => conv(g, w, attrs), w: () => backpropFilter(g, dy, attrs) };
    },
  });
  // dw = backpropFilter(x, dy) is bilinear: <G, dw> = <conv(x, G), dy>.
  tf.registerGradient({
    kernelName: BACKPROP_FILTER,
    inputsToSave: ['x', 'dy'],
    gradFunc: (ddw, saved, attrs) => {
      const [x, dy] = saved;
      const g = ddw as tf.Tensor;
      return { x: () => backpropInput(dy, g, attrs), dy: () => conv(x, g, attrs) };
    },
  });
  // sum over every dimension but 1: the gradient spreads back evenly.
  tf.registerGradient({
    kernelName: CHANNEL_SUM,
    inputsToSave: ['x'],
    gradFunc: (dc, saved) => {
      const [x] = saved;
      const shape = x.shape.map((d, i) => (i === 1 ? d : 1));
      return { x: () => tf.broadcastTo((dc as tf.Tensor).reshape(shape), x.shape) };
    },
  });
}

/** y = conv2d(x, w) + bias for x [N, C, H, W], w [O, C, kh, kw]: one native kernel (and its gradients). */
export function conv2dNCHW(x: tf.Tensor4D, w: tf.Tensor4D, bias: tf.Tensor1D | null | undefined, g: ConvGeometry): tf.Tensor4D {
  return runKernel<tf.Tensor4D>(CONV, { x, w, bias: bias ?? undefined }, g as unknown as Attrs);
}

/**
 * The transposed convolution of x [N, Cin, H, W] with a ConvTranspose weight
 * [Cin, Cout, kh, kw]: the input gradient of the convolution from [N, Cout,
 * g.inSize] to [N, Cin, g.outSize] (= x's size) with weight w.
 */
export function convTranspose2dNCHW(x: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return runKernel<tf.Tensor4D>(BACKPROP_INPUT, { dy: x, w }, g as unknown as Attrs);
}
