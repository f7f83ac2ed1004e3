/**
 * What every loss shares: the reduction argument (PyTorch's `reduction=`), the
 * check that prediction and target agree in shape, and float casting.
 */
import { tf } from '../engine/tf';
import { noGrad } from '../engine/autograd';

/**
 * How per-element losses become the result, as in PyTorch:
 * - 'mean' (the default): their average, a scalar;
 * - 'sum': their total, a scalar;
 * - 'none': no reduction, one loss per element (or per sample).
 */
export type Reduction = 'mean' | 'sum' | 'none';

/** A loss as the trainer calls it: `loss(pred, target)`, a scalar tensor to minimise. */
export type LossFn = (pred: tf.Tensor, target: tf.Tensor) => tf.Tensor;

const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

/** Throw unless `reduction` is one PyTorch knows. */
export function checkReduction(reduction: string, where: string): Reduction {
  if (!REDUCTIONS.includes(reduction as Reduction)) {
    throw new Error(`${where}: unknown reduction '${reduction}'; use one of: ${REDUCTIONS.join(', ')}`);
  }
  return reduction as Reduction;
}

/** Apply `reduction` to a tensor of per-element losses. */
export function reduce(loss: tf.Tensor, reduction: Reduction, where: string): tf.Tensor {
  switch (checkReduction(reduction, where)) {
    case 'mean':
      return tf.mean(loss);
    case 'sum':
      return tf.sum(loss);
    default:
      return loss;
  }
}

/**
 * Throw unless pred and target have the same shape. PyTorch broadcasts a mismatch
 * with only a warning (a classic silent bug: pred [N,1] against target [N]);
 * hyperlab refuses it.
 */
export function checkSameShape(where: string, pred: tf.Tensor, target: tf.Tensor): void {
  if (pred.shape.join(',') !== target.shape.join(',')) {
    throw new Error(
      `${where}: pred has shape [${pred.shape}] but target has shape [${target.shape}]; they must be equal. ` +
        'Reshape one of them (for example pred.reshape(target.shape) or target.expandDims(-1)).',
    );
  }
}

/** Throw unless `x` has exactly `rank` dimensions (`what` names the expected layout). */
export function checkRank(where: string, name: string, x: tf.Tensor, rank: number, what: string): void {
  if (x.rank !== rank) {
    throw new Error(`${where}: ${name} must be ${rank}-D ${what}, got shape [${x.shape}]`);
  }
}

/** `x` as float32 (a no-op for float tensors; labels given as int32 are converted). */
export function asFloat(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}

/**
 * |x| with PyTorch's gradient sign(x), which is 0 at x = 0. (tf.abs's gradient is -1
 * at 0, which would make L1 losses and L1 regularisation differ from PyTorch there.)
 * sign() has a zero gradient, so d/dx [x * sign(x)] = sign(x).
 */
export function absWithTorchGrad(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sign(x)));
}

/**
 * The Euclidean norm sqrt(sum x^2) (over `axis`, or over everything), with PyTorch's
 * gradient x / ||x||, taken as 0 where ||x|| = 0. A plain tf.sqrt would give
 * 0 * inf = NaN there, for example on a bias initialised to zeros.
 */
export function safeNorm(x: tf.Tensor, axis?: number, keepDims = false): tf.Tensor {
  return tf.tidy(() => {
    const sumSq = tf.sum(tf.square(x), axis, keepDims);
    const nonzero = noGrad(() => tf.greater(sumSq, 0)); // a mask: no gradient flows through it
    // sqrt only ever sees positive numbers, so no infinite derivative enters the chain.
    const safe = tf.where(nonzero, sumSq, tf.onesLike(sumSq));
    return tf.where(nonzero, tf.sqrt(safe), tf.zerosLike(sumSq));
  });
}
