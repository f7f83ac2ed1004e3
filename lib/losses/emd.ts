/**
 * XANESNET's `emd` loss, an Earth Mover's (1-D Wasserstein) distance between spectra:
 * compare the running totals (cumulative sums) of prediction and target.
 *
 *     emd = sum_i  mean_k ( cumsum(A_i)_k - cumsum(B_i)_k )^2        A = pred, B = target
 *
 * Exactly as XANESNET's EMDLoss: the mean runs over the features (the last dimension)
 * and the result is *summed* over the batch, not averaged, so it grows with the batch
 * size (keep that in mind when comparing runs with different batch sizes, or when
 * choosing a learning rate).
 */
import { tf } from '../engine/tf';
import { asFloat, checkSameShape } from './common';

export function emd(pred: tf.Tensor, target: tf.Tensor): tf.Tensor {
  checkSameShape('emd loss', pred, target);
  if (pred.rank < 1) throw new Error('emd loss: pred and target must be [batch, features], got scalars');
  return tf.tidy(() => {
    const axis = pred.rank - 1;
    const gap = tf.sub(tf.cumsum(asFloat(pred), axis), tf.cumsum(asFloat(target), axis));
    return tf.sum(tf.mean(tf.square(gap), axis));
  });
}
