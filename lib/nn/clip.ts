/** Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`. */
import { tf } from '../engine/tf';
import { Parameter } from './parameter';

/**
 * Scale all gradients together so that their total L2 norm (of every gradient
 * concatenated) is at most `maxNorm`: g *= maxNorm / (norm + 1e-6) when norm > maxNorm.
 * Returns the total norm before clipping.
 */
export function clipGradNorm_(params: Parameter[], maxNorm: number): number {
  const withGrad = params.filter((p) => p.grad !== null);
  if (withGrad.length === 0) return 0;
  const norm = tf.tidy(() => tf.sqrt(tf.addN(withGrad.map((p) => tf.sum(tf.square(p.grad!))))));
  const total = norm.dataSync()[0];
  norm.dispose();
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const p of withGrad) {
      const scaled = tf.mul(p.grad!, coef);
      p.grad!.dispose();
      p.grad = scaled;
    }
  }
  return total;
}

/** Clamp every gradient element to [-clipValue, clipValue]. */
export function clipGradValue_(params: Parameter[], clipValue: number): void {
  for (const p of params) {
    if (p.grad === null) continue;
    const clipped = tf.clipByValue(p.grad, -clipValue, clipValue);
    p.grad.dispose();
    p.grad = clipped;
  }
}
