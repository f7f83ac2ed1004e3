/**
 * `RMSprop`, exactly as `torch.optim.RMSprop`.
 *
 * The update rule (PyTorch's documentation), for learning rate γ, smoothing α,
 * weight decay λ, momentum μ:
 *
 *     g ← ∇θ                          (−∇θ when maximize)
 *     g ← g + λ θ                     if λ ≠ 0
 *     v ← α v + (1 − α) g²            (moving average of g², "square_avg")
 *     centered: ḡ ← α ḡ + (1 − α) g,  ṽ ← v − ḡ²   (a variance estimate instead of the raw second moment)
 *     otherwise ṽ ← v
 *     if μ > 0:  b ← μ b + g / (√ṽ + ε);   θ ← θ − γ b
 *     else:      θ ← θ − γ g / (√ṽ + ε)
 *
 * Note that ε is added outside the square root (PyTorch's choice; Keras and TF
 * add it inside), and that PyTorch's default α is 0.99.
 *
 *     const opt = new RMSprop(model.parameters(), { lr: 1e-2 });
 */
import { tf } from '../engine/tf';
import { Parameter } from '../nn/parameter';
import { Optimizer, ParamGroup, ParamsArg, ParamState } from './optimizer';

export interface RMSpropOptions {
  /** Learning rate γ (default 1e-2). */
  lr: number;
  /** Smoothing constant α of the average of g² (default 0.99). */
  alpha: number;
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor μ (default 0). */
  momentum: number;
  /** Normalise by an estimate of the gradient's variance (default false). */
  centered: boolean;
  /** Maximise the objective instead of minimising it. */
  maximize: boolean;
}

export const RMSPROP_DEFAULTS: RMSpropOptions = {
  lr: 1e-2,
  alpha: 0.99,
  eps: 1e-8,
  weightDecay: 0,
  momentum: 0,
  centered: false,
  maximize: false,
};

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsArg<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(params, RMSPROP_DEFAULTS, options);
  }

  protected stateKeys(): string[] {
    return ['step', 'square_avg', 'momentum_buffer', 'grad_avg'];
  }

  protected checkOptions(o: RMSpropOptions, where: string): void {
    for (const key of ['lr', 'eps', 'momentum', 'weightDecay', 'alpha'] as const) {
      if (!(o[key] >= 0)) throw new Error(`RMSprop: ${key} must be >= 0 in ${where}, got ${o[key]}`);
    }
  }

  protected update(p: Parameter, grad: tf.Tensor, group: ParamGroup<RMSpropOptions>, state: ParamState): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    state.step = (typeof state.step === 'number' ? state.step : 0) + 1;
    const previous = (key: string): tf.Tensor => (state[key] instanceof tf.Variable ? (state[key] as tf.Variable) : tf.zerosLike(p));

    let g = maximize ? tf.neg(grad) : grad;
    if (weightDecay !== 0) g = tf.add(g, tf.mul(p, weightDecay));
    const v = this.setState(state, 'square_avg', tf.add(tf.mul(previous('square_avg'), alpha), tf.mul(tf.mul(g, 1 - alpha), g)));
    let variance: tf.Tensor = v;
    if (centered) {
      const gAvg = this.setState(state, 'grad_avg', tf.add(tf.mul(previous('grad_avg'), alpha), tf.mul(g, 1 - alpha)));
      variance = tf.sub(v, tf.mul(gAvg, gAvg));
    }
    const denom = tf.add(tf.sqrt(variance), eps);
    if (momentum > 0) {
      const b = this.setState(state, 'momentum_buffer', tf.add(tf.mul(previous('momentum_buffer'), momentum), tf.div(g, denom)));
      p.assign(tf.sub(p, tf.mul(b, lr)));
    } else {
      p.assign(tf.add(p, tf.div(tf.mul(g, -lr), denom)));
    }
  }
}
