/**
 * Binary cross-entropy, on logits and on probabilities (PyTorch's
 * `nn.BCEWithLogitsLoss` and `nn.BCELoss`; XANESNET's `bce` is the logits one).
 *
 * For a logit x, target y in [0, 1] and p = sigmoid(x):
 *
 *     loss = -[ pw * y * log p  +  (1 - y) * log(1 - p) ]
 *
 * On logits it is computed without ever forming p, which would round to 0 or 1:
 * log p = -softplus(-x) and log(1 - p) = -x - softplus(-x), so
 *
 *     loss = (1 - y) * x  +  (1 + (pw - 1) * y) * softplus(-x)
 *
 * with softplus(z) = log(1 + e^z) evaluated stably by tfjs. Its gradient is
 * (1 + (pw - 1) y) sigmoid(x) - pw y, i.e. sigmoid(x) - y without pos_weight.
 */
import { tf } from '../engine/tf';
import { bceWithLogitsNative, nativeOpsActive } from '../engine/native';
import { Reduction, asFloat, checkSameShape, checkReduction, reduce } from './common';

/** A per-element weight: a number, a list (broadcast over the last dimension) or a tensor. */
export type WeightLike = number | number[] | tf.Tensor;

function toTensor(w: WeightLike): tf.Tensor {
  return w instanceof tf.Tensor ? asFloat(w) : tf.tensor(w, undefined, 'float32');
}

export interface BCEWithLogitsOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
  /** Rescales each element's loss (broadcast against pred), PyTorch's `weight`. */
  weight?: WeightLike;
  /** Weight of positive examples, one per class (broadcast over the last dimension), PyTorch's `pos_weight`. */
  posWeight?: WeightLike;
}

/** Binary cross-entropy on logits, `F.binary_cross_entropy_with_logits`: stable for any logit (±50, ±1000). */
export function bceWithLogitsLoss(pred: tf.Tensor, target: tf.Tensor, options: BCEWithLogitsOptions = {}): tf.Tensor {
  checkSameShape('bceWithLogitsLoss', pred, target);
  return tf.tidy(() => {
    const x = asFloat(pred);
    const y = asFloat(target);
    const reduction = options.reduction ?? 'mean';
    if (nativeOpsActive() && options.weight === undefined && options.posWeight === undefined && reduction !== 'none') {
      // one kernel each way (lib/engine/native/bce.ts), the same formula
      return bceWithLogitsNative(x, y, checkReduction(reduction, 'bceWithLogitsLoss') === 'mean');
    }
    const softplusNegX = tf.softplus(tf.neg(x)); // -log sigmoid(x)
    // log_weight = 1 + (pw - 1) * y  (just 1 without pos_weight)
    const logWeight = options.posWeight === undefined ? null : tf.add(1, tf.mul(tf.sub(toTensor(options.posWeight), 1), y));
    let loss = tf.add(tf.mul(tf.sub(1, y), x), logWeight ? tf.mul(logWeight, softplusNegX) : softplusNegX);
    if (options.weight !== undefined) loss = tf.mul(loss, toTensor(options.weight));
    return reduce(loss, reduction, 'bceWithLogitsLoss');
  });
}

export interface BCEOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
  /** Rescales each element's loss (broadcast against pred), PyTorch's `weight`. */
  weight?: WeightLike;
}

/** PyTorch clamps each log at -100, so a probability of exactly 0 or 1 costs at most 100. */
const LOG_FLOOR = -100;
/** PyTorch's guard in the gradient (p - y) / max(p (1 - p), 1e-12). */
const GRAD_EPS = 1e-12;

/**
 * Per-element BCE on probabilities with PyTorch's value and gradient:
 *     loss   = -[ y * max(log p, -100) + (1 - y) * max(log(1 - p), -100) ]
 *     d/dp   = (p - y) / max(p (1 - p), 1e-12)       (finite even at p = 0 or 1)
 *     d/dy   = max(log(1 - p), -100) - max(log p, -100)
 * Plain autodiff of the first line would give 0 * inf = NaN at p = 0 or 1, which a
 * saturated sigmoid produces in float32, hence the explicit gradient.
 */
const bceElementwise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [p, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([p, y]);
  const logP = tf.maximum(tf.log(p), LOG_FLOOR);
  const log1mP = tf.maximum(tf.log(tf.sub(1, p)), LOG_FLOOR);
  const value = tf.neg(tf.add(tf.mul(y, logP), tf.mul(tf.sub(1, y), log1mP)));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [ps, ys] = saved;
      const dP = tf.div(tf.sub(ps, ys), tf.maximum(tf.mul(ps, tf.sub(1, ps)), GRAD_EPS));
      const dY = tf.sub(tf.maximum(tf.log(tf.sub(1, ps)), LOG_FLOOR), tf.maximum(tf.log(ps), LOG_FLOOR));
      return [tf.mul(dy, dP), tf.mul(dy, dY)];
    },
  };
});

/**
 * Binary cross-entropy on probabilities, `F.binary_cross_entropy`. `pred` must lie in
 * [0, 1] (the output of a sigmoid); for raw scores use bceWithLogitsLoss, which is
 * also more accurate.
 */
export function bceLoss(pred: tf.Tensor, target: tf.Tensor, options: BCEOptions = {}): tf.Tensor {
  checkSameShape('bceLoss', pred, target);
  const [lo, hi] = tf
    .tidy(() => [tf.min(pred), tf.max(pred)])
    .map((t) => {
      const v = t.dataSync()[0];
      t.dispose();
      return v;
    });
  if (pred.size > 0 && !(lo >= 0 && hi <= 1)) {
    throw new Error(
      `bceLoss: pred must hold probabilities in [0, 1], but its values run from ${lo} to ${hi}. ` +
        'Apply a sigmoid first, or use bceWithLogitsLoss on the raw scores.',
    );
  }
  return tf.tidy(() => {
    let loss = bceElementwise(asFloat(pred), asFloat(target));
    if (options.weight !== undefined) loss = tf.mul(loss, toTensor(options.weight));
    return reduce(loss, options.reduction ?? 'mean', 'bceLoss');
  });
}
