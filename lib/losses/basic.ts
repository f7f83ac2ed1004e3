/**
 * The two regression losses: mean squared error and mean absolute error
 * (PyTorch's `nn.MSELoss` and `nn.L1Loss`; XANESNET's `mse` and `l1`).
 *
 *     mse = reduce((pred - target)^2)
 *     l1  = reduce(|pred - target|)
 */
import { tf } from '../engine/tf';
import { Reduction, asFloat, absWithTorchGrad, checkReduction, checkSameShape, reduce } from './common';
import { mseNative, nativeOpsActive } from '../engine/native';

export interface ReductionOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** Mean squared error, `F.mse_loss(pred, target)`. */
export function mseLoss(pred: tf.Tensor, target: tf.Tensor, options: ReductionOptions = {}): tf.Tensor {
  checkSameShape('mseLoss', pred, target);
  const reduction = options.reduction ?? 'mean';
  if (nativeOpsActive() && reduction !== 'none' && pred.dtype === 'float32' && target.dtype === 'float32') {
    return mseNative(pred, target, checkReduction(reduction, 'mseLoss') === 'mean'); // one kernel each way (lib/engine/native/losses.ts)
  }
  return tf.tidy(() => reduce(tf.squaredDifference(asFloat(pred), asFloat(target)), options.reduction ?? 'mean', 'mseLoss'));
}

/** Mean absolute error, `F.l1_loss(pred, target)`; its gradient at pred = target is 0, as in PyTorch. */
export function l1Loss(pred: tf.Tensor, target: tf.Tensor, options: ReductionOptions = {}): tf.Tensor {
  checkSameShape('l1Loss', pred, target);
  return tf.tidy(() => reduce(absWithTorchGrad(tf.sub(asFloat(pred), asFloat(target))), options.reduction ?? 'mean', 'l1Loss'));
}
