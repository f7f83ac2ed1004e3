/**
 * Binary cross-entropy on logits (no weights, mean or sum) as one native kernel
 * forward and one backward (small.cc), for the wasm backend: tfjs needs ~7
 * kernels forward and ~10 backward for it, which in a small CNN's step are more
 * kernels than its layers. lib/losses/bce.ts has the formula and uses this when
 * nativeOpsActive().
 *
 *     HyperlabBceWithLogits      pred, target (same shape) -> loss [] = sum (1 - y) x + softplus(-x)  (/ n when attrs.mean)
 *     HyperlabBceWithLogitsGrad  dy [], pred, target       -> dpred = dy (sigmoid(x) - y)  (/ n)
 *
 * The target's gradient, -dy x (/ n), and second derivatives are plain tfjs ops.
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, registerWasmKernel, runKernel } from './wasm';

const BCE = 'HyperlabBceWithLogits';
const BCE_GRAD = 'HyperlabBceWithLogitsGrad';

function bceKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { pred, target } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(BCE, inputs);
  const loss = backend.makeOutput([], 'float32');
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(BCE).bceWithLogits(heapOf(backend), off(pred), off(target), off(loss), tf.util.sizeFromShape(pred.shape), Boolean(attrs.mean));
  return loss;
}

function bceGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, pred, target } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(BCE_GRAD, inputs);
  const d = backend.makeOutput(pred.shape, 'float32');
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(BCE_GRAD).bceWithLogitsGrad(heapOf(backend), off(dy), off(pred), off(target), off(d), tf.util.sizeFromShape(pred.shape), Boolean(attrs.mean));
  return d;
}

let registered = false;

export function registerBceKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(BCE, bceKernel);
  registerWasmKernel(BCE_GRAD, bceGradKernel);
  // the divisor of the mean, as a number
  const per = (x: tf.Tensor, attrs: unknown) => ((attrs as { mean: boolean }).mean && x.size > 0 ? 1 / x.size : 1);
  tf.registerGradient({
    kernelName: BCE,
    inputsToSave: ['pred', 'target'],
    gradFunc: (dy, saved, attrs) => {
      const [pred, target] = saved;
      const g = dy as tf.Tensor;
      return {
        pred: () => runKernel<tf.Tensor>(BCE_GRAD, { dy: g, pred, target }, attrs),
        target: () => tf.mul(tf.neg(pred), tf.mul(g, per(pred, attrs))), // tfjs calls only the thunks it needs
      };
    },
  });
  // dpred = dy s (sigmoid(x) - y), s = 1/n or 1: linear in dy and y, sigmoid'(x) = p (1 - p) in x
  tf.registerGradient({
    kernelName: BCE_GRAD,
    inputsToSave: ['dy', 'pred', 'target'],
    gradFunc: (dd, saved, attrs) => {
      const [dy, pred, target] = saved;
      const g = dd as tf.Tensor;
      const s = per(pred, attrs);
      return {
        dy: () => tf.mul(tf.sum(tf.mul(g, tf.sub(tf.sigmoid(pred), target))), s),
        pred: () => {
          const p = tf.sigmoid(pred);
          return tf.mul(g, tf.mul(tf.mul(p, tf.sub(1, p)), tf.mul(dy, s)));
        },
        target: () => tf.mul(g, tf.mul(dy, -s)),
      };
    },
  });
}

/** The mean (or sum) of binary cross-entropy on logits over every element; float32 tensors of one shape. */
export function bceWithLogitsNative(pred: tf.Tensor, target: tf.Tensor, mean: boolean): tf.Tensor {
  return runKernel<tf.Tensor>(BCE, { pred, target }, { mean });
}
