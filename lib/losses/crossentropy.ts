/**
 * Cross-entropy on logits, PyTorch's `nn.CrossEntropyLoss` / `F.cross_entropy`.
 *
 * pred holds raw scores (logits) of shape (N, C) (or (C,), or (N, C, d1, ...) with the
 * classes in dimension 1). With log-probabilities lp = log_softmax(pred) over the classes,
 * the target is either
 *
 * - class indices y of shape (N,) (int32, or floats holding whole numbers):
 *       l_n = -w[y_n] * lp[n, y_n]
 *   'mean' divides the sum by sum_n w[y_n] (a weighted mean, as PyTorch), not by N.
 *   Targets equal to `ignoreIndex` (-100) contribute nothing and are not counted.
 *   With label smoothing e the loss is (1 - e) * l_n + (e / C) * s_n where
 *   s_n = -sum_c w[c] * lp[n, c], reduced the same way.
 *
 * - class probabilities t of the same shape as pred:
 *       l_n = -sum_c w[c] * t[n, c] * lp[n, c]
 *   with label smoothing applied to the target first, t <- (1 - e) t + e / C;
 *   'mean' divides by N.
 */
import { tf } from '../engine/tf';
import { Reduction, asFloat, checkReduction } from './common';
import { crossEntropyNative, nativeOpsActive } from '../engine/native';

export interface CrossEntropyOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
  /** One weight per class, shape (C,) (PyTorch's `weight`). */
  weight?: number[] | tf.Tensor;
  /** e in [0, 1]: mixes the target with the uniform distribution (PyTorch's `label_smoothing`). */
  labelSmoothing?: number;
  /** A class-index target with this value is skipped (PyTorch's `ignore_index`, default -100). */
  ignoreIndex?: number;
}

const WHERE = 'crossEntropyLoss';

/** Move the class dimension (1) last and flatten to (M, C); rank 1 is one sample. */
function classesLast(x: tf.Tensor): tf.Tensor2D {
  const shape = x.shape as number[];
  if (x.rank === 1) return x.reshape([1, shape[0]]);
  if (x.rank === 2) return x as tf.Tensor2D;
  const perm = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1];
  return tf.transpose(x, perm).reshape([-1, shape[1]]);
}

/** The shape of a per-sample result: pred's shape without the class dimension. */
function sampleShape(pred: tf.Tensor): number[] {
  const shape = pred.shape as number[];
  return pred.rank === 1 ? [] : [shape[0], ...shape.slice(2)];
}

/**
 * Throw unless every index is a whole number in [0, C) or the ignore index; says which is not.
 * Returns whether any target is the ignore index.
 */
function checkIndices(target: tf.Tensor, numClasses: number, ignoreIndex: number): boolean {
  const values = target.dataSync();
  let ignored = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === ignoreIndex) {
      ignored = true;
      continue;
    }
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new Error(
        `${WHERE}: target[${i}] = ${v} is not a class index in 0..${numClasses - 1} ` +
          `(pred has ${numClasses} classes in dimension 1). Targets must be whole numbers, or class probabilities of pred's shape.`,
      );
    }
  }
  return ignored;
}

export function crossEntropyLoss(pred: tf.Tensor, target: tf.Tensor, options: CrossEntropyOptions = {}): tf.Tensor {
  const reduction = checkReduction(options.reduction ?? 'mean', WHERE);
  const eps = options.labelSmoothing ?? 0;
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`${WHERE}: labelSmoothing must be in [0, 1], got ${eps}`);
  if (pred.rank < 1) throw new Error(`${WHERE}: pred must hold logits of shape [N, C] (or [C]), got a scalar`);
  const shape = pred.shape as number[];
  const numClasses = pred.rank === 1 ? shape[0] : shape[1];
  const perSample = sampleShape(pred);
  const isProbabilities = target.shape.join(',') === pred.shape.join(',');
  const isIndices = target.shape.join(',') === perSample.join(',');
  if (!isProbabilities && !isIndices) {
    throw new Error(
      `${WHERE}: pred has shape [${pred.shape}] (logits, classes in dimension ${pred.rank === 1 ? 0 : 1}) but target has shape ` +
        `[${target.shape}]; give class indices of shape [${perSample}] or class probabilities of shape [${pred.shape}]`,
    );
  }
  if (options.weight !== undefined) {
    const n = options.weight instanceof tf.Tensor ? options.weight.size : options.weight.length;
    if (n !== numClasses) throw new Error(`${WHERE}: weight has ${n} entries but pred has ${numClasses} classes; give one weight per class`);
  }
  const anyIgnored = !isProbabilities && checkIndices(target, numClasses, ignoreIndex);
  if (
    nativeOpsActive() &&
    pred.rank === 2 &&
    pred.dtype === 'float32' &&
    !isProbabilities &&
    reduction !== 'none' &&
    options.weight === undefined &&
    eps === 0 &&
    !anyIgnored
  ) {
    // wasm with the native addon: this common case as one fused kernel (lib/engine/native/losses.ts)
    return tf.tidy(() => crossEntropyNative(pred, asFloat(target), reduction === 'mean'));
  }

  return tf.tidy(() => {
    const logp = tf.logSoftmax(classesLast(asFloat(pred))); // (M, C)
    const w =
      options.weight === undefined
        ? tf.ones([numClasses])
        : tf.reshape(options.weight instanceof tf.Tensor ? asFloat(options.weight) : tf.tensor1d(options.weight), [numClasses]);
    const M = logp.shape[0];

    if (isProbabilities) {
      let t = classesLast(asFloat(target));
      if (eps > 0) t = tf.add(tf.mul(t, 1 - eps), eps / numClasses);
      const l = tf.neg(tf.sum(tf.mul(tf.mul(logp, t), w), 1)); // (M,)
      if (reduction === 'sum') return tf.sum(l);
      if (reduction === 'mean') return tf.div(tf.sum(l), M);
      return l.reshape(perSample);
    }

    // Class indices. Ignored targets get class 0 and a zero mask.
    const idx = tf.cast(target, 'int32').reshape([M]);
    const mask = tf.cast(tf.notEqual(idx, ignoreIndex), 'float32'); // (M,)
    // (M, C) one-hot rows by comparison with 0..C-1 (tf.oneHot needs C >= 2; one class is legal here).
    const safeIdx = tf.where(tf.cast(mask, 'bool'), idx, tf.zerosLike(idx));
    const oneHot = tf.cast(tf.equal(tf.expandDims(safeIdx, 1), tf.range(0, numClasses, 1, 'int32')), 'float32');
    const wy = tf.mul(tf.sum(tf.mul(oneHot, w), 1), mask); // w[y_n], 0 where ignored
    let l = tf.mul(tf.neg(tf.sum(tf.mul(oneHot, logp), 1)), wy); // -w[y_n] lp[n, y_n]
    if (eps > 0) {
      const smooth = tf.mul(tf.neg(tf.sum(tf.mul(logp, w), 1)), mask); // -sum_c w[c] lp[n, c]
      l = tf.add(tf.mul(l, 1 - eps), tf.mul(smooth, eps / numClasses));
    }
    if (reduction === 'sum') return tf.sum(l);
    if (reduction === 'mean') return tf.div(tf.sum(l), tf.sum(wy));
    return l.reshape(perSample);
  });
}
