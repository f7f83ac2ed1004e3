/**
 * XANESNET's L2 regularisation, lambda * sum over tensors of ||T||_2 (or lambda *
 * ||all tensors||_2), as one native kernel forward and one backward (small.cc)
 * on the wasm backend, for any number of parameter tensors. The tfjs form takes
 * ~8 kernels per tensor forward and ~12 backward: for a 3-layer MLP with PReLU
 * that is ~150 kernels a step. lib/losses/regularization.ts has the maths and
 * uses this when nativeOpsActive().
 *
 *     HyperlabNormSum      T_0 .. T_k-1      -> lambda * sum_i ||T_i||   (global: lambda * ||T_0 .. T_k-1||)
 *     gradient             dT_i = dy lambda T_i / ||T_i||  (0 where the norm is 0, as PyTorch)
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, nativeOpCalls, offsetOf, registerWasmKernel, runKernel } from './wasm';

const NORM_SUM = 'HyperlabNormSum';
const NORM_SUM_GRAD = 'HyperlabNormSumGrad';

/** The tensors of a kernel whose inputs are an array, or named 0, 1, 2, ... (besides `dy`, for the gradient). */
function numbered(inputs: Record<string, tf.TensorInfo | undefined>): tf.TensorInfo[] {
  const out: tf.TensorInfo[] = [];
  for (let i = 0; inputs[String(i)]; i++) out.push(inputs[String(i)]!);
  return out;
}

function normSumKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  checkFloat32(NORM_SUM, inputs);
  const ts = numbered(inputs);
  const out = backend.makeOutput([], 'float32');
  const heap = heapOf(backend);
  addonFor(NORM_SUM).normSum(
    heap,
    ts.map((t) => offsetOf(backend, t)),
    ts.map((t) => tf.util.sizeFromShape(t.shape)),
    offsetOf(backend, out),
    attrs.global as boolean,
    attrs.lambda as number,
  );
  return out;
}

function normSumGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  checkFloat32(NORM_SUM_GRAD, inputs);
  const ts = numbered(inputs);
  const outs = ts.map((t) => backend.makeOutput(t.shape, 'float32'));
  const heap = heapOf(backend);
  addonFor(NORM_SUM_GRAD).normSumGrad(
    heap,
    offsetOf(backend, inputs.dy!),
    ts.map((t) => offsetOf(backend, t)),
    ts.map((t) => tf.util.sizeFromShape(t.shape)),
    outs.map((t) => offsetOf(backend, t)),
    attrs.global as boolean,
    attrs.lambda as number,
  );
  return outs;
}

let registered = false;

export function registerNormKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(NORM_SUM, normSumKernel);
  registerWasmKernel(NORM_SUM_GRAD, normSumGradKernel);
  tf.registerGradient({
    kernelName: NORM_SUM,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      // One kernel gives every tensor's gradient; the thunks hand them out.
      const grads = runKernel<tf.Tensor[]>(NORM_SUM_GRAD, { dy: dy as tf.Tensor, ...Object.fromEntries(saved.map((t, i) => [String(i), t])) }, attrs);
      return Object.fromEntries(grads.map((g, i) => [String(i), () => g]));
    },
  });
}

/** lambda * sum of the L2 norms of `tensors` (float32), or lambda * their joint norm when `global`. */
export function normSumNative(tensors: tf.Tensor[], lambda: number, global: boolean): tf.Tensor {
  // inputs as an array (as tf.addN): tfjs saves all of them for the gradient only then
  nativeOpCalls[NORM_SUM] = (nativeOpCalls[NORM_SUM] ?? 0) + 1;
  return tf.engine().runKernel(NORM_SUM, tensors as unknown as tf.NamedTensorMap, { lambda, global }) as tf.Tensor;
}
