/**
 * XANESNET's `wcc` loss: weighted cross-correlation (Källman et al., Chem. Phys. 535,
 * 110786 (2020)). Two spectra that differ by a small shift still correlate well at a
 * small lag; a Gaussian weight over the lags rewards near-misses that MSE punishes.
 *
 * For each sample, with A = pred, B = target, L features and p = floor((L - 1) / 2):
 *
 *   c_AB[k] = sum_j A[j + k - p] * B[j]          k = 0 .. L-1, A taken as 0 outside 0..L-1
 *
 * which is `conv1d(A, B, padding='same')` (PyTorch pads p on the left and L-1-p on the
 * right); XANESNET runs it for the whole batch at once with `groups = batch`, A as the
 * input and B as the kernel. c_AA and c_BB are the same with A, A and B, B.
 *
 *   width2 = 2 * HWHM / sqrt(2 ln 2)             HWHM in grid points (loss_args, default 10)
 *   w[k]   = exp(-(L/2 - k)^2 / (2 * width2))
 *   s      = clip( sum_k w c_AB / sqrt(sum_k w c_AA * sum_k w c_BB), 0, 1 )
 *   loss   = 1 - mean over the batch of s
 *
 * Faithful to XANESNET, including two quirks: width2 is *not* squared (a true Gaussian
 * of that HWHM would use sigma^2 = (HWHM / sqrt(2 ln 2))^2), and for even L the weight
 * peaks at k = L/2, one lag after zero lag (k = p), because the centre is L/2, not p.
 *
 * Only the weighted sums are needed, never c itself: substituting m = j + k - p,
 *
 *   sum_k w[k] c_AB[k] = sum_m sum_j A[m] W[m, j] B[j] = A^T W B,
 *   W[m, j] = w[m - j + p]  where 0 <= m - j + p < L, else 0,
 *
 * so each weighted sum is one matrix product with the fixed L x L matrix W: cheaper than
 * three grouped convolutions, and plain matmul gradients on every backend.
 * `crossCorrelationSame` computes c itself, for inspection and tests.
 */
import { tf } from '../engine/tf';
import { asFloat, checkRank, checkSameShape } from './common';

export interface WCCOptions {
  /** Half width at half maximum of the Gaussian lag weight, in grid points (XANESNET's loss_args, default 10). */
  hwhm?: number;
}

/** XANESNET's width2 = 2 HWHM / sqrt(2 ln 2) (not squared): 16.986 for HWHM = 10. */
export function wccWidth2(hwhm: number): number {
  return (hwhm / Math.sqrt(2 * Math.log(2))) * 2;
}

/** The lag weights w[k] = exp(-(L/2 - k)^2 / (2 width2)), k = 0 .. L-1. */
export function wccWeights(length: number, hwhm = 10): number[] {
  const width2 = wccWidth2(hwhm);
  return Array.from({ length }, (_, k) => Math.exp(-((length / 2 - k) ** 2) / (2 * width2)));
}

/** The L x L matrix W[m, j] = w[m - j + p] (0 outside 0..L-1) with A^T W B = sum_k w[k] c_AB[k]. */
function weightMatrix(length: number, hwhm: number): tf.Tensor2D {
  const w = wccWeights(length, hwhm);
  const p = Math.floor((length - 1) / 2);
  const W = new Float32Array(length * length);
  for (let m = 0; m < length; m++) {
    for (let j = 0; j < length; j++) {
      const k = m - j + p;
      if (k >= 0 && k < length) W[m * length + j] = w[k];
    }
  }
  return tf.tensor2d(W, [length, length]);
}

/**
 * c[i, k] = sum_j a[i, j + k - p] * b[i, j] for each row i, p = floor((L - 1) / 2):
 * `conv1d(a[None], b[:, None], padding='same', groups=N)[0]` in PyTorch.
 */
export function crossCorrelationSame(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  checkSameShape('crossCorrelationSame', a, b);
  checkRank('crossCorrelationSame', 'a', a, 2, '[batch, features]');
  return tf.tidy(() => {
    const [n, L] = a.shape as number[];
    const p = Math.floor((L - 1) / 2);
    const padded = tf.pad(asFloat(a), [
      [0, 0],
      [p, L - 1 - p],
    ]); // (N, 2L - 1): padded[i, q] = a[i, q - p]
    const idx = new Int32Array(L * L);
    for (let k = 0; k < L; k++) for (let j = 0; j < L; j++) idx[k * L + j] = k + j;
    const windows = tf.gather(padded, tf.tensor1d(idx, 'int32'), 1).reshape([n, L, L]); // [i, k, j] = a[i, j + k - p]
    return tf.sum(tf.mul(windows, tf.expandDims(asFloat(b), 1)), 2);
  });
}

/** Weighted cross-correlation loss, 1 - mean similarity (0 for a perfect prediction). */
export function wcc(pred: tf.Tensor, target: tf.Tensor, options: WCCOptions = {}): tf.Tensor {
  const hwhm = options.hwhm ?? 10;
  if (!(typeof hwhm === 'number' && Number.isFinite(hwhm) && hwhm > 0)) {
    throw new Error(`wcc loss: the HWHM (loss_args) must be a positive number of grid points, got ${hwhm}`);
  }
  checkSameShape('wcc loss', pred, target);
  checkRank('wcc loss', 'pred', pred, 2, '[batch, features]');
  return tf.tidy(() => {
    const A = asFloat(pred);
    const B = asFloat(target);
    const W = weightMatrix((A.shape as number[])[1], hwhm);
    // sum_k w[k] c_XY[k] = X^T W Y for each row: sum over m of X[i, m] * (Y W^T)[i, m]
    const weighted = (X: tf.Tensor, Y: tf.Tensor) => tf.sum(tf.mul(X, tf.matMul(Y as tf.Tensor2D, W, false, true)), 1);
    const similarity = tf.clipByValue(tf.div(weighted(A, B), tf.sqrt(tf.mul(weighted(A, A), weighted(B, B)))), 0, 1);
    return tf.sub(1, tf.mean(similarity));
  });
}
