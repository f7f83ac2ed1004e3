/**
 * LeakyReLU as one native kernel forward and one backward (fused.cc) on the
 * wasm backend. tfjs' gradient of LeakyRelu is Greater(x, 0), Multiply(dy,
 * alpha) and Select, and broadcasting a scalar is slow in tfjs-backend-wasm:
 * in RACCOON these took about a third of all kernel time. lib/nn/activations.ts
 * uses this when nativeOpsActive().
 *
 *     HyperlabLeakyRelu      x             -> y  = x > 0 ? x : alpha x
 *     HyperlabLeakyReluGrad  dy, x         -> dx = x > 0 ? dy : alpha dy   (as tfjs and PyTorch: alpha at x = 0)
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

let registered = false;

export function registerActivationKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(LEAKY, leakyReluKernel);
  registerWasmKernel(LEAKY_GRAD, leakyReluGradKernel);
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
