/**
 * PReLU as one native kernel forward and one backward (small.cc) on the wasm
 * backend. tfjs runs `where(x > 0, x, a * x)` as four kernels forward and about
 * ten backward (Greater, Multiply, Select, ZerosLike, Sum, Cast, ...), which is
 * most of a small MLP's step. lib/nn/activations.ts uses this when nativeOpsActive().
 *
 *     HyperlabPrelu      x, weight [C]   -> y  = x > 0 ? x : a x    (a = weight[c], c the index along dimension 1; C = 1: one a)
 *     HyperlabPreluGrad  dy, x, weight   -> dx = x > 0 ? dy : a dy  (a at x = 0, as PyTorch),
 *                                           dweight[c] = sum over x <= 0 of dy x
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, registerWasmKernel, runKernel } from './wasm';

const PRELU = 'HyperlabPrelu';
const PRELU_GRAD = 'HyperlabPreluGrad';

/** n, channels C and the run S of elements that share one slope: [N, C, ...rest] has S = prod(rest). */
function geometry(x: tf.TensorInfo, weight: tf.TensorInfo): [number, number, number] {
  const n = tf.util.sizeFromShape(x.shape);
  const C = weight.shape[0] ?? 1;
  if (C === 1) return [n, 1, Math.max(n, 1)];
  return [n, C, tf.util.sizeFromShape(x.shape.slice(2))];
}

function preluKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x, weight } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(PRELU, inputs);
  const y = backend.makeOutput(x.shape, 'float32');
  const [n, C, S] = geometry(x, weight);
  if (n > 0) addonFor(PRELU).prelu(heapOf(backend), offsetOf(backend, x), offsetOf(backend, weight), offsetOf(backend, y), n, C, S);
  return y;
}

function preluGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const { dy, x, weight } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(PRELU_GRAD, inputs);
  const dx = backend.makeOutput(x.shape, 'float32');
  const dw = backend.makeOutput(weight.shape, 'float32');
  const [n, C, S] = geometry(x, weight);
  const heap = heapOf(backend);
  if (n > 0) {
    addonFor(PRELU_GRAD).preluGrad(
      heap,
      offsetOf(backend, dy),
      offsetOf(backend, x),
      offsetOf(backend, weight),
      offsetOf(backend, dx),
      offsetOf(backend, dw),
      n,
      C,
      S,
    );
  } else {
    new Float32Array(heap, offsetOf(backend, dw), C).fill(0);
  }
  return [dx, dw];
}

let registered = false;

export function registerPreluKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(PRELU, preluKernel);
  registerWasmKernel(PRELU_GRAD, preluGradKernel);
  tf.registerGradient({
    kernelName: PRELU,
    inputsToSave: ['x', 'weight'],
    gradFunc: (dy, saved) => {
      const [x, weight] = saved;
      // One kernel gives both gradients; the thunks hand them out.
      const [dx, dw] = runKernel<tf.Tensor[]>(PRELU_GRAD, { dy: dy as tf.Tensor, x, weight });
      return { x: () => dx, weight: () => dw };
    },
  });
  tf.registerGradient({
    kernelName: PRELU_GRAD,
    gradFunc: () => {
      throw new Error(
        "PReLU's native kernel has no second derivative (a gradient of a gradient through PReLU); " +
          'run that code with hl.setNativeKernels(false), or on the cpu backend',
      );
    },
  });
}

/**
 * PReLU of float32 x with slopes `weight` ([1], or [C] for x of shape [N, C, ...]).
 * No second derivatives on this path (its gradient kernel says so when asked).
 */
export function preluNative(x: tf.Tensor, weight: tf.Tensor): tf.Tensor {
  return runKernel<tf.Tensor>(PRELU, { x, weight });
}
