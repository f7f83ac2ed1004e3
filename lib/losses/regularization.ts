/**
 * XANESNET's loss regularisation (`loss_reg_type: L1 | L2`, `loss_reg_param: lambda`):
 *
 *     loss = criterion(pred, target) + lambda * R
 *
 *     L1:  R = sum over all parameters of |theta|
 *     L2:  R = sum over parameter tensors T of ||T||_2      (Frobenius norm of each tensor, NOT squared)
 *     L2, variant 'global' (XANESNET HEAD):  R = ||all parameters concatenated||_2   (one norm)
 *
 * Every parameter counts: weights, biases, BatchNorm scales and shifts, PReLU slopes.
 * lambda is a plain multiplier (larger = stronger; the XANESNET docs say the opposite).
 *
 * How this differs from an optimizer's weight decay:
 * PyTorch's `weight_decay = wd` adds wd * theta to each gradient, which is the gradient of
 * (wd / 2) * sum theta^2: a squared norm, the same pull on every weight whatever its
 * tensor. XANESNET's L2 is an unsquared norm per tensor; its gradient lambda * T / ||T||
 * has length lambda for every tensor, however large or small it is, so it shrinks small
 * tensors relatively much harder than weight decay does and never vanishes as T -> 0.
 * The two do not convert into each other; to reproduce XANESNET use this function with
 * weight_decay = 0 (XANESNET's Adam has none, except in AEGAN).
 */
import { tf } from '../engine/tf';
import { Module } from '../nn/module';
import { absWithTorchGrad, safeNorm } from './common';
import { nativeOpsActive, normSumNative } from '../engine/native';

/** The doc string above, for help text and notebooks. */
export const REGULARIZATION_DOC = `XANESNET regularisation: loss += lambda * R.
L1: R = sum |theta| over all parameters.
L2: R = sum over parameter tensors of the Frobenius norm ||T||_2, NOT squared
    (variant 'global', XANESNET HEAD: one norm of all parameters concatenated).
Biases, BatchNorm and PReLU parameters are included. lambda is a plain multiplier.
Not the same as optimizer weight decay: weight_decay=wd adds wd*theta to the gradient,
the gradient of (wd/2)*sum(theta^2) (squared, summed over all weights), whereas the
XANESNET L2 gradient lambda*T/||T|| has length lambda for every tensor.`;

export type RegularizationKind = 'L1' | 'L2' | null;

export interface RegularizationOptions {
  /**
   * 'per-tensor' (default, XANESNET 2023): L2 is the sum of one norm per tensor.
   * 'global' (XANESNET HEAD): L2 is one norm of every parameter together. L1 is the same either way.
   */
  variant?: 'per-tensor' | 'global';
}

/**
 * lambda * R for `params` (a list of parameters, or a model, whose parameters() are used),
 * as a scalar tensor to add to the loss inside `backward(() => ...)`:
 *
 *     backward(() => tf.add(lossFn(model.forward(x), y), regularization(model, 'L2', 1e-3)));
 *
 * `kind` null (XANESNET's `loss_reg_type: null`) gives 0. Case is ignored ('l2' works).
 */
export function regularization(
  params: tf.Tensor[] | Module,
  kind: RegularizationKind | string | null | undefined,
  lambda: number,
  options: RegularizationOptions = {},
): tf.Tensor {
  const list = params instanceof Module ? params.parameters() : params;
  const variant = options.variant ?? 'per-tensor';
  if (variant !== 'per-tensor' && variant !== 'global') {
    throw new Error(`regularization: unknown variant '${variant}'; use 'per-tensor' (XANESNET 2023) or 'global' (XANESNET HEAD)`);
  }
  if (!Number.isFinite(lambda)) throw new Error(`regularization: lambda must be a number, got ${lambda}`);
  const k = kind == null ? null : String(kind).toUpperCase();
  if (k !== null && k !== 'L1' && k !== 'L2' && k !== 'NULL' && k !== 'NONE') {
    throw new Error(`regularization: unknown kind '${kind}'; use 'L1', 'L2' or null (no regularisation)`);
  }
  if (k === null || k === 'NULL' || k === 'NONE' || list.length === 0) return tf.scalar(0);
  if (k === 'L2' && nativeOpsActive() && list.every((p) => p.dtype === 'float32')) {
    return normSumNative(list, lambda, variant === 'global'); // the same sums in one native kernel each way
  }
  return tf.tidy(() => {
    let R: tf.Tensor;
    if (k === 'L1') {
      // sum |theta|, with gradient sign(theta) (0 at theta = 0, as torch.norm(p, 1))
      R = tf.addN(list.map((p) => tf.sum(absWithTorchGrad(p))));
    } else if (variant === 'per-tensor') {
      // sum_T ||T||_2, each norm's gradient T / ||T|| (0 for an all-zero tensor, as PyTorch)
      R = tf.addN(list.map((p) => safeNorm(p)));
    } else {
      // || concat(all theta) ||_2 = sqrt(sum over tensors of sum theta^2)
      R = safeNorm(tf.concat(list.map((p) => tf.reshape(p, [-1]))));
    }
    return tf.mul(R, lambda);
  });
}
