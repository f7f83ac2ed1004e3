/**
 * y = x W^T + b as one native kernel on the wasm backend (OpenBLAS sgemm with
 * the bias added in the same call), with lean gradients: dx = dy W and
 * dW = dy^T x (the native matrix products of ./matmul.ts) and db = the column
 * sums of dy (one native kernel; tfjs sums over a leading axis by transposing
 * first). tfjs' matMul + add take ~4 more kernels per layer and step, which
 * matters for small layers, where per-kernel overhead is most of the time.
 * lib/nn/linear.ts uses this when nativeOpsActive().
 *
 *     HyperlabLinear  x [M, K], weight [N, K], bias? [N]  -> y [M, N]
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, registerWasmKernel, runKernel } from './wasm';

const LINEAR = 'HyperlabLinear';

function linearKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x, weight, bias } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(LINEAR, inputs);
  const [M, K] = x.shape;
  const N = weight.shape[0];
  const y = backend.makeOutput([M, N], 'float32');
  const heap = heapOf(backend);
  const addon = addonFor(LINEAR);
  const yOff = offsetOf(backend, y);
  addon.sgemm(heap, 1, M, N, K, false, true, offsetOf(backend, x), 0, offsetOf(backend, weight), 0, yOff);
  if (bias) addon.epilogue(heap, yOff, 1, M, N, offsetOf(backend, bias), 0, 0, 1, 0, -1, 0, 0, 0, 0);
  return y;
}

let registered = false;

export function registerLinearKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(LINEAR, linearKernel);
  tf.registerGradient({
    kernelName: LINEAR,
    inputsToSave: ['x', 'weight'],
    gradFunc: (dy, saved) => {
      const [x, weight] = saved;
      const g = dy as tf.Tensor;
      return {
        x: () => tf.matMul(g, weight),
        weight: () => tf.matMul(g, x, true, false),
        bias: () => runKernel<tf.Tensor>('HyperlabChannelSum', { x: g }), // column sums (./conv.ts)
      };
    },
  });
}

/** x [M, K] W^T [K, N] + bias [N] (bias null: none). */
export function linearNative(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  return runKernel<tf.Tensor>(LINEAR, { x, weight, bias: bias ?? undefined });
}
