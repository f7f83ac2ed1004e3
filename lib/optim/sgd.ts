/**
 * `SGD`: stochastic gradient descent with optional momentum, exactly as `torch.optim.SGD`.
 *
 * The update rule (PyTorch's documentation), for learning rate γ, weight decay λ,
 * momentum μ, dampening τ:
 *
 *     g ← ∇θ                       (−∇θ when maximize)
 *     g ← g + λ θ                  if λ ≠ 0        (L2 penalty folded into the gradient)
 *     if μ ≠ 0:
 *       b ← g                      on the first step (no dampening)
 *       b ← μ b + (1 − τ) g        on later steps
 *       g ← g + μ b                if nesterov
 *       g ← b                      otherwise
 *     θ ← θ − γ g
 *
 *     const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 */
import { tf } from '../engine/tf';
import { Parameter } from '../nn/parameter';
import { Optimizer, ParamGroup, ParamsArg, ParamState } from './optimizer';
import { nativeOpsActive, sgdStepsInPlaceNative, sgdStepsNative } from '../engine/native';

export interface SGDOptions {
  /** Learning rate γ (PyTorch 2's default, 1e-3). */
  lr: number;
  /** Momentum factor μ (default 0: plain gradient descent). */
  momentum: number;
  /** Dampening τ of the momentum (default 0). */
  dampening: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
  /** Maximise the objective instead of minimising it. */
  maximize: boolean;
}

export const SGD_DEFAULTS: SGDOptions = {
  lr: 1e-3,
  momentum: 0,
  dampening: 0,
  nesterov: false,
  weightDecay: 0,
  maximize: false,
};

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsArg<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super(params, SGD_DEFAULTS, options);
  }

  protected stateKeys(): string[] {
    return ['momentum_buffer'];
  }

  protected checkOptions(o: SGDOptions, where: string): void {
    if (!(o.lr >= 0)) throw new Error(`SGD: lr must be >= 0 in ${where}, got ${o.lr}`);
    if (!(o.momentum >= 0)) throw new Error(`SGD: momentum must be >= 0 in ${where}, got ${o.momentum}`);
    if (!(o.weightDecay >= 0)) throw new Error(`SGD: weightDecay must be >= 0 in ${where}, got ${o.weightDecay}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new Error(
        `SGD: Nesterov momentum requires a momentum and zero dampening (${where} has momentum ${o.momentum}, ` +
          `dampening ${o.dampening}); set momentum > 0 (e.g. 0.9) and dampening 0, or nesterov false`,
      );
    }
  }

  /** On wasm with the native kernels: every float32 parameter of the group in one kernel (lib/engine/native/sgd.ts). */
  protected updateGroup(items: { p: Parameter; grad: tf.Tensor; state: ParamState }[], group: ParamGroup<SGDOptions>): void {
    if (!nativeOpsActive() || items.some(({ p, grad }) => p.dtype !== 'float32' || grad.dtype !== 'float32')) {
      super.updateGroup(items, group);
      return;
    }
    const { lr, momentum, dampening, nesterov, weightDecay, maximize } = group;
    const options = { lr, momentum, dampening, nesterov, weightDecay, maximize };
    const buffer = (s: ParamState) => (s.momentum_buffer instanceof tf.Variable ? s.momentum_buffer : undefined);
    const native = items.map(({ p, grad, state }) => ({ param: p, grad, momentumBuffer: buffer(state) }));
    // in place (p.add_ in PyTorch) where no other tensor shares a parameter's or buffer's data
    if (sgdStepsInPlaceNative(native, options)) {
      if (momentum === 0) for (const { state } of items) if (!(state.momentum_buffer instanceof tf.Variable)) state.momentum_buffer = null;
      return;
    }
    tf.tidy(() => {
      const outs = sgdStepsNative(native, options);
      items.forEach(({ p, state }, i) => {
        const [theta, b] = outs[i];
        if (momentum !== 0) this.setState(state, 'momentum_buffer', b);
        else if (!(state.momentum_buffer instanceof tf.Variable)) state.momentum_buffer = null; // as update() below
        p.assign(theta);
      });
    });
  }

  protected update(p: Parameter, grad: tf.Tensor, group: ParamGroup<SGDOptions>, state: ParamState): void {
    const { lr, momentum, dampening, nesterov, weightDecay, maximize } = group;
    let g = maximize ? tf.neg(grad) : grad;
    if (weightDecay !== 0) g = tf.add(g, tf.mul(p, weightDecay));
    if (momentum !== 0) {
      const b =
        state.momentum_buffer instanceof tf.Variable
          ? this.setState(state, 'momentum_buffer', tf.add(tf.mul(state.momentum_buffer, momentum), tf.mul(g, 1 - dampening)))
          : this.setState(state, 'momentum_buffer', g.clone()); // first step: b ← g
      g = nesterov ? tf.add(g, tf.mul(b, momentum)) : b;
    } else if (!(state.momentum_buffer instanceof tf.Variable)) {
      state.momentum_buffer = null; // PyTorch records None here (and keeps an old buffer if momentum was turned off)
    }
    p.assign(tf.sub(p, tf.mul(g, lr)));
  }
}
