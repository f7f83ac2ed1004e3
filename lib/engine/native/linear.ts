/**
 * y = x W^T + b as one native kernel on the wasm backend (OpenBLAS sgemm with
 * the bias added in the same call), with lean gradients: dx = dy W (the native
 * matrix product of ./matmul.ts), and dW = dy^T x with db = the column sums of
 * dy from one native kernel (HyperlabLinearGrad). tfjs' matMul + add take ~4
 * more kernels per layer and step, which matters for small layers, where
 * per-kernel overhead is most of the time.
 * lib/nn/linear.ts uses this when nativeOpsActive().
 *
 *     HyperlabLinear      x [M, K], weight [N, K], bias? [N]  -> y [M, N]
 *     HyperlabLinearGrad  dy [M, N], x [M, K]                -> dW [N, K] (attrs.weight), db [N] (attrs.bias)
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, optionalOffset, registerWasmKernel, runKernel } from './wasm';

const LINEAR = 'HyperlabLinear';
const LINEAR_GRAD = 'HyperlabLinearGrad';

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

/**
 * dW = dy^T x and db = column sums of dy in one native kernel (small.cc's linearGrad; either may be
 * skipped with null). ChannelSum, the convolutions' bias gradient, reads a [M, N] matrix column by
 * column, which is slow for a Linear layer's bias.
 */
function linearGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { dy, x } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(LINEAR_GRAD, inputs);
  const [M, N] = dy.shape;
  const K = x.shape[1];
  const dw = attrs.weight ? backend.makeOutput([N, K], 'float32') : undefined;
  const db = attrs.bias ? backend.makeOutput([N], 'float32') : undefined;
  const off = (t: tf.TensorInfo | undefined) => optionalOffset(backend, t);
  addonFor(LINEAR_GRAD).linearGrad(heapOf(backend), off(dy), off(x), off(dw), off(db), M, N, K);
  return [dw, db].filter((t): t is tf.TensorInfo => t !== undefined);
}

/** Whether autograd is recording (a gradient of a gradient): then gradients must be differentiable tfjs ops. */
const recording = () => (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;

export function registerLinearKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(LINEAR, linearKernel);
  registerWasmKernel(LINEAR_GRAD, linearGradKernel);
  tf.registerGradient({
    kernelName: LINEAR,
    inputsToSave: ['x', 'weight'],
    gradFunc: (dy, saved, attrs) => {
      const [x, weight] = saved;
      const g = dy as tf.Tensor;
      const dx = () => tf.matMul(g, weight);
      if (recording()) {
        // differentiable ops, for gradients of gradients
        return { x: dx, weight: () => tf.matMul(g, x, true, false), bias: () => tf.sum(g, 0) };
      }
      // tfjs asks for each input's gradient separately; when the weight is a trainable variable
      // (its gradient is wanted) both parameter gradients come from one kernel, now (a gradient
      // tfjs does not ask for is freed with the backward pass).
      if (attrs.trainable && attrs.hasBias) {
        const [dW, db] = runKernel<tf.Tensor[]>(LINEAR_GRAD, { dy: g, x }, { weight: true, bias: true });
        return { x: dx, weight: () => dW, bias: () => db };
      }
      const one = (which: 'weight' | 'bias') => () => runKernel<tf.Tensor[]>(LINEAR_GRAD, { dy: g, x }, { [which]: true })[0];
      return { x: dx, weight: one('weight'), bias: one('bias') };
    },
  });
}

/** x [M, K] W^T [K, N] + bias [N] (bias null: none). */
export function linearNative(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  const trainable = weight instanceof tf.Variable && weight.trainable; // for the gradient (above)
  return runKernel<tf.Tensor>(LINEAR, { x, weight, bias: bias ?? undefined }, { trainable, hasBias: bias !== null });
}
