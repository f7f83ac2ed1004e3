/**
 * `tensorStats(t)`: a tensor's min, max, mean and standard deviation as plain
 * numbers, what a PyTorch user reads with `w.min(), w.max(), w.mean(), w.std()`.
 * The std is PyTorch's default, the unbiased one (divided by n − 1).
 *
 *     hl.tensorStats(layer.weight)   // { min: 0.0001, max: 0.9998, mean: 0.499, std: 0.289, n: 8192 }
 */
import { tf } from './tf';

export interface TensorStats {
  min: number;
  max: number;
  mean: number;
  /** Unbiased standard deviation (n − 1), as torch.std; NaN for a single value. */
  std: number;
  /** The number of values. */
  n: number;
}

export function tensorStats(t: tf.Tensor): TensorStats {
  if (!(t instanceof tf.Tensor)) throw new Error(`tensorStats: expected a tensor, got ${typeof t}; pass e.g. layer.weight`);
  if (t.isDisposed) throw new Error('tensorStats: the tensor was disposed; compute its statistics before disposing it');
  if (t.size === 0) throw new Error(`tensorStats: the tensor of shape [${t.shape}] is empty; there is nothing to describe`);
  const [min, max, mean, variance] = tf.tidy(() => {
    const x = t.toFloat();
    const { mean: m, variance: v } = tf.moments(x);
    return [x.min(), x.max(), m, v].map((s) => s.dataSync()[0]);
  });
  const n = t.size;
  return { min, max, mean, std: n > 1 ? Math.sqrt((variance * n) / (n - 1)) : NaN, n };
}
