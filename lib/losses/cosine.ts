/**
 * XANESNET's `cosine` loss: how far each predicted spectrum points from its target.
 *
 * For sample i (a row of the batch; the features are dimension 1, as `nn.CosineSimilarity()`):
 *
 *     cos_i = (A_i . B_i) / (max(||A_i||, eps) * max(||B_i||, eps)),   eps = 1e-8
 *
 * with A = pred and B = target.
 *
 * - Default (the intended loss): 1 - mean_i cos_i, which is 0 for a perfect prediction
 *   (up to a positive scale) and which training drives down.
 * - `{ original: true }`: mean_i cos_i, exactly what XANESNET's CosineSimilarityLoss
 *   returns (src/model_utils.py, unchanged in xanesnet/utils/loss.py). It is the
 *   similarity, not a distance, so minimising it pushes predictions *away* from the
 *   targets: use it only to reproduce runs made with the original code.
 */
import { tf } from '../engine/tf';
import { asFloat, checkSameShape, safeNorm } from './common';

export interface CosineOptions {
  /** Return XANESNET's original value, the mean similarity itself (a bug when minimised). */
  original?: boolean;
  /** The floor on each norm (PyTorch's default 1e-8). */
  eps?: number;
}

/** Cosine similarity of each row of a and b along dimension 1, `F.cosine_similarity(a, b, dim=1, eps)`. */
export function cosineSimilarity(a: tf.Tensor, b: tf.Tensor, eps = 1e-8): tf.Tensor {
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(a, b), 1);
    const denom = tf.mul(tf.maximum(safeNorm(a, 1), eps), tf.maximum(safeNorm(b, 1), eps));
    return tf.div(dot, denom);
  });
}

export function cosine(pred: tf.Tensor, target: tf.Tensor, options: CosineOptions = {}): tf.Tensor {
  checkSameShape('cosine loss', pred, target);
  if (pred.rank < 2) {
    throw new Error(`cosine loss: pred and target must be [batch, features], got shape [${pred.shape}]; add a batch dimension with expandDims(0)`);
  }
  return tf.tidy(() => {
    const similarity = tf.mean(cosineSimilarity(asFloat(target), asFloat(pred), options.eps ?? 1e-8));
    return options.original ? similarity : tf.sub(1, similarity);
  });
}
