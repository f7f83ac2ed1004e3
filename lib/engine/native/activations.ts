/**
 * LeakyReLU as one native kernel forward and one backward (fused.cc) on the
 * wasm backend. tfjs' gradient of LeakyRelu is Greater(x, 0), Multiply(dy,
 * alpha) and Select, and broadcasting a scalar is slow in tfjs-backend-wasm:
 * in RACCOON these took about a third of all kernel time. lib/nn/activations.ts
 * uses this when nativeOpsActive().
 *
 *     HyperlabLeakyRelu      x             -> y  = x > 0 ? x : alpha x
 *     HyperlabLeakyReluGrad  dy, x         -> dx = x > 0 ? dy : alpha dy   (as tfjs and PyTorch: alpha at x = 0)
 *
 * ReLU likewise (small.cc): tfjs' gradient of Relu is Step, Cast and Multiply,
 * three kernels and three engine calls where one does (issue 10, small networks).
 *
 *     HyperlabRelu           x             -> y  = x > 0 ? x : 0           (NaN stays NaN, as PyTorch)
 *     HyperlabReluGrad       dy, y         -> dx = y > 0 ? dy : 0          (from the output, as PyTorch: 0 at x = 0)
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, registerWasmKernel, runKernel } from './wasm';

const LEAKY = 'HyperlabLeakyRelu';
const LEAKY_GRAD = 'HyperlabLeakyReluGrad';

function leakyReluKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(LEAKY, inputs);
  const y = backend.makeOutput(x.shape, 'float32');
  const heap = heapOf(backend);
  addonFor(LEAKY).leakyRelu(heap, offsetOf(backend, x), offsetOf(backend, y), tf.util.sizeFromShape(x.shape), attrs.alpha as number);
  return y;
}

function leakyReluGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, x } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(LEAKY_GRAD, inputs);
  const dx = backend.makeOutput(x.shape, 'float32');
  const heap = heapOf(backend);
  addonFor(LEAKY_GRAD).leakyReluGrad(
    heap,
    offsetOf(backend, dy),
    offsetOf(backend, x),
    offsetOf(backend, dx),
    tf.util.sizeFromShape(x.shape),
    attrs.alpha as number,
  );
  return dx;
}

const RELU = 'HyperlabRelu';
const RELU_GRAD = 'HyperlabReluGrad';

function reluKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(RELU, inputs);
  const y = backend.makeOutput(x.shape, 'float32');
  addonFor(RELU).relu(heapOf(backend), offsetOf(backend, x), offsetOf(backend, y), tf.util.sizeFromShape(x.shape));
  return y;
}

function reluGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { dy, y } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(RELU_GRAD, inputs);
  const dx = backend.makeOutput(y.shape, 'float32');
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(RELU_GRAD).reluGrad(heapOf(backend), off(dy), off(y), off(dx), tf.util.sizeFromShape(y.shape));
  return dx;
}

let registered = false;

export function registerActivationKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(LEAKY, leakyReluKernel);
  registerWasmKernel(LEAKY_GRAD, leakyReluGradKernel);
  registerWasmKernel(RELU, reluKernel);
  registerWasmKernel(RELU_GRAD, reluGradKernel);
  tf.registerGradient({
    kernelName: RELU,
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = saved;
      return { x: () => runKernel<tf.Tensor>(RELU_GRAD, { dy: dy as tf.Tensor, y }) };
    },
  });
  // second order: linear in dy, zero almost everywhere in y
  tf.registerGradient({
    kernelName: RELU_GRAD,
    inputsToSave: ['y'],
    gradFunc: (ddx, saved) => {
      const [y] = saved;
      return { dy: () => runKernel<tf.Tensor>(RELU_GRAD, { dy: ddx as tf.Tensor, y }), y: () => tf.zerosLike(y) };
    },
  });
  tf.registerGradient({
    kernelName: LEAKY,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      return { x: () => runKernel<tf.Tensor>(LEAKY_GRAD, { dy: dy as tf.Tensor, x }, attrs) };
    },
  });
  // the gradient's own gradient (second order): linear in dy, zero almost everywhere in x
  tf.registerGradient({
    kernelName: LEAKY_GRAD,
    inputsToSave: ['x'],
    gradFunc: (ddx, saved, attrs) => {
      const [x] = saved;
      return { dy: () => runKernel<tf.Tensor>(LEAKY_GRAD, { dy: ddx as tf.Tensor, x }, attrs), x: () => tf.zerosLike(x) };
    },
  });
}

/** x > 0 ? x : alpha * x, for float32 x. */
export function leakyReluNative(x: tf.Tensor, alpha: number): tf.Tensor {
  return runKernel<tf.Tensor>(LEAKY, { x }, { alpha });
}

/** max(x, 0), for float32 x. */
export function reluNative(x: tf.Tensor): tf.Tensor {
  return runKernel<tf.Tensor>(RELU, { x });
}
