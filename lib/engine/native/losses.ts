/**
 * Cross-entropy on class indices as one native kernel forward and one backward
 * (fused.cc), for the wasm backend: log-softmax, picking each row's class and
 * the mean are ~25 tfjs kernels forward and ~20 backward, which for a small
 * classifier cost more than its matrix products. lib/losses/crossentropy.ts has
 * the definition and uses this for the common case (indices, no class weights,
 * no label smoothing, no ignored targets) when nativeOpsActive().
 *
 *     HyperlabCrossEntropy      logits [M, C], target [M] (float32 class indices) -> loss [], probs [M, C]
 *     HyperlabCrossEntropyGrad  dy [], probs, target                               -> dlogits [M, C]
 *
 * attrs.mean: divide by M ('mean') or not ('sum'). probs (the softmax) is kept
 * for the backward pass only; no gradient flows to the target.
 *
 * The mean squared error likewise (small.cc), instead of ~3 kernels forward and ~5 backward:
 *
 *     HyperlabMse       pred, target (same shape)  -> loss [] = sum (pred - target)^2 (/ n when attrs.mean)
 *     HyperlabMseGrad   dy [], pred, target        -> dpred = 2 dy (pred - target) (/ n); dtarget = -dpred
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, registerWasmKernel, runKernel } from './wasm';

const CE = 'HyperlabCrossEntropy';
const MSE = 'HyperlabMse';
const MSE_GRAD = 'HyperlabMseGrad';

function mseKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { pred, target } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(MSE, inputs);
  const loss = backend.makeOutput([], 'float32');
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(MSE).mse(heapOf(backend), off(pred), off(target), off(loss), tf.util.sizeFromShape(pred.shape), Boolean(attrs.mean));
  return loss;
}

function mseGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, pred, target } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(MSE_GRAD, inputs);
  const d = backend.makeOutput(pred.shape, 'float32');
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(MSE_GRAD).mseGrad(heapOf(backend), off(dy), off(pred), off(target), off(d), tf.util.sizeFromShape(pred.shape), Boolean(attrs.mean));
  return d;
}
const CE_GRAD = 'HyperlabCrossEntropyGrad';

function crossEntropyKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { logits, target } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(CE, inputs);
  const [M, C] = logits.shape;
  const loss = backend.makeOutput([], 'float32');
  const probs = backend.makeOutput([M, C], 'float32');
  const heap = heapOf(backend);
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(CE).crossEntropy(heap, off(logits), off(target), off(loss), off(probs), M, C, Boolean(attrs.mean));
  return [loss, probs];
}

function crossEntropyGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, probs, target } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(CE_GRAD, inputs);
  const [M, C] = probs.shape;
  const dx = backend.makeOutput([M, C], 'float32');
  const heap = heapOf(backend);
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(CE_GRAD).crossEntropyGrad(heap, off(dy), off(probs), off(target), off(dx), M, C, Boolean(attrs.mean));
  return dx;
}

let registered = false;

export function registerLossKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(CE, crossEntropyKernel);
  registerWasmKernel(CE_GRAD, crossEntropyGradKernel);
  registerWasmKernel(MSE, mseKernel);
  registerWasmKernel(MSE_GRAD, mseGradKernel);
  tf.registerGradient({
    kernelName: MSE,
    inputsToSave: ['pred', 'target'],
    gradFunc: (dy, saved, attrs) => {
      const [pred, target] = saved;
      const dpred = () => runKernel<tf.Tensor>(MSE_GRAD, { dy: dy as tf.Tensor, pred, target }, attrs);
      return { pred: dpred, target: () => tf.neg(dpred()) }; // tfjs calls only the thunks it needs
    },
  });
  tf.registerGradient({
    kernelName: CE,
    inputsToSave: ['target'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [target, probs] = saved;
      const dy = (dys as (tf.Tensor | null)[])[0] ?? tf.zeros([]);
      return {
        logits: () => runKernel<tf.Tensor>(CE_GRAD, { dy, probs, target }, attrs),
        target: () => tf.zerosLike(target), // class indices: no gradient
      };
    },
  });
}

/** The mean (or sum) over rows of -log softmax(logits)[m, target[m]]; target float32 class indices [M]. */
export function crossEntropyNative(logits: tf.Tensor, target: tf.Tensor, mean: boolean): tf.Tensor {
  const [loss, probs] = runKernel<tf.Tensor[]>(CE, { logits, target }, { mean });
  probs.dispose(); // kept by the tape when recording
  return loss;
}

/** The mean (or sum) of (pred - target)^2 over every element; float32 tensors of one shape. */
export function mseNative(pred: tf.Tensor, target: tf.Tensor, mean: boolean): tf.Tensor {
  return runKernel<tf.Tensor>(MSE, { pred, target }, { mean });
}
